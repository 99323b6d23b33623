package actor

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nestedConfig = `{"id": "m", "initial": "p", "context": {"n": 1}, "states": {
	"p": {"type": "parallel", "tags": ["busy"], "meta": {"doc": "p"}, "states": {
		"r1": {"initial": "a", "states": {"a": {"tags": ["ready", "busy"], "on": {"E": "b"}}, "b": {"on": {"F": "#m.done"}}}},
		"r2": {},
		"h": {"type": "history", "history": "deep"}},
		"on": {"OUT": "o"}},
	"o": {"id": "out", "on": {"BACK": "#m.p.h"}},
	"done": {"type": "final"}}}`

func TestSnapshotQueries(t *testing.T) {
	m := mustLoad(t, nestedConfig, nil)
	it := m.NewInterpreter()
	s, _ := it.Start()
	assert.Equal(t, StateValue{{"p", StateValue{{"r1", "a"}, {"r2", StateValue{}}}}}, s.Value())
	v, ok := s.Value().(StateValue).Get("p")
	require.True(t, ok)
	r1, _ := v.(StateValue).Get("r1")
	assert.Equal(t, "a", r1)
	for path, want := range map[string]bool{"p": true, "p.r1": true, "p.r1.a": true, "p.r2": true, "p.r1.b": false, "o": false, "": false, "p.zz": false} {
		assert.Equal(t, want, s.Matches(path), path)
	}
	assert.True(t, s.In("#m.p.r1.a"))
	assert.True(t, s.In("p.r2"))
	assert.False(t, s.In("#out"))
	assert.True(t, s.HasTag("ready"))
	assert.False(t, s.HasTag("nope"))
	assert.Equal(t, []string{"busy", "ready"}, s.Tags())
	assert.Equal(t, []string{"m", "m.p", "m.p.r1", "m.p.r1.a", "m.p.r2"}, s.Active())
	assert.Equal(t, map[string]any{"m.p": map[string]any{"doc": "p"}}, s.Meta())
	assert.False(t, s.Done())

	s, _ = it.Step(s, Event{Type: "OUT"})
	assert.Equal(t, "o", s.Value())
	assert.True(t, s.In("#out"))
}

func TestSnapshotJSONAndDoneOrder(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "type": "parallel", "states": {
		"a": {"initial": "x", "states": {"x": {"on": {"E": "y"}}, "y": {"type": "final"}}},
		"b": {"initial": "x", "states": {"x": {"on": {"E": "y"}}, "y": {"type": "final"}}}}}`, nil)
	it := m.NewInterpreter()
	s, _ := it.Start()
	raw, err := s.MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"value": {"a": "x", "b": "x"}, "context": {}, "status": "active"}`, string(raw))
	s, _ = it.Step(s, Event{Type: "E"})
	assert.True(t, s.Done())
	// XState sorts a done snapshot's nodes in reverse document order.
	assert.Equal(t, `{"value":{"b":"y","a":"y"},"context":{},"status":"done"}`, jsonOf(s))
}

func TestPersistAndRestore(t *testing.T) {
	m := mustLoad(t, nestedConfig, nil)
	it := m.NewInterpreter()
	s, _ := it.Start()
	s, _ = it.Step(s, Event{Type: "E"})
	s, _ = it.Step(s, Event{Type: "OUT"})
	p := s.Persist()
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	var back PersistedSnapshot
	require.NoError(t, json.Unmarshal(raw, &back))
	r, err := m.Restore(back)
	require.NoError(t, err)
	assert.Equal(t, jsonOf(s), jsonOf(r))
	// The restored snapshot carries the history: BACK restores r1 = b.
	s2, _ := m.NewInterpreter().Step(r, Event{Type: "BACK"})
	assert.Equal(t, `{"p":{"r1":"b","r2":{}}}`, jsonOf(s2.Value()))
	s3, _ := m.NewInterpreter().Step(Snapshot{Status: StatusActive, Context: r.Context, m: m, active: r.active}, Event{Type: "BACK"})
	assert.Equal(t, `{"p":{"r1":"a","r2":{}}}`, jsonOf(s3.Value()), "without the history record: the default")

	for name, bad := range map[string]PersistedSnapshot{
		"unknown id":        {Active: []string{"m", "zz"}, Status: "active"},
		"no root":           {Active: []string{"out"}, Status: "active"},
		"orphan":            {Active: []string{"m", "m.p.r1.a"}, Status: "active"},
		"two children":      {Active: []string{"m", "out", "m.done"}, Status: "active"},
		"missing region":    {Active: []string{"m", "m.p", "m.p.r1", "m.p.r1.a"}, Status: "active"},
		"bad status":        {Active: []string{"m", "out"}, Status: "sleeping"},
		"history is active": {Active: []string{"m", "m.p.h"}, Status: "active"},
		"bad history":       {Active: []string{"m", "out"}, Status: "active", History: map[string][]string{"m.p.h": {"out"}}},
		"duplicate":         {Active: []string{"m", "out", "out"}, Status: "active"},
	} {
		_, err := m.Restore(bad)
		assert.ErrorIs(t, err, ErrBadSnapshot, name)
	}
}

// TestValueOfLargeMachines: state values of machines with more states and
// active states than Value's stack buffers hold.
func TestValueOfLargeMachines(t *testing.T) {
	b := NewBuilder("big")
	b.Parallel()
	var want, wantAfter strings.Builder
	want.WriteString("{")
	wantAfter.WriteString("{")
	for i := range 60 {
		key := fmt.Sprintf("r%02d", i)
		r := b.State(key).Initial("a")
		r.State("a").On("GO", To("b"))
		r.State("b").Initial("x").State("x")
		if i > 0 {
			want.WriteString(",")
			wantAfter.WriteString(",")
		}
		fmt.Fprintf(&want, `"%s":"a"`, key)
		fmt.Fprintf(&wantAfter, `"%s":{"b":"x"}`, key)
	}
	want.WriteString("}")
	wantAfter.WriteString("}")
	m, err := b.Compile(nil)
	require.NoError(t, err)
	require.Greater(t, m.NumStates(), 96)
	it := m.NewInterpreter()
	s, _ := it.Start()
	assert.Equal(t, want.String(), jsonOf(s.Value()))
	s, _ = it.Step(s, Event{Type: "GO"})
	assert.Greater(t, len(s.Persist().Active), 64)
	assert.Equal(t, wantAfter.String(), jsonOf(s.Value()))
}
