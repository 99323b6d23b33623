package remote

import (
	"fmt"
	"sync"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"

	"github.com/xorc-dev/xorc/proto"
)

// peer is the pactor.Process of every PID of one other process, and the
// outbound queue to it.
//
// Batching: whoever finds the peer idle (no write in flight, nothing queued)
// becomes the writer and writes its envelope at once; senders arriving while
// a write is in flight queue their envelope; when the writer is done it
// kicks the peer's writer goroutine, which sends everything queued as one
// batch per link write. So an idle peer adds no delay and no goroutine
// hand-off, and batches grow with the load.
type peer struct {
	c        *Core
	addr     string
	link     Link
	maxBatch int

	mu      sync.Mutex
	q       []item
	qBytes  int
	writing bool          // a writer (a sender or the goroutine) owns buf and the link
	err     error         // set when the peer is down: every later send fails with it
	space   chan struct{} // closed when the queue shrinks; nil until someone waits for room
	watches map[watchKey]watch

	buf   []byte // the batch being written, owned by the writer
	taken []item // the items of that batch, owned by the writer

	kick chan struct{}
	quit chan struct{}
}

// item is one encoded envelope waiting in the queue.
type item struct {
	data     []byte // the envelope as a Batch field: tag, length, bytes
	deadline time.Time
	res      chan error // a Deliver waiting for the outcome; nil for a proto.actor send
	// What a failed proto.actor send reports as a dead letter.
	target *pactor.PID
	msg    any
	system bool
}

type watchKey struct{ watchee, watcher string }

type watch struct{ watchee, watcher *pactor.PID }

var _ pactor.Process = (*peer)(nil)

func newPeer(c *Core, address string, link Link) *peer {
	return &peer{
		c:        c,
		addr:     address,
		link:     link,
		maxBatch: link.MaxBatch(),
		watches:  map[watchKey]watch{},
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
	}
}

// SendUserMessage implements pactor.Process: a proto.actor send (or reply)
// to an actor of the peer. Failures become dead letters.
func (p *peer) SendUserMessage(pid *pactor.PID, message any) {
	p.sendAsync(pid, message, false)
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
		if p.err != nil {
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
	p.sendAsync(pid, message, true)
}

// Stop implements pactor.Process.
func (p *peer) Stop(pid *pactor.PID) { p.SendSystemMessage(pid, &pactor.Stop{}) }

// unwatched forgets a watch whose Terminated came from the peer.
func (p *peer) unwatched(watchee, watcher *pactor.PID) {
	p.mu.Lock()
	delete(p.watches, watchKey{watchee.Id, watcher.Address + "\x00" + watcher.Id})
	p.mu.Unlock()
}

func (p *peer) sendAsync(pid *pactor.PID, message any, system bool) {
	err := p.send(pid, nil, message, time.Time{}, &item{target: pid, msg: message, system: system})
	if err != nil {
		p.c.ctr.add(CSendErrors, 1)
		p.c.deadLetterOut(pid, message, system, err)
	}
}

// send writes msg for target (sender: the reply address) to the peer, or
// queues it. async (non-nil for a proto.actor send) means the caller does not
// wait for a queued envelope: its failure is reported as a dead letter. The
// error is the outcome of the write, or of queueing it for an async send.
func (p *peer) send(target, sender *pactor.PID, msg any, deadline time.Time, async *item) error {
	p.mu.Lock()
	if p.err != nil {
		err := p.err
		p.mu.Unlock()
		return err
	}
	if !p.writing && len(p.q) == 0 {
		// Idle: write it ourselves, now.
		p.writing = true
		p.mu.Unlock()
		err := p.writeOne(target, sender, msg, deadline)
		p.release()
		return err
	}
	p.mu.Unlock()

	data, err := appendEnvelope(nil, target, sender, msg)
	if err != nil {
		p.c.ctr.add(CEncodeErrors, 1)
		return err
	}
	if len(data) > p.maxBatch {
		p.c.ctr.add(CEncodeErrors, 1)
		return p.tooLarge(target, msg, len(data))
	}
	it := item{data: data, deadline: deadline}
	if async != nil {
		it.target, it.msg, it.system = async.target, async.msg, async.system
	} else {
		it.res = make(chan error, 1)
	}

	p.mu.Lock()
	for p.err == nil && len(p.q) > 0 && p.qBytes+len(data) > p.c.cfg.MaxQueueBytes {
		if p.space == nil {
			p.space = make(chan struct{})
		}
		ch := p.space
		p.mu.Unlock()
		p.c.ctr.add(CQueueFull, 1)
		if deadline.IsZero() {
			deadline = time.Now().Add(p.c.cfg.SendTimeout)
		}
		if !waitUntil(ch, deadline) {
			return fmt.Errorf("%w: %s: %d bytes already queued (limit %d) until the deadline", ErrFull, p.addr, p.queued(), p.c.cfg.MaxQueueBytes)
		}
		p.mu.Lock()
	}
	if p.err != nil {
		err := p.err
		p.mu.Unlock()
		return err
	}
	p.q = append(p.q, it)
	p.qBytes += len(data)
	idle := !p.writing
	p.mu.Unlock()
	if idle {
		p.wake()
	}
	if it.res == nil {
		return nil
	}
	return <-it.res // the writer answers by the deadline (or the peer's shutdown)
}

func (p *peer) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.qBytes
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

func (p *peer) tooLarge(target *pactor.PID, msg any, n int) error {
	return fmt.Errorf("%w: %T for %s/%s is %d bytes encoded, the limit is %d",
		ErrTooLarge, pactor.UnwrapEnvelopeMessage(msg), target.Address, target.Id, n, p.maxBatch)
}

// writeOne writes a single envelope as a batch (the caller is the writer).
func (p *peer) writeOne(target, sender *pactor.PID, msg any, deadline time.Time) error {
	buf, err := appendEnvelope(p.buf[:0], target, sender, msg)
	if err != nil {
		p.c.ctr.add(CEncodeErrors, 1)
		return err
	}
	if len(buf) > p.maxBatch {
		p.c.ctr.add(CEncodeErrors, 1)
		return p.tooLarge(target, msg, len(buf))
	}
	p.buf = buf
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
	more := len(p.q) > 0 && p.err == nil
	p.mu.Unlock()
	if more {
		p.wake()
	}
}

func (p *peer) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// run is the peer's writer goroutine: it drains the queue, one batch per
// link write, whenever it is kicked and no sender is writing.
func (p *peer) run() {
	defer p.c.wg.Done()
	defer func() { _ = p.link.Close() }()
	for {
		select {
		case <-p.kick:
		case <-p.quit:
			return
		}
		for p.drainOnce() {
		}
	}
}

// drainOnce takes the writer role and writes one batch from the head of the
// queue; false when there was nothing to do (or someone else writes).
func (p *peer) drainOnce() bool {
	p.mu.Lock()
	if p.writing || len(p.q) == 0 || p.err != nil {
		p.mu.Unlock()
		return false
	}
	p.writing = true
	n, size := 0, 0
	var deadline time.Time // zero: the link's send timeout
	for n < len(p.q) && (n == 0 || size+len(p.q[n].data) <= p.maxBatch) {
		size += len(p.q[n].data)
		if d := p.q[n].deadline; !d.IsZero() && (deadline.IsZero() || d.Before(deadline)) {
			deadline = d // a batch waits no longer than its most urgent envelope
		}
		n++
	}
	p.taken = append(p.taken[:0], p.q[:n]...)
	m := copy(p.q, p.q[n:])
	clear(p.q[m:])
	p.q = p.q[:m]
	p.qBytes -= size
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
	p.mu.Unlock()

	buf := p.buf[:0]
	for i := range p.taken {
		buf = append(buf, p.taken[i].data...)
	}
	p.buf = buf
	err := p.link.Send(deadline, buf)
	if err == nil && p.c.cfg.AwaitReply != nil {
		p.c.cfg.AwaitReply()
	}
	if err == nil {
		p.c.ctr.add(CSent, uint64(len(p.taken)))
		p.c.ctr.add(CSentBatches, 1)
		p.c.ctr.add(CSentBytes, uint64(len(buf)))
	}
	for i := range p.taken {
		p.report(&p.taken[i], err)
	}
	clear(p.taken)

	p.mu.Lock()
	p.writing = false
	p.mu.Unlock()
	return true
}

// report gives an item's outcome to its waiting Deliver, or reports a failed
// proto.actor send as a dead letter.
func (p *peer) report(it *item, err error) {
	if it.res != nil {
		it.res <- err
		return
	}
	if err != nil {
		p.c.ctr.add(CSendErrors, 1)
		p.c.deadLetterOut(it.target, it.msg, it.system, err)
	}
}

// shutdown marks the peer down with cause: queued items are reported,
// watchers get Terminated, the writer goroutine stops (closing the link).
func (p *peer) shutdown(cause error) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return
	}
	p.err = cause
	q := p.q
	p.q, p.qBytes = nil, 0
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
	watches := p.watches
	p.watches = nil
	p.mu.Unlock()
	close(p.quit)
	for i := range q {
		p.report(&q[i], cause)
	}
	for _, w := range watches {
		p.c.terminated(w.watchee, w.watcher)
	}
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
