//go:build linux || darwin

package remote_pipe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/registry"
)

func TestSendReceiveBothWays(t *testing.T) {
	dir := shortDir(t)
	a, b := listen(t, dir, 1), listen(t, dir, 2)
	ab, ba := a.link(t, b), b.link(t, a)
	const n = 200
	ctx := ctxTimeout(t, 20*time.Second)
	for i := range n {
		require.NoError(t, ab.Send(ctx, seqFrame(uint64(i), 1+i*37%3000)))
		require.NoError(t, ba.Send(ctx, seqFrame(uint64(i), 8)))
	}
	b.in.waitLen(t, n)
	a.in.waitLen(t, n)
	frames, from := b.in.snapshot()
	for i, p := range frames {
		require.Equal(t, uint64(i), seqOf(p), "order")
		require.Len(t, p, max(8, 1+i*37%3000))
		require.Equal(t, PeerInfo{Slot: 1, Generation: 1, PID: os.Getpid(), UID: os.Geteuid()}, from[i])
	}
	_, from = a.in.snapshot()
	assert.Equal(t, 2, from[0].Slot)

	peer, ok := ab.Peer()
	require.True(t, ok)
	assert.Equal(t, PeerInfo{Slot: 2, Generation: 1, PID: os.Getpid(), UID: os.Geteuid()}, peer)
	assert.Same(t, ab, must(a.Link(b.target())), "one link per target")

	eventually(t, 5*time.Second, func() bool { return a.Stats().FramesOut == n && b.Stats().FramesIn == n }, "counters")
	sa, sb := a.Stats(), b.Stats()
	assert.Equal(t, uint64(1), sa.Dials)
	assert.Equal(t, uint64(1), sa.OpenOut)
	assert.Equal(t, uint64(1), sb.Accepted)
	assert.Equal(t, uint64(1), sb.OpenIn)
	assert.Zero(t, sa.BadFrames+sb.BadFrames+sa.Refused+sb.Refused)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Many Sends while a write is blocked go out in few writes; one Send on an
// idle link goes out on its own, without waiting for company.
func TestWritesCoalesce(t *testing.T) {
	dir := shortDir(t)
	a := listen(t, dir, 1, func(o *Options) { o.QueueBytes = 64 << 20 })
	b := listen(t, dir, 2)
	release := b.in.block(t)
	l := a.link(t, b)
	ctx := ctxTimeout(t, 30*time.Second)

	const n = 50000
	for i := range n {
		require.NoError(t, l.Send(ctx, seqFrame(uint64(i), 16)))
	}
	release() // the receiver was stuck: the socket filled, the queue grew
	b.in.waitLen(t, n)
	frames, _ := b.in.snapshot()
	for i, p := range frames {
		require.Equal(t, uint64(i), seqOf(p))
	}
	st := l.Stats()
	require.Equal(t, uint64(n), st.FramesOut)
	assert.Less(t, st.Writes, uint64(n/20), "writes did not coalesce: %d writes for %d frames", st.Writes, n)
	t.Logf("%d frames in %d writes", st.FramesOut, st.Writes)

	// Idle: a single frame is written by itself, promptly.
	before := l.Stats().Writes
	require.NoError(t, l.Send(ctx, seqFrame(n, 16)))
	b.in.waitLen(t, n+1)
	assert.Equal(t, before+1, l.Stats().Writes)
}

func TestMaxFrameSenderSide(t *testing.T) {
	dir := shortDir(t)
	a := listen(t, dir, 1, func(o *Options) { o.MaxFrame = 1000 })
	b := listen(t, dir, 2, func(o *Options) { o.MaxFrame = 100 })
	c := listen(t, dir, 3)
	ctx := ctxTimeout(t, 10*time.Second)

	// Our own limit: refused before dialing.
	ac := a.link(t, c)
	assert.Equal(t, 1000, ac.MaxFrame())
	err := ac.Send(ctx, make([]byte, 1001))
	require.ErrorIs(t, err, ErrFrameTooLarge)
	assert.Contains(t, err.Error(), "1001 bytes")
	assert.Zero(t, ac.Stats().Dials)
	require.NoError(t, ac.Send(ctx, make([]byte, 1000)))
	c.in.waitLen(t, 1)

	// The peer's smaller limit, learned from its welcome.
	ab := a.link(t, b)
	require.NoError(t, ab.Send(ctx, []byte("first")))
	assert.Equal(t, 100, ab.MaxFrame(), "the peer's limit, once connected")
	err = ab.Send(ctx, make([]byte, 101))
	require.ErrorIs(t, err, ErrFrameTooLarge)
	assert.Contains(t, err.Error(), "at most 100")
	require.NoError(t, ab.Send(ctx, make([]byte, 100)), "the connection is not affected")
	b.in.waitLen(t, 2)
	assert.Equal(t, uint64(1), ab.Stats().Dials)
	assert.Zero(t, ab.Stats().ConnsLost)
	assert.Zero(t, b.Stats().BadFrames)
}

// rawConn is a hand-driven client of a node.
type rawConn struct {
	*net.UnixConn
	fr *frameReader
}

func rawDial(t *testing.T, path string) *rawConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	return &rawConn{UnixConn: c, fr: newFrameReader(c, 1<<20, readBufSize)}
}

func rawHello() []byte {
	return helloFrame(kindHello, hello{version: protoVersion, slot: 9, gen: 1, pid: uint32(os.Getpid()), maxFrame: 1 << 20})
}

// untilEnd reads frames until the node closes the connection and returns
// the goodbye it sent, if any.
func (rc *rawConn) untilEnd(t *testing.T) (code byte, reason string, ok bool) {
	t.Helper()
	for {
		kind, p, err := rc.fr.next()
		if err != nil {
			require.Falsef(t, errors.Is(err, os.ErrDeadlineExceeded), "the node did not close the connection: %v", err)
			return code, reason, ok
		}
		if kind == kindGoodbye {
			code, reason, err = decodeGoodbye(p)
			require.NoError(t, err)
			ok = true
		}
	}
}

// Corrupt input on one connection closes that connection (logged, counted)
// and nothing else: an established link and new links keep working.
func TestBadFramesOnLiveListener(t *testing.T) {
	dir := shortDir(t)
	b := listen(t, dir, 2, func(o *Options) { o.MaxFrame = 1000 })
	a := listen(t, dir, 1)
	ab := a.link(t, b)
	ctx := ctxTimeout(t, 20*time.Second)
	require.NoError(t, ab.Send(ctx, seqFrame(0, 8)))
	b.in.waitLen(t, 1)

	tests := []struct {
		name     string
		in       []byte
		closeW   bool   // end our side after writing (the frame is cut short)
		contains string // in the goodbye's reason and in the log
	}{
		{"oversized data frame", append(rawHello(), rawFrame(kindData, 1001, nil)...), false, "exceeds the limit of 1000"},
		{"huge length", append(rawHello(), rawFrame(kindData, 0xFFFFFFFF, nil)...), false, "exceeds the limit"},
		{"truncated payload", append(rawHello(), rawFrame(kindData, 500, make([]byte, 100))...), true, "truncated data frame"},
		{"truncated header", append(rawHello(), 0, 0, 1), true, "truncated frame header"},
		{"garbage instead of hello", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false, "unknown frame kind"},
		{"data before hello", dataFrame([]byte("x")), false, "first frame is data"},
		{"bad hello magic", append(rawFrame(kindHello, helloLen, []byte("XXXX")), make([]byte, helloLen-4)...), false, "hello magic"},
		{"unknown kind after hello", append(rawHello(), rawFrame(77, 3, []byte("abc"))...), false, "unknown frame kind 77"},
		{"ack from the dialer", append(rawHello(), ackFrame(3)...), false, "unexpected ack frame"},
		{"second hello", append(rawHello(), rawHello()...), false, "unexpected hello frame"},
	}
	want := 1 // frames b has received
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := b.Stats()
			rc := rawDial(t, b.Path())
			_, err := rc.Write(tc.in)
			require.NoError(t, err)
			if tc.closeW {
				require.NoError(t, rc.CloseWrite())
			}
			code, reason, ok := rc.untilEnd(t)
			require.True(t, ok, "a goodbye before the close")
			assert.Equal(t, byeBadFrame, code)
			assert.Contains(t, reason, tc.contains)
			eventually(t, 5*time.Second, func() bool { return b.Stats().BadFrames == before.BadFrames+1 }, "BadFrames+1")
			assert.Contains(t, b.log.String(), tc.contains)

			// The established link still works, and so does a new connection.
			require.NoError(t, ab.Send(ctx, seqFrame(uint64(want), 8)))
			want++
			b.in.waitLen(t, want)
			rc2 := rawDial(t, b.Path())
			_, err = rc2.Write(append(rawHello(), dataFrame([]byte("fine"))...))
			require.NoError(t, err)
			kind, p, err := rc2.fr.next()
			require.NoError(t, err)
			require.Equal(t, kindWelcome, kind)
			_, err = decodeHello(p)
			require.NoError(t, err)
			want++
			b.in.waitLen(t, want)
			require.NoError(t, rc2.Close())
		})
	}
	assert.Equal(t, uint64(1), ab.Stats().Dials, "the established link never broke")
	assert.Zero(t, ab.Stats().ConnsLost)
}

func TestSendBlocksUntilDeadlineWhenQueueFull(t *testing.T) {
	modes := []struct {
		name string
		send func(t *testing.T, l *Link, p []byte) error
	}{
		{"ctx deadline", func(t *testing.T, l *Link, p []byte) error { return l.Send(ctxTimeout(t, 50*time.Millisecond), p) }},
		{"default SendTimeout", func(t *testing.T, l *Link, p []byte) error { return l.Send(context.Background(), p) }},
		{"SendDeadline", func(t *testing.T, l *Link, p []byte) error {
			return l.SendDeadline(time.Now().Add(50*time.Millisecond), p)
		}},
		{"SendDeadline zero", func(t *testing.T, l *Link, p []byte) error { return l.SendDeadline(time.Time{}, p) }},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := shortDir(t)
			a := listen(t, dir, 1, func(o *Options) { o.QueueBytes = 4096; o.SendTimeout = 50 * time.Millisecond })
			b := listen(t, dir, 2)
			release := b.in.block(t)
			l := a.link(t, b)
			sent := 0
			var err error
			for sent < 1e6 {
				if err = m.send(t, l, seqFrame(uint64(sent), 1024)); err != nil {
					break
				}
				sent++
			}
			require.ErrorIs(t, err, ErrQueueFull)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.LessOrEqual(t, l.Stats().QueuedBytes, 4096, "the queue stayed bounded")
			release()
			b.in.waitLen(t, sent) // everything accepted arrives, in order
			frames, _ := b.in.snapshot()
			for i, p := range frames {
				require.Equal(t, uint64(i), seqOf(p))
			}
		})
	}
}

// A cancelled context ends a Send waiting for room with the context's error.
func TestSendCancelledWhileWaiting(t *testing.T) {
	dir := shortDir(t)
	a := listen(t, dir, 1, func(o *Options) { o.QueueBytes = 4096 })
	b := listen(t, dir, 2)
	b.in.block(t)
	l := a.link(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if err := l.Send(ctx, seqFrame(uint64(i), 1024)); err != nil {
				errc <- err
				return
			}
		}
	}()
	eventually(t, 10*time.Second, func() bool { return l.Stats().QueuedBytes > 2048 }, "a full queue")
	time.Sleep(10 * time.Millisecond) // the sender is now waiting for room
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrQueueFull)
	require.ErrorIs(t, l.Send(ctx, []byte("x")), context.Canceled, "a dead context fails at once")
}

// Send copies: the caller reuses its buffer at once, on the direct path
// and on the queued one.
func TestSendCopiesPayload(t *testing.T) {
	dir := shortDir(t)
	a, b := listen(t, dir, 1), listen(t, dir, 2)
	release := b.in.block(t)
	l := a.link(t, b)
	ctx := ctxTimeout(t, 20*time.Second)
	buf := make([]byte, 300)
	const n = 2000
	for i := range n {
		if i%100 == 0 {
			time.Sleep(2 * directIdle) // idle: this one is written directly
		}
		for j := range buf {
			buf[j] = byte(i)
		}
		require.NoError(t, l.Send(ctx, buf))
	}
	clear(buf)
	release()
	b.in.waitLen(t, n)
	frames, _ := b.in.snapshot()
	for i, p := range frames {
		require.Equal(t, bytes.Repeat([]byte{byte(i)}, 300), p, "frame %d", i)
	}
}

func TestUnreachableBackoffAndLateListener(t *testing.T) {
	dir := shortDir(t)
	a := listen(t, dir, 1, func(o *Options) { o.BackoffMin = 50 * time.Millisecond; o.BackoffMax = 100 * time.Millisecond })
	path := filepath.Join(dir, "late.sock")
	l, err := a.Link(Target{Path: path})
	require.NoError(t, err)
	ctx := ctxTimeout(t, 20*time.Second)

	err = l.Send(ctx, []byte("x"))
	require.ErrorIs(t, err, ErrUnreachable)
	require.ErrorIs(t, err, os.ErrNotExist, "the cause is kept: %v", err)
	assert.Contains(t, err.Error(), path)
	// Inside the backoff, Send fails at once without dialing.
	err2 := l.Send(ctx, []byte("x"))
	require.ErrorIs(t, err2, ErrUnreachable)
	assert.Equal(t, uint64(1), l.Stats().Dials)

	// The listener appears: a Send after the backoff connects.
	b := listen(t, dir, -1, func(o *Options) { o.SocketName = "late.sock" })
	eventually(t, 10*time.Second, func() bool { return l.Send(ctx, []byte("hello")) == nil }, "a Send to succeed")
	b.in.waitLen(t, 1)
	assert.GreaterOrEqual(t, l.Stats().Dials, uint64(2))
	assert.Equal(t, l.Stats().Dials-1, l.Stats().DialFailures)
}

func TestWrongPeerGeneration(t *testing.T) {
	dir := shortDir(t)
	a, b := listen(t, dir, 1), listen(t, dir, 2)
	tg := b.target()
	tg.Generation = 99
	l, err := a.Link(tg)
	require.NoError(t, err)
	err = l.Send(ctxTimeout(t, 10*time.Second), []byte("x"))
	require.ErrorIs(t, err, ErrWrongPeer)
	require.ErrorIs(t, err, ErrUnreachable)
	assert.Contains(t, err.Error(), "slot 2 gen 1")
	assert.Zero(t, b.in.len())
}

// Link.Close with a cause: later Sends fail with it; queued frames come back
// in the report, written-but-unacknowledged ones are counted; with what the
// receiver still reads, every frame is accounted for exactly once.
func TestLinkCloseReportsEverything(t *testing.T) {
	dir := shortDir(t)
	var mu sync.Mutex
	var reports []Undelivered
	a := listen(t, dir, 1, func(o *Options) {
		o.QueueBytes = 8 << 20
		o.OnUndelivered = func(to Target, u Undelivered) {
			mu.Lock()
			reports = append(reports, u)
			mu.Unlock()
		}
	})
	b := listen(t, dir, 2)
	release := b.in.block(t)
	l := a.link(t, b)
	ctx := ctxTimeout(t, 20*time.Second)
	sent := 0
	for ; sent < 20000; sent++ {
		require.NoError(t, l.Send(ctx, seqFrame(uint64(sent), 64)))
	}
	// Let the writer fill the socket, then close with a cause.
	eventually(t, 10*time.Second, func() bool { return l.Stats().FramesOut > 0 }, "some frames written")
	peerDied := errors.New("owning process died")
	l.Close(peerDied)
	err := l.Send(ctx, []byte("late"))
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, err, peerDied)

	eventually(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 1 }, "one report")
	u := reports[0]
	require.ErrorIs(t, u.Err, peerDied)
	written := l.Stats().FramesOut
	require.Equal(t, uint64(sent), written+uint64(len(u.Payloads)), "every accepted frame written or handed back")
	require.NotEmpty(t, u.Payloads, "the receiver was stuck: frames were still queued")

	// The receiver reads what reached its socket: exactly the written frames.
	release()
	b.in.waitLen(t, int(written))
	frames, _ := b.in.snapshot()
	for i, p := range frames {
		require.Equal(t, uint64(i), seqOf(p))
	}
	for i, p := range u.Payloads {
		require.Equal(t, written+uint64(i), seqOf(p), "the report holds the rest, in order")
	}
	assert.LessOrEqual(t, u.Unconfirmed, written)
	assert.Equal(t, uint64(len(u.Payloads)), a.Stats().Undelivered)

	// A new link to the same target works.
	l2, err := a.Link(b.target())
	require.NoError(t, err)
	require.NotSame(t, l, l2)
	require.NoError(t, l2.Send(ctx, seqFrame(1<<40, 8)))
	b.in.waitLen(t, int(written)+1)
}

// An orderly Close delivers everything queued and leaves nothing
// unconfirmed; its socket and lock files are gone.
func TestNodeCloseFlushes(t *testing.T) {
	dir := shortDir(t)
	var reports int
	a := listen(t, dir, 1, func(o *Options) {
		o.CloseTimeout = 20 * time.Second
		o.AckDelay = time.Hour // only the goodbye's ack confirms
		o.OnUndelivered = func(Target, Undelivered) { reports++ }
	})
	b := listen(t, dir, 2)
	release := b.in.block(t)
	l := a.link(t, b)
	ctx := ctxTimeout(t, 20*time.Second)
	const n = 5000
	for i := range n {
		require.NoError(t, l.Send(ctx, seqFrame(uint64(i), 100)))
	}
	go func() { time.Sleep(20 * time.Millisecond); release() }()
	require.NoError(t, a.Close())
	b.in.waitLen(t, n)
	st := a.Stats()
	assert.Zero(t, reports)
	assert.Zero(t, st.Undelivered)
	assert.Zero(t, st.Unconfirmed)
	assert.Zero(t, st.ConnsLost)
	assert.Equal(t, uint64(n), st.FramesOut)
	eventually(t, 5*time.Second, func() bool { return b.Stats().OpenIn == 0 }, "b's inbound connection to end")
	assert.Zero(t, b.Stats().InboundLost, "the peer said goodbye")
	assert.NoFileExists(t, a.Path())
	assert.NoFileExists(t, a.Path()+lockSuffix)
	require.ErrorIs(t, l.Send(ctx, []byte("x")), ErrClosed)
	_, err := a.Link(b.target())
	require.ErrorIs(t, err, ErrClosed)
}

// The peer closing in an orderly way: our link learns it from its goodbye;
// a Send after that finds no socket.
func TestPeerCloses(t *testing.T) {
	dir := shortDir(t)
	a, b := listen(t, dir, 1), listen(t, dir, 2)
	l := a.link(t, b)
	ctx := ctxTimeout(t, 10*time.Second)
	require.NoError(t, l.Send(ctx, []byte("x")))
	b.in.waitLen(t, 1)
	require.NoError(t, b.Close())
	// The counter moves before the log line is written: wait for both.
	eventually(t, 5*time.Second, func() bool {
		return a.Stats().ConnsLost == 1 && strings.Contains(a.log.String(), ErrPeerClosed.Error())
	}, "the link to notice, and log the peer's goodbye")
	err := l.Send(ctx, []byte("y"))
	require.ErrorIs(t, err, ErrUnreachable)
	assert.Zero(t, a.Stats().Undelivered+a.Stats().Unconfirmed, "b acknowledged before closing")
}

func TestAddressInUseAndStaleSockets(t *testing.T) {
	dir := shortDir(t)
	a := listen(t, dir, 1)
	_, err := Listen(Options{Dir: dir, Slot: 1, Generation: 1}, func(PeerInfo, []byte) {})
	require.ErrorIs(t, err, ErrAddressInUse)

	// A listener that died leaves its socket and lock file; nobody holds
	// the lock. Make such leftovers by hand.
	leave := func(name string) string {
		p := filepath.Join(dir, name)
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
		require.NoError(t, err)
		ln.SetUnlinkOnClose(false)
		require.NoError(t, ln.Close())
		require.NoError(t, os.WriteFile(p+lockSuffix, nil, 0o600))
		return p
	}
	stale := leave("5.3.sock")
	own := leave("6.1.sock")
	foreign := filepath.Join(dir, "foreign.sock") // no lock file: not ours to judge
	require.NoError(t, os.WriteFile(foreign, nil, 0o600))

	c := listen(t, dir, 6) // its own path holds a stale socket; it sweeps 5.3
	assert.Equal(t, own, c.Path())
	assert.NoFileExists(t, stale)
	assert.NoFileExists(t, stale+lockSuffix)
	assert.FileExists(t, foreign)
	assert.FileExists(t, a.Path(), "a live listener's socket stays")
	assert.Contains(t, c.log.String(), "removed stale sockets")

	l := a.link(t, c)
	require.NoError(t, l.Send(ctxTimeout(t, 10*time.Second), []byte("x")))
	c.in.waitLen(t, 1)

	// After a closes, its path is free again.
	require.NoError(t, a.Close())
	a2 := listen(t, dir, 1)
	assert.Equal(t, a.Path(), a2.Path())
}

func TestDirectoryChecks(t *testing.T) {
	base := shortDir(t)
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		mode    os.FileMode
		err     error
		check   func(t *testing.T, dir string)
	}{
		{name: "created 0700", check: func(t *testing.T, dir string) {
			st, err := os.Lstat(dir)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
		}},
		{name: "created with DirMode 0711", mode: 0o711, check: func(t *testing.T, dir string) {
			st, err := os.Lstat(dir)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o711), st.Mode().Perm())
		}},
		{name: "existing 0700 is fine", prepare: func(t *testing.T, dir string) { require.NoError(t, os.Mkdir(dir, 0o700)) }},
		{name: "existing narrower is fine", prepare: func(t *testing.T, dir string) {
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, 0o500|0o200))
		}},
		{name: "too wide", prepare: func(t *testing.T, dir string) {
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, 0o755))
		}, err: ErrUnsafeDir},
		{name: "symlink to a good directory", prepare: func(t *testing.T, dir string) {
			real := dir + "-real"
			require.NoError(t, os.Mkdir(real, 0o700))
			require.NoError(t, os.Symlink(real, dir))
		}, err: ErrUnsafeDir},
		{name: "a file", prepare: func(t *testing.T, dir string) { require.NoError(t, os.WriteFile(dir, nil, 0o600)) }, err: ErrUnsafeDir},
		{name: "owned by another uid", prepare: func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown a directory to another uid")
			}
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chown(dir, 65534, 65534))
		}, err: ErrUnsafeDir},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, "d"+string(rune('a'+i)))
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			n, err := Listen(Options{Dir: dir, DirMode: tc.mode, Slot: 0, Generation: 1, Logger: (&logBuf{}).logger()}, func(PeerInfo, []byte) {})
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			defer n.Close()
			st, err := os.Stat(n.Path())
			require.NoError(t, err)
			assert.Equal(t, os.ModeSocket, st.Mode().Type())
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
			if tc.check != nil {
				tc.check(t, dir)
			}
		})
	}
}

func TestDefaultDirectory(t *testing.T) {
	xdg := shortDir(t)
	t.Setenv("XDG_RUNTIME_DIR", xdg)
	d, err := DefaultDir("demo")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(xdg, "xorc", "demo"), d)
	n, err := Listen(Options{Name: "demo", Slot: 3, Generation: 7, Logger: (&logBuf{}).logger()}, func(PeerInfo, []byte) {})
	require.NoError(t, err)
	defer n.Close()
	assert.Equal(t, filepath.Join(xdg, "xorc", "demo", "3.7.sock"), n.Path())
	for _, p := range []string{filepath.Join(xdg, "xorc"), d} {
		st, err := os.Lstat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), p)
	}

	t.Setenv("XDG_RUNTIME_DIR", "")
	d, err = DefaultDir("demo")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/tmp", "xorc-"+strconv.Itoa(os.Geteuid()), "demo"), d)
	_, err = DefaultDir("../etc")
	require.ErrorIs(t, err, ErrInvalidOptions)
}

func TestOptionsValidation(t *testing.T) {
	dir := shortDir(t)
	h := func(PeerInfo, []byte) {}
	tests := []struct {
		name string
		o    Options
	}{
		{"no name and no dir", Options{}},
		{"bad name", Options{Name: "a/b"}},
		{"dir mode without owner rwx", Options{Dir: dir, DirMode: 0o500}},
		{"dir mode with type bits", Options{Dir: dir, DirMode: os.ModeDir | 0o700}},
		{"socket mode without owner rw", Options{Dir: dir, SocketMode: 0o400}},
		{"frame limit too big", Options{Dir: dir, MaxFrame: MaxMaxFrame + 1}},
		{"negative frame limit", Options{Dir: dir, MaxFrame: -1}},
		{"slot -2", Options{Dir: dir, Slot: -2}},
		{"backoff max under min", Options{Dir: dir, BackoffMin: time.Second, BackoffMax: time.Millisecond}},
		{"socket name with a slash", Options{Dir: dir, SocketName: "x/y.sock"}},
		{"socket name without .sock", Options{Dir: dir, SocketName: "peer"}},
		{"path too long", Options{Dir: dir, SocketName: string(bytes.Repeat([]byte("x"), 100)) + ".sock"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Listen(tc.o, h)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	_, err := Listen(Options{Dir: dir}, nil)
	require.ErrorIs(t, err, ErrInvalidOptions, "a handler is needed")
}

// Sends spaced out so that each finds the link idle write directly; when
// the socket fills up part-way through one, the writer goroutine finishes
// it and the frames queued behind: all arrive whole and in order.
func TestDirectWriteHandsOffWhenSocketFull(t *testing.T) {
	dir := shortDir(t)
	a := listen(t, dir, 1, func(o *Options) { o.QueueBytes = 64 << 20 })
	b := listen(t, dir, 2)
	release := b.in.block(t)
	l := a.link(t, b)
	ctx := ctxTimeout(t, 30*time.Second)
	n := 0
	for ; l.handoffs.Load() == 0 || n < 1000; n++ {
		require.Less(t, n, 100000, "the socket never filled")
		time.Sleep(2 * directIdle)
		require.NoError(t, l.Send(ctx, seqFrame(uint64(n), 1000+n%7)))
	}
	release()
	b.in.waitLen(t, n)
	frames, _ := b.in.snapshot()
	for i, p := range frames {
		require.Equal(t, uint64(i), seqOf(p))
		require.Len(t, p, 1000+i%7)
	}
	assert.Equal(t, uint64(n), l.Stats().FramesOut)
}

// A connection that never says hello is closed after HandshakeTimeout
// (counted), and does not hold up anyone else.
func TestSilentConnectionTimesOut(t *testing.T) {
	dir := shortDir(t)
	b := listen(t, dir, 2, func(o *Options) { o.HandshakeTimeout = 100 * time.Millisecond })
	a := listen(t, dir, 1)
	rc := rawDial(t, b.Path())
	require.NoError(t, a.link(t, b).Send(ctxTimeout(t, 10*time.Second), []byte("meanwhile")))
	b.in.waitLen(t, 1)
	_, _, err := rc.fr.next()
	require.ErrorIs(t, err, io.EOF, "the node hung up on the silent connection")
	eventually(t, 5*time.Second, func() bool { return b.Stats().HandshakeFailures == 1 }, "HandshakeFailures")
	assert.Zero(t, b.Stats().BadFrames)
}

func TestTargetForRegistryProcess(t *testing.T) {
	p := registry.Process{Slot: 3, Generation: 9, PID: 77, Address: "/run/user/0/xorc/demo/3.9.sock"}
	assert.Equal(t, Target{Path: p.Address, Slot: 3, Generation: 9}, TargetFor(p))
	assert.LessOrEqual(t, maxSocketPath, registry.MaxAddressLen, "every socket path fits the registry's address field")
}
