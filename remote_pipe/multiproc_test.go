//go:build linux || darwin

package remote_pipe

// Multi-process tests run real OS processes: the test binary re-executed
// with -test.run=^TestHelperProcess$ and a role in the environment. A child
// prints "ready <socket path>" once it listens, answers on stdout, and ends
// when its stdin closes (or when it is killed).

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	envRole   = "XORC_PIPE_HELPER"
	envDir    = "XORC_PIPE_DIR"
	envSock   = "XORC_PIPE_SOCK"
	envSlot   = "XORC_PIPE_SLOT"
	envParent = "XORC_PIPE_PARENT"
	envN      = "XORC_PIPE_N"
	envAllow  = "XORC_PIPE_ALLOW"
)

// TestHelperProcess is not a test: it is the body of the child processes.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		return
	}
	if err := runHelper(role); err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	os.Exit(0)
}

func runHelper(role string) error {
	slot, _ := strconv.Atoi(os.Getenv(envSlot))
	o := Options{Dir: os.Getenv(envDir), SocketName: os.Getenv(envSock), Slot: slot, Generation: 1,
		Logger: (&logBuf{}).logger(), CloseTimeout: time.Minute}
	for _, f := range strings.Split(os.Getenv(envAllow), ",") {
		if uid, err := strconv.Atoi(f); err == nil {
			o.AllowUIDs = append(o.AllowUIDs, uid)
		}
	}
	parent := Target{Path: os.Getenv(envParent)}
	n, _ := strconv.Atoi(os.Getenv(envN))
	var nodeP atomic.Pointer[Node] // handlers run on goroutines Listen starts
	var back atomic.Pointer[Link]
	toParent := func() *Link {
		if l := back.Load(); l != nil {
			return l
		}
		l, err := nodeP.Load().Link(parent)
		if err != nil {
			panic(err)
		}
		back.Store(l)
		return l
	}
	if role == "rawecho" {
		return rawEcho(o.Dir)
	}
	var handler Handler
	switch role {
	case "echo": // every frame goes back to the parent
		handler = func(_ PeerInfo, p []byte) {
			if err := toParent().Send(context.Background(), append([]byte(nil), p...)); err != nil {
				fmt.Printf("error echo: %v\n", err)
			}
		}
	case "count": // frames carry (seq, total); the last one is answered with "done"
		handler = func(_ PeerInfo, p []byte) {
			if seq, total := binary.BigEndian.Uint64(p), binary.BigEndian.Uint64(p[8:]); seq == total-1 {
				_ = toParent().Send(context.Background(), []byte("done"))
			}
		}
	case "slow": // a reader that cannot keep up
		handler = func(PeerInfo, []byte) { time.Sleep(100 * time.Microsecond) }
	case "sender", "dialer":
		handler = func(PeerInfo, []byte) {}
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	node, err := Listen(o, handler)
	if err != nil {
		return err
	}
	nodeP.Store(node)
	fmt.Printf("ready %s\n", node.Path())
	switch role {
	case "sender": // n frames of 16 bytes (sequence numbers), an orderly close, a report
		l := toParent()
		for i := range n {
			if err := l.Send(context.Background(), seqFrame(uint64(i), 16)); err != nil {
				return fmt.Errorf("send %d: %w", i, err)
			}
		}
		if err := node.Close(); err != nil {
			return err
		}
		st := l.Stats()
		fmt.Printf("done frames=%d writes=%d undelivered=%d unconfirmed=%d lost=%d\n",
			st.FramesOut, st.Writes, st.Undelivered, st.Unconfirmed, st.ConnsLost)
		return nil
	case "dialer": // one frame; say how it went
		err := toParent().Send(context.Background(), []byte("hello from "+strconv.Itoa(os.Geteuid())))
		if err == nil {
			err = node.Close()
		}
		if err != nil {
			fmt.Printf("result err refused=%t notallowed=%t unreachable=%t %v\n",
				errors.Is(err, ErrRefused), errors.Is(err, ErrNotAllowed), errors.Is(err, ErrUnreachable), err)
		} else {
			fmt.Printf("result ok unconfirmed=%d\n", toParent().Stats().Unconfirmed)
		}
		return nil
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes our stdin
	return node.Close()
}

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	path  string // its socket
	done  chan struct{}
	err   error // Wait's result, after done
}

type childSpec struct {
	role, dir, sock, parent string
	slot, n                 int
	allow                   string
	binary                  string              // default os.Args[0]
	cred                    *syscall.Credential // run as another user
}

func startChild(t testing.TB, s childSpec) *child {
	t.Helper()
	bin := s.binary
	if bin == "" {
		bin = os.Args[0]
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(),
		envRole+"="+s.role, envDir+"="+s.dir, envSock+"="+s.sock, envParent+"="+s.parent,
		envSlot+"="+strconv.Itoa(s.slot), envN+"="+strconv.Itoa(s.n), envAllow+"="+s.allow)
	cmd.Stderr = os.Stderr
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Dir = filepath.Dir(bin)
	}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 64), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	line := c.line(t)
	require.Truef(t, strings.HasPrefix(line, "ready "), "child said %q", line)
	c.path = strings.TrimPrefix(line, "ready ")
	return c
}

// line is the child's next line of output.
func (c *child) line(t testing.TB) string {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		require.True(t, ok, "the child ended without a word")
		require.Falsef(t, strings.HasPrefix(l, "error "), "child: %s", l)
		return l
	case <-time.After(60 * time.Second):
		t.Fatal("no word from the child in 60s")
		return ""
	}
}

// stop closes the child's stdin and waits for a clean exit.
func (c *child) stop(t testing.TB) {
	t.Helper()
	_ = c.stdin.Close()
	c.wait(t)
	require.NoError(t, c.err)
}

func (c *child) wait(t testing.TB) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the child did not exit in 60s")
	}
}

func (c *child) kill(t testing.TB) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	c.wait(t)
}

func millionOrShort() int {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// A million small frames each way between two processes (the child echoes
// every frame): all arrive, in order.
func TestMillionFramesEchoedBetweenProcesses(t *testing.T) {
	dir := shortDir(t)
	n := millionOrShort()
	var got atomic.Int64
	var bad atomic.Value
	done := make(chan struct{})
	me, err := Listen(Options{Dir: dir, Slot: 1, Generation: 1, Logger: (&logBuf{}).logger()}, func(_ PeerInfo, p []byte) {
		i := got.Add(1) - 1
		if seqOf(p) != uint64(i) && bad.Load() == nil {
			bad.Store(fmt.Sprintf("frame %d carries %d", i, seqOf(p)))
		}
		if i == int64(n-1) {
			close(done)
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = me.Close() })
	c := startChild(t, childSpec{role: "echo", dir: dir, slot: 2, parent: me.Path()})
	l, err := me.Link(Target{Path: c.path, Slot: 2, Generation: 1})
	require.NoError(t, err)
	ctx := ctxTimeout(t, 5*time.Minute)
	start := time.Now()
	for i := range n {
		require.NoError(t, l.Send(ctx, seqFrame(uint64(i), 16)))
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%d of %d echoes after 5 minutes", got.Load(), n)
	}
	elapsed := time.Since(start)
	require.Nil(t, bad.Load(), "order")
	c.stop(t)
	require.Equal(t, int64(n), got.Load())
	st := l.Stats()
	t.Logf("%d frames there and back in %v (%.0f round trips/s), %d writes out", n, elapsed, float64(n)/elapsed.Seconds(), st.Writes)
	assert.Equal(t, uint64(n), st.FramesOut)
	assert.Zero(t, me.Stats().BadFrames)
}

// A million frames from a child that then closes in an orderly way: all
// arrive in order, and the child's own accounting shows nothing lost or
// unconfirmed.
func TestMillionFramesFromAChildThatCloses(t *testing.T) {
	dir := shortDir(t)
	n := millionOrShort()
	var got atomic.Int64
	var bad atomic.Value
	me, err := Listen(Options{Dir: dir, Slot: 1, Generation: 1, Logger: (&logBuf{}).logger()}, func(from PeerInfo, p []byte) {
		i := got.Add(1) - 1
		if (seqOf(p) != uint64(i) || from.Slot != 2) && bad.Load() == nil {
			bad.Store(fmt.Sprintf("frame %d carries %d from %v", i, seqOf(p), from))
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = me.Close() })
	c := startChild(t, childSpec{role: "sender", dir: dir, slot: 2, parent: me.Path(), n: n})
	report := c.line(t)
	c.wait(t)
	require.NoError(t, c.err)
	require.Nil(t, bad.Load(), "order")
	require.Equal(t, int64(n), got.Load(), "everything arrived before the child's close returned")
	assert.Equal(t, fmt.Sprintf("frames=%d", n), strings.Fields(report)[1])
	assert.Contains(t, report, "undelivered=0 unconfirmed=0 lost=0")
	t.Logf("child: %s", report)
	st := me.Stats()
	assert.Equal(t, uint64(n), st.FramesIn)
	eventually(t, 5*time.Second, func() bool { return me.Stats().OpenIn == 0 }, "the inbound connection to end")
	assert.Zero(t, me.Stats().InboundLost, "the child said goodbye")
}

// A peer killed with SIGKILL while frames are queued for it: the link
// notices at once, the frames it held come back in a report (those written
// but not acknowledged are counted), and Send then fails with
// ErrUnreachable (connection refused: the socket file outlived its owner).
func TestPeerKilled(t *testing.T) {
	dir := shortDir(t)
	var mu sync.Mutex
	var reports []Undelivered
	me := listen(t, dir, 1, func(o *Options) {
		o.QueueBytes = 256 << 10
		o.OnUndelivered = func(_ Target, u Undelivered) {
			mu.Lock()
			reports = append(reports, u)
			mu.Unlock()
		}
	})
	c := startChild(t, childSpec{role: "slow", dir: dir, slot: 2})
	l, err := me.Link(Target{Path: c.path, Slot: 2, Generation: 1})
	require.NoError(t, err)

	var sentOK uint64
	errc := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		for i := uint64(0); ; i++ {
			select {
			case <-stop:
				errc <- nil
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			err := l.Send(ctx, seqFrame(i, 64))
			cancel()
			switch {
			case err == nil:
				atomic.AddUint64(&sentOK, 1)
			case errors.Is(err, ErrQueueFull):
			default:
				errc <- err
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop) })
	// The slow child fills its socket buffer and our queue.
	eventually(t, 30*time.Second, func() bool { return l.Stats().QueuedBytes > 128<<10 && l.Stats().FramesOut > 100 }, "a full queue")
	c.kill(t)

	var sendErr error
	select {
	case sendErr = <-errc:
	case <-time.After(30 * time.Second):
		t.Fatal("Send kept succeeding after the peer was killed")
	}
	// A redial racing the peer's exit may still connect and be reset; once
	// the process is gone (kill waited for it), nobody listens.
	require.ErrorIs(t, sendErr, ErrUnreachable)
	assert.Contains(t, sendErr.Error(), c.path)
	eventually(t, 10*time.Second, func() bool {
		err := l.Send(context.Background(), []byte("x"))
		return errors.Is(err, ErrUnreachable) && errors.Is(err, syscall.ECONNREFUSED)
	}, "Send to fail with connection refused")

	eventually(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 1 }, "the report")
	u := reports[0]
	require.ErrorIs(t, u.Err, ErrConnLost)
	require.NotEmpty(t, u.Payloads, "queued frames are handed back")
	assert.Positive(t, u.Unconfirmed, "frames in the dead peer's socket buffer are unconfirmed")
	st := l.Stats()
	assert.Equal(t, atomic.LoadUint64(&sentOK), st.FramesOut+uint64(len(u.Payloads)),
		"every accepted frame written or handed back")
	assert.Equal(t, uint64(1), st.ConnsLost)
	assert.Equal(t, u.Unconfirmed, st.Unconfirmed)
	prev := seqOf(u.Payloads[0])
	for _, p := range u.Payloads[1:] {
		require.Greater(t, seqOf(p), prev, "handed back in order")
		prev = seqOf(p)
	}
	assert.Contains(t, me.log.String(), "connection lost")
}

// The peer is killed and started again at the same socket path: the new
// process removes the stale socket, and the same Link reconnects to it.
func TestPeerRestarted(t *testing.T) {
	dir := shortDir(t)
	me := listen(t, dir, 1, func(o *Options) { o.BackoffMin = 5 * time.Millisecond; o.BackoffMax = 50 * time.Millisecond })
	spec := childSpec{role: "echo", dir: dir, sock: "peer.sock", parent: me.Path()}
	c1 := startChild(t, spec)
	l, err := me.Link(Target{Path: c1.path})
	require.NoError(t, err)
	ctx := ctxTimeout(t, time.Minute)
	require.NoError(t, l.Send(ctx, []byte("one")))
	me.in.waitLen(t, 1)
	p1, _ := l.Peer()
	assert.Equal(t, c1.cmd.Process.Pid, p1.PID)

	c1.kill(t)
	assert.FileExists(t, c1.path, "a killed process leaves its socket")
	eventually(t, 10*time.Second, func() bool { return errors.Is(l.Send(ctx, []byte("lost?")), ErrUnreachable) }, "Send to fail")

	c2 := startChild(t, spec)
	require.Equal(t, c1.path, c2.path)
	eventually(t, 10*time.Second, func() bool { return l.Send(ctx, []byte("two")) == nil }, "Send to succeed again")
	eventually(t, 10*time.Second, func() bool {
		frames, _ := me.in.snapshot()
		return len(frames) > 0 && string(frames[len(frames)-1]) == "two"
	}, "the echo from the restarted peer")
	p2, _ := l.Peer()
	assert.Equal(t, c2.cmd.Process.Pid, p2.PID)
	assert.GreaterOrEqual(t, l.Stats().Dials, uint64(2))
	c2.stop(t)
}

// A killed process's socket is swept by the next node that starts in the
// directory.
func TestKilledProcessSocketSwept(t *testing.T) {
	dir := shortDir(t)
	c := startChild(t, childSpec{role: "slow", dir: dir, slot: 4})
	assert.Equal(t, filepath.Join(dir, "4.1.sock"), c.path)
	c.kill(t)
	require.FileExists(t, c.path)
	me := listen(t, dir, 5)
	assert.NoFileExists(t, c.path)
	assert.NoFileExists(t, c.path+lockSuffix)
	assert.FileExists(t, me.Path())
}

// Another uid: refused by the acceptor unless allowed, and the dialer
// applies the same rule to the listener. The child runs as nobody
// (65534), which needs root.
func TestOtherUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to run a child as uid 65534 (the credential check itself runs in every test)")
	}
	base, err := os.MkdirTemp("/tmp", "xpuid")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	// For this test only: nobody may traverse base and connect to our sockets.
	require.NoError(t, os.Chmod(base, 0o711))
	bin := filepath.Join(base, "pipe.test")
	copyFile(t, os.Args[0], bin, 0o755)
	childDir := filepath.Join(base, "c")
	require.NoError(t, os.Mkdir(childDir, 0o700))
	require.NoError(t, os.Chown(childDir, 65534, 65534))
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	open := func(o *Options) { o.Dir = filepath.Join(base, "s"); o.DirMode = 0o711; o.SocketMode = 0o666 }

	tests := []struct {
		name       string
		allowChild bool   // our node allows uid 65534
		childAllow string // the child's AllowUIDs
		want       string // the child's result prefix
		refused    uint64 // our Stats.Refused
	}{
		{"refused by default", false, "0", "result err refused=true notallowed=false unreachable=true", 1},
		{"allowed by the allow-list", true, "0", "result ok unconfirmed=0", 0},
		{"the dialer refuses a listener of another uid", true, "", "result err refused=false notallowed=true unreachable=true", 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			me := listen(t, "", 10+i, open, func(o *Options) {
				if tc.allowChild {
					o.AllowUIDs = []int{65534}
				}
			})
			c := startChild(t, childSpec{role: "dialer", dir: childDir, slot: 20 + i, parent: me.Path(),
				allow: tc.childAllow, binary: bin, cred: nobody})
			res := c.line(t)
			assert.Truef(t, strings.HasPrefix(res, tc.want), "child: %s", res)
			c.wait(t)
			require.NoError(t, c.err)
			assert.Equal(t, tc.refused, me.Stats().Refused)
			frames, from := me.in.snapshot()
			if tc.refused > 0 {
				assert.Contains(t, me.log.String(), "uid=65534")
				assert.Empty(t, frames)
			}
			if strings.HasPrefix(tc.want, "result ok") {
				require.Len(t, frames, 1)
				assert.Equal(t, "hello from 65534", string(frames[0]))
				assert.Equal(t, 65534, from[0].UID)
				assert.Equal(t, c.cmd.Process.Pid, from[0].PID)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}

// rawEcho is the baseline for the ping-pong benchmark: a bare Unix socket
// echo server (no framing, no handshake) on dir/raw.sock.
func rawEcho(dir string) error {
	path := filepath.Join(dir, "raw.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	fmt.Printf("ready %s\n", path)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = ln.Close()
	}()
	c, err := ln.Accept()
	if err != nil {
		return nil
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return nil
		}
	}
}
