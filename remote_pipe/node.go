//go:build linux || darwin

package remote_pipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Node is one process's end of the named-pipe transport: a listening Unix
// socket that hands inbound frames to a Handler, and the Links this process
// sends on.
type Node struct {
	opts    Options
	handler Handler
	log     *slog.Logger
	uid     int
	dir     string
	path    string
	ln      *net.UnixListener
	lock    *sockLock
	self    hello // what we announce

	mu     sync.Mutex
	closed bool
	links  map[Target]*Link
	in     map[*inConn]struct{}
	wg     sync.WaitGroup // accept loop and inbound connections

	st counters

	spinUntil atomic.Int64 // nanotime until which inbound readers poll (ExpectTraffic)
}

// Listen makes the socket directory (checked: see Options.Dir), removes
// sockets left by dead processes, and listens on this process's socket.
// handler receives every inbound data frame.
func Listen(opts Options, handler Handler) (*Node, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if handler == nil {
		return nil, fmt.Errorf("%w: a Handler is needed", ErrInvalidOptions)
	}
	dir, err := socketDir(o)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, o.SocketName)
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("%w: socket path %s is %d bytes, the OS limit is %d (choose a shorter Dir or Name)",
			ErrInvalidOptions, path, len(path), maxSocketPath)
	}
	lk, err := lockPath(path+lockSuffix, true)
	if err != nil {
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w: %s", ErrAddressInUse, path)
		}
		return nil, err
	}
	// We hold the lock: a socket file at path is a dead listener's.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lk.release()
		return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		lk.release()
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, o.SocketMode); err != nil {
		_ = ln.Close()
		lk.release()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	n := &Node{
		opts:    o,
		handler: handler,
		log:     o.Logger.With("socket", path),
		uid:     os.Geteuid(),
		dir:     dir,
		path:    path,
		ln:      ln,
		lock:    lk,
		self: hello{
			version:  protoVersion,
			slot:     int32(o.Slot),
			gen:      o.Generation,
			pid:      uint32(os.Getpid()),
			maxFrame: uint32(o.MaxFrame),
		},
		links: make(map[Target]*Link),
		in:    make(map[*inConn]struct{}),
	}
	if k := sweepStale(dir, o.SocketName); k > 0 {
		n.log.Info("removed stale sockets of dead processes", "count", k)
	}
	n.wg.Add(1)
	go n.acceptLoop()
	return n, nil
}

// Path is the socket's path: the address to record in the registry
// (registry.Shm.SetAddress) for peers to dial.
func (n *Node) Path() string { return n.path }

// Dir is the socket directory.
func (n *Node) Dir() string { return n.dir }

// MaxFrame is the data frame limit this node accepts and sends.
func (n *Node) MaxFrame() int { return n.opts.MaxFrame }

// Stats returns the node's counters.
func (n *Node) Stats() Stats { return n.st.snapshot() }

// Link returns the link to t, creating it (without connecting: the first
// Send dials) if there is none. One link per target: callers share it.
func (n *Node) Link(t Target) (*Link, error) {
	if t.Path == "" {
		return nil, fmt.Errorf("%w: link target without a path", ErrInvalidOptions)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("%w: node %s", ErrClosed, n.path)
	}
	if l := n.links[t]; l != nil {
		return l, nil
	}
	l := newLink(n, t)
	n.links[t] = l
	return l, nil
}

func (n *Node) forget(l *Link) {
	n.mu.Lock()
	if n.links[l.target] == l {
		delete(n.links, l.target)
	}
	n.mu.Unlock()
}

func (n *Node) allowed(uid int) bool {
	return uid == n.uid || slices.Contains(n.opts.AllowUIDs, uid)
}

// Close stops listening (the socket file is removed), flushes every link's
// queue (up to CloseTimeout) and says goodbye to its peers, closes inbound
// connections after acknowledging what they delivered, and waits for all
// goroutines. Frames it could not flush are reported as Undelivered.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	links := make([]*Link, 0, len(n.links))
	for _, l := range n.links {
		links = append(links, l)
	}
	ins := make([]*inConn, 0, len(n.in))
	for c := range n.in {
		ins = append(ins, c)
	}
	n.mu.Unlock()

	err := n.ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), n.opts.CloseTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, l := range links {
		wg.Go(func() { l.shutdown(ctx, fmt.Errorf("%w: node %s closing", ErrClosed, n.path)) })
	}
	for _, c := range ins {
		c.stop()
	}
	wg.Wait()
	n.wg.Wait()
	n.lock.release()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close %s: %w", n.path, err)
	}
	return nil
}

func (n *Node) acceptLoop() {
	defer n.wg.Done()
	for {
		c, err := n.ln.AcceptUnix()
		if err != nil {
			n.mu.Lock()
			closed := n.closed
			n.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: do not spin.
			n.log.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		ic := &inConn{n: n, c: c}
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			_ = c.Close()
			return
		}
		n.in[ic] = struct{}{}
		n.wg.Add(1)
		n.mu.Unlock()
		n.st.openIn.Add(1)
		go ic.serve()
	}
}

// inConn is an accepted connection: it only reads data frames; it writes
// the welcome, acknowledgements and a goodbye.
type inConn struct {
	n    *Node
	c    *net.UnixConn
	peer PeerInfo

	wmu        sync.Mutex // serialises writes
	delivered  atomic.Uint64
	ackPending atomic.Bool
	ackTimer   *time.Timer // owned by serve's goroutine
	stopping   atomic.Bool
}

// ctlWriteTimeout bounds writing a control frame to a peer that does not
// read.
const ctlWriteTimeout = time.Second

func (ic *inConn) write(frame []byte) error {
	ic.wmu.Lock()
	defer ic.wmu.Unlock()
	_ = ic.c.SetWriteDeadline(time.Now().Add(ctlWriteTimeout))
	_, err := ic.c.Write(frame)
	return err
}

func (ic *inConn) bye(code byte, reason string) { _ = ic.write(goodbyeFrame(code, reason)) }

// stop asks the reader to end (Node.Close): it acknowledges what it has
// delivered, says goodbye and closes.
func (ic *inConn) stop() {
	ic.stopping.Store(true)
	_ = ic.c.SetReadDeadline(time.Unix(1, 0))
}

func (ic *inConn) serve() {
	n := ic.n
	defer func() {
		if ic.ackTimer != nil {
			ic.ackTimer.Stop()
		}
		_ = ic.c.Close()
		n.mu.Lock()
		delete(n.in, ic)
		n.mu.Unlock()
		n.st.openIn.Add(-1)
		n.wg.Done()
	}()
	if n.opts.HandshakeTimeout > 0 {
		_ = ic.c.SetReadDeadline(time.Now().Add(n.opts.HandshakeTimeout))
	}
	uid, pid, err := peerCred(ic.c)
	if err != nil {
		n.st.refused.Add(1)
		n.log.Warn("refused connection: cannot read peer credentials", "err", err)
		ic.bye(byeRefused, "cannot read peer credentials")
		return
	}
	if !n.allowed(uid) {
		n.st.refused.Add(1)
		n.log.Warn("refused connection", "err", ErrNotAllowed, "uid", uid, "pid", pid)
		ic.bye(byeRefused, fmt.Sprintf("uid %d not allowed", uid))
		return
	}
	fr := newFrameReader(newSpinReader(n, ic.c), n.opts.MaxFrame, readBufSize)
	kind, p, err := fr.next()
	if err != nil {
		if ic.stopping.Load() {
			ic.bye(byeClosing, "node closing")
			return
		}
		if errors.Is(err, ErrBadFrame) {
			ic.badFrame(PeerInfo{Slot: -1, PID: pid, UID: uid}, err)
			return
		}
		n.st.handshakeFailures.Add(1)
		n.log.Info("connection ended before its hello", "uid", uid, "pid", pid, "err", err)
		return
	}
	if kind != kindHello {
		ic.badFrame(PeerInfo{Slot: -1, PID: pid, UID: uid}, fmt.Errorf("%w: first frame is %s, want hello", ErrBadFrame, kindName(kind)))
		return
	}
	h, err := decodeHello(p)
	if err != nil {
		ic.badFrame(PeerInfo{Slot: -1, PID: pid, UID: uid}, err)
		return
	}
	ic.peer = PeerInfo{Slot: int(h.slot), Generation: h.gen, PID: int(h.pid), UID: uid}
	if h.version != protoVersion {
		n.st.handshakeFailures.Add(1)
		n.log.Warn("refused connection: protocol version", "peer", ic.peer, "version", h.version)
		ic.bye(byeVersion, fmt.Sprintf("protocol version %d not supported (want %d)", h.version, protoVersion))
		return
	}
	if err := ic.write(helloFrame(kindWelcome, n.self)); err != nil {
		n.st.handshakeFailures.Add(1)
		return
	}
	_ = ic.c.SetReadDeadline(time.Time{})
	if ic.stopping.Load() { // stop ran before the deadline was cleared
		_ = ic.c.SetReadDeadline(time.Unix(1, 0))
	}
	n.st.accepted.Add(1)

	var frames, bytes uint64 // flushed to the node's counters before each blocking read
	for {
		if frames > 0 && fr.buffered() == 0 {
			n.st.framesIn.Add(frames)
			n.st.bytesIn.Add(bytes)
			frames, bytes = 0, 0
			// Let the goroutines those frames woke (an actor, a waiting
			// requester) run on this P now, before the next read, rather
			// than wait for another thread to be woken to steal them.
			runtime.Gosched()
		}
		kind, p, err := fr.next()
		if err != nil {
			n.st.framesIn.Add(frames)
			n.st.bytesIn.Add(bytes)
			switch {
			case ic.stopping.Load():
				_ = ic.write(ackFrame(ic.delivered.Load()))
				ic.bye(byeClosing, "node closing")
			case errors.Is(err, ErrBadFrame):
				ic.badFrame(ic.peer, err)
			default:
				n.st.inboundLost.Add(1)
				if errors.Is(err, io.EOF) {
					err = io.EOF
				}
				n.log.Info("inbound connection ended without goodbye", "peer", ic.peer, "err", err)
			}
			return
		}
		switch kind {
		case kindData:
			n.handler(ic.peer, p)
			frames++
			bytes += uint64(len(p))
			ic.delivered.Add(1)
			if ic.ackPending.CompareAndSwap(false, true) {
				// The timer is not running: it fired (sendAck cleared the flag) or never started.
				if ic.ackTimer == nil {
					ic.ackTimer = time.AfterFunc(n.opts.AckDelay, ic.sendAck)
				} else {
					ic.ackTimer.Reset(n.opts.AckDelay)
				}
			}
		case kindGoodbye:
			n.st.framesIn.Add(frames)
			n.st.bytesIn.Add(bytes)
			// Everything before the goodbye was delivered: confirm it all.
			_ = ic.write(ackFrame(ic.delivered.Load()))
			return
		default:
			n.st.framesIn.Add(frames)
			n.st.bytesIn.Add(bytes)
			ic.badFrame(ic.peer, fmt.Errorf("%w: unexpected %s frame from the dialer", ErrBadFrame, kindName(kind)))
			return
		}
	}
}

func (ic *inConn) sendAck() {
	ic.ackPending.Store(false) // before the load: a later delivery schedules another ack
	_ = ic.write(ackFrame(ic.delivered.Load()))
}

// badFrame counts and logs a protocol violation, tells the peer why, and
// lets serve close the connection; other connections are not affected.
func (ic *inConn) badFrame(peer PeerInfo, err error) {
	ic.n.st.badFrames.Add(1)
	ic.n.log.Warn("closing connection: bad frame", "peer", peer, "err", err)
	ic.bye(byeBadFrame, err.Error())
}
