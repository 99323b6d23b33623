package actor

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadErrorsNameTheJSONPath(t *testing.T) {
	impl := &Implementations{
		Actions: map[string]ActionFunc{"mine": func(*ActionArgs) error { return nil }},
		Guards:  map[string]GuardFunc{"ok": func(*GuardArgs) bool { return true }},
	}
	for _, tc := range []struct {
		name, cfg string
		kind      error
		msg       string // the whole Error()
	}{
		{"syntax", `{"id": "m",`, ErrJSONSyntax, "invalid JSON: expected a string key, got end of input at offset 11"},
		{"not an object", `[1]`, nil, "machine config must be a JSON object, got an array"},
		{"unknown target", `{"id": "m", "initial": "busy", "states": {"busy": {"on": {"GO": [{"target": "busy"}, {"target": "#nope"}]}}}}`,
			ErrUnknownTarget, `states.busy.on.GO[1].target: unknown target "#nope": no state has id "nope"`},
		{"unknown sibling", `{"id": "m", "initial": "a", "states": {"a": {"on": {"GO": "b"}}}}`,
			ErrUnknownTarget, `states.a.on.GO: unknown target "b": state "#m" has no child "b"`},
		{"unknown child path", `{"id": "m", "initial": "a", "states": {"a": {"always": {"target": ".x"}}}}`,
			ErrUnknownTarget, `states.a.always.target: unknown target ".x": state "#m.a" has no child states`},
		{"bare target at the root", `{"id": "m", "initial": "a", "on": {"E": "a"}, "states": {"a": {}}}`,
			ErrUnknownTarget, `on.E: invalid target "a" from the root: a bare key names a sibling, and the root has none. Did you mean ".a"?`},
		{"compound without initial", `{"id": "m", "initial": "a", "states": {"a": {"states": {"x": {}}}}}`,
			ErrMissingInitial, `states.a: compound state "#m.a" has no initial state (try "initial": "x")`},
		{"unknown initial", `{"id": "m", "initial": "nope", "states": {"a": {}}}`,
			ErrUnknownTarget, `initial: initial state "nope" is not a child of "#m"`},
		{"duplicate id", `{"id": "m", "initial": "a", "states": {"a": {"id": "x"}, "b": {"id": "x"}}}`,
			ErrDuplicateID, `states.b.id: duplicate state id "x" (also used by states.a)`},
		{"explicit id clashes with a default id", `{"id": "m", "initial": "a", "states": {"a": {}, "b": {"id": "m.a"}}}`,
			ErrDuplicateID, `states.b.id: duplicate state id "m.a" (also used by states.a)`},
		{"unknown action", `{"id": "m", "initial": "a", "states": {"a": {"entry": ["mine", "theirs"]}}}`,
			ErrUnknownAction, `states.a.entry[1]: unknown action "theirs"`},
		{"unknown built-in action", `{"id": "m", "initial": "a", "states": {"a": {"entry": "xorc.nope"}}}`,
			ErrUnknownAction, `states.a.entry: unknown action "xorc.nope"`},
		{"unknown guard", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"guard": "nope"}}}}}`,
			ErrUnknownGuard, `states.a.on.E.guard: unknown guard "nope"`},
		{"nested unknown guard", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"guard": {"type": "xorc.and", "params": {"guards": ["ok", {"type": "bad"}]}}}}}}}`,
			ErrUnknownGuard, `states.a.on.E.guard.params.guards[1]: unknown guard "bad"`},
		{"missing param", `{"id": "m", "initial": "a", "states": {"a": {"entry": {"type": "xorc.copy", "params": {"key": "k"}}}}}`,
			ErrBadParams, `states.a.entry: action xorc.copy: params.field is required`},
		{"wrong param type", `{"id": "m", "initial": "a", "states": {"a": {"entry": {"type": "xorc.increment", "params": {"by": "2"}}}}}`,
			ErrBadParams, `states.a.entry.params.by: action xorc.increment: params.by must be a finite number, got "2"`},
		{"unknown param", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"guard": {"type": "xorc.eq", "params": {"value": 1, "kee": "x"}}}}}}}`,
			ErrBadParams, `states.a.on.E.guard.params.kee: guard xorc.eq: unknown param "kee"`},
		{"string form of a built-in guard", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"guard": "xorc.eq"}}}}}`,
			ErrBadParams, `states.a.on.E.guard: guard xorc.eq: params.value is required`},
		{"bad reference", `{"id": "m", "initial": "a", "states": {"a": {"entry": [{"name": "x"}]}}}`,
			ErrBadParams, `states.a.entry[0]: action reference must be a string or {"type": ..., "params"?: {...}}, got {"name":"x"}`},
		{"__proto__", `{"id": "m", "initial": "a", "states": {"a": {"entry": {"type": "xorc.assign", "params": {"__proto__": 1}}}}}`,
			ErrBadParams, `states.a.entry.params: action xorc.assign: context key "__proto__" is not allowed`},
		{"context not an object", `{"id": "m", "context": [], "initial": "a", "states": {"a": {}}}`,
			nil, `context: context must be a JSON object, got an array`},
		{"xorc.in of a missing state", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"guard": {"type": "xorc.in", "params": {"state": "a.b"}}}}}}}`,
			ErrUnknownTarget, `states.a.on.E.guard.params.state: xorc.in: no state path "a.b" from the root (plain paths start below the root; use "#m.…" for a full id)`},
		{"xorc.in of a history state", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"guard": {"type": "xorc.in", "params": {"state": "#m.h"}}}}}, "h": {"type": "history"}}}`,
			ErrBadParams, `states.a.on.E.guard.params.state: xorc.in: "#m.h" is a history state, which is never active`},
		{"unknown delay", `{"id": "m", "initial": "a", "states": {"a": {"after": {"soon": "a"}}}}`,
			ErrUnknownDelay, `states.a.after.soon: unknown delay "soon" (numeric keys are ms; named delays come from the implementations)`},
		{"negative delay", `{"id": "m", "initial": "a", "states": {"a": {"after": {"-5": "a"}}}}`,
			ErrUnsupported, `states.a.after.-5: delay "-5" must be a finite number of ms >= 0`},
		{"same delay twice", `{"id": "m", "initial": "a", "states": {"a": {"after": {"100": "a", "1e2": "a"}}}}`,
			nil, `states.a.after.1e2: delays "100" and "1e2" are the same`},
		{"unknown state key", `{"id": "m", "initial": "a", "states": {"a": {"intial": "x"}}}`,
			nil, `states.a.intial: unknown key "intial" in a state config`},
		{"v4 cond", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"cond": "x"}}}}}`,
			ErrUnsupported, `states.a.on.E.cond: "cond" is XState v4; use "guard"`},
		{"invoke", `{"id": "m", "initial": "a", "states": {"a": {"invoke": {"src": "x"}}}}`,
			ErrUnsupported, `states.a.invoke: invoke (child actors) is not supported`},
		{"history with transitions", `{"id": "m", "initial": "a", "states": {"a": {}, "h": {"type": "history", "on": {"E": "a"}}}}`,
			nil, `states.h: a history state cannot have transitions or entry/exit actions`},
		{"unknown history target", `{"id": "m", "initial": "p", "states": {"p": {"initial": "a", "states": {"a": {}, "h": {"type": "history", "target": "zz"}}}}}`,
			ErrUnknownTarget, `states.p.states.h.target: unknown history target "zz": state "#m.p" has no child "zz"`},
		{"empty event", `{"id": "m", "initial": "a", "states": {"a": {"on": {"": "a"}}}}`,
			nil, `states.a.on[""]: the empty event descriptor is not allowed; use "always" for eventless transitions`},
		{"xorc.send data with a type", `{"id": "m", "initial": "a", "states": {"a": {"entry": {"type": "xorc.send", "params": {"to": "x", "event": "E", "data": {"type": 1}}}}}}`,
			ErrBadParams, `states.a.entry.params.data: action xorc.send: params.data must not contain "type" (use params.event)`},
		{"reenter not a boolean", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": {"target": "a", "reenter": 1}}}}}`,
			nil, `states.a.on.E.reenter: must be true or false, got 1`},
		{"after siblings with nested parts", `{"id": "m", "initial": "a", "states": {"a": {"on": {"E": [{"target": "a", "actions": ["x", "y"]}, "a"]}, "entry": ["e"]}, "b": {"states": {"c": {}}, "on": {"F": [{"target": "b"}, {"reenter": 2}]}}}}`,
			nil, `states.b.on.F[1].reenter: must be true or false, got 2`},
		{"deep after siblings", `{"id": "m", "initial": "a", "states": {"a": {"initial": "x", "states": {"x": {"on": {"E": "x"}}, "y": {"on": {"E": [{"target": "x"}, {"guard": {"type": "g", "zz": 1}}]}}}}}}`,
			ErrBadParams, `states.a.states.y.on.E[1].guard.zz: unknown key "zz" in guard "g"`},
		{"odd keys in the path", `{"id": "m", "initial": "a b", "states": {"a b": {"after": {"1": ["a b", {"actions": [{"type": "xorc.log"}, {"type": "xorc.log", "params": 3}]}]}}}}`,
			ErrBadParams, `states["a b"].after.1[1].actions[1].params: params of action "xorc.log" must be an object, got a number`},
		{"initial transition object", `{"id": "m", "initial": {"target": "a"}, "states": {"a": {}}}`,
			ErrUnsupported, `initial: initial must be a state key; an initial transition object (with actions) is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadJSON([]byte(tc.cfg), impl)
			require.Error(t, err)
			assert.Equal(t, tc.msg, err.Error())
			assert.ErrorIs(t, err, ErrInvalidDefinition)
			if tc.kind != nil {
				assert.ErrorIs(t, err, tc.kind)
			}
			var de *DefinitionError
			assert.True(t, errors.As(err, &de))
		})
	}
}

func TestReservedNames(t *testing.T) {
	def, err := ParseJSON([]byte(`{"id": "m", "initial": "a", "states": {"a": {}}}`))
	require.NoError(t, err)
	_, err = Compile(def, &Implementations{Actions: map[string]ActionFunc{"xorc.mine": func(*ActionArgs) error { return nil }}})
	assert.ErrorIs(t, err, ErrReservedName)
	_, err = Compile(def, &Implementations{Guards: map[string]GuardFunc{"xorc.eq": func(*GuardArgs) bool { return true }}})
	assert.ErrorIs(t, err, ErrReservedName)
}

func TestDefinitionAccessors(t *testing.T) {
	def, err := ParseJSON([]byte(`{"initial": "a", "context": {"n": 1}, "states": {"a": {}}}`))
	require.NoError(t, err)
	assert.Equal(t, "(machine)", def.ID())
	c := def.Context()
	c["n"] = 2.0
	assert.Equal(t, Context{"n": 1.0}, def.Context(), "Context returns a copy")
	m, err := Compile(def, nil)
	require.NoError(t, err)
	assert.Same(t, def, m.Definition())
	assert.Equal(t, "(machine)", m.ID())
	assert.Equal(t, 2, m.NumStates())
	assert.Contains(t, BuiltinActions(), "xorc.send")
	assert.Contains(t, BuiltinGuards(), "xorc.in")
}

// FuzzLoadJSON: no definition panics the loader or the interpreter.
func FuzzLoadJSON(f *testing.F) {
	for _, s := range []string{
		`{"id": "m", "initial": "a", "context": {"count": 0}, "states": {"a": {"on": {"E": {"target": "b", "actions": ["xorc.increment"]}}}, "b": {"after": {"10": "a"}}}}`,
		`{"id": "m", "type": "parallel", "states": {"r1": {"initial": "x", "states": {"x": {"on": {"*": ".y"}}, "y": {"type": "final"}}}, "r2": {}}, "onDone": "."}`,
		`{"id": "m", "initial": "p", "states": {"p": {"initial": "a", "states": {"a": {"on": {"N": "b"}}, "b": {}, "h": {"type": "history", "history": "deep"}}, "on": {"O": "#m.o"}}, "o": {"on": {"B": "#m.p.h"}, "always": {"guard": {"type": "xorc.in", "params": {"state": "p.a"}}, "target": "p"}}}}`,
		`{"id": "m", "initial": "a", "states": {"a": {"entry": [{"type": "xorc.raise", "params": {"event": "E"}}], "on": {"E": {"target": "a", "reenter": true}}}}}`,
		`{"states": {"1": {}, "0": {"type": "final"}}, "initial": "0"}`,
	} {
		f.Add([]byte(s), "E")
	}
	f.Fuzz(func(t *testing.T, data []byte, event string) {
		m, err := LoadJSON(data, &Implementations{Delays: map[string]time.Duration{"short": time.Millisecond}, MaxIterations: 50})
		if err != nil {
			var de *DefinitionError
			if !errors.As(err, &de) || !errors.Is(err, ErrInvalidDefinition) {
				t.Fatalf("error is not a DefinitionError: %v", err)
			}
			return
		}
		it := m.NewInterpreter()
		s, effs := it.Start()
		for _, ev := range []string{event, "E", "xstate.after.10.m.b", "*"} {
			for _, e := range effs {
				if e.Kind == EffectStartTimer {
					s, _ = it.Step(s, e.Event)
				}
			}
			s, effs = it.Step(s, Event{Type: ev})
			if s.Status == StatusActive {
				if _, err := m.Restore(s.Persist()); err != nil {
					t.Fatalf("inconsistent configuration after %q: %v", ev, err)
				}
			}
			_ = s.Value()
		}
	})
}
