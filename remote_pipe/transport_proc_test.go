//go:build linux || darwin

package remote_pipe

// Multi-process tests of the transport: real OS processes (the test binary
// re-executed with -test.run=^TestHelperTransport$), stopped, killed, or
// running as another user.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/proto"
	"github.com/xorc-dev/xorc/registry"
)

// Environment of a transport helper.
const (
	envTRole    = "XORC_PIPE_T_ROLE"     // "member"
	envTName    = "XORC_PIPE_T_NAME"     // the system
	envTDir     = "XORC_PIPE_T_DIR"      // its socket directory
	envTAllow   = "XORC_PIPE_T_ALLOW"    // comma-separated AllowUIDs
	envTDirMode = "XORC_PIPE_T_DIR_MODE" // octal DirMode
)

// TestHelperTransport is not a test: it is the body of the transport's
// child processes. A member joins the system, spawns a sink actor "sink",
// prints "ready <address>", then obeys commands from stdin, one answer line
// each: "send <address>" delivers an event to the sink there ("ok", or
// "err died=.. unreachable=.. refused=.. notallowed=.. <error>"), "count"
// prints what its sink got. It closes its transport at EOF.
func TestHelperTransport(t *testing.T) {
	if os.Getenv(envTRole) != "member" {
		t.Skip("helper process for the transport's multi-process tests")
	}
	if err := runTransportHelper(); err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	os.Exit(0)
}

func runTransportHelper() error {
	o := TransportOptions{Name: os.Getenv(envTName), Dir: os.Getenv(envTDir), Logger: quiet,
		HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 20 * time.Second}
	if m, err := strconv.ParseUint(os.Getenv(envTDirMode), 8, 32); err == nil {
		o.DirMode = os.FileMode(m)
	}
	for _, f := range strings.Split(os.Getenv(envTAllow), ",") {
		if uid, err := strconv.Atoi(f); err == nil {
			o.AllowUIDs = append(o.AllowUIDs, uid)
		}
	}
	tr, err := New(o)
	if err != nil {
		return err
	}
	defer tr.Close()
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	defer sys.Shutdown()
	if err := tr.Start(sys); err != nil {
		return err
	}
	s := &sink{}
	if _, err := sys.Root.SpawnNamed(pactor.PropsFromProducer(func() pactor.Actor { return s }), "sink"); err != nil {
		return err
	}
	fmt.Printf("ready %s\n", tr.Address())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "send":
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := tr.Deliver(ctx, pactor.NewPID(f[1], "sink"), nil, &proto.Event{Type: "from " + strconv.Itoa(os.Geteuid())})
			cancel()
			if err != nil {
				fmt.Printf("err died=%t unreachable=%t refused=%t notallowed=%t %v\n", errors.Is(err, registry.ErrProcessDied),
					errors.Is(err, ErrUnreachable), errors.Is(err, ErrRefused), errors.Is(err, ErrNotAllowed), err)
			} else {
				fmt.Println("ok")
			}
		case len(f) == 1 && f[0] == "count":
			fmt.Println(s.n.Load())
		default:
			fmt.Printf("error unknown command %q\n", sc.Text())
		}
	}
	return nil
}

// tchild is a running transport helper.
type tchild struct {
	cmd  *exec.Cmd
	in   *bufio.Writer
	out  chan string
	addr string
	done chan struct{}
}

func startMember(t *testing.T, bin string, cred *syscall.Credential, env ...string) *tchild {
	t.Helper()
	if bin == "" {
		bin = os.Args[0]
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperTransport$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), envTRole+"=member"), env...)
	cmd.Stderr = os.Stderr
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = filepath.Dir(bin)
	}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &tchild{cmd: cmd, in: bufio.NewWriter(stdin), out: make(chan string, 16), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.out <- sc.Text()
		}
		close(c.out)
		_ = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = stdin.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-c.done
		}
	})
	line := c.line(t)
	require.True(t, strings.HasPrefix(line, "ready "), "child said %q", line)
	c.addr = strings.TrimPrefix(line, "ready ")
	return c
}

func (c *tchild) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-c.out:
		require.True(t, ok, "the child ended")
		require.False(t, strings.HasPrefix(l, "error "), "child: %s", l)
		return l
	case <-time.After(60 * time.Second):
		t.Fatal("no word from the child in 60s")
	}
	return ""
}

func (c *tchild) do(t *testing.T, cmd string) string {
	t.Helper()
	_, err := c.in.WriteString(cmd + "\n")
	require.NoError(t, err)
	require.NoError(t, c.in.Flush())
	return c.line(t)
}

func (c *tchild) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(sig))
}

// watcher records the Terminated messages it gets.
type watcher struct{ terminated chan *pactor.Terminated }

func (w *watcher) Receive(c pactor.Context) {
	switch m := c.Message().(type) {
	case *pactor.PID:
		c.Watch(m)
		c.Respond(true)
	case *pactor.Terminated:
		w.terminated <- m
	}
}

// stoppedPeer starts a member child, checks that it is reached, and stops
// it (SIGSTOP): it reads nothing until SIGCONT, and lives.
func stoppedPeer(t *testing.T, a *member, o TransportOptions) (*tchild, *pactor.PID, *Link) {
	t.Helper()
	c := startMember(t, "", nil, envTName+"="+o.Name, envTDir+"="+o.Dir)
	to := pactor.NewPID(c.addr, "sink")
	require.NoError(t, a.t.Deliver(context.Background(), to, nil, &proto.Event{Type: "hello"}))
	eventually(t, 10*time.Second, func() bool { return c.do(t, "count") == "1" }, "the child got the first event")
	c.signal(t, syscall.SIGSTOP)
	waitStopped(t, c.cmd.Process.Pid)
	_, slot, gen, err := ParseAddress(c.addr)
	require.NoError(t, err)
	l, err := a.t.node.Link(Target{Path: c.addr, Slot: slot, Generation: gen}) // the core's link (one per target)
	require.NoError(t, err)
	return c, to, l
}

// waitStopped waits until the kernel shows pid stopped (a signal is
// delivered asynchronously); where /proc is missing, it waits a while.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	stat := fmt.Sprintf("/proc/%d/stat", pid)
	if _, err := os.Stat(stat); err != nil {
		time.Sleep(200 * time.Millisecond)
		return
	}
	eventually(t, 10*time.Second, func() bool {
		b, err := os.ReadFile(stat)
		if err != nil {
			return false
		}
		i := strings.LastIndexByte(string(b), ')') // the state follows the command name
		return i > 0 && i+2 < len(b) && b[i+2] == 'T'
	}, "process %d did not stop", pid)
}

// A peer that does not read: the socket fills, then the link's queue, then
// the routing core's queue for the peer; a sender waits for room until its
// deadline and fails with the core's ErrFull naming the peer. When the peer
// reads again, everything accepted arrives.
func TestStoppedPeerFillsQueueThenDrains(t *testing.T) {
	o := transportOptions(t)
	o.QueueBytes = 64 << 10
	// The core queues at most max(MaxQueueBytes, min(MaxFrame, its BatchBytes)) for a peer.
	o.MaxQueueBytes, o.MaxFrame = 256<<10, 128<<10
	// The core's writer waits in the link for room with the send timeout:
	// longer than the test stops the peer, so nothing accepted fails.
	o.SendTimeout = time.Minute
	a := newMember(t, o)
	c, to, l := stoppedPeer(t, a, o)
	var err error
	n := 0
	for ; n < 100_000 && err == nil; n++ {
		dctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err = a.t.Deliver(dctx, to, nil, &proto.Event{Type: "fill", Payload: make([]byte, 1000)})
		cancel()
	}
	require.ErrorIs(t, err, remote.ErrFull, "a peer that does not read fills the socket and the queues")
	assert.Contains(t, err.Error(), c.addr, "the error names the peer")
	assert.Greater(t, n, o.MaxQueueBytes/2048, "the core's queue took envelopes before it filled")
	assert.Positive(t, l.Stats().QueuedFrames, "the link's queue holds frames behind the full socket")

	c.signal(t, syscall.SIGCONT)
	want := strconv.Itoa(n) // the first event and n-1 accepted ones
	eventually(t, 30*time.Second, func() bool { return c.do(t, "count") == want }, "the child did not get the %s accepted events", want)
	st := a.t.Stats()
	assert.Equal(t, uint64(1), st.SendErrors)
	assert.Zero(t, st.Undelivered)
	assert.Zero(t, st.Node.ConnsLost)
}

// A peer that dies (SIGKILL) with messages queued for it: the frames the
// link had accepted but not written become dead letters, counted (a
// pending request fails at once instead of timing out, a watcher gets
// Terminated), frames written but never acknowledged are counted as
// unconfirmed, and later sends fail with ErrProcessDied. Nothing is
// dropped silently.
func TestPeerKilledWithQueuedMessages(t *testing.T) {
	o := transportOptions(t)
	o.QueueBytes = 4 << 20 // room for everything: nothing fails before the death
	a := newMember(t, o)
	c, to, l := stoppedPeer(t, a, o)
	ctx := context.Background()
	accepted := uint64(1) // stoppedPeer's first event
	// Fill the socket until frames wait in the link's queue and the writer
	// makes no progress: it is stuck in a write to the full socket.
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "the socket never filled")
		for range 50 {
			require.NoError(t, a.t.Deliver(ctx, to, nil, &proto.Event{Type: "fill", Payload: make([]byte, 1000)}))
			accepted++
		}
		before := l.Stats()
		time.Sleep(50 * time.Millisecond)
		if after := l.Stats(); before.QueuedFrames > 0 && after.FramesOut == before.FramesOut && after.Writes == before.Writes {
			break
		}
	}
	// Behind them, in the queue: a request, and a watch.
	fut := a.sys.Root.RequestFuture(to, &proto.Event{Type: "pending"}, time.Minute)
	w := &watcher{terminated: make(chan *pactor.Terminated, 1)}
	wpid := a.sys.Root.Spawn(pactor.PropsFromProducer(func() pactor.Actor { return w }))
	_, err := a.sys.Root.RequestFuture(wpid, to, 10*time.Second).Result()
	require.NoError(t, err)
	accepted += 2
	// The routing core hands everything to the link (its queue has room);
	// the link's writer is stuck in a write to the full socket: what it
	// has not taken waits in the link's queue, the request and the watch
	// last (in one frame or two: the core batches).
	eventually(t, 10*time.Second, func() bool { return a.t.Stats().Sent == accepted }, "the core did not hand all %d envelopes to the link", accepted)
	queued := l.Stats().QueuedFrames
	require.Positive(t, queued, "frames wait in the link's queue")
	assert.Zero(t, a.t.Stats().SendErrors, "nothing failed before the death")

	t0 := time.Now()
	c.signal(t, syscall.SIGKILL)
	_, err = fut.Result()
	require.ErrorIs(t, err, pactor.ErrDeadLetter, "the pending request is reported, not left to time out")
	assert.Less(t, time.Since(t0), 30*time.Second)
	select {
	case term := <-w.terminated:
		assert.Equal(t, "sink", term.Who.Id)
		assert.Equal(t, pactor.TerminatedReason_AddressTerminated, term.Why)
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher never got Terminated")
	}
	eventually(t, 20*time.Second, func() bool {
		err := a.t.Deliver(ctx, to, nil, &proto.Event{Type: "late"})
		return errors.Is(err, registry.ErrProcessDied)
	}, "sends to the dead peer do not fail with ErrProcessDied")
	err = a.t.Deliver(ctx, to, nil, &proto.Event{Type: "late"})
	assert.Contains(t, err.Error(), "crashed")
	// The socket layer counts, then reports to the core: wait for both.
	eventually(t, 10*time.Second, func() bool {
		st := a.t.Stats()
		return st.Unconfirmed > 0 && st.Unconfirmed == st.Node.Unconfirmed
	}, "frames in the dead peer's socket buffer were not counted as unconfirmed: %+v", a.t.Stats())
	st := a.t.Stats()
	assert.GreaterOrEqual(t, st.Node.Undelivered, uint64(queued), "every queued frame was reported (and those of the write cut short)")
	assert.GreaterOrEqual(t, st.Undelivered, st.Node.Undelivered, "each undelivered frame is a batch of one envelope or more, each reported")
	assert.GreaterOrEqual(t, st.Undelivered, uint64(2), "the request and the watch at least")
	assert.GreaterOrEqual(t, st.DeadLettersOut, st.Undelivered, "each undelivered envelope became a dead letter")
	assert.GreaterOrEqual(t, st.PeersDown, uint64(1))
	assert.GreaterOrEqual(t, st.WatchTerminated, uint64(1))
}

// Another user's process: the transport refuses it unless AllowUIDs lets it
// in, and refuses to talk to a listener of another uid the same way. The
// child runs as nobody (65534), which needs root.
func TestTransportOtherUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to run a child as uid 65534 (the socket layer's credential check runs in every test)")
	}
	base, err := os.MkdirTemp("/tmp", "xptuid")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o711)) // nobody may traverse it to our sockets and the binary
	bin := filepath.Join(base, "pipe.test")
	copyFile(t, os.Args[0], bin, 0o755)
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}

	tests := []struct {
		name       string
		allowChild bool   // we allow uid 65534
		childAllow string // the child's AllowUIDs
		want       string // the child's answer to "send" (prefix)
		refused    uint64 // our Node.Refused
	}{
		{"refused by default", false, "0", "err died=false unreachable=true refused=true notallowed=false", 1},
		{"allowed by the allow-list", true, "0", "ok", 0},
		{"the child refuses a listener of another uid", true, "", "err died=false unreachable=true refused=false notallowed=true", 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := transportOptions(t)
			o.RegistryMode = 0o666 // the child joins our segment
			o.Dir = filepath.Join(base, "p"+strconv.Itoa(i))
			o.DirMode, o.SocketMode = 0o711, 0o666
			if tc.allowChild {
				o.AllowUIDs = []int{65534}
			}
			a := newMember(t, o)
			s := a.spawnSink(t, "sink")
			childDir := filepath.Join(base, "c"+strconv.Itoa(i))
			require.NoError(t, os.Mkdir(childDir, 0o700))
			require.NoError(t, os.Chown(childDir, 65534, 65534))
			c := startMember(t, bin, nobody, envTName+"="+o.Name, envTDir+"="+childDir, envTAllow+"="+tc.childAllow)

			res := c.do(t, "send "+a.t.Address())
			assert.True(t, strings.HasPrefix(res, tc.want), "child: %s", res)
			st := a.t.Stats()
			assert.Equal(t, tc.refused, st.Node.Refused)
			if tc.want == "ok" {
				eventually(t, 10*time.Second, func() bool { return s.n.Load() == 1 }, "the event from uid 65534 arrived")
				// And back: we reach the child's machine too.
				require.NoError(t, a.t.Deliver(context.Background(), pactor.NewPID(c.addr, "sink"), nil, &proto.Event{Type: "back"}))
				eventually(t, 10*time.Second, func() bool { return c.do(t, "count") == "1" }, "our event reached the child")
			} else {
				assert.Zero(t, s.n.Load())
			}
		})
	}
}
