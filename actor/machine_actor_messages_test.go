package actor

import (
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const messagesChart = `{"id": "m", "initial": "a", "context": {"got": null}, "states": {
  "a": {"on": {"GO": "b", "PAY": {"target": "b", "actions": [{"type": "xorc.copy", "params": {"key": "got", "field": "amount"}}]}}},
  "b": {"on": {"GO": "a"}}}}`

func TestEventMessages(t *testing.T) {
	m, err := LoadJSON([]byte(messagesChart), nil)
	require.NoError(t, err)
	em := NewEventMessages(m)

	tests := []struct {
		name   string
		ev     Event
		shared bool // the message is the shared *Event of the type
	}{
		{"known type, no data", Event{Type: "GO"}, true},
		{"another known type", Event{Type: "PAY"}, true},
		{"with data", Event{Type: "PAY", Data: map[string]any{"amount": 3.0}}, false},
		{"empty data is data", Event{Type: "GO", Data: map[string]any{}}, false},
		{"type the machine does not name", Event{Type: "NOPE"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := em.Message(tc.ev)
			if tc.shared {
				p, ok := msg.(*Event)
				require.True(t, ok, "a shared *Event, got %T", msg)
				assert.Equal(t, tc.ev, *p)
				assert.Same(t, p, em.Message(tc.ev), "the same message every time")
				assert.Zero(t, testing.AllocsPerRun(100, func() { _ = em.Message(tc.ev) }), "no allocation")
				return
			}
			ev, ok := msg.(Event)
			require.True(t, ok, "the event itself, got %T", msg)
			assert.Equal(t, tc.ev, ev)
		})
	}
}

// TestEventMessagesReachTheMachine: the shared messages and the boxed ones
// drive a machine actor the same way.
func TestEventMessagesReachTheMachine(t *testing.T) {
	m, err := LoadJSON([]byte(messagesChart), nil)
	require.NoError(t, err)
	em := NewEventMessages(m)
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quiet))
	defer system.Shutdown()
	pid := system.Root.Spawn(MachineProps("m1", m))
	request := func(msg any) *Reply {
		t.Helper()
		r, err := system.Root.RequestFuture(pid, msg, 5*time.Second).Result()
		require.NoError(t, err)
		rep, ok := r.(*Reply)
		require.True(t, ok, "got %T", r)
		return rep
	}
	assert.Equal(t, "b", request(em.Message(Event{Type: "GO"})).Snapshot.Value())
	assert.Equal(t, "a", request(em.Message(Event{Type: "GO"})).Snapshot.Value())
	rep := request(em.Message(Event{Type: "PAY", Data: map[string]any{"amount": 7.0}}))
	assert.Equal(t, "b", rep.Snapshot.Value())
	assert.Equal(t, 7.0, rep.Snapshot.Context["got"])
}
