//go:build unix

package remote_shm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
)

// dial is the core's Dial: the link to the process at address, if it is
// alive.
func (t *Transport) dial(address string) (remote.Link, error) {
	name, slot, gen, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if name != t.opts.Name || slot >= t.lay.MaxProcesses {
		return nil, fmt.Errorf("%w: %q is not a process of system %q", remote.ErrNotRemote, address, t.opts.Name)
	}
	l := &link{t: t, slot: slot, gen: gen, addr: address}
	l.check, l.checkAlive = l.waitCheck, l.alive
	if slot == t.self.Slot || !t.reg.IsAlive(slot, gen) {
		return nil, l.goneErr()
	}
	r, err := t.producerRing(slot)
	if err != nil {
		return nil, fmt.Errorf("inbox of %s: %w", address, err)
	}
	l.ring = r
	return l, nil
}

// producerRing returns this process's one producer handle on slot's ring
// (one per ring, so our writes with our producer id are serialised), after
// checking the ring its current owner formatted.
func (t *Transport) producerRing(slot int) (*Ring, error) {
	fresh, err := t.attach(slot)
	if err != nil {
		return nil, err
	}
	t.ringsMu.Lock()
	defer t.ringsMu.Unlock()
	r := t.rings[slot]
	// A new owner of the slot formats the same region with the same layout,
	// so the old handle stays valid and keeps serialising our writes.
	if r == nil || r.capacity != fresh.capacity || r.maxProducers != fresh.maxProducers || r.dataOffset() != fresh.dataOffset() {
		t.rings[slot] = fresh
		r = fresh
	}
	return r, nil
}

// link writes batches into one peer's inbox ring.
type link struct {
	t          *Transport
	slot       int
	gen        uint32
	addr       string
	ring       *Ring
	check      func() error // l.waitCheck and l.alive, bound once: WriteBy allocates nothing
	checkAlive func() error
	down       atomic.Bool
	// waitUntil is when a write with no deadline of its own gives up
	// waiting for room (set at its first wait; used by one writer at a time).
	waitUntil time.Time
}

func (l *link) MaxBatch() int { return l.ring.MaxPayload() }

func (l *link) Close() error { return nil } // the ring handle is shared per slot

// HasRoom implements remote.RoomChecker: the peer's inbox has room for a
// batch of n bytes now (senders may then write it themselves).
func (l *link) HasRoom(n int) bool { return l.ring.HasRoom(n) }

// alive fails once the peer's slot no longer holds its generation, or this
// transport closes.
func (l *link) alive() error {
	if l.t.closing.Load() {
		return fmt.Errorf("%w: sending to %s", remote.ErrClosed, l.addr)
	}
	if l.t.reg.IsAlive(l.slot, l.gen) {
		return nil
	}
	return l.goneErr()
}

// waitCheck runs between the rounds of a write waiting for room: it ends the
// wait when the peer died, the transport closes, or (for a write without a
// deadline) the send timeout passed since the wait began.
func (l *link) waitCheck() error {
	if err := l.alive(); err != nil {
		return err
	}
	now := time.Now()
	if l.waitUntil.IsZero() {
		l.waitUntil = now.Add(l.t.sendTimeout())
	} else if now.After(l.waitUntil) {
		return fmt.Errorf("no room within the send timeout %v: %w", l.t.sendTimeout(), context.DeadlineExceeded)
	}
	return nil
}

func (l *link) goneErr() error { return remote.PeerGone(l.t.reg, l.addr, l.slot, l.gen) }

// Send writes one batch record into the peer's inbox, waiting for room until
// deadline. A peer found dead is reported to the core (PeerDown), so its
// watchers hear of it even if the registry's callback never names it.
func (l *link) Send(deadline time.Time, batch []byte) error {
	l.t.live.RLock()
	defer l.t.live.RUnlock()
	if l.t.closed {
		return fmt.Errorf("%w: sending to %s", remote.ErrClosed, l.addr)
	}
	err := l.alive()
	if err == nil {
		l.waitUntil = time.Time{}
		check := l.check
		if !deadline.IsZero() {
			check = l.checkAlive
		}
		err = l.ring.WriteBy(deadline, check, l.t.self.Slot, RecordBatch, batch)
		if err == nil {
			return nil
		}
	}
	switch {
	case errors.Is(err, registry.ErrProcessDied):
		if !l.down.Swap(true) {
			go l.t.core.PeerDown(l.addr, err)
		}
		return err
	case errors.Is(err, ErrRingFull):
		return fmt.Errorf("%w: inbox of process at %s: %w", remote.ErrFull, l.addr, err)
	case errors.Is(err, ErrTooLarge):
		return fmt.Errorf("%w: inbox of process at %s: %w", remote.ErrTooLarge, l.addr, err)
	}
	return fmt.Errorf("inbox of process at %s: %w", l.addr, err)
}

// readLimit is how many records one Read hands over before it gives their
// space back to the producers.
const readLimit = 256

// unblockEvery is how often a reader stuck behind an unfinished record asks
// the registry whether its producer died.
const unblockEvery = 10 * time.Millisecond

// read is the reader goroutine: it hands every batch record to the core,
// spins then sleeps when the inbox is empty, and gets past records of dead
// producers. With Options.Inline it also runs the mailbox that a batch of
// records woke (see runInline); when such a run outlasts InlineBudget a
// fresh reader goroutine takes over and this one ends with the run.
func (t *Transport) read() {
	if !t.readLoop() {
		t.wg.Done()
	} // else: handed over, the successor counts in t.wg in our place
}

// readLoop reads until the transport stops (false) or it handed the reading
// to a successor during an inline run (true).
func (t *Transport) readLoop() (handedOver bool) {
	var stuckSince time.Time
	for {
		offered := t.inline != nil && t.inline.Offer()
		n, err := t.ring.Read(readLimit, t.onRecord)
		if offered {
			if run := t.inline.Take(); run != nil && !t.runInline(run) {
				return true
			}
		}
		if err != nil {
			t.inbox[inboxReadErrors].Add(1)
			t.log.Warn("shm transport: inbox", "address", t.addr, "error", err)
		}
		if n > 0 {
			stuckSince = time.Time{}
			// Let the goroutines those records woke (an actor, a waiting
			// requester) run on this P now, rather than wait for another
			// thread to be woken to steal them.
			runtime.Gosched()
			continue
		}
		if t.ctx.Err() != nil {
			return false
		}
		if !t.ring.Stuck() {
			stuckSince = time.Time{}
			spin := t.spin
			reply, request := t.replyExpected.Swap(false), t.requestSeen.Swap(false)
			if reply && spin.Duration < ReplySpin {
				spin = Spin{Duration: ReplySpin}
			} else if request && spin.Duration < RequestSpin {
				spin = Spin{Duration: RequestSpin}
			}
			_ = t.ring.Wait(t.ctx, spin)
			continue
		}
		// An unfinished record at the head: its producer is slow, or dead.
		now := time.Now()
		if stuckSince.IsZero() {
			stuckSince = now
		} else if now.Sub(stuckSince) >= unblockEvery {
			if k := t.ring.Unblock(t.deadProducer); k > 0 {
				t.inbox[inboxUnblocked].Add(uint64(k))
			}
			stuckSince = now
		}
		ctx, cancel := context.WithTimeout(t.ctx, unblockEvery)
		_ = t.ring.Wait(ctx, Spin{})
		cancel()
	}
}

// InlineBudget is how long the reader runs a mailbox itself (see
// Options.Inline) before another goroutine takes over reading the inbox: a
// machine whose action blocks (a request to another process, whose reply
// comes through this very inbox; a sleep) holds up the other deliveries at
// most this long (plus the Go timer's latency).
const InlineBudget = 50 * time.Microsecond

// runInline runs a mailbox on the reader, with the watchdog armed: if the
// run takes longer than InlineBudget, handOn starts a new reader. It
// reports whether this goroutine is still the reader. t.role holds a token
// of the run (never 0) while it runs, 0 otherwise: the watchdog takes the
// token, and a late watchdog of an earlier run finds none or another token.
func (t *Transport) runInline(run func()) bool {
	tok := t.inlineSeq.Add(1)
	t.role.Store(tok)
	t.watchdog.Reset(InlineBudget)
	run()
	t.watchdog.Stop()
	return t.role.CompareAndSwap(tok, 0)
}

// handOn is the watchdog: the reader's inline run outlasted its budget, so a
// new reader goroutine takes over (it inherits the old one's count in t.wg;
// the old one ends when its run returns).
func (t *Transport) handOn() {
	if tok := t.role.Load(); tok != 0 && t.role.CompareAndSwap(tok, 0) {
		t.inbox[inboxHandOns].Add(1)
		go t.read()
	}
}

func (t *Transport) onRecord(msgType int32, producer int, payload []byte) {
	if msgType != RecordBatch {
		t.inbox[inboxBadRecords].Add(1)
		t.log.Warn("shm transport: inbox record of unknown type", "address", t.addr, "type", msgType, "producer", producer)
		return
	}
	_ = t.core.Receive(payload) // counted, dead-lettered
}
