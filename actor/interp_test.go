package actor

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustLoad(t testing.TB, config string, impl *Implementations) *Machine {
	t.Helper()
	m, err := LoadJSON([]byte(config), impl)
	require.NoError(t, err)
	return m
}

// jsonOf renders a value like the oracle (JSON.stringify).
func jsonOf(v any) string { return jsStringify(v) }

func logOf(s Snapshot) []string {
	var out []string
	l, _ := s.Context["log"].([]any)
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// TestPitfalls replays small cases, one per pitfall of the oracle README and
// per built-in, against the output XState gave for them.
func TestPitfalls(t *testing.T) {
	for _, tc := range pitfallCases {
		t.Run(tc.name, func(t *testing.T) {
			var want struct {
				Steps []struct {
					Step    int             `json:"step"`
					Event   json.RawMessage `json:"event"`
					Value   json.RawMessage `json:"value"`
					Context any             `json:"context"`
					Status  string          `json:"status"`
					Done    bool            `json:"done"`
					Now     float64         `json:"now"`
					Error   string          `json:"error"`
				} `json:"steps"`
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal([]byte(tc.want), &want))
			got := RunCase(json.RawMessage(tc.case_))
			require.Equal(t, want.Error, got.Error)
			require.Len(t, got.Steps, len(want.Steps))
			for i, w := range want.Steps {
				g := got.Steps[i]
				where := fmt.Sprintf("step %d", i)
				assert.Equal(t, w.Step, g.Step, where)
				if w.Event == nil || string(w.Event) == "null" {
					assert.Nil(t, g.Event, where)
				} else {
					assert.Equal(t, string(w.Event), string(g.Event), where)
				}
				// The value must match exactly, key order included.
				assert.Equal(t, string(w.Value), jsonOf(g.Value), where+" value")
				var gc any
				require.NoError(t, json.Unmarshal([]byte(jsonOf(map[string]any(g.Context))), &gc))
				assert.Equal(t, w.Context, gc, where+" context")
				assert.Equal(t, w.Status, g.Status, where)
				assert.Equal(t, w.Done, g.Done, where)
				assert.Equal(t, int64(w.Now), g.Now, where)
				assert.Equal(t, w.Error, g.Error, where)
			}
		})
	}
}

func effectKinds(effs []Effect) []string {
	var out []string
	for _, e := range effs {
		switch e.Kind {
		case EffectStartTimer:
			out = append(out, fmt.Sprintf("start %s %s", e.TimerID, e.Delay))
		case EffectCancelTimer:
			out = append(out, "cancel "+e.TimerID)
		case EffectSend:
			data := "null"
			if e.Event.Data != nil {
				data = jsonOf(e.Event.Data)
			}
			out = append(out, fmt.Sprintf("send %s %s %s %s", e.To, e.Event.Type, data, e.Delay))
		case EffectLog:
			out = append(out, "log "+e.Message)
		}
	}
	return out
}

func TestEffectsInProductionOrder(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "states": {
		"a": {"entry": [{"type": "xorc.log", "params": {"message": "in a"}}],
		      "after": {"200": "b", "100": "b", "soon": "b"},
		      "exit": ["xorc.log"],
		      "on": {"GO": {"target": "b", "actions": [
		          {"type": "xorc.send", "params": {"to": "other", "event": "PING", "data": {"n": 1}}},
		          {"type": "xorc.send", "params": {"to": "other", "event": "LATER", "delay": "soon"}},
		          {"type": "xorc.send", "params": {"to": "other", "event": "MS", "delay": 25}}]}}},
		"b": {"after": {"50": "a"}, "on": {"END": "z"}},
		"z": {"type": "final"}}}`, &Implementations{Delays: map[string]time.Duration{"soon": 30 * time.Millisecond}})
	it := m.NewInterpreter()
	s, effs := it.Start()
	require.Equal(t, StatusActive, s.Status)
	// entry actions first, then one timer per after key in JS key order
	// (integer-like keys ascending, then named delays).
	assert.Equal(t, []string{"log in a", "start xstate.after.100.m.a 100ms", "start xstate.after.200.m.a 200ms", "start xstate.after.soon.m.a 30ms"}, effectKinds(effs))
	assert.Equal(t, Event{Type: "xstate.after.100.m.a"}, effs[1].Event)

	s, effs = it.Step(s, Event{Type: "GO"})
	assert.Equal(t, "b", s.Value())
	assert.Equal(t, []string{
		"log xorc.log: GO",
		"cancel xstate.after.100.m.a", "cancel xstate.after.200.m.a", "cancel xstate.after.soon.m.a",
		`send other PING {"n":1} 0s`, "send other LATER null 30ms", "send other MS null 25ms",
		"start xstate.after.50.m.b 50ms",
	}, effectKinds(effs))

	// A timer event is an ordinary event.
	s, effs = it.Step(s, Event{Type: "xstate.after.50.m.b"})
	assert.Equal(t, "a", s.Value())
	assert.Equal(t, []string{"cancel xstate.after.50.m.b", "log in a", "start xstate.after.100.m.a 100ms", "start xstate.after.200.m.a 200ms", "start xstate.after.soon.m.a 30ms"}, effectKinds(effs))

	// Reaching done runs every exit action, so every timer is cancelled.
	s, _ = it.Step(s, Event{Type: "GO"})
	s, effs = it.Step(s, Event{Type: "END"})
	assert.Equal(t, StatusDone, s.Status)
	assert.Equal(t, []string{"cancel xstate.after.50.m.b"}, effectKinds(effs))

	// Later events change nothing and produce nothing.
	s2, effs := it.Step(s, Event{Type: "GO"})
	assert.Empty(t, effs)
	assert.Equal(t, s.Value(), s2.Value())
}

func TestUserActionsAndGuards(t *testing.T) {
	var seen []string
	impl := &Implementations{
		Actions: map[string]ActionFunc{
			"record": func(a *ActionArgs) error {
				seen = append(seen, fmt.Sprintf("%s:%v:%v", a.Event().Type, a.Params()["tag"], a.Context()["n"]))
				a.Assign("n", 1.0)
				a.Raise(Event{Type: "NEXT", Data: map[string]any{"k": "v"}})
				a.Send("peer", Event{Type: "HI"}, time.Second)
				a.Log("recorded")
				return nil
			},
			"copyK": func(a *ActionArgs) error {
				a.Assign("k", a.Event().Data["k"])
				return nil
			},
			"fail":  func(a *ActionArgs) error { return errors.New("boom") },
			"panic": func(a *ActionArgs) error { panic("kaboom") },
		},
		Guards: map[string]GuardFunc{
			"inB":    func(g *GuardArgs) bool { return g.In("#m.b") && g.In("b") && !g.In("#nope") },
			"hasN":   func(g *GuardArgs) bool { return g.Context()["n"] == 1.0 && g.Params()["want"] == "n" },
			"isNext": func(g *GuardArgs) bool { return g.Event().Type == "NEXT" },
			"crash":  func(g *GuardArgs) bool { panic("guard exploded") },
		},
	}
	m := mustLoad(t, `{"id": "m", "initial": "a", "context": {"n": 0}, "states": {
		"a": {"on": {"GO": {"target": "b", "actions": [{"type": "record", "params": {"tag": "t"}}]}}},
		"b": {"on": {
			"NEXT": {"target": "c", "guard": {"type": "isNext"}, "actions": ["copyK"]}}},
		"c": {"always": {"target": "d", "guard": {"type": "hasN", "params": {"want": "n"}}}},
		"d": {"on": {"FAIL": {"target": "a", "actions": ["fail"]}, "PANIC": {"target": "a", "actions": ["panic"]},
		             "CRASH": {"target": "a", "guard": "crash"}, "IN": {"target": "e", "guard": "inB"}}},
		"e": {}}}`, impl)
	it := m.NewInterpreter()
	s0, _ := it.Start()
	s1, effs := it.Step(s0, Event{Type: "GO"})
	require.Equal(t, StatusActive, s1.Status, s1.Error)
	assert.Equal(t, []string{"GO:t:0"}, seen)
	// GO -> b, then the raised NEXT -> c (copyK sees the raised payload),
	// then always -> d.
	assert.Equal(t, "d", s1.Value())
	assert.Equal(t, Context{"n": 1.0, "k": "v"}, s1.Context)
	assert.Equal(t, Context{"n": 0.0}, s0.Context, "the old snapshot's context is untouched")
	assert.Equal(t, []string{"send peer HI null 1s", "log recorded"}, effectKinds(effs))

	for _, tc := range []struct{ ev, msg string }{
		{"FAIL", `action "fail": boom`},
		{"PANIC", `action "panic" panicked: kaboom`},
		{"CRASH", `Unable to evaluate guard 'crash' in transition for event 'CRASH' in state node 'm.d':` + "\n" + `guard "crash" panicked: guard exploded`},
	} {
		s2, effs := it.Step(s1, Event{Type: tc.ev})
		assert.Equal(t, StatusError, s2.Status, tc.ev)
		assert.Equal(t, tc.msg, s2.Error, tc.ev)
		assert.Equal(t, "d", s2.Value(), "%s keeps the previous snapshot", tc.ev)
		assert.Equal(t, s1.Context, s2.Context)
		assert.Empty(t, effs)
		// the interpreter is still usable
		s3, _ := it.Step(s1, Event{Type: "IN"})
		assert.Equal(t, StatusActive, s3.Status)
		assert.Equal(t, "d", s3.Value(), "inB is false: b is not active")
	}
}

func TestActionArgsAreOnlyValidDuringTheCall(t *testing.T) {
	var kept *ActionArgs
	m := mustLoad(t, `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"actions": ["keep"]}}}}}`,
		&Implementations{Actions: map[string]ActionFunc{"keep": func(a *ActionArgs) error { kept = a; return nil }}})
	it := m.NewInterpreter()
	s, _ := it.Start()
	s, _ = it.Step(s, Event{Type: "E"})
	require.NotNil(t, kept)
	kept.Assign("x", 1) // no effect, no panic
	kept.Raise(Event{Type: "X"})
	assert.Nil(t, kept.Context())
	s2, _ := it.Step(s, Event{Type: "NOTHING"})
	assert.Equal(t, Context{}, s2.Context)
}

func TestSnapshotsAreValues(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "context": {"count": 0, "log": []}, "states": {
		"a": {"on": {"E": {"target": "b", "actions": ["xorc.increment", "xorc.append"]}}},
		"b": {"on": {"E": {"target": "a", "actions": ["xorc.increment", "xorc.append"]}}}}}`, nil)
	it := m.NewInterpreter()
	s0, _ := it.Start()
	s1, _ := it.Step(s0, Event{Type: "E"})
	s2, _ := it.Step(s1, Event{Type: "E"})
	// Stepping an old snapshot again gives the same result and changes
	// neither the old nor the newer snapshots.
	s1b, _ := it.Step(s0, Event{Type: "E"})
	assert.Equal(t, jsonOf(s1), jsonOf(s1b))
	assert.Equal(t, `{"value":"a","context":{"count":0,"log":[]},"status":"active"}`, jsonOf(s0))
	assert.Equal(t, `{"value":"b","context":{"count":1,"log":["E"]},"status":"active"}`, jsonOf(s1))
	assert.Equal(t, `{"value":"a","context":{"count":2,"log":["E","E"]},"status":"active"}`, jsonOf(s2))
	// A second interpreter of the same machine is independent.
	it2 := m.NewInterpreter()
	s3, _ := it2.Step(s2, Event{Type: "E"})
	assert.Equal(t, 3.0, s3.Context["count"])
	assert.Equal(t, 2.0, s2.Context["count"])
}

func TestStartErrorKeepsThePreInitialSnapshot(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "context": {"count": "x"}, "states": {
		"a": {"entry": [{"type": "xorc.log", "params": {"message": "hi"}}, "xorc.increment"], "after": {"10": "a"}}}}`, nil)
	s, effs := m.NewInterpreter().Start()
	assert.Equal(t, StatusError, s.Status)
	assert.Equal(t, `xorc.increment: context.count is not a number ("x")`, s.Error)
	assert.Equal(t, "a", s.Value())
	assert.Equal(t, Context{"count": "x"}, s.Context)
	assert.Empty(t, effs, "nothing ran for the driver")
}

func TestErrorDropsEffectsAndCancelsTimers(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "context": {"s": "x"}, "states": {
		"a": {"after": {"10": "a"}, "on": {"E": {"target": "b", "actions": [
			{"type": "xorc.log", "params": {"message": "before"}},
			{"type": "xorc.send", "params": {"to": "p", "event": "X"}},
			{"type": "xorc.append", "params": {"key": "s"}}]}}},
		"b": {"after": {"20": "a"}}}}`, nil)
	it := m.NewInterpreter()
	s, _ := it.Start()
	s2, effs := it.Step(s, Event{Type: "E"})
	assert.Equal(t, StatusError, s2.Status)
	assert.Equal(t, `xorc.append: context.s is not an array ("x")`, s2.Error)
	assert.Equal(t, "a", s2.Value())
	assert.Equal(t, []string{"log before", "cancel xstate.after.10.m.a"}, effectKinds(effs))
}

func TestStopAndErrorEvents(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "states": {"a": {"after": {"5": "a"}, "on": {"E": "b", "xstate.error.actor.handled": "b"}}, "b": {}}}`, nil)
	it := m.NewInterpreter()
	s, _ := it.Start()

	st, effs := it.Step(s, Event{Type: "xstate.stop"})
	assert.Equal(t, StatusStopped, st.Status)
	assert.Equal(t, "stopped", st.Status.String())
	assert.Equal(t, []string{"cancel xstate.after.5.m.a"}, effectKinds(effs))
	st2, _ := it.Step(st, Event{Type: "E"})
	assert.Equal(t, "a", st2.Value())

	er, effs := it.Step(s, Event{Type: "xstate.error.actor.child", Data: map[string]any{"error": "boom"}})
	assert.Equal(t, StatusError, er.Status)
	assert.Equal(t, "boom", er.Error)
	assert.Equal(t, []string{"cancel xstate.after.5.m.a"}, effectKinds(effs))

	ok, _ := it.Step(s, Event{Type: "xstate.error.actor.handled"})
	assert.Equal(t, StatusActive, ok.Status)
	assert.Equal(t, "b", ok.Value())

	// An external xstate.init only runs eventless transitions (XState).
	in, _ := it.Step(s, Event{Type: "xstate.init"})
	assert.Equal(t, "a", in.Value())
}

func TestForeignAndZeroSnapshots(t *testing.T) {
	m1 := mustLoad(t, `{"id": "one", "initial": "a", "states": {"a": {}}}`, nil)
	m2 := mustLoad(t, `{"id": "two", "initial": "a", "states": {"a": {}}}`, nil)
	s1, _ := m1.NewInterpreter().Start()
	s, effs := m2.NewInterpreter().Step(s1, Event{Type: "E"})
	assert.Equal(t, StatusError, s.Status)
	assert.Contains(t, s.Error, "another machine (one)")
	assert.Empty(t, effs)
	z, _ := m2.NewInterpreter().Step(Snapshot{}, Event{Type: "E"})
	assert.Equal(t, StatusError, z.Status)
	assert.Contains(t, z.Error, "not started")
	assert.Nil(t, Snapshot{}.Value())
}

func TestMaxIterations(t *testing.T) {
	cfg := `{"id": "m", "initial": "a", "context": {"count": 0}, "states": {"a": {"on": {"GO": "b"}},
		"b": {"always": {"guard": {"type": "xorc.lt", "params": {"value": 10}}, "actions": ["xorc.increment"]}}}}`
	for _, tc := range []struct {
		name  string
		cfg   string
		impl  *Implementations
		error string
	}{
		{"default 1000 is enough", cfg, nil, ""},
		// The bound counts loop rounds: 10 increments + the round that finds
		// nothing = 11 rounds.
		{"bound 11 is enough", cfg, &Implementations{MaxIterations: 11}, ""},
		{"bound 10 is not", cfg, &Implementations{MaxIterations: 10}, "more than 10 microsteps"},
		{"options.maxIterations", strings.Replace(cfg, `"id": "m",`, `"id": "m", "options": {"maxIterations": 5},`, 1), nil, "more than 5 microsteps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := mustLoad(t, tc.cfg, tc.impl).NewInterpreter()
			s, _ := it.Start()
			s, _ = it.Step(s, Event{Type: "GO"})
			if tc.error == "" {
				assert.Equal(t, StatusActive, s.Status, s.Error)
				assert.Equal(t, 10.0, s.Context["count"])
				return
			}
			assert.Equal(t, StatusError, s.Status)
			assert.Contains(t, s.Error, "Infinite loop detected: the machine has processed "+tc.error+" without reaching a stable state.")
			assert.Equal(t, "a", s.Value())
		})
	}
}

// TestHistorySCXML checks xorc's behaviour where XState 5.33.3 has history
// bugs (oracle README "XState bugs that xorc does not copy"): every state
// entered again is exited first, and the configuration stays consistent.
func TestHistorySCXML(t *testing.T) {
	A := func(v string) string { return `{"type": "xorc.append", "params": {"value": "` + v + `"}}` }
	for _, tc := range []struct {
		name   string
		cfg    string
		events []string
		value  string
		log    []string
	}{
		{
			name: "x to its own history exits x first",
			cfg: `{"id": "m", "initial": "p", "context": {"log": []}, "states": {"p": {"initial": "x", "states": {
				"x": {"entry": [` + A("x+") + `], "exit": [` + A("x-") + `], "on": {"E": "h"}},
				"y": {}, "h": {"type": "history"}}}}}`,
			events: []string{"E", "E"},
			value:  `{"p":"x"}`,
			log:    []string{"x+", "x-", "x+", "x-", "x+"},
		},
		{
			name: "conflicting history and cross-region transitions: the first wins",
			cfg: `{"id": "m", "type": "parallel", "context": {"log": []}, "states": {
				"p": {"initial": "x", "states": {
					"x": {"entry": [` + A("x+") + `], "exit": [` + A("x-") + `], "on": {"E": "h"}},
					"y": {"entry": [` + A("y+") + `]}, "h": {"type": "history"}}},
				"r": {"on": {"E": {"target": "#m.p.y", "actions": [` + A("r") + `]}}}}}`,
			events: []string{"E"},
			value:  `{"p":"x","r":{}}`,
			log:    []string{"x+", "x-", "x+"},
		},
		{
			name: "reenter to the deep history of the parent keeps the parallel state",
			cfg: `{"id": "m", "initial": "q", "context": {"log": []}, "states": {
				"z": {"on": {"Y": "#m.q.hq"}},
				"q": {"initial": "p", "on": {"X": "#m.z"}, "states": {
					"p": {"type": "parallel", "entry": [` + A("p+") + `], "exit": [` + A("p-") + `], "states": {
						"r1": {"initial": "a", "states": {"a": {"on": {"E": {"target": "#m.q.hq", "reenter": true}}}, "b": {}}},
						"r2": {"initial": "c", "entry": [` + A("r2+") + `], "exit": [` + A("r2-") + `], "states": {"c": {}, "d": {}}}}},
					"hq": {"type": "history", "history": "deep"}}}}}`,
			events: []string{"X", "Y", "E", "X"},
			value:  `"z"`,
			log:    []string{"p+", "r2+", "r2-", "p-", "p+", "r2+", "r2-", "r2+", "r2-", "p-"},
		},
		{
			name: "history of a parallel state from inside with nothing recorded",
			cfg: `{"id": "m", "initial": "p", "context": {"log": []}, "states": {
				"p": {"type": "parallel", "entry": [` + A("p+") + `], "exit": [` + A("p-") + `], "states": {
					"r1": {"initial": "a", "on": {"E": "#m.p.h"}, "states": {"a": {"on": {"F": "b"}}, "b": {}}},
					"r2": {}, "h": {"type": "history"}}}}}`,
			// The first E exits and enters p (default target: p itself);
			// it records the regions, which the second E restores.
			events: []string{"E", "F", "E"},
			value:  `{"p":{"r1":"a","r2":{}}}`,
			log:    []string{"p+", "p-", "p+"},
		},
		{
			name: "history directly under a parallel root does not re-enter the root",
			cfg: `{"id": "m", "type": "parallel", "context": {"log": []}, "entry": [` + A("m+") + `], "states": {
				"r1": {"initial": "a", "states": {"a": {"on": {"E": "#m.h"}}, "b": {}}},
				"r2": {"entry": [` + A("r2+") + `]}, "h": {"type": "history"}}}`,
			events: []string{"E"},
			value:  `{"r1":"a","r2":{}}`,
			log:    []string{"m+", "r2+", "r2+"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := mustLoad(t, tc.cfg, nil).NewInterpreter()
			s, _ := it.Start()
			for _, e := range tc.events {
				s, _ = it.Step(s, Event{Type: e})
				require.Equal(t, StatusActive, s.Status, s.Error)
				assertConsistent(t, s)
			}
			assert.Equal(t, tc.value, jsonOf(s.Value()))
			assert.Equal(t, tc.log, logOf(s))
		})
	}
}

// assertConsistent checks the configuration invariants (via Restore).
func assertConsistent(t *testing.T, s Snapshot) {
	t.Helper()
	_, err := s.Machine().Restore(s.Persist())
	require.NoError(t, err)
}

func TestEventJSON(t *testing.T) {
	var ev Event
	require.NoError(t, json.Unmarshal([]byte(`{"job": 7, "type": "GO", "x": {"a": [1, "<b>"]}}`), &ev))
	assert.Equal(t, Event{Type: "GO", Data: map[string]any{"job": 7.0, "x": map[string]any{"a": []any{1.0, "<b>"}}}}, ev)
	raw, err := ev.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"type":"GO","job":7,"x":{"a":[1,"<b>"]}}`, string(raw))
	raw, err = json.Marshal(ev) // encoding/json HTML-escapes Marshaler output
	require.NoError(t, err)
	assert.Equal(t, `{"type":"GO","job":7,"x":{"a":[1,"\u003cb\u003e"]}}`, string(raw))
	require.NoError(t, json.Unmarshal([]byte(`{"type": "T"}`), &ev))
	assert.Equal(t, Event{Type: "T"}, ev)
	for _, bad := range []string{`{"job": 1}`, `[1]`, `{"type": 3}`, `{"type": "x"`} {
		err := json.Unmarshal([]byte(bad), &ev)
		assert.Error(t, err, bad)
	}
	var e2 Event
	assert.ErrorIs(t, e2.UnmarshalJSON([]byte(`{"type": 3}`)), ErrBadEvent)
}

// TestConcurrentInterpreters: a Machine is shared by interpreters running in
// parallel goroutines (run with -race).
func TestConcurrentInterpreters(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "context": {"count": 0}, "states": {
		"a": {"on": {"E": {"target": "b", "actions": ["xorc.increment"], "guard": {"type": "xorc.in", "params": {"state": "#m.a"}}}}},
		"b": {"on": {"E": {"target": "a", "actions": ["xorc.increment"]}}, "after": {"5": "a"}}}}`,
		&Implementations{Guards: map[string]GuardFunc{"any": func(g *GuardArgs) bool { return g.In("a") }}})
	const workers, steps = 4, 500
	done := make(chan float64, workers)
	for range workers {
		go func() {
			it := m.NewInterpreter()
			s, _ := it.Start()
			for range steps {
				s, _ = it.Step(s, Event{Type: "E"})
			}
			done <- s.Context["count"].(float64)
		}()
	}
	for range workers {
		assert.Equal(t, float64(steps), <-done)
	}
}

// TestStartAgain: Start on an interpreter that already ran macrosteps gives
// the same snapshot as on a new one (the exit set of the previous step once
// leaked into the size of the new configuration).
func TestStartAgain(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "context": {"log": []}, "states": {
		"a": {"entry": [{"type": "xorc.append", "params": {"value": "a+"}}], "on": {"E": "b"}},
		"b": {"initial": "b1", "on": {"E": "a"}, "states": {"b1": {"initial": "x", "states": {"x": {}}}}}}}`, nil)
	fresh, _ := m.NewInterpreter().Start()
	it := m.NewInterpreter()
	s, _ := it.Start()
	s, _ = it.Step(s, Event{Type: "E"})
	require.Equal(t, `{"b":{"b1":"x"}}`, jsonOf(s.Value()))
	s, _ = it.Step(s, Event{Type: "E"}) // exits x, b1 and b
	require.Equal(t, "a", s.Value())
	again, _ := it.Start()
	assert.Equal(t, jsonOf(fresh), jsonOf(again))
	assert.Equal(t, jsonOf(fresh.Persist()), jsonOf(again.Persist()))
	again, _ = it.Step(again, Event{Type: "E"})
	assert.Equal(t, `{"b":{"b1":"x"}}`, jsonOf(again.Value()))
}
