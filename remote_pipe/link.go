//go:build linux || darwin

package remote_pipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type linkState uint8

const (
	stIdle    linkState = iota // no connection: the next Send dials
	stDialing                  // a dial is in flight: Sends wait for it
	stUp                       // connected: Sends write or queue
	stDown                     // the last dial failed: Sends fail until retryAt
	stClosed                   // closed by us: Sends fail with closeErr
)

// Link is this process's sending side towards one peer: one connection,
// dialed by the first Send, redialed (with backoff) after it breaks. Send
// copies the payload; an idle link writes it at once, a busy one queues it
// for its writer goroutine, which writes everything queued with one write:
// writes coalesce while the previous one is in flight.
//
// A link only sends: the peer's frames to us arrive on the connection the
// peer dialed, at our Node's Handler.
type Link struct {
	n      *Node
	target Target
	log    *slog.Logger

	mu        sync.Mutex
	state     linkState
	cur       *outConn      // when stUp (and while a graceful close flushes)
	q         frameQueue    // frames waiting for the writer
	spare     frameQueue    // the writer's previous batch, for reuse
	spaceWait bool          // a Send waits for room
	space     chan struct{} // closed (and replaced) when the writer takes the queue
	dialDone  chan struct{} // closed when the dial in flight ends
	lastErr   error
	retryAt   time.Time
	backoff   time.Duration
	closeErr  error
	closedCh  chan struct{}
	peer      PeerInfo
	connected bool
	up        atomic.Bool    // state == stUp (read without l.mu by Connect)
	maxSend   atomic.Int64   // our MaxFrame, or the connected peer's if smaller
	lastSend  int64          // nanotime of the latest Send that found the link without queue or write
	pending   sync.WaitGroup // dials and connections not yet finished

	framesOut, bytesOut, writes, dials, dialFailures atomic.Uint64
	connsLost, undelivered, unconfirmed              atomic.Uint64
	handoffs                                         atomic.Uint64 // direct writes the writer finished (tests)
}

func newLink(n *Node, t Target) *Link {
	l := &Link{
		n:        n,
		target:   t,
		log:      n.log.With("peer", t.Path),
		space:    make(chan struct{}),
		closedCh: make(chan struct{}),
		backoff:  n.opts.BackoffMin,
	}
	l.maxSend.Store(int64(n.opts.MaxFrame))
	return l
}

// setState changes the state (l.mu held).
func (l *Link) setState(s linkState) {
	l.state = s
	l.up.Store(s == stUp)
}

// Target is where the link connects to.
func (l *Link) Target() Target { return l.target }

// Peer is the identity the peer announced on the link's latest connection;
// ok is false before the first one.
func (l *Link) Peer() (p PeerInfo, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peer, l.connected
}

// MaxFrame is the largest payload Send accepts: our Options.MaxFrame, or
// the peer's limit if it announced a smaller one (known once connected).
func (l *Link) MaxFrame() int { return int(l.maxSend.Load()) }

// Connect makes sure the link has a connection: nil at once when it has
// one; otherwise it dials (or waits for the dial in flight, until deadline:
// zero means Options.SendTimeout from now) and fails as Send would: with
// ErrUnreachable when the dial fails (at once with the last error while
// the redial backoff runs), with the close error once the link is closed.
// A caller that connects first learns the peer's frame limit (MaxFrame)
// before it builds a frame.
func (l *Link) Connect(deadline time.Time) error {
	if l.up.Load() {
		return nil
	}
	w := waiter{deadline: deadline, def: l.n.opts.SendTimeout}
	defer w.release()
	l.mu.Lock()
	if err := l.upLocked(&w); err != nil {
		return err
	}
	l.mu.Unlock()
	return nil
}

// upLocked brings the link up (l.mu held): nil with l.mu still held and the
// link in stUp, or an error with l.mu released.
func (l *Link) upLocked(w *waiter) error {
	for {
		switch l.state {
		case stUp:
			return nil
		case stClosed:
			err := l.closeErr
			l.mu.Unlock()
			return err
		case stDialing:
			dd := l.dialDone
			l.mu.Unlock()
			if err := w.wait(dd, l.closedCh); err != nil {
				return fmt.Errorf("%w: %s: still connecting: %w", ErrUnreachable, l.target, err)
			}
			l.mu.Lock()
		case stDown:
			if time.Now().Before(l.retryAt) {
				err := l.lastErr
				l.mu.Unlock()
				return err
			}
			l.startDial()
		case stIdle:
			l.startDial()
		}
	}
}

// Stats returns the link's counters.
func (l *Link) Stats() LinkStats {
	l.mu.Lock()
	qf, qb := l.q.frames(), l.q.size()
	l.mu.Unlock()
	return LinkStats{
		FramesOut: l.framesOut.Load(), BytesOut: l.bytesOut.Load(), Writes: l.writes.Load(),
		Dials: l.dials.Load(), DialFailures: l.dialFailures.Load(), ConnsLost: l.connsLost.Load(),
		Undelivered: l.undelivered.Load(), Unconfirmed: l.unconfirmed.Load(),
		QueuedFrames: qf, QueuedBytes: qb,
	}
}

// Send sends payload as one data frame to the peer. It copies payload: the
// caller may reuse it as soon as Send returns. Send
//   - refuses a payload over the frame limit (ours, or the peer's if
//     smaller) with ErrFrameTooLarge, leaving the connection alone;
//   - dials if not connected, and fails with ErrUnreachable if that fails;
//     while the redial backoff runs it fails at once with the last error;
//   - blocks while the queue is full (QueueBytes), up to ctx's deadline (or
//     Options.SendTimeout if ctx has none), then fails with ErrQueueFull
//     wrapping context.DeadlineExceeded (or ctx's error if it is cancelled);
//   - fails with the close error once the link is closed.
//
// nil means written, or queued on a live connection: if that connection
// ends before the frame is written or acknowledged, it is reported through
// Options.OnUndelivered.
func (l *Link) Send(ctx context.Context, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send to %s: %w", l.target, err)
	}
	deadline, _ := ctx.Deadline()
	return l.send(payload, waiter{ctx: ctx, done: ctx.Done(), deadline: deadline, def: l.n.opts.SendTimeout})
}

// SendDeadline is Send with a deadline instead of a context (the zero time
// means Options.SendTimeout from now): for callers that carry deadlines,
// without a context allocation per frame.
func (l *Link) SendDeadline(deadline time.Time, payload []byte) error {
	return l.send(payload, waiter{deadline: deadline, def: l.n.opts.SendTimeout})
}

func (l *Link) send(payload []byte, w waiter) error {
	if len(payload) > l.n.opts.MaxFrame {
		return fmt.Errorf("%w: %d bytes to %s, the limit is %d", ErrFrameTooLarge, len(payload), l.target, l.n.opts.MaxFrame)
	}
	defer w.release()
	l.mu.Lock()
	for {
		if err := l.upLocked(&w); err != nil {
			return err
		}
		if limit := l.MaxFrame(); len(payload) > limit {
			l.mu.Unlock()
			return fmt.Errorf("%w: %d bytes to %s, the peer accepts at most %d", ErrFrameTooLarge, len(payload), l.target, limit)
		}
		oc := l.cur
		if l.q.frames() == 0 && !oc.writing && len(payload) <= directMax {
			// The clock is read only here, where the link may be idle
			// (a clock read costs a quarter of a microsecond on some
			// VMs: not on every queued frame).
			now := nanotime()
			idle := time.Duration(now-l.lastSend) >= directIdle
			l.lastSend = now
			if idle {
				// An idle link: write from this goroutine, without waking
				// the writer (a goroutine hand-off costs more than the write).
				oc.writing = true
				oc.wg.Add(1) // l.cur == oc: the reader's count is still held
				l.mu.Unlock()
				oc.writeDirect(payload)
				return nil
			}
		}
		if l.q.frames() == 0 || l.q.size()+frameHeaderLen+len(payload) <= l.n.opts.QueueBytes {
			first := l.q.frames() == 0
			l.q.push(payload)
			l.mu.Unlock()
			if first {
				oc.poke()
			}
			return nil
		}
		l.spaceWait = true
		sp, queued := l.space, l.q.size()
		l.mu.Unlock()
		if err := w.wait(sp, l.closedCh); err != nil {
			return fmt.Errorf("%w: %s: %d bytes waiting: %w", ErrQueueFull, l.target, queued, err)
		}
		l.mu.Lock()
	}
}

// waiter bounds a Send's waiting: by its context (done, ctx) if it has
// one, and by its deadline (the default SendTimeout if zero). The timer is
// made only when a Send has to wait.
type waiter struct {
	ctx      context.Context // nil for SendDeadline
	done     <-chan struct{}
	deadline time.Time
	def      time.Duration
	timer    *time.Timer
}

// wait waits for ready or closed; an error when the deadline passes or the
// context ends first.
func (w *waiter) wait(ready, closed <-chan struct{}) error {
	if w.timer == nil {
		if w.deadline.IsZero() {
			w.deadline = time.Now().Add(w.def)
		}
		d := time.Until(w.deadline)
		if d <= 0 {
			return context.DeadlineExceeded
		}
		w.timer = time.NewTimer(d)
	}
	select {
	case <-ready:
		return nil
	case <-closed:
		return nil
	case <-w.done:
		return w.ctx.Err()
	case <-w.timer.C:
		return context.DeadlineExceeded
	}
}

func (w *waiter) release() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// frameQueue holds encoded data frames back to back, as they go on the wire.
type frameQueue struct {
	buf  []byte
	ends []int // ends[i]: offset in buf just past frame i
}

func (q *frameQueue) frames() int { return len(q.ends) }
func (q *frameQueue) size() int   { return len(q.buf) }

func (q *frameQueue) push(p []byte) {
	q.buf = appendFrameHeader(q.buf, kindData, len(p))
	q.buf = append(q.buf, p...)
	q.ends = append(q.ends, len(q.buf))
}

// complete is how many frames end within the first n bytes.
func (q *frameQueue) complete(n int) int {
	lo, hi := 0, len(q.ends)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if q.ends[m] <= n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// payloadBytes is the payload size of the first k frames.
func (q *frameQueue) payloadBytes(k int) uint64 {
	if k == 0 {
		return 0
	}
	return uint64(q.ends[k-1] - k*frameHeaderLen)
}

// payloads are the payloads of frames from..end, sharing q's buffer (which
// the caller must then not reuse).
func (q *frameQueue) payloads(from int) [][]byte {
	if from >= len(q.ends) {
		return nil
	}
	out := make([][]byte, 0, len(q.ends)-from)
	start := 0
	if from > 0 {
		start = q.ends[from-1]
	}
	for _, end := range q.ends[from:] {
		out = append(out, q.buf[start+frameHeaderLen:end:end])
		start = end
	}
	return out
}

// reset empties q for reuse; a buffer grown past keep (by one large
// frame) is dropped rather than kept.
func (q *frameQueue) reset(keep int) {
	if cap(q.buf) > keep {
		*q = frameQueue{}
		return
	}
	q.buf, q.ends = q.buf[:0], q.ends[:0]
}

// keepQueue is the largest queue buffer worth keeping for reuse: a full
// queue (QueueBytes and the frame that overflows it) fits.
func (l *Link) keepQueue() int { return max(2*l.n.opts.QueueBytes, 64<<10) }

// Close closes the link at once: Sends fail with an error wrapping
// ErrClosed and cause (the core passes the registry's "process died"
// error, so senders see it), frames still queued are reported as
// Undelivered with that error. The node forgets the link; Node.Link makes
// a new one for the same target.
func (l *Link) Close(cause error) {
	err := l.closeError(cause)
	if oc := l.markClosed(err); oc != nil {
		oc.breakConn(err)
	}
	l.n.forget(l)
}

// shutdown closes the link after flushing its queue and saying goodbye,
// bounded by ctx.
func (l *Link) shutdown(ctx context.Context, cause error) {
	err := l.closeError(cause)
	if oc := l.markClosed(err); oc != nil {
		oc.poke()
		select {
		case <-oc.finished:
		case <-ctx.Done():
			oc.breakConn(fmt.Errorf("%w (flush timed out)", err))
		}
	}
	l.pending.Wait()
	l.n.forget(l)
}

func (l *Link) closeError(cause error) error {
	if cause == nil {
		return fmt.Errorf("%w: link to %s", ErrClosed, l.target)
	}
	if errors.Is(cause, ErrClosed) {
		return cause
	}
	return fmt.Errorf("%w: link to %s: %w", ErrClosed, l.target, cause)
}

// markClosed moves the link to stClosed and returns its connection, if any
// (nil if it was closed already).
func (l *Link) markClosed(err error) *outConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == stClosed {
		return nil
	}
	l.setState(stClosed)
	l.closeErr = err
	close(l.closedCh)
	return l.cur
}

// startDial runs under l.mu.
func (l *Link) startDial() {
	l.setState(stDialing)
	l.dialDone = make(chan struct{})
	l.pending.Add(1)
	go l.dial(l.dialDone)
}

func (l *Link) dial(done chan struct{}) {
	defer l.pending.Done()
	n := l.n
	n.st.dials.Add(1)
	l.dials.Add(1)
	c, fr, h, err := n.connect(l.target)
	var raw syscall.RawConn
	if err == nil {
		if raw, err = c.SyscallConn(); err != nil { // cannot fail for a *net.UnixConn
			_ = c.Close()
			c, err = nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, l.target, err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	defer close(done)
	if l.state == stClosed {
		if c != nil {
			_ = c.Close()
		}
		return
	}
	if err != nil {
		n.st.dialFailures.Add(1)
		l.dialFailures.Add(1)
		l.setState(stDown)
		l.lastErr = err
		l.retryAt = time.Now().Add(l.backoff)
		l.backoff = min(2*l.backoff, n.opts.BackoffMax)
		l.log.Debug("dial failed", "err", err, "retry_in", time.Until(l.retryAt))
		return
	}
	l.backoff = n.opts.BackoffMin
	l.peer = PeerInfo{Slot: int(h.slot), Generation: h.gen, PID: int(h.pid), UID: h.uid}
	l.connected = true
	l.maxSend.Store(int64(min(n.opts.MaxFrame, int(h.maxFrame))))
	oc := &outConn{
		l:        l,
		c:        c,
		raw:      raw,
		fr:       fr,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	l.cur = oc
	l.setState(stUp)
	n.st.openOut.Add(1)
	l.pending.Add(1)
	oc.wg.Add(2)
	go oc.writeLoop()
	go oc.readLoop()
	go oc.finish()
}

// welcomed is what connect learned from the listener.
type welcomed struct {
	hello
	uid int
}

// connect dials t and does the handshake: check the listener's uid, send
// hello, read welcome (or a goodbye saying why not).
func (n *Node) connect(t Target) (*net.UnixConn, *frameReader, welcomed, error) {
	fail := func(c net.Conn, err error) (*net.UnixConn, *frameReader, welcomed, error) {
		if c != nil {
			_ = c.Close()
		}
		return nil, nil, welcomed{}, fmt.Errorf("%w: %s: %w", ErrUnreachable, t, err)
	}
	deadline := time.Now().Add(n.opts.HandshakeTimeout)
	d := net.Dialer{Deadline: deadline}
	nc, err := d.Dial("unix", t.Path)
	if err != nil {
		return fail(nil, err)
	}
	c := nc.(*net.UnixConn)
	uid, pid, err := peerCred(c)
	if err != nil {
		return fail(c, fmt.Errorf("listener credentials: %w", err))
	}
	if !n.allowed(uid) {
		return fail(c, fmt.Errorf("%w: the listener runs as uid %d (pid %d)", ErrNotAllowed, uid, pid))
	}
	_ = c.SetDeadline(deadline)
	// A listener that refuses us has written a goodbye and may have closed
	// already: a failed write still leaves its goodbye to read.
	_, werr := c.Write(helloFrame(kindHello, n.self))
	fr := newFrameReader(c, 0, ctlBufSize)
	kind, p, err := fr.next()
	if err != nil {
		if werr != nil {
			err = werr
		} else if errors.Is(err, io.EOF) {
			err = errors.New("closed during the handshake")
		}
		return fail(c, err)
	}
	switch kind {
	case kindWelcome:
	case kindGoodbye:
		return fail(c, goodbyeError(p))
	default:
		return fail(c, fmt.Errorf("%w: %s frame instead of welcome", ErrBadFrame, kindName(kind)))
	}
	h, err := decodeHello(p)
	if err != nil {
		return fail(c, err)
	}
	if h.version != protoVersion {
		return fail(c, fmt.Errorf("%w: the listener speaks protocol version %d, we speak %d", ErrRefused, h.version, protoVersion))
	}
	if t.Generation != 0 && (int(h.slot) != t.Slot || h.gen != t.Generation) {
		return fail(c, fmt.Errorf("%w: it is slot %d gen %d (pid %d)", ErrWrongPeer, h.slot, h.gen, h.pid))
	}
	_ = c.SetDeadline(time.Time{})
	return c, fr, welcomed{hello: h, uid: uid}, nil
}

// outConn is one established connection of a link.
type outConn struct {
	l        *Link
	c        *net.UnixConn
	raw      syscall.RawConn
	fr       *frameReader
	wake     chan struct{} // a token: there is work for the writer goroutine
	done     chan struct{} // closed by breakConn
	finished chan struct{} // closed after the report
	once     sync.Once
	err      error // why it ended (set in breakConn)
	byeSent  atomic.Bool
	written  atomic.Uint64  // data frames completely written
	acked    atomic.Uint64  // data frames the peer delivered (its latest ack)
	wg       sync.WaitGroup // reader, writer, and a direct write in progress
	// Under l.mu: who may write. writing is set by the writer goroutine
	// for a batch, or by a Send writing directly; handoff means a direct
	// write stopped part-way (the socket was full) and the writer goroutine
	// must write the rest of tail, from tailAt, before anything else.
	writing, handoff bool
	tail             []byte // a whole frame (header and payload)
	tailAt           int
	direct           []byte // the direct writer's buffer (owned while writing)
	// Read by finish after wg.Wait.
	leftover  [][]byte // payloads the writing side did not completely write
	lostQueue [][]byte // the link's queue when the connection broke
}

// breakConn ends the connection (once): it closes the socket (waking the
// reader and writer) and takes the link's queue for the report. won tells
// whether this call did it.
func (oc *outConn) breakConn(err error) (won bool) {
	oc.once.Do(func() {
		won = true
		oc.err = err
		close(oc.done)
		_ = oc.c.Close()
		l := oc.l
		l.mu.Lock()
		if l.cur == oc {
			l.cur = nil
			oc.lostQueue = l.q.payloads(0)
			l.q = frameQueue{} // the report keeps the old buffer
			if l.state == stUp {
				l.setState(stIdle) // the next Send redials
			}
			if l.spaceWait {
				close(l.space)
				l.space, l.spaceWait = make(chan struct{}), false
			}
		}
		l.mu.Unlock()
	})
	return won
}

// lost ends the connection for a reason that is not our own doing.
func (oc *outConn) lost(err error) {
	if oc.breakConn(err) {
		oc.l.connsLost.Add(1)
		oc.l.n.st.connsLost.Add(1)
		oc.l.log.Warn("connection lost", "err", err)
	}
}

func (oc *outConn) readLoop() {
	defer oc.wg.Done()
	l := oc.l
	for {
		kind, p, err := oc.fr.next()
		if err != nil {
			switch {
			case oc.byeSent.Load() && errors.Is(err, io.EOF):
				// The orderly end of our close: the peer acknowledged and hung up.
				l.mu.Lock()
				cerr := l.closeErr
				l.mu.Unlock()
				oc.breakConn(cerr)
			case errors.Is(err, ErrBadFrame):
				l.n.st.badFrames.Add(1)
				oc.lost(fmt.Errorf("%w: %s: %w", ErrConnLost, l.target, err))
			default:
				if errors.Is(err, io.EOF) {
					err = errors.New("closed without goodbye")
				}
				oc.lost(fmt.Errorf("%w: %s: %w", ErrConnLost, l.target, err))
			}
			return
		}
		switch kind {
		case kindAck:
			v, err := decodeAck(p)
			if err != nil {
				oc.lost(fmt.Errorf("%w: %s: %w", ErrConnLost, l.target, err))
				return
			}
			if v > oc.acked.Load() { // only this goroutine stores
				oc.acked.Store(v)
			}
		case kindGoodbye:
			oc.lost(fmt.Errorf("%s: %w", l.target, goodbyeError(p)))
			return
		default:
			l.n.st.badFrames.Add(1)
			oc.lost(fmt.Errorf("%w: %s: %w: unexpected %s frame from the listener", ErrConnLost, l.target, ErrBadFrame, kindName(kind)))
			return
		}
	}
}

func (oc *outConn) writeLoop() {
	defer oc.wg.Done()
	l := oc.l
	for {
		select {
		case <-oc.wake:
		case <-oc.done:
			return
		}
		for {
			l.mu.Lock()
			if l.cur != oc {
				l.mu.Unlock()
				return
			}
			if oc.writing && !oc.handoff {
				// A Send is writing directly; it wakes us if it leaves work.
				l.mu.Unlock()
				break
			}
			if oc.handoff {
				oc.handoff = false // and writing stays set: the socket is ours now
				tail, at := oc.tail, oc.tailAt
				l.mu.Unlock()
				_, err := oc.c.Write(tail[at:]) // the poller waits for room
				oc.wrote(1)
				if err != nil { // finish reports oc.tail
					oc.lost(fmt.Errorf("%w: %s: write: %w", ErrConnLost, l.target, err))
					return
				}
				l.mu.Lock()
				oc.tail = nil
				oc.framesWritten(1, uint64(len(tail)-frameHeaderLen))
			}
			if l.q.frames() == 0 {
				oc.writing = false
				closing := l.state == stClosed
				l.mu.Unlock()
				if closing {
					oc.sayGoodbye()
					return
				}
				break
			}
			oc.writing = true
			batch := l.q
			l.q, l.spare = l.spare, frameQueue{}
			if l.spaceWait {
				close(l.space)
				l.space, l.spaceWait = make(chan struct{}), false
			}
			l.mu.Unlock()

			n, err := oc.c.Write(batch.buf) // one write(2) when the socket has room
			oc.wrote(1)
			done := batch.complete(n)
			oc.framesWritten(done, batch.payloadBytes(done))
			if err != nil {
				oc.leftover = batch.payloads(done)
				oc.lost(fmt.Errorf("%w: %s: write: %w", ErrConnLost, l.target, err))
				return
			}
			batch.reset(l.keepQueue())
			l.mu.Lock()
			oc.writing = false
			if l.spare.buf == nil {
				l.spare = batch
			}
			l.mu.Unlock()
		}
	}
}

// directIdle: a Send that finds the link idle (nothing queued, nothing
// being written) and no other Send within this long writes its frame
// itself. Sends closer together than this go through the queue, where
// they coalesce behind the write in flight.
const directIdle = 20 * time.Microsecond

// directMax: larger frames always go through the queue.
const directMax = 64 << 10

var clockBase = time.Now()

func nanotime() int64 { return int64(time.Since(clockBase)) }

// writeDirect writes one frame from the Send's goroutine with a
// non-blocking write. If the socket takes only part of it, the writer
// goroutine finishes it (and whatever was queued meanwhile): the Send never
// waits for a slow peer here.
func (oc *outConn) writeDirect(p []byte) {
	defer oc.wg.Done()
	l := oc.l
	b := appendFrameHeader(oc.direct[:0], kindData, len(p))
	b = append(b, p...)
	oc.direct = b
	var n int
	var werr error
	err := oc.raw.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Write(int(fd), b)
			if werr != unix.EINTR {
				return true
			}
		}
	})
	if errors.Is(werr, unix.EAGAIN) {
		n, werr = 0, nil
	}
	if err == nil {
		err = werr
	}
	if err != nil {
		oc.direct = nil // the report keeps b
		oc.leftover = [][]byte{b[frameHeaderLen:]}
		oc.lost(fmt.Errorf("%w: %s: write: %w", ErrConnLost, l.target, err))
		return
	}
	if n > 0 {
		oc.wrote(1)
	}
	if n == len(b) {
		oc.framesWritten(1, uint64(len(p)))
		l.mu.Lock()
		oc.writing = false
		wake := l.q.frames() > 0 || l.state == stClosed
		l.mu.Unlock()
		if wake {
			oc.poke()
		}
		return
	}
	// The socket is full: the writer goroutine takes over, rest first.
	l.handoffs.Add(1)
	l.mu.Lock()
	oc.tail, oc.tailAt, oc.handoff = b, n, true
	oc.direct = nil // the tail keeps b
	l.mu.Unlock()
	oc.poke()
}

// poke wakes the writer goroutine.
func (oc *outConn) poke() {
	select {
	case oc.wake <- struct{}{}:
	default:
	}
}

func (oc *outConn) wrote(writes uint64) {
	oc.l.writes.Add(writes)
	oc.l.n.st.writes.Add(writes)
}

// framesWritten counts data frames completely written.
func (oc *outConn) framesWritten(frames int, bytes uint64) {
	if frames == 0 {
		return
	}
	oc.written.Add(uint64(frames))
	oc.l.framesOut.Add(uint64(frames))
	oc.l.bytesOut.Add(bytes)
	oc.l.n.st.framesOut.Add(uint64(frames))
	oc.l.n.st.bytesOut.Add(bytes)
}

// sayGoodbye ends an orderly close once the queue is flushed: the peer
// acknowledges everything it delivered and closes; the reader then sees
// the end of the stream.
func (oc *outConn) sayGoodbye() {
	oc.byeSent.Store(true)
	_ = oc.c.SetWriteDeadline(time.Now().Add(ctlWriteTimeout))
	if _, err := oc.c.Write(goodbyeFrame(byeClosing, "link closed")); err != nil {
		oc.byeSent.Store(false)
		oc.lost(fmt.Errorf("%w: %s: goodbye: %w", ErrConnLost, oc.l.target, err))
		return
	}
	_ = oc.c.CloseWrite()
}

// finish reports what the connection left undelivered, once its reader,
// writer and any direct write are done.
func (oc *outConn) finish() {
	l := oc.l
	defer l.pending.Done()
	oc.wg.Wait()
	l.n.st.openOut.Add(-1)
	written := oc.written.Load()
	l.mu.Lock()
	var payloads [][]byte
	if oc.tail != nil { // a direct write the writer goroutine never finished
		payloads = append(payloads, oc.tail[frameHeaderLen:])
		oc.tail = nil
	}
	l.mu.Unlock()
	payloads = append(payloads, oc.leftover...)
	payloads = append(payloads, oc.lostQueue...)
	oc.leftover, oc.lostQueue = nil, nil
	u := Undelivered{
		Err:         oc.err,
		Payloads:    payloads,
		Unconfirmed: written - min(oc.acked.Load(), written),
	}
	if len(u.Payloads) > 0 || u.Unconfirmed > 0 {
		l.undelivered.Add(uint64(len(u.Payloads)))
		l.unconfirmed.Add(u.Unconfirmed)
		l.n.st.undelivered.Add(uint64(len(u.Payloads)))
		l.n.st.unconfirmed.Add(u.Unconfirmed)
		l.log.Warn("connection ended with frames undelivered",
			"unwritten", len(u.Payloads), "unconfirmed", u.Unconfirmed, "err", u.Err)
		if cb := l.n.opts.OnUndelivered; cb != nil {
			cb(l.target, u)
		}
	}
	close(oc.finished)
}
