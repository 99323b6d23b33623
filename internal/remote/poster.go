package remote

import (
	"reflect"
	"sync"
	"unsafe"

	pactor "github.com/asynkron/protoactor-go/actor"
)

// Inbound delivery in runs. A batch from a busy sender holds long runs of
// envelopes for one actor (a stream of events to one machine); posting them
// one by one to the actor's mailbox costs a process lookup and a mailbox
// lock per message, on lines the actor's goroutine also writes. A mailbox
// that can take a whole run at once (package actor's BatchMailbox, which
// machine actors use) gets it in one call; any other target gets each
// message as before, through the root context.

// UserMessagesPoster is implemented by mailboxes that queue a run of user
// messages at once: as many PostUserMessage calls in that order would, but
// in one step (the mailbox does not retain msgs); and n deliveries of one
// message at once (a machine's mailbox queues an event's as one message).
type UserMessagesPoster interface {
	PostUserMessages(msgs []any)
	PostUserMessageRepeated(msg any, n int)
}

// actorProcessMailbox reports whether pactor.ActorProcess starts with its
// mailbox (the layout of the pinned proto.actor version, checked once): the
// mailbox of a local actor is not exported otherwise. With another layout
// runs are posted message by message.
var actorProcessMailbox = func() bool {
	t := reflect.TypeFor[pactor.ActorProcess]()
	if t.Kind() != reflect.Struct || t.NumField() == 0 {
		return false
	}
	f := t.Field(0)
	return f.Name == "mailbox" && f.Offset == 0 && f.Type == reflect.TypeFor[pactor.Mailbox]()
}()

// runPoster returns the run poster of the mailbox of proc, nil if it has
// none (another kind of process or mailbox: dead letters, a future, a
// remote peer, an actor with another mailbox).
func runPoster(proc pactor.Process) UserMessagesPoster {
	ap, ok := proc.(*pactor.ActorProcess)
	if !ok || ap == nil || !actorProcessMailbox {
		return nil
	}
	// Written once by NewActorProcess, before the process was published in
	// the registry (which is how proc was found).
	mb := *(*pactor.Mailbox)(unsafe.Pointer(ap))
	p, _ := mb.(UserMessagesPoster)
	return p
}

// runLen bounds a run: the actor starts on the first messages of a long
// batch while the rest is decoded.
const runLen = 256

var runPool = sync.Pool{New: func() any { return new([runLen]any) }}

// inRun collects the fast-path messages of a batch for one target.
type inRun struct {
	pid   *pactor.PID
	first any          // the message of a run of one (no buffer needed)
	buf   *[runLen]any // from runPool once a run has two messages
	n     int
}

// queue adds msg for pid, delivering the run so far first if it is for
// another target or full.
func (c *Core) queue(r *inRun, pid *pactor.PID, msg any) {
	if r.n > 0 && (r.pid != pid || r.n == runLen) {
		c.flush(r)
	}
	switch r.n {
	case 0:
		r.pid, r.first = pid, msg
	case 1:
		if r.buf == nil {
			r.buf = runPool.Get().(*[runLen]any)
		}
		r.buf[0], r.buf[1], r.first = r.first, msg, nil
	default:
		r.buf[r.n] = msg
	}
	r.n++
}

// queueN queues msg for pid k times: to a mailbox that takes repeated
// deliveries, at once (after the run so far, in order); else in the run.
func (c *Core) queueN(r *inRun, pid *pactor.PID, msg any, k int) {
	if k > 1 {
		proc, _ := c.sys.ProcessRegistry.GetLocal(pid.Id)
		if p := runPoster(proc); p != nil {
			c.flush(r)
			p.PostUserMessageRepeated(msg, k)
			c.ctr.add(CReceived, uint64(k))
			return
		}
	}
	for k > 0 {
		if r.n < 2 || r.pid != pid || r.n == runLen {
			c.queue(r, pid, msg) // starts a run, or delivers this one and starts the next
			k--
			continue
		}
		m := min(k, runLen-r.n)
		for i := r.n; i < r.n+m; i++ {
			r.buf[i] = msg
		}
		r.n += m
		k -= m
	}
}

// flush delivers the run (the messages stay in order: FIFO per target).
func (c *Core) flush(r *inRun) {
	switch r.n {
	case 0:
		return
	case 1:
		if a := c.awaitedPID(r.pid); a != nil {
			a.proc.SendUserMessage(r.pid, r.first)
		} else {
			c.sys.Root.Send(r.pid, r.first)
		}
		r.first = nil
	default:
		msgs := r.buf[:r.n]
		proc, _ := c.sys.ProcessRegistry.GetLocal(r.pid.Id)
		if p := runPoster(proc); p != nil {
			p.PostUserMessages(msgs)
		} else {
			for _, m := range msgs {
				c.sys.Root.Send(r.pid, m)
			}
		}
		clear(msgs)
	}
	c.ctr.add(CReceived, uint64(r.n))
	r.n, r.pid = 0, nil
}

// done delivers what is left and gives the buffer back.
func (c *Core) done(r *inRun) {
	c.flush(r)
	if r.buf != nil {
		runPool.Put(r.buf)
		r.buf = nil
	}
}
