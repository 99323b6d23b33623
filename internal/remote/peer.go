package remote

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"

	"github.com/xorc-dev/xorc/proto"
)

// peer is the pactor.Process of every PID of one other process, and the
// outbound queue to it.
//
// Sending: the sending goroutine encodes its envelope straight into the
// peer's queue, one buffer of Batch fields, and returns. The peer's writer
// goroutine takes the whole queue at once (swapping buffers) and writes it
// with as few link writes as MaxBatch allows, so batches grow with the load,
// even from a single sender: while one batch is written the next one fills.
// While one-way sends stream into a link that can say it has room (a
// RoomChecker), the senders write full queues themselves and the writer
// sleeps (see senderFlushBytes).
// The queue is bounded (Config.MaxQueueBytes): a sender that finds it full
// waits for room until its deadline, then fails with ErrFull. That is the
// back-pressure of a full inbox: the writer waits for room in the link, the
// queue fills, senders wait.
//
// Urgent messages skip the hand-off when the peer is idle (nothing queued, no
// write in flight): a request (it carries a reply address) and a reply to a
// request that came from the peer are written by the sending goroutine at
// once, so a round trip wakes no writer goroutine.
//
// What fails after it was accepted (the link write failed, the peer died
// with it queued) is reported: dead letters (a request's sender gets a
// DeadLetterResponse at once), the Undelivered and SendErrors counters, and
// the next Deliver to the peer fails with the cause (ErrUndelivered).
type peer struct {
	c        *Core
	addr     string
	link     Link
	connect  func(deadline time.Time) error // the link's Connect, if it is a Connector
	room     func(n int) bool               // the link's HasRoom, if it is a RoomChecker (senders may flush)
	maxQueue int

	mu      sync.Mutex
	q       []byte        // accepted envelopes (Batch fields) the writer has not taken yet
	qn      int           // envelopes in q
	parts   []part        // where a link write after the first starts in q (each write <= maxBatch bytes and MaxEnvelopes envelopes)
	partAt  int           // offset in q of the last part's start
	partN   int           // envelopes in q before partAt
	qReq    bool          // q holds a request: a reply will come
	qWait   []waiter      // Deliver calls of requests in q waiting for their write's outcome
	writing bool          // a writer (the goroutine, or a sender writing through) owns w and the link
	awake   bool          // the writer goroutine was kicked or is draining: it looks at q before it parks
	err     error         // set when the peer is down: every later send fails with it
	closing error         // set when the core closes: later sends fail with it, the writer flushes the queue
	closeBy time.Time     // when the flush of a closing core gives up (the writer's deadline then)
	flushed chan struct{} // closed when the queue is empty and nobody writes; nil until Close waits for it
	lost    error         // the first cause of accepted envelopes not delivered, until a Deliver reports it
	lostN   int           // how many
	space   chan struct{} // closed when the queue empties; nil until someone waits for room
	watches map[watchKey]watch

	w       []byte // the batch being written, owned by the writer
	wparts  []part
	wwait   []waiter
	wdlUpTo time.Time   // closeBy when the writer took w: no write of it waits longer
	shrink  *time.Timer // releases grown buffers once the writer is idle (under mu)

	// replies estimates the requests received from the peer and not yet
	// answered: a message to the peer while it is positive is taken for a
	// reply (urgent).
	replies atomic.Int32

	targets targetCache // encoded target fields
	envs    envCache    // encoded envelopes of frozen messages (under mu)

	// Sender flushing (see unlockQueued), under mu: while senders stream,
	// they write full queues themselves and the writer goroutine sleeps; a
	// timer hands a tail that no sender flushes to the writer.
	streaming bool
	flushSeq  uint64 // sender flushes
	tailSeq   uint64 // flushSeq when the tail timer last looked
	tail      *time.Timer
	tailArmed bool

	kick chan struct{}
	quit chan struct{}
}

// Sender flushing. A writer goroutine that wrote at least streamBytes in one
// wake-up leaves the next queues to the senders: a sender that finds
// senderFlushBytes queued and nobody writing writes them itself, so that a
// stream of one-way sends costs no goroutine wake-up (and no thread: on a
// machine with few CPUs the writer's thread competed with the sender and the
// receiving process). A queue that stops growing before it is that full is
// handed to the writer within one to two tailAfter (200 µs). Requests and replies
// end streaming: they are written at once.
const (
	streamBytes      = 8 << 10
	senderFlushBytes = 32 << 10
)

// recordSlack bounds what a link adds to each write (a ring record's header
// and padding), for RoomChecker.
const recordSlack = 64

// RoomChecker is a Link that tells whether a Send of n bytes (in one or a
// few writes) would be taken now without waiting; another producer may
// take the room first. Senders flush queues themselves only into such
// links (see unlockQueued).
type RoomChecker interface {
	HasRoom(n int) bool
}

// tailAfter is the tail timer's period in nanoseconds (a variable for
// tests).
var tailAfter atomic.Int64

func init() { tailAfter.Store(int64(200 * time.Microsecond)) }

// part is the start of one link write within a queue: its offset and the
// number of envelopes before it.
type part struct{ off, n int }

// waiter is a queued request whose Deliver waits for the outcome of its
// write: the envelope at off in the queue.
type waiter struct {
	off      int
	deadline time.Time // zero: the link's send timeout
	res      chan error
}

type watchKey struct{ watchee, watcher string }

type watch struct{ watchee, watcher *pactor.PID }

var _ pactor.Process = (*peer)(nil)

func newPeer(c *Core, address string, link Link) *peer {
	p := &peer{
		c:        c,
		addr:     address,
		link:     link,
		maxQueue: max(c.cfg.MaxQueueBytes, min(link.MaxBatch(), c.cfg.BatchBytes)),
		watches:  map[watchKey]watch{},
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
	}
	if cn, ok := link.(Connector); ok {
		p.connect = cn.Connect
	}
	if rc, ok := link.(RoomChecker); ok {
		p.room = rc.HasRoom
	}
	return p
}

// SendUserMessage implements pactor.Process: a proto.actor send (or reply)
// to an actor of the peer. Failures become dead letters.
func (p *peer) SendUserMessage(pid *pactor.PID, message any) {
	urgent := pactor.UnwrapEnvelopeSender(message) != nil || p.takeReply()
	if err := p.send(pid, nil, message, time.Time{}, urgent, false); err != nil {
		p.c.ctr.add(CSendErrors, 1)
		p.c.deadLetterOut(pid, message, false, err)
	}
}

// SendSystemMessage implements pactor.Process. Watch and Unwatch are also
// recorded, so that the watcher gets Terminated if the peer dies.
func (p *peer) SendSystemMessage(pid *pactor.PID, message any) {
	switch m := message.(type) {
	case *pactor.Watch:
		if m.Watcher == nil {
			return
		}
		p.mu.Lock()
		if p.stoppedLocked() != nil {
			p.mu.Unlock()
			p.c.terminated(pid, m.Watcher)
			return
		}
		p.watches[watchKey{pid.Id, m.Watcher.Address + "\x00" + m.Watcher.Id}] = watch{pid, m.Watcher}
		p.mu.Unlock()
	case *pactor.Unwatch:
		if m.Watcher != nil {
			p.mu.Lock()
			delete(p.watches, watchKey{pid.Id, m.Watcher.Address + "\x00" + m.Watcher.Id})
			p.mu.Unlock()
		}
	}
	if err := p.send(pid, nil, message, time.Time{}, false, false); err != nil {
		p.c.ctr.add(CSendErrors, 1)
		p.c.deadLetterOut(pid, message, true, err)
	}
}

// Stop implements pactor.Process.
func (p *peer) Stop(pid *pactor.PID) { p.SendSystemMessage(pid, &pactor.Stop{}) }

// unwatched forgets a watch whose Terminated came from the peer.
func (p *peer) unwatched(watchee, watcher *pactor.PID) {
	p.mu.Lock()
	delete(p.watches, watchKey{watchee.Id, watcher.Address + "\x00" + watcher.Id})
	p.mu.Unlock()
}

// maxRepliesOwed bounds the replies estimate (requests that are never
// answered must not make every later message urgent).
const maxRepliesOwed = 1024

// owe notes a request received from the peer: its reply will be urgent.
func (p *peer) owe() {
	if p.replies.Load() < maxRepliesOwed {
		p.replies.Add(1)
	}
}

// takeReply consumes one owed reply, if any.
func (p *peer) takeReply() bool {
	for {
		n := p.replies.Load()
		if n <= 0 {
			return false
		}
		if p.replies.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// send encodes msg for target (sender: the reply address). An urgent message
// to an idle peer is written at once by the caller and the error is the
// outcome of that write; otherwise the envelope is queued for the writer
// (waiting for room until deadline) and the error says whether it was.
// report (a Deliver) also fails with ErrUndelivered once after accepted
// envelopes were lost.
//
// A link that connects lazily (a Connector) is connected first: a peer that
// cannot be reached fails this send rather than the messages that would
// queue behind it, and the link's MaxBatch is then the peer's (it may accept
// less than we do).
func (p *peer) send(target, sender *pactor.PID, msg any, deadline time.Time, urgent, report bool) error {
	if p.connect != nil {
		if err := p.connect(deadline); err != nil {
			p.mu.Lock()
			if stop := p.stoppedLocked(); stop != nil {
				err = stop // the peer's own error says more (its death, the core closing)
			}
			p.mu.Unlock()
			return err
		}
	}
	p.mu.Lock()
	if err := p.stoppedLocked(); err != nil {
		p.mu.Unlock()
		return err
	}
	if report && p.lost != nil {
		err := fmt.Errorf("%w: %d earlier message(s) to %s: %w", ErrUndelivered, p.lostN, p.addr, p.lost)
		p.lost, p.lostN = nil, 0
		p.mu.Unlock()
		return err
	}
	maxBatch := p.link.MaxBatch()
	if urgent && !p.writing && len(p.q) == 0 {
		p.writing = true
		p.mu.Unlock()
		err := p.writeThrough(target, sender, msg, deadline, maxBatch)
		p.release()
		return err
	}
	for {
		// Encode straight into the queue (the lock is held for the encoding
		// only: the writer takes the queue in one swap).
		start := len(p.q)
		q, err := appendEnvelopeCached(p.q, &p.targets, &p.envs, target, sender, msg)
		if err != nil {
			p.q = q[:start]
			p.mu.Unlock()
			p.c.ctr.add(CEncodeErrors, 1)
			return err
		}
		size := len(q) - start
		if size > maxBatch {
			p.q = q[:start]
			p.mu.Unlock()
			p.c.ctr.add(CEncodeErrors, 1)
			return p.tooLarge(target, msg, size, maxBatch)
		}
		if start == 0 || len(q) <= p.maxQueue {
			p.q = q
			p.queuedLocked(start, maxBatch)
			var res chan error
			if sender != nil || pactor.UnwrapEnvelopeSender(msg) != nil {
				p.qReq = true
				if report {
					// A request's caller waits for its reply anyway: let it
					// learn the outcome of the write (as when it writes
					// through) rather than only that it was queued.
					res = make(chan error, 1)
					p.qWait = append(p.qWait, waiter{off: start, deadline: deadline, res: res})
				}
			}
			if urgent || p.qReq {
				p.streaming = false // written at once, not at the next flush
			}
			p.unlockQueued(nil, deadline)
			if res != nil {
				return p.await(res, deadline)
			}
			return nil
		}
		// No room: wait until the writer takes the queue, or the deadline.
		p.q = q[:start]
		if p.space == nil {
			p.space = make(chan struct{})
		}
		ch := p.space
		p.streaming = false // the writer takes over (senders that wait flush nothing)
		p.unlockKick(!p.writing)
		p.c.ctr.add(CQueueFull, 1)
		if deadline.IsZero() {
			deadline = time.Now().Add(p.c.cfg.SendTimeout)
		}
		if !waitUntil(ch, deadline) {
			return fmt.Errorf("%w: %s: %d bytes already queued (limit %d) until the deadline", ErrFull, p.addr, p.queued(), p.maxQueue)
		}
		p.mu.Lock()
		if err := p.stoppedLocked(); err != nil {
			p.mu.Unlock()
			return err
		}
	}
}

// queuedLocked accounts for the envelope just appended to the queue at
// offset start (p.mu held).
func (p *peer) queuedLocked(start, maxBatch int) {
	// A new link write starts here when this envelope would make the
	// current one larger than the link takes (or than the batches the
	// writer aims at), or hold more envelopes than a receiving core decodes
	// from one batch.
	if start > p.partAt && (len(p.q)-p.partAt > min(maxBatch, p.c.cfg.BatchBytes) || p.qn-p.partN >= p.c.cfg.MaxEnvelopes) {
		p.parts = append(p.parts, part{off: start, n: p.qn})
		p.partAt, p.partN = start, p.qn
	}
	p.qn++
}

// queueEncoded queues env, an encoded one-way envelope (a Batch field of at
// most MaxBatch bytes), for the writer if that needs no report and no wait:
// the peer takes messages, has no loss to report and room in its queue. It
// reports whether it did; if not, send says why or waits.
func (p *peer) queueEncoded(ctx context.Context, env []byte) bool {
	p.mu.Lock()
	start := len(p.q)
	if p.err != nil || p.closing != nil || p.lost != nil || (start > 0 && start+len(env) > p.maxQueue) {
		p.mu.Unlock()
		return false
	}
	p.q = append(p.q, env...)
	p.queuedLocked(start, p.link.MaxBatch())
	p.unlockQueued(ctx, time.Time{})
	return true
}

// unlockQueued releases p.mu after a send queued an envelope, and sees that
// the queue gets written: by the writer goroutine (kicked if it sleeps), or
// while senders stream (see senderFlushBytes) by this sender once the queue
// is full enough, else at the next flush or by the tail timer.
//
// A sender flushes only into a link that has room for the queue now (a
// RoomChecker), so that its send does not wait for a slow reader (that is
// the writer goroutine's job; senders wait for room in the queue, until
// their deadline); if another producer took the room meanwhile, the write
// waits until the sender's deadline (ctx's, or deadline; zero: the link's
// send timeout), and what it could not write is reported as undelivered.
func (p *peer) unlockQueued(ctx context.Context, deadline time.Time) {
	if !p.streaming || p.closing != nil || p.err != nil {
		p.unlockKick(!p.writing)
		return
	}
	if !p.writing && len(p.q) >= senderFlushBytes {
		if !p.room(len(p.q) + (len(p.parts)+1)*recordSlack) {
			p.streaming = false // a slow reader: the writer goroutine waits for it
			p.unlockKick(true)
			return
		}
		p.writing = true
		p.flushSeq++
		p.c.senderFlushes.Add(1)
		n, req := p.takeLocked()
		p.mu.Unlock()
		if ctx != nil {
			deadline, _ = ctx.Deadline()
		}
		if !deadline.IsZero() && (p.wdlUpTo.IsZero() || deadline.Before(p.wdlUpTo)) {
			p.wdlUpTo = deadline // (w and its deadline are ours while writing)
		}
		p.writeQueue(n, req)
		p.mu.Lock()
		p.writing = false
		p.flushedLocked()
		// What was queued meanwhile waits for the next sender's flush, or
		// the tail timer; the writer takes it now if streaming ended (a
		// request or reply came, the tail timer fired), the core closes,
		// senders wait for room, or it is a full queue already.
		p.unlockKick(len(p.q) > 0 && p.err == nil &&
			(!p.streaming || p.closing != nil || p.space != nil || len(p.q) >= senderFlushBytes))
		return
	}
	if !p.tailArmed {
		p.tailArmed = true
		p.tailSeq = p.flushSeq
		if p.tail == nil {
			p.tail = time.AfterFunc(time.Duration(tailAfter.Load()), p.tailDue)
		} else {
			p.tail.Reset(time.Duration(tailAfter.Load()))
		}
	}
	p.mu.Unlock()
}

// tailDue is the tail timer: while senders still flush, it looks again
// later; else streaming ends and the writer gets what is queued.
func (p *peer) tailDue() {
	p.mu.Lock()
	if !p.tailArmed {
		p.mu.Unlock()
		return
	}
	if p.streaming && p.flushSeq != p.tailSeq && p.err == nil && p.closing == nil {
		p.tailSeq = p.flushSeq
		p.tail.Reset(time.Duration(tailAfter.Load()))
		p.mu.Unlock()
		return
	}
	p.tailArmed = false
	p.streaming = false
	p.unlockKick(len(p.q) > 0 && !p.writing && p.err == nil)
}

// stoppedLocked is why the peer takes no more messages (p.mu held): it is
// down, or the core is closing; nil while it takes them.
func (p *peer) stoppedLocked() error {
	if p.err != nil {
		return p.err
	}
	return p.closing
}

// await waits for the outcome of a queued request's write. At its deadline a
// request still in the queue is taken out of it and fails with ErrFull; one
// the writer took is written with its deadline, so the answer comes soon.
func (p *peer) await(res chan error, deadline time.Time) error {
	if deadline.IsZero() {
		return <-res // the writer answers by the link's send timeout, or shutdown at once
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case err := <-res:
		return err
	case <-t.C:
	}
	p.mu.Lock()
	removed := p.unqueue(res)
	p.mu.Unlock()
	if removed {
		return fmt.Errorf("%w: %s: the write before it was still in flight at the deadline", ErrFull, p.addr)
	}
	return <-res
}

// unqueue removes the envelope of the waiter res from the queue (p.mu held);
// false if the writer took it already.
func (p *peer) unqueue(res chan error) bool {
	i := slices.IndexFunc(p.qWait, func(w waiter) bool { return w.res == res })
	if i < 0 {
		return false
	}
	off := p.qWait[i].off
	_, _, tl := protowire.ConsumeTag(p.q[off:])
	_, vl := protowire.ConsumeBytes(p.q[off+tl:])
	size := tl + vl
	p.q = append(p.q[:off], p.q[off+size:]...)
	p.qn--
	p.qWait = slices.Delete(p.qWait, i, i+1)
	for j := range p.qWait {
		if p.qWait[j].off > off {
			p.qWait[j].off -= size
		}
	}
	// Later parts start earlier; a part left empty goes.
	parts := p.parts[:0]
	prev := 0
	for _, pt := range p.parts {
		if pt.off > off {
			pt.off -= size
			pt.n--
		}
		if pt.off > prev && pt.off < len(p.q) {
			parts = append(parts, pt)
			prev = pt.off
		}
	}
	p.parts = parts
	p.partAt, p.partN = prev, 0
	if len(parts) > 0 {
		p.partN = parts[len(parts)-1].n
	}
	p.flushedLocked()
	return true
}

func (p *peer) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.q)
}

func waitUntil(ch <-chan struct{}, deadline time.Time) bool {
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func (p *peer) tooLarge(target *pactor.PID, msg any, n, limit int) error {
	return fmt.Errorf("%w: %T for %s/%s is %d bytes encoded, the limit is %d",
		ErrTooLarge, pactor.UnwrapEnvelopeMessage(msg), target.Address, target.Id, n, limit)
}

// writeThrough writes a single envelope as a batch (the caller is the writer).
func (p *peer) writeThrough(target, sender *pactor.PID, msg any, deadline time.Time, maxBatch int) error {
	buf, err := appendEnvelopeCached(p.w[:0], &p.targets, nil, target, sender, msg)
	p.w = buf[:0]
	if err != nil {
		p.c.ctr.add(CEncodeErrors, 1)
		return err
	}
	if len(buf) > maxBatch {
		p.c.ctr.add(CEncodeErrors, 1)
		return p.tooLarge(target, msg, len(buf), maxBatch)
	}
	if err := p.link.Send(deadline, buf); err != nil {
		return err
	}
	if p.c.cfg.AwaitReply != nil && (sender != nil || pactor.UnwrapEnvelopeSender(msg) != nil) {
		p.c.cfg.AwaitReply()
	}
	p.c.ctr.add(CSent, 1)
	p.c.ctr.add(CSentBatches, 1)
	p.c.ctr.add(CSentBytes, uint64(len(buf)))
	return nil
}

// release ends a sender's turn as the writer; what was queued meanwhile goes
// to the writer goroutine.
func (p *peer) release() {
	p.mu.Lock()
	p.writing = false
	p.flushedLocked()
	p.unlockKick(len(p.q) > 0 && p.err == nil)
}

// unlockKick releases p.mu and, if work is waiting for the writer goroutine
// (need) and nobody has kicked it yet, marks it awake and kicks it.
func (p *peer) unlockKick(need bool) {
	kick := need && !p.awake
	if kick {
		p.awake = true
	}
	p.mu.Unlock()
	if kick {
		p.wake()
	}
}

// wake kicks the writer goroutine (only whoever set awake does, so the kick
// channel's one slot is free; the select is a safety net).
func (p *peer) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// run is the peer's writer goroutine: kicked when the queue gets its first
// envelope, it writes queues until it finds none.
func (p *peer) run() {
	defer p.c.wg.Done()
	defer func() { _ = p.link.Close() }()
	for {
		select {
		case <-p.kick:
		case <-p.quit:
			return
		}
		p.drain()
	}
}

// drain writes the queue, one swap at a time, until it is empty (or a sender
// writes through: it kicks again when done).
func (p *peer) drain() {
	idle, wrote := 0, 0
	for {
		p.mu.Lock()
		if p.err != nil || p.writing || len(p.q) == 0 {
			if p.err == nil && !p.writing && idle == 0 {
				// Before parking, let the senders that run on this P add to
				// the queue once: the next batch is then likely not empty,
				// and costs no kick.
				p.mu.Unlock()
				idle++
				runtime.Gosched()
				continue
			}
			p.awake = false
			if wrote >= streamBytes && p.room != nil && p.err == nil && p.closing == nil {
				p.streaming = true // the senders write the next queues (see unlockQueued)
			}
			// (w belongs to a sender that writes through meanwhile.)
			if cap(p.q) > keepQueueBytes || (!p.writing && cap(p.w) > keepQueueBytes) {
				p.shrinkLater()
			}
			p.flushedLocked()
			p.mu.Unlock()
			return
		}
		idle = 0
		p.writing = true
		n, req := p.takeLocked()
		wrote += len(p.w)
		p.mu.Unlock()

		p.writeQueue(n, req)

		p.mu.Lock()
		p.writing = false
		p.mu.Unlock()
	}
}

// takeLocked takes the queue for a write (p.mu held, p.writing set): it
// becomes w, with its parts and waiters; it returns the number of
// envelopes and whether a request is among them.
func (p *peer) takeLocked() (n int, req bool) {
	p.wdlUpTo = p.closeBy
	p.q, p.w = p.w[:0], p.q
	p.parts, p.wparts = p.wparts[:0], p.parts
	p.qWait, p.wwait = p.wwait[:0], p.qWait
	n, req = p.qn, p.qReq
	p.qn, p.qReq, p.partAt, p.partN = 0, false, 0, 0
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
	return n, req
}

// keepQueueBytes is the largest queue buffer a peer keeps once its writer
// has been idle for shrinkAfter. While envelopes stream, the two buffers (the
// queue and the batch being written) are swapped and reused whatever their
// size: regrowing them after large writes cost more CPU than the encoding
// (and fed the garbage collector). A burst that grew them beyond this does
// not pin the memory once the peer is idle.
const keepQueueBytes = 1 << 20

var shrinkAfter = time.Second // a variable for tests

// shrinkLater arms the release of grown queue buffers (p.mu held, the writer
// parking).
func (p *peer) shrinkLater() {
	if p.shrink == nil {
		p.shrink = time.AfterFunc(shrinkAfter, p.shrinkIdle)
	} else {
		p.shrink.Reset(shrinkAfter)
	}
}

// shrinkIdle drops queue buffers grown beyond keepQueueBytes if the writer is
// still parked and nobody writes through.
func (p *peer) shrinkIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.awake || p.writing {
		return // busy again: it parks, and arms this, once it is idle
	}
	if cap(p.w) > keepQueueBytes {
		p.w = nil
	}
	if len(p.q) == 0 && cap(p.q) > keepQueueBytes {
		p.q = nil
	}
}

// writeQueue writes the taken queue p.w (n envelopes, in parts of at most
// maxBatch bytes) and reports what could not be written.
func (p *peer) writeQueue(n int, req bool) {
	buf := p.w
	from := part{}
	for i := 0; i <= len(p.wparts); i++ {
		to := part{off: len(buf), n: n}
		if i < len(p.wparts) {
			to = p.wparts[i]
		}
		chunk := buf[from.off:to.off]
		if err := p.link.Send(p.deadline(from.off), chunk); err != nil {
			p.c.ctr.add(CSent, uint64(from.n))
			p.undelivered(buf[from.off:], from.off, err)
			return
		}
		p.c.ctr.add(CSentBatches, 1)
		p.c.ctr.add(CSentBytes, uint64(len(chunk)))
		from = to
	}
	p.c.ctr.add(CSent, uint64(n))
	if req && p.c.cfg.AwaitReply != nil {
		p.c.cfg.AwaitReply()
	}
	p.answer(len(buf), nil)
}

// deadline is when a write of the taken queue from offset off gives up
// waiting for room: the earliest deadline of the requests waiting at or after
// off (they need this write to go first) and of a closing core's flush, or
// zero (the link's send timeout).
func (p *peer) deadline(off int) time.Time {
	d := p.wdlUpTo // a closing core's flush ends then
	for _, w := range p.wwait {
		if w.off >= off && !w.deadline.IsZero() && (d.IsZero() || w.deadline.Before(d)) {
			d = w.deadline
		}
	}
	return d
}

// answer gives every waiter of the taken queue its outcome: nil for those
// before offset end (written), err for the others.
func (p *peer) answer(end int, err error) {
	for _, w := range p.wwait {
		if w.off < end {
			w.res <- nil
		} else {
			w.res <- err
		}
	}
	clear(p.wwait)
	p.wwait = p.wwait[:0]
}

// undelivered reports the envelopes of batch (at offset base of the taken
// queue), accepted for the peer, that will not reach it because of cause:
// waiting Delivers get cause; the others are dead letters, counted, and the
// next Deliver to the peer fails with the cause.
func (p *peer) undelivered(batch []byte, base int, cause error) {
	// The next Deliver learns of it before the counters and dead letters
	// tell anyone.
	n, _ := eachEnvelope(batch, base, p.wwait, nil)
	p.markLost(n, cause)
	p.c.deadLetterBatch(p.addr, batch, base, p.wwait, cause)
	p.answer(base, cause)
}

// markLost records that n envelopes accepted for the peer were not
// delivered (cause): the next Deliver to it fails with ErrUndelivered.
func (p *peer) markLost(n int, cause error) {
	if n == 0 {
		return
	}
	p.mu.Lock()
	if p.err == nil { // a peer that is down reports its own error to every Deliver
		if p.lost == nil {
			p.lost = cause
		}
		p.lostN += n
	}
	p.mu.Unlock()
}

// flush stops the peer taking messages (later sends, and those waiting for
// room, fail with cause) and lets the writer write what is queued, no write
// waiting past deadline. It returns when the queue is empty and nobody
// writes, or at deadline (false: something is still queued or in flight).
func (p *peer) flush(cause error, deadline time.Time) bool {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return true // shut down: its queue was reported
	}
	p.closing = cause
	p.closeBy = deadline
	if p.space != nil { // senders waiting for room: they fail with cause
		close(p.space)
		p.space = nil
	}
	if len(p.q) == 0 && !p.writing {
		p.mu.Unlock()
		return true
	}
	if p.flushed == nil {
		p.flushed = make(chan struct{})
	}
	ch := p.flushed
	p.unlockKick(!p.writing)
	return waitUntil(ch, deadline)
}

// flushedLocked tells a waiting flush (p.mu held) once the queue is empty
// and nobody writes.
func (p *peer) flushedLocked() {
	if p.flushed != nil && len(p.q) == 0 && !p.writing {
		close(p.flushed)
		p.flushed = nil
	}
}

// shutdown marks the peer down with cause: queued envelopes are reported,
// watchers get Terminated, the writer goroutine stops (closing the link).
func (p *peer) shutdown(cause error) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return
	}
	p.err = cause
	q, waiting := p.q, p.qWait
	p.q, p.qn, p.parts, p.partAt, p.partN, p.qReq, p.qWait = nil, 0, nil, 0, 0, false, nil
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
	if p.flushed != nil { // what was queued is reported below
		close(p.flushed)
		p.flushed = nil
	}
	watches := p.watches
	p.watches = nil
	p.mu.Unlock()
	close(p.quit)
	if len(q) > 0 {
		p.c.deadLetterBatch(p.addr, q, 0, waiting, cause)
	}
	for _, w := range waiting {
		w.res <- cause
	}
	for _, w := range watches {
		p.c.terminated(w.watchee, w.watcher)
	}
}

// deadLetterBatch reports the envelopes of batch (Batch fields this core
// encoded, at offset base of their queue) as not delivered to the peer at
// address because of cause, except those of waiting Delivers (skip, by
// offset: they get the error instead): each goes to proto.actor's dead
// letters (a request's sender gets a DeadLetterResponse at once; a Watch's
// watcher gets Terminated) and counts as Undelivered and a send error. Parts
// that do not decode are counted (EncodeErrors) and logged. It returns how
// many envelopes it reported.
func (c *Core) deadLetterBatch(address string, batch []byte, base int, skip []waiter, cause error) int {
	n, err := eachEnvelope(batch, base, skip, func(v []byte) {
		// Undelivered last: once it counts a message, the other counters
		// and the dead letter have it too.
		defer c.ctr.add(CUndelivered, 1)
		c.ctr.add(CSendErrors, 1)
		env, err := proto.UnmarshalEnvelope(v)
		var d proto.Decoded
		if err == nil {
			d, err = proto.Decode(env)
		}
		if err != nil { // not expected: this core encoded it
			c.undecodable(address, cause, err)
			return
		}
		if d.System {
			c.deadLetterOut(d.Target, d.Message, true, cause)
		} else {
			c.deadLetterOut(d.Target, d.UserMessage(), false, cause)
		}
	})
	if err != nil {
		c.undecodable(address, cause, err)
	}
	return n
}

// eachEnvelope calls fn (if not nil) with each envelope of batch (Batch
// fields, at offset base of their queue) but those of waiting Delivers
// (skip), skipping fields other than envelopes, and returns how many it
// found. It stops with an error at bytes that are not protobuf fields.
func eachEnvelope(batch []byte, base int, skip []waiter, fn func(v []byte)) (int, error) {
	n := 0
	off := base
	for len(batch) > 0 {
		at := off
		num, typ, tl := protowire.ConsumeTag(batch)
		if tl < 0 {
			return n, fmt.Errorf("%w: batch: field tag: %v", proto.ErrMalformed, protowire.ParseError(tl))
		}
		if num != fBatchEnvelope || typ != protowire.BytesType {
			fl := protowire.ConsumeFieldValue(num, typ, batch[tl:])
			if fl < 0 {
				return n, fmt.Errorf("%w: batch: field %d: %v", proto.ErrMalformed, num, protowire.ParseError(fl))
			}
			batch = batch[tl+fl:]
			off += tl + fl
			continue
		}
		v, vl := protowire.ConsumeBytes(batch[tl:])
		if vl < 0 {
			return n, fmt.Errorf("%w: batch: envelope %d: %v", proto.ErrMalformed, n, protowire.ParseError(vl))
		}
		batch = batch[tl+vl:]
		off += tl + vl
		if slices.ContainsFunc(skip, func(w waiter) bool { return w.off == at }) {
			continue
		}
		n++
		if fn != nil {
			fn(v)
		}
	}
	return n, nil
}

// encodeField appends env to buf as field 1 of a Batch (so that batches are
// the concatenation of their envelopes' fields).
func encodeField(buf []byte, env *proto.Envelope) ([]byte, error) {
	n := gproto.Size(env)
	buf = protowire.AppendTag(buf, 1, protowire.BytesType)
	buf = protowire.AppendVarint(buf, uint64(n))
	start := len(buf)
	buf, err := gproto.MarshalOptions{UseCachedSize: true}.MarshalAppend(buf, env)
	if err != nil {
		return buf[:start], fmt.Errorf("%w: envelope %s for %s/%s: %v", proto.ErrMalformed, env.TypeName, env.Target.GetAddress(), env.Target.GetId(), err)
	}
	if len(buf)-start != n {
		return buf[:start], fmt.Errorf("%w: envelope %s for %s/%s: encoded %d bytes, sized %d", proto.ErrMalformed, env.TypeName, env.Target.GetAddress(), env.Target.GetId(), len(buf)-start, n)
	}
	return buf, nil
}
