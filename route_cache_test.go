//go:build linux

package xorc

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
)

// Send's route caches follow a machine ID wherever it runs: another
// process, stopped, this process, back to the other one; and many machines
// whose IDs share cache slots each get exactly their own events.
func TestSendRouteCachesFollowMachines(t *testing.T) {
	cfg := shmTestConfig(t)
	cfg.Shm.MaxMachines = 2 * routeSlots
	a, z := twoMembers(t, cfg)
	ctx := context.Background()
	toggle := load(t, toggleChart, nil)
	state := func(o *Orchestrator, id string) string {
		t.Helper()
		s, err := o.Snapshot(ctx, id)
		require.NoError(t, err)
		return fmt.Sprint(s.Value)
	}
	send := func(id string, n int) error {
		for range n {
			if err := a.Send(ctx, id, actor.Event{Type: "T"}); err != nil {
				return err
			}
		}
		return nil
	}

	_, err := z.Spawn(ctx, "m", toggle)
	require.NoError(t, err)
	require.NoError(t, send("m", 3))
	assert.Equal(t, "b", state(a, "m"), "in the other member")
	assert.Equal(t, uint64(3), z.Stats().Events)

	require.NoError(t, z.Stop(ctx, "m"))
	require.ErrorIs(t, send("m", 1), ErrUnknownMachine, "stopped: the cached route is stale")

	_, err = a.Spawn(ctx, "m", toggle)
	require.NoError(t, err)
	require.NoError(t, send("m", 1))
	assert.Equal(t, "b", state(a, "m"), "now in this member")
	assert.Equal(t, uint64(1), a.Stats().Events)

	require.NoError(t, a.Stop(ctx, "m"))
	require.ErrorIs(t, send("m", 1), ErrUnknownMachine, "stopped here: the cached local machine is gone")
	_, err = z.Spawn(ctx, "m", toggle)
	require.NoError(t, err)
	require.NoError(t, send("m", 2))
	assert.Equal(t, "a", state(z, "m"), "back in the other member: 2 events")
	assert.Equal(t, uint64(1), a.Stats().Events, "none went to the stopped local machine")

	// More machines than cache slots (routeSlots), in both members.
	const n = routeSlots + 60
	for i := range n {
		o := a
		if i%2 == 1 {
			o = z
		}
		_, err := o.Spawn(ctx, fmt.Sprintf("m%03d", i), toggle)
		require.NoError(t, err)
	}
	for i := range n { // one event each, then one more to every other machine
		require.NoError(t, send(fmt.Sprintf("m%03d", i), 1))
	}
	for i := 1; i < n; i += 2 {
		require.NoError(t, send(fmt.Sprintf("m%03d", i), 1))
	}
	for i := range n {
		want := map[bool]string{true: "b", false: "a"}[i%2 == 0]
		assert.Equal(t, want, state(a, fmt.Sprintf("m%03d", i)), "m%03d", i)
	}
}

// Sends to another process's machine from several goroutines at once, events
// without data (which go through the transport's Route once the machine's
// route is cached, their envelopes kept by type) mixed with events with data
// (which do not): every event arrives as sent, each with its data. "AG"
// shares "T"'s slot in the route's envelope cache.
func TestSendToOtherMemberRouteAndData(t *testing.T) {
	a, z := twoMembers(t, shmTestConfig(t))
	ctx := context.Background()
	const chart = `{"id": "c", "initial": "a", "context": {"count": 0, "seen": null, "other": 0, "ag": 0}, "states": {
	  "a": {"on": {
	    "T": {"actions": [{"type": "xorc.increment"}]},
	    "U": {"actions": [{"type": "xorc.increment", "params": {"key": "other"}}]},
	    "AG": {"actions": [{"type": "xorc.increment", "params": {"key": "ag"}}]},
	    "D": {"actions": [{"type": "xorc.increment"}, {"type": "xorc.copy", "params": {"key": "seen", "field": "seq"}}]}}}}}`
	_, err := z.Spawn(ctx, "c1", load(t, chart, nil))
	require.NoError(t, err)

	const senders, each = 4, 2000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				ev := actor.Event{Type: "T"}
				switch {
				case i%10 == 0:
					ev = actor.Event{Type: "D", Data: map[string]any{"seq": float64(s*each + i)}}
				case i%7 == 0:
					ev = actor.Event{Type: "U"}
				case i%3 == 0:
					ev = actor.Event{Type: "AG"}
				}
				if err := a.Send(ctx, "c1", ev); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, a.Send(ctx, "c1", actor.Event{Type: "D", Data: map[string]any{"seq": -1.0}}))
	s, err := a.Snapshot(ctx, "c1")
	require.NoError(t, err)
	others, ags := 0, 0
	for i := range each {
		switch {
		case i%10 == 0:
		case i%7 == 0:
			others++
		case i%3 == 0:
			ags++
		}
	}
	assert.EqualValues(t, senders*(each-others-ags)+1, s.Context["count"])
	assert.EqualValues(t, senders*others, s.Context["other"])
	assert.EqualValues(t, senders*ags, s.Context["ag"])
	assert.EqualValues(t, -1, s.Context["seen"], "the last event's data")
	assert.Equal(t, uint64(senders*each+1), z.Stats().Events)
}

// twoMembers starts two orchestrators of one system with cfg in this
// process (as two processes would be), closed when the test ends.
func twoMembers(t *testing.T, cfg Config) (a, z *Orchestrator) {
	t.Helper()
	mk := func() *Orchestrator {
		o, err := New(newSystem(t), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = o.Close() })
		return o
	}
	return mk(), mk()
}
