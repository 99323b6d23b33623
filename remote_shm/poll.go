//go:build unix

package remote_shm

import (
	"context"
	"runtime"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
)

// pollGosched is how often a polling requester lets the other goroutines
// of its P run (the machine that answers, when it is in this process too:
// two members of one system in one process): not every few polls, since a
// yield to the scheduler may wake another thread. go test -bench
// 'ShmRequest$' . (both members in one process): 48 us per request without
// it, 10 us with it; the two-process round trip is the same either way.
const pollGosched = 5 * time.Microsecond

// PollRequest is Deliver(ctx, target, sender, msg) for a request whose
// reply the caller waits for on replies (the channel sender's process
// writes it to): after the write, the calling goroutine reads this
// process's inbox itself, for up to ReplySpin, until a reply is on replies,
// and returns it (got). Otherwise (no reply yet, or the write failed) the
// caller waits on replies as usual: the reader goroutine reads again.
//
// Why: the reader goroutine hands a reply to a parked caller through the Go
// scheduler (a goroutine wake-up, which wakes a thread: a system call on
// the round trip's path, microseconds on a VM). A caller that reads its own
// reply skips that; meanwhile the reader goroutine sleeps (see
// Ring.BeginPoll), so a round trip keeps one spinning thread per process,
// not two. Records for others that the caller reads meanwhile are delivered
// as the reader would, except that it runs no mailbox inline.
func (t *Transport) PollRequest(ctx context.Context, target, sender *pactor.PID, msg any, replies <-chan any) (reply any, got bool, err error) {
	if t.core == nil {
		return nil, false, t.Deliver(ctx, target, sender, msg)
	}
	r := t.ring
	r.BeginPoll()
	defer r.EndPoll()
	if err := t.Deliver(ctx, target, sender, msg); err != nil {
		return nil, false, err
	}
	var start, yielded, gosched time.Time
	for i := 1; ; i++ {
		select {
		case m := <-replies:
			t.inbox[inboxPolled].Add(1)
			return m, true, nil
		default:
		}
		if r.readable() {
			n, ok, err := r.TryRead(readLimit, t.onRecord)
			if err != nil {
				t.inbox[inboxReadErrors].Add(1)
				t.log.Warn("shm transport: inbox", "address", t.addr, "error", err)
			}
			if ok && n > 0 {
				continue
			}
		}
		if i%16 != 0 {
			continue
		}
		// The clock only now: a reply within the first polls costs none.
		now := time.Now()
		if start.IsZero() {
			start, yielded, gosched = now, now, now
		}
		if now.Sub(start) >= ReplySpin || ctx.Err() != nil || t.ctx.Err() != nil {
			t.inbox[inboxPollMisses].Add(1)
			return nil, false, nil
		}
		if now.Sub(gosched) >= pollGosched {
			// Let this process's other goroutines on our P run (the
			// machine that answers, when it is in this process too).
			runtime.Gosched()
			gosched = time.Now()
		}
		if now.Sub(yielded) >= yieldEvery {
			osYield() // a peer on this CPU gets to answer (see yieldEvery)
			yielded = time.Now()
		}
	}
}
