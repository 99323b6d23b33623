package remote

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/proto"
)

// chanProcess hands every user message to a channel.
type chanProcess chan any

func (c chanProcess) SendUserMessage(_ *pactor.PID, m any) { c <- pactor.UnwrapEnvelopeMessage(m) }
func (c chanProcess) SendSystemMessage(*pactor.PID, any)   {}
func (c chanProcess) Stop(*pactor.PID)                     {}

// A reply PID from AwaitReply gets the messages sent to it through the
// core, by the fast decoder and by the general one (an envelope with a
// header), without a process in the actor system's registry; after Release
// they are dead letters. A request whose sender it is gets its reply.
func TestAwaitReply(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	spawnEcho(t, b, "echo", 0)
	got := make(chanProcess, 4)
	aw, ok := a.core.AwaitReply(got)
	require.True(t, ok)
	pid := aw.PID()
	assert.Equal(t, a.addr, pid.Address)
	_, inRegistry := a.sys.ProcessRegistry.GetLocal(pid.Id)
	assert.False(t, inRegistry)

	ctx := context.Background()
	require.NoError(t, b.core.Deliver(ctx, pid, nil, &proto.Event{Type: "one"}))
	require.NoError(t, b.core.Deliver(ctx, pid, nil, &pactor.MessageEnvelope{Header: map[string]string{"k": "v"}, Message: &proto.Event{Type: "two"}}))
	for _, want := range []string{"one", "two"} {
		select {
		case m := <-got:
			assert.Equal(t, want, m.(*proto.Event).Type)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not arrive", want)
		}
	}

	// As the sender of a request to another process.
	require.NoError(t, a.core.Deliver(ctx, pactor.NewPID(b.addr, "echo"), pid, &proto.Event{Type: "ask"}))
	select {
	case m := <-got:
		assert.Equal(t, "re:ask", m.(*proto.Event).Type)
	case <-time.After(5 * time.Second):
		t.Fatal("no reply")
	}

	var dead atomic.Int64
	a.sys.EventStream.Subscribe(func(evt any) {
		if d, ok := evt.(*pactor.DeadLetterEvent); ok && d.PID != nil && d.PID.Id == pid.Id {
			dead.Add(1)
		}
	})
	aw.Release()
	require.NoError(t, b.core.Deliver(ctx, pid, nil, &proto.Event{Type: "late"}))
	require.Eventually(t, func() bool { return dead.Load() == 1 }, 5*time.Second, time.Millisecond, "a late reply is a dead letter")
	assert.Empty(t, got)
}

// The table of awaited replies is bounded: when a PID's slot is taken,
// AwaitReply says so (the caller registers a process instead); every PID
// it gave out is distinct and resolves to its own process.
func TestAwaitReplyTableFull(t *testing.T) {
	c := newNode(t, newNet(), "a").core
	var given []*Await
	refused := 0
	for range 4 * awaitSlots {
		aw, ok := c.AwaitReply(make(chanProcess, 1))
		if !ok {
			refused++
			continue
		}
		given = append(given, aw)
	}
	assert.Positive(t, refused)
	assert.LessOrEqual(t, len(given), awaitSlots)
	seen := map[string]bool{}
	for _, aw := range given {
		require.False(t, seen[aw.PID().Id])
		seen[aw.PID().Id] = true
		require.Same(t, aw, c.awaited([]byte(aw.PID().Id)))
		require.Equal(t, aw.proc, c.localProcess(aw.PID()))
	}
	for _, aw := range given {
		aw.Release()
		assert.Nil(t, c.awaited([]byte(aw.PID().Id)))
	}
	_, ok := c.AwaitReply(make(chanProcess, 1))
	assert.True(t, ok, "room again")
}
