//go:build linux || darwin

package remote_pipe

// The transport's own tests; the behaviour every transport shares (routing,
// requests, watches, kills, restarts, bad batches) is in
// internal/conformance, which runs it for the named-pipe transport too.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/proto"
	"github.com/xorc-dev/xorc/registry"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var systemSeq atomic.Uint64

// transportOptions is a fresh system: a unique registry segment and a
// socket directory of its own, both removed after the test.
func transportOptions(t testing.TB) TransportOptions {
	t.Helper()
	if _, err := os.Stat(registry.DefaultDir); err != nil {
		t.Skipf("no %s: %v", registry.DefaultDir, err)
	}
	name := fmt.Sprintf("xpt-%d-%d", os.Getpid(), systemSeq.Add(1))
	t.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	return TransportOptions{Name: name, Dir: shortDir(t), MaxProcesses: 8, MaxMachines: 16, Logger: quiet,
		HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 20 * time.Second}
}

// member is one transport of a system started in this process, on its own
// actor system.
type member struct {
	t   *Transport
	sys *pactor.ActorSystem
}

func newMember(t testing.TB, o TransportOptions) *member {
	t.Helper()
	tr, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tr.Close() })
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	t.Cleanup(sys.Shutdown)
	require.NoError(t, tr.Start(sys))
	return &member{t: tr, sys: sys}
}

// sink counts the *proto.Event messages it gets and answers those with a
// sender with their type.
type sink struct{ n atomic.Int64 }

func (s *sink) Receive(c pactor.Context) {
	if ev, ok := c.Message().(*proto.Event); ok {
		s.n.Add(1)
		if c.Sender() != nil {
			c.Respond(&proto.Event{Type: "re:" + ev.Type})
		}
	}
}

func (m *member) spawnSink(t testing.TB, id string) *sink {
	t.Helper()
	s := &sink{}
	_, err := m.sys.Root.SpawnNamed(pactor.PropsFromProducer(func() pactor.Actor { return s }), id)
	require.NoError(t, err)
	return s
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		in   string
		dir  string
		slot int
		gen  uint32
		ok   bool
	}{
		{"/tmp/xorc-0/fab1/3.7.sock", "/tmp/xorc-0/fab1", 3, 7, true},
		{"/run/user/1000/xorc/a.b-c_d/0.4294967295.sock", "/run/user/1000/xorc/a.b-c_d", 0, 4294967295, true},
		{"/x/1.1.sock", "/x", 1, 1, true},
		{"/1.1.sock", "/", 1, 1, true},
		{"tmp/1.1.sock", "", 0, 0, false},         // relative
		{"/tmp/../tmp/1.1.sock", "", 0, 0, false}, // not clean
		{"/tmp/1.1", "", 0, 0, false},
		{"/tmp/1.sock", "", 0, 0, false},
		{"/tmp/x.1.sock", "", 0, 0, false},
		{"/tmp/1.-1.sock", "", 0, 0, false},
		{"/tmp/01.1.sock", "", 0, 0, false}, // not canonical: one address per process
		{"/tmp/1.4294967296.sock", "", 0, 0, false},
		{"/tmp/p123.sock", "", 0, 0, false},
		{"shm://fab1/1.1", "", 0, 0, false},
		{"nonhost", "", 0, 0, false},
		{"", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			dir, slot, gen, err := ParseAddress(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, remote.ErrNotRemote)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []any{tt.dir, tt.slot, tt.gen}, []any{dir, slot, gen})
			assert.Equal(t, tt.in, AddressFor(dir, slot, gen), "AddressFor inverts ParseAddress")
		})
	}
}

// In one process, two members of a system: the socket path is the address
// everywhere, proto.actor's Send, Request and Watch cross, and the
// counters of both layers move.
func TestTransportInProcess(t *testing.T) {
	o := transportOptions(t)
	a, b := newMember(t, o), newMember(t, o)
	s := b.spawnSink(t, "sink")
	self := a.t.Self()
	assert.Equal(t, AddressFor(o.Dir, self.Slot, self.Generation), a.t.Address())
	assert.Equal(t, a.t.Address(), a.sys.Address())
	assert.Equal(t, a.t.Address(), a.t.Node().Path())
	var recorded string
	for _, p := range b.t.Registry().Processes() {
		if p.Slot == self.Slot {
			recorded = p.Address
		}
	}
	assert.Equal(t, a.t.Address(), recorded, "the registry records the socket path")
	info, err := os.Stat(a.t.Address())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	assert.NotZero(t, info.Mode()&os.ModeSocket)

	ctx := context.Background()
	to := pactor.NewPID(b.t.Address(), "sink")
	a.sys.Root.Send(to, &proto.Event{Type: "x"})
	require.NoError(t, a.t.Deliver(ctx, to, nil, &proto.Event{Type: "y"}))
	res, err := a.sys.Root.RequestFuture(to, &proto.Event{Type: "q"}, 10*time.Second).Result()
	require.NoError(t, err)
	assert.Equal(t, "re:q", res.(*proto.Event).Type, "the reply found the future across the socket")
	assert.Equal(t, int64(3), s.n.Load())

	// The counters move after the write and the delivery they count: the
	// reply can arrive first.
	eventually(t, 5*time.Second, func() bool {
		sa, sb := a.t.Stats(), b.t.Stats()
		return sa.Sent == 3 && sb.Received == 3 && sb.Sent == 1 && sa.Received == 1 &&
			sa.SentBatches == sa.Node.FramesOut && sb.SentBatches == sb.Node.FramesOut
	}, "the counters to settle")
	sa, sb := a.t.Stats(), b.t.Stats()
	assert.Equal(t, uint64(3), sa.Sent)
	assert.Equal(t, uint64(3), sb.Received)
	assert.Equal(t, uint64(1), sa.Node.Dials, "one connection, dialed lazily, reused")
	assert.Equal(t, uint64(1), sb.Node.Accepted)
	assert.Equal(t, sa.SentBatches, sa.Node.FramesOut, "one frame per batch")
	assert.Equal(t, uint64(1), sb.Sent, "the reply went back on B's own connection")
	assert.Equal(t, uint64(1), sb.Node.Dials)
	assert.Zero(t, sa.EarlyFrames)
}

// Addresses that are not the recorded one of a live process are never
// dialed: later generations, our own slot, a free slot, a path the
// registry does not record (a reply address from a peer could name any
// socket).
func TestDeadAndForeignAddresses(t *testing.T) {
	o := transportOptions(t)
	a, b := newMember(t, o), newMember(t, o)
	ctx := context.Background()
	bs := b.t.Self()
	for _, addr := range []string{
		AddressFor(o.Dir, bs.Slot, bs.Generation+1),                 // a later generation
		AddressFor(o.Dir, a.t.Self().Slot, a.t.Self().Generation+1), // our own slot, not us
		AddressFor(o.Dir, 5, 1),                                     // a free slot
	} {
		err := a.t.Deliver(ctx, pactor.NewPID(addr, "sink"), nil, &proto.Event{Type: "x"})
		require.ErrorIs(t, err, registry.ErrProcessDied, addr)
	}
	elsewhere := AddressFor(shortDir(t), bs.Slot, bs.Generation)
	err := a.t.Deliver(ctx, pactor.NewPID(elsewhere, "sink"), nil, &proto.Event{Type: "x"})
	require.ErrorIs(t, err, remote.ErrNotRemote)
	assert.Contains(t, err.Error(), "not the address")
	err = a.t.Deliver(ctx, pactor.NewPID("shm://x/1.1", "sink"), nil, &proto.Event{Type: "x"})
	require.ErrorIs(t, err, remote.ErrNotRemote)
	assert.Zero(t, a.t.Stats().Node.Dials, "nothing was dialed")
}

// The transport's listener is live (a routing core behind it, a peer being
// served) when truncated, oversized and garbage frames arrive on other
// connections: each such connection is closed with a goodbye, counted and
// logged, and the peer keeps being served on its own connection.
func TestBadFramesOnLiveTransport(t *testing.T) {
	o := transportOptions(t)
	log := &logBuf{}
	bo := o
	bo.MaxFrame = 4096
	bo.Logger = log.logger()
	b := newMember(t, bo)
	a := newMember(t, o)
	s := b.spawnSink(t, "sink")
	ctx := context.Background()
	to := pactor.NewPID(b.t.Address(), "sink")
	require.NoError(t, a.t.Deliver(ctx, to, nil, &proto.Event{Type: "first"}))

	tests := []struct {
		name     string
		in       []byte
		closeW   bool
		contains string
	}{
		{"oversized data frame", append(rawHello(), rawFrame(kindData, 4097, nil)...), false, "exceeds the limit of 4096"},
		{"huge length", append(rawHello(), rawFrame(kindData, 0xFFFFFFFF, nil)...), false, "exceeds the limit"},
		{"truncated payload", append(rawHello(), rawFrame(kindData, 500, make([]byte, 10))...), true, "truncated data frame"},
		{"truncated header", append(rawHello(), 0, 0), true, "truncated frame header"},
		{"garbage", []byte("\x00\x00\x00\x05\x63garbage garbage"), false, "unknown frame kind"},
		{"data before hello", dataFrame([]byte("x")), false, "first frame is data"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := b.t.Stats()
			rc := rawDial(t, b.t.Address())
			_, err := rc.Write(tc.in)
			require.NoError(t, err)
			if tc.closeW {
				require.NoError(t, rc.CloseWrite())
			}
			code, reason, ok := rc.untilEnd(t)
			require.True(t, ok, "a goodbye before the close")
			assert.Equal(t, byeBadFrame, code)
			assert.Contains(t, reason, tc.contains)
			eventually(t, 5*time.Second, func() bool { return b.t.Stats().Node.BadFrames == before.Node.BadFrames+1 }, "BadFrames+1")
			assert.Contains(t, log.String(), tc.contains)

			// The peer is still served, on its connection of before.
			require.NoError(t, a.t.Deliver(ctx, to, nil, &proto.Event{Type: "after"}))
			eventually(t, 5*time.Second, func() bool { return s.n.Load() == int64(i+2) }, "the peer's event after the bad frame")
		})
	}
	sa, sb := a.t.Stats(), b.t.Stats()
	assert.Equal(t, uint64(1), sa.Node.Dials, "the peer's connection never broke")
	assert.Zero(t, sa.Node.ConnsLost)
	assert.Zero(t, sb.DecodeErrors, "bad frames never reach the routing core")

	// A well-framed data frame whose payload is not a batch reaches the
	// core, which counts it and keeps going.
	rc := rawDial(t, b.t.Address())
	_, err := rc.Write(append(rawHello(), dataFrame([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})...))
	require.NoError(t, err)
	eventually(t, 5*time.Second, func() bool { return b.t.Stats().DecodeErrors == sb.DecodeErrors+1 }, "the garbage batch was counted")
	require.NoError(t, rc.Close())
	require.NoError(t, a.t.Deliver(ctx, to, nil, &proto.Event{Type: "last"}))
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == int64(len(tests)+2) }, "still served")
}

// A peer announcing a smaller frame limit than ours: queued envelopes that
// make a batch over its limit are sent as several frames; one envelope
// over it fails with ErrTooLarge, and the link goes on.
func TestPeerWithSmallerFrameLimit(t *testing.T) {
	o := transportOptions(t)
	bo := o
	bo.MaxFrame = 2048
	a, b := newMember(t, o), newMember(t, bo)
	s := b.spawnSink(t, "sink")
	to := pactor.NewPID(b.t.Address(), "sink")
	ctx := context.Background()
	require.NoError(t, a.t.Deliver(ctx, to, nil, &proto.Event{Type: "connect"})) // learn the limit

	const senders, each = 8, 200
	errs := make(chan error, senders)
	for g := range senders {
		go func() {
			for i := range each {
				if err := a.t.Deliver(ctx, to, nil, &proto.Event{Type: fmt.Sprint(g, i), Payload: make([]byte, 300)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range senders {
		require.NoError(t, <-errs)
	}
	eventually(t, 10*time.Second, func() bool { return s.n.Load() == senders*each+1 }, "every envelope arrived")
	assert.Zero(t, b.t.Stats().Node.BadFrames, "no frame over B's limit was sent")

	// A batch of twelve such envelopes, as the core would build it,
	// handed to the link at once: three frames.
	var envs []*proto.Envelope
	for i := range 12 {
		env, err := proto.Encode(to, nil, &proto.Event{Type: fmt.Sprint("batched", i), Payload: make([]byte, 300)})
		require.NoError(t, err)
		envs = append(envs, env)
	}
	batch, err := proto.AppendBatch(nil, envs)
	require.NoError(t, err)
	require.Greater(t, len(batch), 2*2048)
	l, err := a.t.dial(b.t.Address())
	require.NoError(t, err)
	framesIn := b.t.Stats().Node.FramesIn
	require.NoError(t, l.Send(time.Time{}, batch))
	eventually(t, 10*time.Second, func() bool { return s.n.Load() == senders*each+13 }, "the split batch arrived")
	assert.Equal(t, framesIn+3, b.t.Stats().Node.FramesIn, "in three frames")

	err = a.t.Deliver(ctx, to, nil, &proto.Event{Type: "big", Payload: make([]byte, 4000)})
	require.ErrorIs(t, err, remote.ErrTooLarge)
	require.NoError(t, a.t.Deliver(ctx, to, nil, &proto.Event{Type: "small"}))
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == senders*each+14 }, "the link goes on")
}

func TestTransportLifecycle(t *testing.T) {
	o := transportOptions(t)
	tr, err := New(o)
	require.NoError(t, err)
	err = tr.Deliver(context.Background(), pactor.NewPID("/x/1.1.sock", "a"), nil, &proto.Event{Type: "x"})
	require.ErrorIs(t, err, remote.ErrClosed, "deliver before Start")
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	defer sys.Shutdown()
	require.NoError(t, tr.Start(sys))
	require.Error(t, tr.Start(sys), "started twice")
	b := newMember(t, o)
	s := b.spawnSink(t, "sink")
	to := pactor.NewPID(b.t.Address(), "sink")
	ctx := context.Background()
	for i := range 100 {
		require.NoError(t, tr.Deliver(ctx, to, nil, &proto.Event{Type: fmt.Sprint(i)}))
	}
	path := tr.Address()
	require.NoError(t, tr.Close())
	require.NoError(t, tr.Close(), "idempotent")
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 100 }, "Close flushed what the link had accepted")
	st := tr.Stats()
	assert.Equal(t, uint64(100), st.Sent, "Stats answers after Close")
	assert.Zero(t, st.Undelivered)
	assert.Zero(t, st.Unconfirmed, "an orderly close is acknowledged")
	assert.NoFileExists(t, path, "the socket is removed")
	err = tr.Deliver(ctx, to, nil, &proto.Event{Type: "late"})
	require.ErrorIs(t, err, remote.ErrClosed)
	// B sees A depart: A's address is dead for it.
	eventually(t, 5*time.Second, func() bool {
		return errors.Is(b.t.Deliver(ctx, pactor.NewPID(path, "x"), nil, &proto.Event{Type: "x"}), registry.ErrProcessDied)
	}, "B never learned that A left")

	_, err = New(TransportOptions{Name: o.Name, Dir: filepath.Join(shortDir(t), "missing", "deeper")})
	require.Error(t, err, "a socket directory whose parent is missing")
	_, err = New(TransportOptions{Name: "bad/name"})
	require.Error(t, err)
}
