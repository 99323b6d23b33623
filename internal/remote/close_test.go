package remote

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/proto"
)

// closing reports whether the core's Close has reached the peer
// (it stops taking messages).
func closing(p *peer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closing != nil || p.err != nil
}

// recv is the next value of ch, failing the test after 10 s rather than
// hanging.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived within 10 s")
		panic("unreachable")
	}
}

// Close lets the writer write what was accepted: nothing is lost when the
// link drains within CloseTimeout; sends after Close began fail with
// ErrClosed.
func TestCloseFlushesAccepted(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a", func(c *Config) { c.CloseTimeout = 10 * time.Second }), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 64)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()

	net.closeGate()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "0"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond, "the writer took it")
	for i := 1; i <= 10; i++ {
		require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: fmt.Sprint(i)}))
	}
	p, _ := a.core.peers.Load(b.addr)
	closed := make(chan error, 1)
	go func() { closed <- a.core.Close() }()
	require.Eventually(t, func() bool { return closing(p) }, 5*time.Second, time.Millisecond)
	err := a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "late"})
	require.ErrorIs(t, err, ErrClosed, "no message is taken once Close began")
	select {
	case <-closed:
		t.Fatal("Close returned with messages queued and the link still writing")
	case <-time.After(50 * time.Millisecond):
	}
	net.openGate()
	require.NoError(t, recv(t, closed))
	for i := 0; i <= 10; i++ {
		assert.Equal(t, fmt.Sprint(i), recv(t, e.got), "in order, none lost")
	}
	st := a.core.Stats()
	assert.Equal(t, uint64(11), st.Sent)
	assert.Zero(t, st.Undelivered)
	assert.Zero(t, st.DeadLettersOut)
}

// What Close cannot flush by CloseTimeout is reported as any accepted
// message that is not delivered: dead letters (a queued request fails at
// once), Undelivered.
func TestCloseReportsWhatItCannotFlush(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a", func(c *Config) { c.CloseTimeout = 100 * time.Millisecond }), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 64)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()
	var deadLetters atomic.Int64
	a.sys.EventStream.Subscribe(func(evt any) {
		if _, ok := evt.(*pactor.DeadLetterEvent); ok {
			deadLetters.Add(1)
		}
	})

	net.closeGate()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "in flight"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond, "the writer took it")
	for i := range 3 {
		require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: fmt.Sprint("queued ", i)}))
	}
	fut := a.sys.Root.RequestFuture(echoPID, &proto.Event{Type: "queued request"}, time.Minute)
	closed := make(chan error, 1)
	t0 := time.Now()
	go func() { closed <- a.core.Close() }()
	_, err := fut.Result()
	require.ErrorIs(t, err, pactor.ErrDeadLetter, "the queued request fails once the flush gives up")
	assert.Less(t, time.Since(t0), 4*time.Second, "at CloseTimeout, not the link's send timeout")
	require.Eventually(t, func() bool { return deadLetters.Load() >= 3 }, 5*time.Second, time.Millisecond, "the one-way messages are dead letters")
	net.openGate() // the write that was in flight before Close ends
	require.NoError(t, recv(t, closed))
	assert.Equal(t, "in flight", recv(t, e.got))
	st := a.core.Stats()
	assert.Equal(t, uint64(4), st.Undelivered)
	assert.Equal(t, uint64(4), st.DeadLettersOut)
	assert.Equal(t, uint64(1), st.Sent)
	select {
	case got := <-e.got:
		t.Fatalf("%q was reported undelivered and delivered", got)
	case <-time.After(20 * time.Millisecond):
	}
}

// connLink is a memLink that connects lazily (a Connector): connectErr
// fails Connect; once connected the peer's limit is peerMax.
type connLink struct {
	memLink
	connectErr *atomic.Pointer[error]
	peerMax    int
	connected  atomic.Bool
}

func (l *connLink) Connect(time.Time) error {
	if p := l.connectErr.Load(); p != nil && *p != nil {
		return *p
	}
	l.connected.Store(true)
	return nil
}

func (l *connLink) MaxBatch() int {
	if l.connected.Load() {
		return l.peerMax
	}
	return l.memLink.MaxBatch()
}

// A link that connects lazily is connected before a message is taken: an
// unreachable peer fails that send at once (nothing is queued to fail
// later), and a message over the connected peer's smaller limit fails with
// ErrTooLarge.
func TestConnectorChecksBeforeAccepting(t *testing.T) {
	net := newNet()
	var connectErr atomic.Pointer[error]
	unreachable := errors.New("connection refused")
	connectErr.Store(&unreachable)
	a := newNode(t, net, "a", func(c *Config) {
		dial := c.Dial
		c.Dial = func(addr string) (Link, error) {
			l, err := dial(addr)
			if err != nil {
				return nil, err
			}
			return &connLink{memLink: *l.(*memLink), connectErr: &connectErr, peerMax: 200}, nil
		}
	})
	b := newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 64)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()

	err := a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "one-way"})
	require.ErrorIs(t, err, unreachable, "a one-way send to an unreachable peer fails at once")
	assert.Contains(t, err.Error(), b.addr)
	_, err = a.sys.Root.RequestFuture(echoPID, &proto.Event{Type: "request"}, time.Minute).Result()
	require.ErrorIs(t, err, pactor.ErrDeadLetter, "a proto.actor request fails at once")
	st := a.core.Stats()
	assert.Equal(t, uint64(2), st.SendErrors)
	assert.Equal(t, uint64(1), st.DeadLettersOut)
	assert.Zero(t, st.Undelivered, "nothing was accepted")

	connectErr.Store(nil)
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "small"}))
	assert.Equal(t, "small", recv(t, e.got))
	err = a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "big", Payload: make([]byte, 300)})
	require.ErrorIs(t, err, ErrTooLarge, "over the connected peer's limit, not ours")
	assert.Contains(t, err.Error(), "the limit is 200")
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "after"}), "not reported as undelivered later: it was refused")
	assert.Equal(t, "after", recv(t, e.got))
}
