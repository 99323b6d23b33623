//go:build linux || darwin

package remote_pipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
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
	stUp                       // connected: Sends queue
	stDown                     // the last dial failed: Sends fail until retryAt
	stClosed                   // closed by us: Sends fail with closeErr
)

// Link is this process's sending side towards one peer: one connection,
// dialed by the first Send, redialed (with backoff) after it breaks. Send
// queues payloads; a writer goroutine writes everything queued with one
// writev, so writes coalesce while the previous one is in flight and an
// idle link adds no delay.
//
// A link only sends: the peer's frames to us arrive on the connection the
// peer dialed, at our Node's Handler.
type Link struct {
	n      *Node
	target Target
	log    *slog.Logger

	mu        sync.Mutex
	state     linkState
	cur       *outConn // when stUp (and while a graceful close flushes)
	queue     [][]byte
	queued    int // accounted bytes in queue
	spare     [][]byte
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
	maxSend   int
	lastSend  int64          // nanotime of the latest Send on a live connection
	pending   sync.WaitGroup // dials and connections not yet finished

	framesOut, bytesOut, writes, dials, dialFailures atomic.Uint64
	connsLost, undelivered, unconfirmed              atomic.Uint64
	handoffs                                         atomic.Uint64 // direct writes the writer finished (tests)
}

func newLink(n *Node, t Target) *Link {
	return &Link{
		n:        n,
		target:   t,
		log:      n.log.With("peer", t.Path),
		space:    make(chan struct{}),
		closedCh: make(chan struct{}),
		backoff:  n.opts.BackoffMin,
		maxSend:  n.opts.MaxFrame,
	}
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

// Stats returns the link's counters.
func (l *Link) Stats() LinkStats {
	l.mu.Lock()
	qf, qb := len(l.queue), l.queued
	l.mu.Unlock()
	return LinkStats{
		FramesOut: l.framesOut.Load(), BytesOut: l.bytesOut.Load(), Writes: l.writes.Load(),
		Dials: l.dials.Load(), DialFailures: l.dialFailures.Load(), ConnsLost: l.connsLost.Load(),
		Undelivered: l.undelivered.Load(), Unconfirmed: l.unconfirmed.Load(),
		QueuedFrames: qf, QueuedBytes: qb,
	}
}

// Send queues payload as one data frame to the peer. The link keeps
// payload until it is written: the caller must not modify it after a
// successful Send. Send
//   - refuses a payload over the frame limit (ours, or the peer's if
//     smaller) with ErrFrameTooLarge, leaving the connection alone;
//   - dials if not connected, and fails with ErrUnreachable if that fails;
//     while the redial backoff runs it fails at once with the last error;
//   - blocks while the queue is full, up to ctx's deadline (or
//     Options.SendTimeout if ctx has none), then fails with ErrQueueFull;
//   - fails with the close error once the link is closed.
//
// nil means queued on a live connection: if that connection then ends
// before writing it, the frame is reported through Options.OnUndelivered.
func (l *Link) Send(ctx context.Context, payload []byte) error {
	if len(payload) > l.n.opts.MaxFrame {
		return fmt.Errorf("%w: %d bytes to %s, the limit is %d", ErrFrameTooLarge, len(payload), l.target, l.n.opts.MaxFrame)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send to %s: %w", l.target, err)
	}
	w := waiter{ctx: ctx, def: l.n.opts.SendTimeout}
	defer w.release()
	cost := len(payload) + frameOverhead
	l.mu.Lock()
	for {
		switch l.state {
		case stClosed:
			err := l.closeErr
			l.mu.Unlock()
			return err
		case stUp:
			if len(payload) > l.maxSend {
				limit := l.maxSend
				l.mu.Unlock()
				return fmt.Errorf("%w: %d bytes to %s, the peer accepts at most %d", ErrFrameTooLarge, len(payload), l.target, limit)
			}
			oc := l.cur
			now := nanotime()
			idle := time.Duration(now-l.lastSend) >= directIdle
			l.lastSend = now
			if idle && len(l.queue) == 0 && !oc.writing && len(payload) <= directMax {
				// An idle link: write from this goroutine, without waking the
				// writer (a goroutine hand-off costs more than the write).
				oc.writing = true
				oc.wg.Add(1) // l.cur == oc: the reader's count is still held
				l.mu.Unlock()
				oc.writeDirect(payload)
				return nil
			}
			if l.queued == 0 || l.queued+cost <= l.n.opts.QueueBytes {
				first := len(l.queue) == 0
				l.queue = append(l.queue, payload)
				l.queued += cost
				l.mu.Unlock()
				if first {
					oc.poke()
				}
				return nil
			}
			l.spaceWait = true
			sp, queued := l.space, l.queued
			l.mu.Unlock()
			select {
			case <-sp:
			case <-l.closedCh:
			case <-w.done():
				return fmt.Errorf("%w: %s: %d bytes waiting: %w", ErrQueueFull, l.target, queued, w.ctx.Err())
			}
			l.mu.Lock()
		case stDialing:
			dd := l.dialDone
			l.mu.Unlock()
			select {
			case <-dd:
			case <-l.closedCh:
			case <-w.done():
				return fmt.Errorf("%w: %s: still connecting: %w", ErrUnreachable, l.target, w.ctx.Err())
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

// waiter applies the default deadline, lazily: Sends that never wait pay
// nothing for it.
type waiter struct {
	ctx    context.Context
	def    time.Duration
	cancel context.CancelFunc
}

func (w *waiter) done() <-chan struct{} {
	if w.cancel == nil {
		if _, ok := w.ctx.Deadline(); !ok && w.def > 0 {
			w.ctx, w.cancel = context.WithTimeout(w.ctx, w.def)
		} else {
			w.cancel = func() {}
		}
	}
	return w.ctx.Done()
}

func (w *waiter) release() {
	if w.cancel != nil {
		w.cancel()
	}
}

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
	l.state = stClosed
	l.closeErr = err
	close(l.closedCh)
	return l.cur
}

// startDial runs under l.mu.
func (l *Link) startDial() {
	l.state = stDialing
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
		l.state = stDown
		l.lastErr = err
		l.retryAt = time.Now().Add(l.backoff)
		l.backoff = min(2*l.backoff, n.opts.BackoffMax)
		l.log.Debug("dial failed", "err", err, "retry_in", time.Until(l.retryAt))
		return
	}
	l.backoff = n.opts.BackoffMin
	l.peer = PeerInfo{Slot: int(h.slot), Generation: h.gen, PID: int(h.pid), UID: h.uid}
	l.connected = true
	l.maxSend = min(n.opts.MaxFrame, int(h.maxFrame))
	raw, err := c.SyscallConn()
	if err != nil { // cannot happen for a *net.UnixConn
		_ = c.Close()
		l.state, l.lastErr, l.retryAt = stDown, fmt.Errorf("%w: %s: %w", ErrUnreachable, l.target, err), time.Now()
		return
	}
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
	l.state = stUp
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
	fr       *frameReader
	wake     chan struct{} // a token: the queue became non-empty, or the link closes
	done     chan struct{} // closed by breakConn
	finished chan struct{} // closed after the report
	once     sync.Once
	err      error // why it ended (set in breakConn)
	byeSent  atomic.Bool
	written  atomic.Uint64 // data frames completely written
	acked    atomic.Uint64 // data frames the peer delivered (its latest ack)
	raw      syscall.RawConn
	wg       sync.WaitGroup // reader, writer, and a direct write in progress
	// Under l.mu: who may write. writing is set by the writer goroutine
	// for a batch, or by a Send writing directly; handoff means a direct
	// write stopped part-way (the socket was full) and the writer goroutine
	// must finish tail (the rest of frame tailOf) before anything else.
	writing, handoff bool
	tail, tailOf     []byte
	direct           []byte // the direct writer's buffer (owned while writing)
	// Read by finish after wg.Wait.
	leftover  [][]byte // the writer's batch, from the first frame not completely written
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
			oc.lostQueue = l.queue
			l.queue, l.queued = nil, 0
			if l.state == stUp {
				l.state = stIdle // the next Send redials
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
	var bw batchWriter
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
				tail, frame := oc.tail, oc.tailOf
				oc.tail, oc.tailOf = nil, nil
				l.mu.Unlock()
				_, err := oc.c.Write(tail) // the poller waits for room
				l.writes.Add(1)
				l.n.st.writes.Add(1)
				if err != nil {
					oc.leftover = [][]byte{frame}
					oc.lost(fmt.Errorf("%w: %s: write: %w", ErrConnLost, l.target, err))
					return
				}
				oc.wroteOne(frame)
				l.mu.Lock()
			}
			batch := l.queue
			if len(batch) == 0 {
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
			l.queue, l.spare, l.queued = l.spare, nil, 0
			if l.spaceWait {
				close(l.space)
				l.space, l.spaceWait = make(chan struct{}), false
			}
			l.mu.Unlock()

			done, bytes, err := bw.write(oc.c, batch)
			oc.written.Add(uint64(done))
			l.framesOut.Add(uint64(done))
			l.bytesOut.Add(bytes)
			l.writes.Add(1)
			l.n.st.framesOut.Add(uint64(done))
			l.n.st.bytesOut.Add(bytes)
			l.n.st.writes.Add(1)
			if err != nil {
				oc.leftover = batch[done:]
				oc.lost(fmt.Errorf("%w: %s: write: %w", ErrConnLost, l.target, err))
				return
			}
			clear(batch)
			l.mu.Lock()
			oc.writing = false
			if l.spare == nil {
				l.spare = batch[:0]
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

// directMax: larger frames always go through the queue (written from the
// caller's slice, not copied).
const directMax = 16 << 10

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
		oc.leftover = [][]byte{p}
		oc.lost(fmt.Errorf("%w: %s: write: %w", ErrConnLost, l.target, err))
		return
	}
	if n > 0 {
		l.writes.Add(1)
		l.n.st.writes.Add(1)
	}
	if n == len(b) {
		oc.wroteOne(p)
		l.mu.Lock()
		oc.writing = false
		wake := len(l.queue) > 0 || l.state == stClosed
		l.mu.Unlock()
		if wake {
			oc.poke()
		}
		return
	}
	// The socket is full: the writer goroutine takes over, rest first.
	l.handoffs.Add(1)
	l.mu.Lock()
	oc.tail, oc.tailOf, oc.handoff = b[n:], p, true
	oc.direct = nil // tail still points into it
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

// wroteOne counts one data frame completely written.
func (oc *outConn) wroteOne(p []byte) {
	oc.written.Add(1)
	oc.l.framesOut.Add(1)
	oc.l.bytesOut.Add(uint64(len(p)))
	oc.l.n.st.framesOut.Add(1)
	oc.l.n.st.bytesOut.Add(uint64(len(p)))
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

// finish reports what the connection left undelivered, once its reader and
// writer are done.
func (oc *outConn) finish() {
	l := oc.l
	defer l.pending.Done()
	oc.wg.Wait()
	l.n.st.openOut.Add(-1)
	written := oc.written.Load()
	l.mu.Lock()
	var tail [][]byte // a direct write the writer goroutine never finished
	if oc.tailOf != nil {
		tail = [][]byte{oc.tailOf}
		oc.tail, oc.tailOf = nil, nil
	}
	l.mu.Unlock()
	u := Undelivered{
		Err:         oc.err,
		Payloads:    slices.Concat(tail, oc.leftover, oc.lostQueue),
		Unconfirmed: written - min(oc.acked.Load(), written),
	}
	oc.leftover, oc.lostQueue = nil, nil
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

// inlineMax: payloads up to this size are copied next to their frame
// header, so a batch of small frames is one contiguous buffer (one iovec);
// larger ones are written from the caller's slice.
const inlineMax = 1024

// batchWriter turns a batch of payloads into one writev. Its buffers are
// reused from batch to batch.
type batchWriter struct {
	inline []byte
	bufs   net.Buffers
	ends   []int // ends[i]: stream offset just past frame i
}

// maxKeptInline: an inline buffer grown past this is not kept.
const maxKeptInline = 4 << 20

// write writes batch as data frames and returns how many frames (and
// payload bytes) were completely written.
func (bw *batchWriter) write(c *net.UnixConn, batch [][]byte) (done int, bytes uint64, err error) {
	size := 0
	for _, p := range batch {
		size += frameHeaderLen
		if len(p) <= inlineMax {
			size += len(p)
		}
	}
	if cap(bw.inline) < size {
		bw.inline = make([]byte, 0, size)
	}
	// b never grows past its capacity, so the slices of it in bufs stay valid.
	b, bufs, ends := bw.inline[:0], bw.bufs[:0], bw.ends[:0]
	mark, total := 0, 0
	for _, p := range batch {
		b = appendFrameHeader(b, kindData, len(p))
		if len(p) <= inlineMax {
			b = append(b, p...)
		} else {
			bufs = append(bufs, b[mark:], p)
			mark = len(b)
		}
		total += frameHeaderLen + len(p)
		ends = append(ends, total)
	}
	if mark < len(b) {
		bufs = append(bufs, b[mark:])
	}
	w := bufs // WriteTo consumes its receiver
	n, err := w.WriteTo(c)
	done = sort.SearchInts(ends, int(n)+1) // frames with end <= n
	for _, p := range batch[:done] {
		bytes += uint64(len(p))
	}
	clear(bufs)
	bw.bufs, bw.ends = bufs[:0], ends[:0]
	if cap(bw.inline) > maxKeptInline {
		bw.inline = nil
	} else {
		bw.inline = b[:0]
	}
	return done, bytes, err
}
