package xorc

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
)

// ping serves three rounds to pong and is done after the third PONG.
const pingChart = `{"id": "ping", "initial": "idle", "context": {"count": 0}, "states": {
  "idle": {"on": {"START": {"target": "waiting", "actions": [
    {"type": "xorc.send", "params": {"to": "pong", "event": "PING"}}]}}},
  "waiting": {"on": {"PONG": [
    {"target": "finished", "guard": {"type": "xorc.gte", "params": {"key": "count", "value": 2}},
     "actions": [{"type": "xorc.increment"}]},
    {"target": "waiting", "reenter": true, "actions": [{"type": "xorc.increment"},
      {"type": "xorc.send", "params": {"to": "pong", "event": "PING"}}]}]}},
  "finished": {"type": "final"}}}`

// pong answers every PING with a PONG 20 ms later (a delayed send).
const pongChart = `{"id": "pong", "initial": "ready", "context": {"count": 0}, "states": {
  "ready": {"on": {"PING": {"actions": [{"type": "xorc.increment"},
    {"type": "xorc.send", "params": {"to": "ping", "event": "PONG", "delay": 20}}]}}}}}`

// door raises an alarm when left open for 200 ms; closing it cancels the timer.
const doorChart = `{"id": "door", "initial": "closed", "states": {
  "closed": {"on": {"OPEN": "open"}},
  "open": {"on": {"CLOSE": "closed"}, "after": {"200": "alarm"}},
  "alarm": {"on": {"CLOSE": "closed"}}}}`

// waitFor subscribes to the EventStream and returns a channel that gets the
// first StateChanged for which ok is true.
func waitFor(t *testing.T, o *Orchestrator, ok func(*actor.StateChanged) bool) <-chan *actor.StateChanged {
	t.Helper()
	ch := make(chan *actor.StateChanged, 1)
	sub := o.System().EventStream.Subscribe(func(evt any) {
		if sc, is := evt.(*actor.StateChanged); is && ok(sc) {
			select {
			case ch <- sc:
			default:
			}
		}
	})
	t.Cleanup(func() { o.System().EventStream.Unsubscribe(sub) })
	return ch
}

func TestEndToEndMachinesTalkByID(t *testing.T) {
	o := newOrc(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := waitFor(t, o, func(sc *actor.StateChanged) bool {
		return sc.MachineID == "ping" && sc.Snapshot.Status == actor.StatusDone
	})
	_, err := o.Spawn(ctx, "ping", load(t, pingChart, nil))
	require.NoError(t, err)
	_, err = o.Spawn(ctx, "pong", load(t, pongChart, nil))
	require.NoError(t, err)

	t0 := time.Now()
	require.NoError(t, o.Send(ctx, "ping", actor.Event{Type: "START"}))
	select {
	case sc := <-done:
		assert.EqualValues(t, 3, sc.Snapshot.Context["count"])
	case <-ctx.Done():
		t.Fatal("ping never finished")
	}
	assert.GreaterOrEqual(t, time.Since(t0), 60*time.Millisecond, "three delayed PONGs of 20 ms")

	// A request from outside sees both machines' final states.
	ps, err := o.Snapshot(ctx, "ping")
	require.NoError(t, err)
	assert.True(t, ps.Done())
	assert.Equal(t, "finished", ps.Value)
	qs, err := o.Request(ctx, "pong", actor.Event{Type: "PING"})
	require.NoError(t, err)
	assert.EqualValues(t, 4, qs.Context["count"])
	assert.Equal(t, []string{"ping", "pong"}, o.Machines())
	st := o.Stats()
	assert.Zero(t, st.SendErrors)
	assert.Zero(t, st.Panics)
}

func TestAfterTimerCancelledOnExit(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	_, err := o.Spawn(ctx, "door", load(t, doorChart, nil))
	require.NoError(t, err)

	s, err := o.Request(ctx, "door", actor.Event{Type: "OPEN"})
	require.NoError(t, err)
	assert.Equal(t, "open", s.Value)
	s, err = o.Request(ctx, "door", actor.Event{Type: "CLOSE"})
	require.NoError(t, err)
	assert.Equal(t, "closed", s.Value)
	time.Sleep(300 * time.Millisecond) // longer than the timer: it must not fire
	s, err = o.Snapshot(ctx, "door")
	require.NoError(t, err)
	assert.Equal(t, "closed", s.Value, "leaving open cancelled its timer")
	assert.Zero(t, o.Stats().TimersFired)

	alarm := waitFor(t, o, func(sc *actor.StateChanged) bool { return sc.Snapshot.Matches("alarm") })
	t0 := time.Now()
	require.NoError(t, o.Send(ctx, "door", actor.Event{Type: "OPEN"}))
	select {
	case sc := <-alarm:
		assert.Equal(t, "xstate.after.200.door.open", sc.Event.Type, "the timer's own event")
		assert.GreaterOrEqual(t, time.Since(t0), 200*time.Millisecond)
	case <-time.After(5 * time.Second):
		t.Fatal("the timer never fired")
	}
	assert.Equal(t, uint64(1), o.Stats().TimersFired)
}

// TestStopCancelsTimers: a stopped machine's pending timer does not fire.
func TestStopCancelsTimers(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	_, err := o.Spawn(ctx, "door", load(t, doorChart, nil))
	require.NoError(t, err)
	_, err = o.Request(ctx, "door", actor.Event{Type: "OPEN"})
	require.NoError(t, err)
	require.NoError(t, o.Stop(ctx, "door"))
	time.Sleep(300 * time.Millisecond)
	assert.Zero(t, o.Stats().TimersFired)
}
