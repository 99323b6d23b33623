package remote

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/proto"
	"github.com/xorc-dev/xorc/registry"
)

// routeTo dials b from a (a first Deliver) and returns a Route to b's echo.
func routeTo(t *testing.T, a, b *node, e *echo) (*Route, *pactor.PID) {
	t.Helper()
	echoPID := pactor.NewPID(b.addr, "echo")
	require.Nil(t, a.core.Route(echoPID), "no Route before the peer is dialed")
	require.NoError(t, a.core.Deliver(context.Background(), echoPID, nil, &proto.Event{Type: "dial"}))
	require.Equal(t, "dial", e.next())
	r := a.core.Route(echoPID)
	require.NotNil(t, r)
	return r, echoPID
}

// Sends through a Route (with the envelope kept by the caller or not) and
// through Deliver arrive in the order they were made, whatever the Frozen
// type.
func TestRouteSendsInOrder(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 256)
	r, echoPID := routeTo(t, a, b, e)
	assert.Nil(t, a.core.Route(nil))
	assert.Nil(t, a.core.Route(pactor.NewPID(b.addr, "")))
	assert.Nil(t, a.core.Route(pactor.NewPID(scheme+"c", "echo")), "c was never dialed")

	ctx := context.Background()
	msgs := make([]*frozenEvent, 6)
	for i := range msgs {
		msgs[i] = &frozenEvent{fastEvent{typ: fmt.Sprintf("f%d", i)}}
	}
	var want []string
	for round := range 3 {
		for i, m := range msgs {
			require.NoError(t, r.Send(ctx, m))
			want = append(want, m.typ)
			if i%2 == 0 {
				typ := fmt.Sprintf("d%d.%d", round, i)
				require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: typ}))
				want = append(want, typ)
			}
		}
		require.NoError(t, r.Send(ctx, frozenSlice{typ: []string{"s"}}))
		want = append(want, "s")
		kept := msgs[round]
		env := r.Envelope(kept)
		require.NotNil(t, env)
		require.NoError(t, r.SendEnvelope(ctx, kept, env), "with the envelope kept by the caller")
		require.NoError(t, r.SendEnvelope(ctx, frozenSlice{typ: []string{"n"}}, nil), "none kept: Deliver")
		want = append(want, kept.typ, "n")
	}
	for i, w := range want {
		require.Equal(t, w, e.next(), "message %d", i)
	}
	assert.Equal(t, uint64(len(want)+1), a.core.Stats().Sent)
}

// A Route reports what Deliver would: a canceled context, a message too
// large for the link, accepted messages that were lost (once), a full queue
// at the deadline, a dead peer, a closed core.
func TestRouteErrorsAsDeliver(t *testing.T) {
	net := newNet()
	net.maxBatch = 256
	a, b := newNode(t, net, "a", func(c *Config) { c.MaxQueueBytes = 1 }), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 64)
	r, echoPID := routeTo(t, a, b, e)
	ctx := context.Background()
	ev := &frozenEvent{fastEvent{typ: "ev"}}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	err := r.Send(canceled, ev)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), b.addr)

	err = r.Send(ctx, &frozenEvent{fastEvent{typ: strings.Repeat("x", 300)}})
	require.ErrorIs(t, err, ErrTooLarge)

	// Lost: the link fails a write the Route's send was accepted for.
	net.setFail(fmt.Errorf("broken: %w", ErrFull))
	require.NoError(t, r.Send(ctx, ev), "accepted: the writer fails later")
	require.Eventually(t, func() bool { return a.core.Stats().Undelivered == 1 }, 5*time.Second, time.Millisecond)
	net.setFail(nil)
	err = r.Send(ctx, ev)
	require.ErrorIs(t, err, ErrUndelivered)
	assert.Contains(t, err.Error(), "1 earlier message(s)")
	require.NoError(t, r.Send(ctx, ev), "reported once")
	assert.Equal(t, "ev", e.next())

	// Full: the writer is stuck at the gate and the queue holds one batch.
	net.closeGate()
	require.NoError(t, r.Send(ctx, ev))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	queued := 0
	for err = nil; queued < 64; queued++ {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		err = r.Send(dctx, ev)
		cancel()
		if err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrFull)
	assert.Contains(t, err.Error(), b.addr)
	assert.Greater(t, queued, 3, "the queue took envelopes before it filled")
	net.openGate()
	for range queued + 1 { // the one at the gate and those queued, not the refused one
		require.Equal(t, "ev", e.next())
	}

	a.core.PeerDown(b.addr, fmt.Errorf("%w: killed", registry.ErrProcessDied))
	err = r.Send(ctx, ev)
	require.ErrorIs(t, err, registry.ErrProcessDied)
	assert.Contains(t, err.Error(), b.addr)

	require.NoError(t, a.core.Close())
	err = r.Send(ctx, ev)
	require.ErrorIs(t, err, ErrClosed)
	_ = echoPID
}

// A peer whose link went down and was dialed again: the Route's first send
// goes the general way (to the new peer) and the Route follows it.
func TestRouteFollowsRedialedPeer(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 16)
	r, echoPID := routeTo(t, a, b, e)
	ctx := context.Background()
	old := r.p.Load()

	a.core.PeerDown(b.addr, fmt.Errorf("%w: link lost", registry.ErrProcessDied))
	a.core.mu.Lock()
	delete(a.core.down, b.addr) // as after downMemory: the address may be dialed again
	a.core.mu.Unlock()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "redial"}))
	assert.Equal(t, "redial", e.next())

	require.NoError(t, r.Send(ctx, &frozenEvent{fastEvent{typ: "one"}}))
	assert.Equal(t, "one", e.next())
	np, ok := a.core.peers.Load(b.addr)
	require.True(t, ok)
	require.NotSame(t, old, np)
	assert.Same(t, np, r.p.Load(), "the Route moved to the new peer")
	require.NoError(t, r.Send(ctx, &frozenEvent{fastEvent{typ: "two"}}))
	assert.Equal(t, "two", e.next())
}

// A message to a peer that owes a reply goes the general way, which writes
// it at once (a reply is urgent): the owed count is taken.
func TestRouteOwedReplyGoesThroughDeliver(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 16)
	r, _ := routeTo(t, a, b, e)
	p := r.p.Load()
	p.owe()
	require.NoError(t, r.Send(context.Background(), &frozenEvent{fastEvent{typ: "reply"}}))
	assert.Equal(t, int32(0), p.replies.Load())
	assert.Equal(t, "reply", e.next())
}
