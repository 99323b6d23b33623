package xorc

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
)

const payChart = `{"id": "pay", "initial": "idle", "context": {"count": 0, "amount": null}, "states": {
  "idle": {"on": {
    "T": {"actions": [{"type": "xorc.increment"}]},
    "PAY": {"target": "paid", "actions": [{"type": "xorc.copy", "params": {"key": "amount", "field": "amount"}}]}}},
  "paid": {"on": {"T": {"actions": [{"type": "xorc.increment"}]}}}}}`

// TestSendWithoutDataAllocatesNothing: sending a machine of this process an
// event without data, of a type its definition names, allocates nothing (the
// message is made once per machine; the mailbox's segments are reused), while
// events with data and unknown types still arrive as sent.
func TestSendWithoutDataAllocatesNothing(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	_, err := o.Spawn(ctx, "p1", load(t, payChart, nil))
	require.NoError(t, err)
	ev := actor.Event{Type: "T"}

	const runs = 2000
	allocs := testing.AllocsPerRun(runs, func() {
		if err := o.Send(ctx, "p1", ev); err != nil {
			panic(err)
		}
	})
	assert.Less(t, allocs, 0.05, "allocations per Send")

	require.NoError(t, o.Send(ctx, "p1", actor.Event{Type: "UNKNOWN"}))
	require.NoError(t, o.Send(ctx, "p1", actor.Event{Type: "PAY", Data: map[string]any{"amount": 12.5}}))
	s, err := o.Request(ctx, "p1", ev)
	require.NoError(t, err)
	assert.Equal(t, "paid", s.Value)
	assert.Equal(t, 12.5, s.Context["amount"])
	assert.EqualValues(t, runs+2, s.Context["count"], "every T counted (AllocsPerRun runs once more to warm up)")
	assert.Equal(t, uint64(runs+1+3), o.Stats().Events)
}

// TestConcurrentSendersOneMachine: several goroutines send to one machine at
// once, shared messages and boxed ones mixed, across many mailbox segments;
// every event is processed exactly once (per-producer order is
// TestBatchMailboxFIFOManyProducers's).
func TestConcurrentSendersOneMachine(t *testing.T) {
	const chart = `{"id": "c", "initial": "a", "context": {"count": 0}, "states": {
	  "a": {"on": {
	    "T": {"actions": [{"type": "xorc.increment"}]},
	    "D": {"actions": [{"type": "xorc.increment"}, {"type": "xorc.copy", "params": {"key": "seen", "field": "seq"}}]}}}}}`
	o := newOrc(t, Config{})
	ctx := context.Background()
	_, err := o.Spawn(ctx, "c1", load(t, chart, nil))
	require.NoError(t, err)

	const senders, each = 4, 3000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ev := actor.Event{Type: "T"}
				if i%10 == 0 {
					ev = actor.Event{Type: "D", Data: map[string]any{"seq": float64(s*each + i)}}
				}
				if err := o.Send(ctx, "c1", ev); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s, err := o.Snapshot(ctx, "c1")
	require.NoError(t, err)
	assert.EqualValues(t, senders*each, s.Context["count"])
	assert.Equal(t, uint64(senders*each), o.Stats().Events)
}
