//go:build linux

package remote_shm

// The transport's own tests; the behaviour every transport shares
// (routing, requests, watches, kills, restarts) is in internal/conformance.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
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

const (
	envTransportHelper = "XORC_SHM_TRANSPORT_HELPER" // the role of a child
	envSystem          = "XORC_SHM_SYSTEM"           // the system name
	envTarget          = "XORC_SHM_TARGET"           // an address to write to
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testOptions(t testing.TB) Options {
	name := fmt.Sprintf("tr-%d-%s", os.Getpid(), strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	t.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	return Options{Name: name, MaxProcesses: 4, MaxMachines: 16, InboxBytes: 16 << 10, Logger: quiet,
		HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 10 * time.Second}
}

// member is one transport of a system started in this process, on its own
// actor system.
type member struct {
	t   *Transport
	sys *pactor.ActorSystem
}

func newMember(t *testing.T, o Options) *member {
	t.Helper()
	tr, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tr.Close() })
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	t.Cleanup(sys.Shutdown)
	require.NoError(t, tr.Start(sys))
	return &member{t: tr, sys: sys}
}

// sink counts the *proto.Event messages it gets.
type sink struct{ n atomic.Int64 }

func (s *sink) Receive(c pactor.Context) {
	if _, ok := c.Message().(*proto.Event); ok {
		s.n.Add(1)
	}
}

func (m *member) spawnSink(t *testing.T, id string) *sink {
	s := &sink{}
	_, err := m.sys.Root.SpawnNamed(pactor.PropsFromProducer(func() pactor.Actor { return s }), id)
	require.NoError(t, err)
	return s
}

// TestHelperTransport is not a test: it is the body of the child processes.
func TestHelperTransport(t *testing.T) {
	role := os.Getenv(envTransportHelper)
	if role == "" {
		t.Skip("helper process for the transport's multi-process tests")
	}
	tr, err := New(Options{Name: os.Getenv(envSystem), Logger: quiet})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	switch role {
	case "die-mid-claim":
		// Claim a record in the target's inbox and stop there, as if the
		// process died between claim and commit; then wait to be killed.
		testCrash = func(at crashPoint, id int) bool { return at == crashAfterHeader && id == tr.self.Slot }
		err := tr.WriteRaw(context.Background(), os.Getenv(envTarget), RecordBatch, make([]byte, 40))
		fmt.Println("STUCK", err)
		time.Sleep(time.Hour)
	}
	os.Exit(3)
}

func startTransportHelper(t *testing.T, role string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTransport$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), envTransportHelper+"="+role), env...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewScanner(out)
}

// A process dies between claim and commit in our inbox: everything written
// behind its record waits (it might be a slow live producer), until the
// registry reports the death; then the record is skipped, counted as a loss
// against that process, and the rest is delivered.
func TestDeadProducerUnblocksInbox(t *testing.T) {
	o := testOptions(t)
	a := newMember(t, o)
	b := newMember(t, o)
	s := a.spawnSink(t, "sink")

	cmd, out := startTransportHelper(t, "die-mid-claim", envSystem+"="+o.Name, envTarget+"="+a.t.Address())
	require.True(t, out.Scan(), "the helper did not report")
	require.True(t, strings.HasPrefix(out.Text(), "STUCK"), out.Text())
	childSlot := -1
	for _, p := range a.t.Registry().Processes() {
		if p.PID == cmd.Process.Pid {
			childSlot = p.Slot
		}
	}
	require.GreaterOrEqual(t, childSlot, 0)

	ctx := context.Background()
	to := pactor.NewPID(a.t.Address(), "sink")
	for i := range 10 {
		require.NoError(t, b.t.Deliver(ctx, to, nil, &proto.Event{Type: fmt.Sprint(i)}), "written into the inbox behind the stuck record")
	}
	time.Sleep(3 * unblockEvery)
	assert.Zero(t, s.n.Load(), "nothing passes a claim whose producer may be alive")
	assert.True(t, a.t.ring.Stuck())

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	require.Eventually(t, func() bool { return s.n.Load() == 10 }, 20*time.Second, 5*time.Millisecond,
		"the inbox was not unblocked after the death (delivered %d)", s.n.Load())
	st := a.t.Stats()
	assert.Equal(t, uint64(1), st.Unblocked)
	assert.Equal(t, uint64(1), st.Inbox.Producers[childSlot].Lost, "the loss is counted against the dead process")
	assert.Equal(t, uint64(10), st.Received)
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		name string
		slot int
		gen  uint32
		ok   bool
	}{
		{"shm://fab1/3.7", "fab1", 3, 7, true},
		{"shm://a.b-c_d/0.4294967295", "a.b-c_d", 0, 4294967295, true},
		{"shm://fab1/3", "", 0, 0, false},
		{"shm://fab1/x.1", "", 0, 0, false},
		{"shm://fab1/1.-1", "", 0, 0, false},
		{"shm:///1.1", "", 0, 0, false},
		{"pipe://fab1/1.1", "", 0, 0, false},
		{"shm://fab1/1.4294967296", "", 0, 0, false},
		{"", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, slot, gen, err := ParseAddress(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, remote.ErrNotRemote)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []any{tt.name, tt.slot, tt.gen}, []any{name, slot, gen})
		})
	}
}

// In one process, two members of a system: addresses, dialing, raw
// records of the wrong type or size, Stats after Close, ReadInbox.
func TestTransportInProcess(t *testing.T) {
	o := testOptions(t)
	a, b := newMember(t, o), newMember(t, o)
	s := b.spawnSink(t, "sink")
	assert.Equal(t, fmt.Sprintf("shm://%s/%d.%d", o.Name, a.t.Self().Slot, a.t.Self().Generation), a.t.Address())
	assert.Equal(t, a.t.Address(), a.sys.Address())
	ctx := context.Background()

	// proto.actor's own Send reaches the other member's actor.
	a.sys.Root.Send(pactor.NewPID(b.t.Address(), "sink"), &proto.Event{Type: "x"})
	require.Eventually(t, func() bool { return s.n.Load() == 1 }, 5*time.Second, time.Millisecond)

	t.Run("dead and foreign addresses", func(t *testing.T) {
		for _, addr := range []string{
			fmt.Sprintf("shm://%s/%d.%d", o.Name, b.t.Self().Slot, b.t.Self().Generation+1), // a later generation
			fmt.Sprintf("shm://%s/%d.%d", o.Name, a.t.Self().Slot, a.t.Self().Generation+1), // our own slot, not us
			fmt.Sprintf("shm://%s/%d.1", o.Name, 3),                                         // a free slot
		} {
			err := a.t.Deliver(ctx, pactor.NewPID(addr, "sink"), nil, &proto.Event{Type: "x"})
			require.ErrorIs(t, err, registry.ErrProcessDied, addr)
		}
		err := a.t.Deliver(ctx, pactor.NewPID("shm://other-system/1.1", "sink"), nil, &proto.Event{Type: "x"})
		require.ErrorIs(t, err, remote.ErrNotRemote)
	})
	t.Run("raw records", func(t *testing.T) {
		before := b.t.Stats()
		require.NoError(t, a.t.WriteRaw(ctx, b.t.Address(), 99, []byte("not a batch type")))
		require.Eventually(t, func() bool { return b.t.Stats().BadRecords == before.BadRecords+1 }, 5*time.Second, time.Millisecond)
		err := a.t.WriteRaw(ctx, b.t.Address(), RecordBatch, make([]byte, b.t.ring.MaxPayload()+1))
		require.ErrorIs(t, err, ErrTooLarge)
		err = a.t.Deliver(ctx, pactor.NewPID(b.t.Address(), "sink"), nil, &proto.Event{Type: "big", Payload: make([]byte, b.t.ring.MaxPayload())})
		require.ErrorIs(t, err, ErrMessageTooLarge)
		require.ErrorIs(t, a.t.WriteRaw(ctx, "shm://x", RecordBatch, nil), remote.ErrNotRemote)
	})
	t.Run("read inbox", func(t *testing.T) {
		region, err := a.t.Registry().InboxRegion(b.t.Self().Slot)
		require.NoError(t, err)
		st, err := ReadInbox(region)
		require.NoError(t, err)
		assert.Equal(t, 16<<10, st.Inbox.Capacity)
		assert.Greater(t, st.Inbox.Read, uint64(0))
		free, err := a.t.Registry().InboxRegion(3)
		require.NoError(t, err)
		_, err = ReadInbox(free)
		require.ErrorIs(t, err, ErrNoInbox)
		_, err = ReadInbox(region[:100])
		require.ErrorIs(t, err, ErrBadRegion)
		bad := append([]byte(nil), region[:blockBytes+4096]...)
		bad[4] = 99 // another block version
		_, err = ReadInbox(bad)
		require.ErrorIs(t, err, ErrVersion)
	})
	t.Run("close", func(t *testing.T) {
		before := a.t.Stats().Sent
		require.NoError(t, a.t.Deliver(ctx, pactor.NewPID(b.t.Address(), "sink"), nil, &proto.Event{Type: "y"}))
		require.Eventually(t, func() bool { return a.t.Stats().Sent == before+1 }, 5*time.Second, time.Millisecond, "written by the peer's writer")
		sent := a.t.Stats().Sent
		require.NoError(t, a.t.Close())
		require.NoError(t, a.t.Close(), "idempotent")
		assert.Equal(t, sent, a.t.Stats().Sent, "Stats answers after Close")
		err := a.t.Deliver(ctx, pactor.NewPID(b.t.Address(), "sink"), nil, &proto.Event{Type: "z"})
		require.ErrorIs(t, err, remote.ErrClosed)
		// The other member sees it leave: its address is dead now.
		require.Eventually(t, func() bool {
			return b.t.Deliver(ctx, pactor.NewPID(a.t.Address(), "x"), nil, &proto.Event{Type: "x"}) != nil
		}, 5*time.Second, 5*time.Millisecond)
	})
}

// An inbox nobody reads fills up: one-way sends are accepted until the
// queue for it is full too, then fail with ErrFull naming the target; what
// was accepted and could not be written is reported (dead letters, the
// Undelivered counter, ErrUndelivered for the next send). A request fails at
// its deadline. Never silently.
func TestFullInboxFailsAtTheDeadline(t *testing.T) {
	o := testOptions(t)
	o.SendTimeout = 50 * time.Millisecond
	o.MaxQueueBytes = 1 // at least one batch: an eighth of the inbox
	a := newMember(t, o)
	deaf, err := New(o) // joined, inbox formatted, never started: nothing reads
	require.NoError(t, err)
	t.Cleanup(func() { _ = deaf.Close() })
	to := pactor.NewPID(deaf.Address(), "x")
	ev := &proto.Event{Type: "fill", Payload: make([]byte, 400)}
	var err2 error
	n := 0
	for ; n < 1000; n++ {
		if err2 = a.t.Deliver(context.Background(), to, nil, ev); err2 != nil {
			break
		}
	}
	require.Error(t, err2, "16 KiB of inbox and 2 KiB of queue cannot take 1000 messages of 400 bytes")
	require.ErrorIs(t, err2, ErrFull)
	assert.Contains(t, err2.Error(), deaf.Address())
	assert.Greater(t, n, 10)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err = a.t.Deliver(ctx, to, pactor.NewPID(a.t.Address(), "asker"), ev)
	require.ErrorIs(t, err, ErrFull)
	assert.Less(t, time.Since(t0), 2*time.Second)
	require.Eventually(t, func() bool {
		st := a.t.Stats()
		return st.Undelivered > 0 && st.Undelivered == st.DeadLettersOut
	}, 5*time.Second, time.Millisecond, "accepted messages the writer could not write are counted, each a dead letter")
	st := a.t.Stats()
	assert.GreaterOrEqual(t, st.SendErrors, st.Undelivered+2)
	assert.GreaterOrEqual(t, deaf.Stats().Inbox.FullWaits, uint64(1))
}
