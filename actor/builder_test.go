package actor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The same machine as JSON and as Builder calls. The JSON uses the shapes the
// builder produces: arrays for entry/exit/actions, a transition object per
// single candidate, an array for several.
const builderJSON = `{"id": "job", "initial": "idle", "context": {"count": 0, "log": [], "tags": ["a"]},
  "entry": [{"type": "xorc.log", "params": {"message": "up"}}],
  "on": {"RESET": {"target": ".idle", "reenter": true}},
  "states": {
    "idle": {
      "description": "waiting",
      "tags": ["waiting"],
      "on": {"GO": {"target": "busy", "guard": {"type": "xorc.event", "params": {"field": "job"}},
                    "actions": [{"type": "xorc.copy", "params": {"key": "job", "field": "job"}}]},
             "*": {"actions": ["xorc.append"]}}},
    "busy": {
      "initial": "run",
      "entry": ["xorc.increment"],
      "exit": ["note"],
      "after": {"100": {"target": "idle", "actions": ["xorc.append"]}, "soon": {"actions": [{"type": "xorc.append", "params": {"value": "soon"}}]}},
      "onDone": {"target": "done"},
      "states": {
        "run": {"on": {"PAUSE": [{"target": "paused", "guard": {"type": "xorc.and", "params": {"guards": [
                    {"type": "xorc.gte", "params": {"value": 1}},
                    {"type": "xorc.not", "params": {"guard": {"type": "xorc.in", "params": {"state": "#job.done"}}}}]}}},
                  {"target": "run", "reenter": true}],
               "FINISH": {"target": "end"}}},
        "paused": {"id": "p", "on": {"RESUME": {"target": "hist"}}},
        "hist": {"type": "history", "history": "deep", "target": "run"},
        "end": {"type": "final"}}},
    "done": {"type": "final", "meta": {"note": "over"}, "always": {"guard": "never", "actions": [{"type": "xorc.send", "params": {"to": "boss", "event": "DONE", "delay": 5}}]}}}}`

func buildJob() *Builder {
	b := NewBuilder("job").WithContext(Context{"count": 0, "log": []any{}, "tags": []string{"a"}})
	b.Initial("idle").
		Entry(Action("xorc.log", Params{"message": "up"})).
		On("RESET", To(".idle").Reenter())
	b.State("idle").Description("waiting").Tags("waiting").
		On("GO", To("busy").If(Guard("xorc.event", Params{"field": "job"})).Do(Action("xorc.copy", Params{"key": "job", "field": "job"}))).
		On("*", To().Do(Action("xorc.append", nil)))
	busy := b.State("busy").Initial("run").
		Entry(Action("xorc.increment", nil)).
		Exit(Action("note", nil)).
		After("100", To("idle").Do(Action("xorc.append", nil))).
		After("soon", To().Do(Action("xorc.append", Params{"value": "soon"}))).
		OnDone(To("done"))
	busy.State("run").
		On("PAUSE",
			To("paused").If(And(Guard("xorc.gte", Params{"value": 1}), Not(In("#job.done")))),
			To("run").Reenter()).
		On("FINISH", To("end"))
	busy.State("paused").ID("p").On("RESUME", To("hist"))
	busy.State("hist").History(true, "run")
	busy.State("end").Final()
	b.State("done").Final().Meta(map[string]any{"note": "over"}).
		Always(To().If(Guard("never", nil)).Do(Action("xorc.send", Params{"to": "boss", "event": "DONE", "delay": 5})))
	return b
}

func TestBuilderMatchesJSON(t *testing.T) {
	fromJSON, err := ParseJSON([]byte(builderJSON))
	require.NoError(t, err)
	fromGo, err := buildJob().Definition()
	require.NoError(t, err)
	assert.True(t, fromJSON.lazyPaths, "ParseJSON leaves the paths for errors")
	assert.Equal(t, fromJSON.withPaths(), fromGo)

	impl := &Implementations{
		Actions: map[string]ActionFunc{"note": func(a *ActionArgs) error { a.Log("left busy"); return nil }},
		Guards:  map[string]GuardFunc{"never": func(*GuardArgs) bool { return false }},
		Delays:  map[string]time.Duration{"soon": 50 * time.Millisecond},
	}
	m1, err := Compile(fromJSON, impl)
	require.NoError(t, err)
	m2, err := buildJob().Compile(impl)
	require.NoError(t, err)
	events := []Event{{Type: "GO"}, {Type: "X"}, {Type: "GO", Data: map[string]any{"job": 7.0}}, {Type: "xstate.after.soon.job.busy"},
		{Type: "PAUSE"}, {Type: "RESUME"}, {Type: "PAUSE"}, {Type: "RESET"}, {Type: "GO", Data: map[string]any{"job": 8.0}},
		{Type: "xstate.after.100.job.busy"}, {Type: "GO", Data: map[string]any{"job": 9.0}}, {Type: "FINISH"}}
	run := func(m *Machine) []string {
		it := m.NewInterpreter()
		s, effs := it.Start()
		out := []string{jsonOf(s) + " " + jsonOf(effectKinds(effs))}
		for _, ev := range events {
			s, effs = it.Step(s, ev)
			out = append(out, jsonOf(s)+" "+jsonOf(effectKinds(effs)))
		}
		return out
	}
	a, b := run(m1), run(m2)
	assert.Equal(t, a, b)
	assert.Contains(t, a[len(a)-1], `"status":"done"`)
	assert.Contains(t, a[5], `"value":{"busy":"paused"}`, "PAUSE with count 1")
	assert.Contains(t, a[6], `"value":{"busy":"run"}`, "RESUME restores the deep history")
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder("m")
	b.Initial("a")
	b.State("a").On("E", To("nowhere"))
	_, err := b.Compile(nil)
	assert.ErrorIs(t, err, ErrUnknownTarget)
	assert.EqualError(t, err, `states.a.on.E.target: unknown target "nowhere": state "#m" has no child "nowhere"`)

	b = NewBuilder("m")
	b.Initial("a")
	b.State("a").Entry(Action("xorc.assign", Params{"bad": make(chan int)}))
	_, err = b.Definition()
	assert.ErrorIs(t, err, ErrBadParams)
	assert.EqualError(t, err, `states.a.entry[0].params.bad: chan int is not a JSON value`)

	b = NewBuilder("m")
	b.Initial("a")
	b.State("a").On("", To("a"))
	_, err = b.Definition()
	assert.ErrorIs(t, err, ErrInvalidDefinition)
}

func TestBuilderKeepsJSOrderAndIsReusable(t *testing.T) {
	b := NewBuilder("m").WithMaxIterations(7)
	b.Parallel()
	b.State("b")
	b.State("10")
	b.State("2")
	m, err := b.Compile(nil)
	require.NoError(t, err)
	s, _ := m.NewInterpreter().Start()
	assert.Equal(t, `{"2":{},"10":{},"b":{}}`, jsonOf(s.Value()))
	assert.Equal(t, 7, m.maxIter)

	// Changing the builder afterwards does not change the first definition.
	b.State("c")
	m2, err := b.Compile(nil)
	require.NoError(t, err)
	assert.Equal(t, 4, m.NumStates())
	assert.Equal(t, 5, m2.NumStates())
}
