package actor

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stepTrace renders everything a step returns: the snapshot (value, context,
// status, error), its configuration in insertion order with the history
// records, and the effects.
func stepTrace(s Snapshot, effs []Effect) string {
	return jsonOf(s) + " " + jsonOf(s.Persist()) + " " + fmt.Sprintf("%+v", effs)
}

// newCachedInterpreter returns an interpreter that uses the machine's step
// cache from its first step (cached) or never (plain).
func newTestInterpreter(m *Machine, cached bool) *Interpreter {
	it := m.NewInterpreter()
	it.cacheAfter = -1
	if cached {
		it.cacheAfter = 0
	}
	return it
}

// cacheMachine has everything a cached macrostep replays: timers started and
// cancelled, a raise, a send, done events of a compound and of a parallel
// state, the machine's own done, eventless transitions with xorc.in guards,
// shallow and deep history, and states entered again in another insertion
// order (parallel regions).
const cacheMachine = `{"id": "m", "initial": "work", "states": {
	"work": {"initial": "edit", "on": {"LEAVE": "away", "QUIT": "bye"}, "states": {
		"edit": {"initial": "plain", "after": {"100": ".bold"}, "on": {"VIEW": "view"}, "states": {
			"plain": {"on": {"B": "bold"}},
			"bold": {"on": {"B": {"target": "plain", "actions": [{"type": "xorc.raise", "params": {"event": "PING"}}]}}}}},
		"view": {"on": {"EDIT": "edit", "PING": "edit"}, "always": {"target": "edit", "guard": {"type": "xorc.in", "params": {"state": "#m.away"}}}},
		"deep": {"type": "history", "history": "deep"},
		"shallow": {"type": "history", "history": "shallow"}}},
	"away": {"initial": "menu", "on": {"BACK": "work.deep", "RESUME": "work.shallow", "PAR": "par"}, "states": {
		"menu": {"on": {"S": "settings"}},
		"settings": {"on": {"S": {"target": "menu", "actions": [{"type": "xorc.send", "params": {"to": "other", "event": "HI", "delay": 5}}]}}}}},
	"par": {"type": "parallel", "onDone": "work", "states": {
		"r1": {"initial": "a", "states": {"a": {"on": {"T": "b", "U": "b"}}, "b": {"on": {"T": "a", "F": "f1"}}, "f1": {"type": "final"}}},
		"r2": {"initial": "x", "states": {"x": {"on": {"T": "y"}}, "y": {"on": {"U": "x", "F": "f2"}}, "f2": {"type": "final"}}}}},
	"bye": {"type": "final"}}}`

var cacheEvents = []string{"B", "LEAVE", "BACK", "VIEW", "LEAVE", "S", "S", "RESUME", "B", "B", "PAR", "T", "U", "T", "NOPE", "T", "F", "B", "LEAVE", "PAR", "U", "T", "U", "F", "T", "F", "VIEW", "PING", "xstate.after.100.m.work.edit", "QUIT"}

// TestStepCacheReplaysTheInterpreter: an interpreter on the step cache gives
// exactly what the plain interpreter gives, step for step, and once the cache
// is warm it runs no macrostep of its own.
func TestStepCacheReplaysTheInterpreter(t *testing.T) {
	m := mustLoad(t, cacheMachine, nil)
	plain, cached := newTestInterpreter(m, false), newTestInterpreter(m, true)
	for pass := range 3 {
		ps, _ := plain.Start()
		cs, _ := cached.Start()
		slow := cached.slow
		for i, ev := range cacheEvents {
			var pe, ce []Effect
			ps, pe = plain.Step(ps, Event{Type: ev})
			want := stepTrace(ps, pe)
			cs, ce = cached.Step(cs, Event{Type: ev})
			require.Equal(t, want, stepTrace(cs, ce), "pass %d, event %d (%s)", pass, i, ev)
		}
		assert.Equal(t, "done", ps.Status.String())
		if pass > 0 {
			assert.Equal(t, slow, cached.slow, "pass %d: every step came from the cache", pass)
		}
	}
	assert.Equal(t, 0, plain.slow-len(cacheEvents)*3, "the plain interpreter ran every step")
	assert.Positive(t, StepCacheStats(m))
	// The cached results are the same for a third interpreter, from a
	// restored snapshot (not interned) on.
	third := newTestInterpreter(m, true)
	s, _ := third.Start()
	s, _ = third.Step(s, Event{Type: "B"})
	r, err := m.Restore(s.Persist())
	require.NoError(t, err)
	r2, effs := third.Step(r, Event{Type: "LEAVE"})
	s2, effs2 := plain.Step(s, Event{Type: "LEAVE"})
	assert.Equal(t, stepTrace(s2, effs2), stepTrace(r2, effs))
}

// TestStepCacheImpureSteps: steps that read or write the context, evaluate a
// guard other than xorc.in, log or call user code are never cached: their
// results differ between actors and between calls.
func TestStepCacheImpureSteps(t *testing.T) {
	calls := 0
	impl := &Implementations{
		Actions: map[string]ActionFunc{"note": func(a *ActionArgs) error { calls++; return nil }},
		Guards:  map[string]GuardFunc{"odd": func(g *GuardArgs) bool { return calls%2 == 1 }},
	}
	m := mustLoad(t, `{"id": "m", "initial": "a", "context": {"n": 0}, "states": {
		"a": {"on": {
			"INC": {"actions": ["xorc.increment"]},
			"GT": [{"target": "b", "guard": {"type": "xorc.gt", "params": {"key": "n", "value": 1}}}, {"target": "c"}],
			"EV": [{"target": "b", "guard": {"type": "xorc.event", "params": {"field": "go"}}}, {"target": "c"}],
			"USER": {"actions": ["note"]},
			"ODD": [{"target": "b", "guard": "odd"}, {"target": "c"}],
			"LOG": {"actions": ["xorc.log"]},
			"PURE": {"target": "b", "guard": {"type": "xorc.not", "params": {"guard": {"type": "xorc.in", "params": {"state": "#m.b"}}}}}}},
		"b": {"on": {"BACK": "a"}},
		"c": {"on": {"BACK": "a"}}}}`, impl)
	plain, cached := newTestInterpreter(m, false), newTestInterpreter(m, true)
	ps, _ := plain.Start()
	cs, _ := cached.Start()
	steps := []Event{
		{Type: "GT"}, {Type: "BACK"}, {Type: "INC"}, {Type: "INC"}, {Type: "GT"}, {Type: "BACK"},
		{Type: "EV"}, {Type: "BACK"}, {Type: "EV", Data: map[string]any{"go": true}}, {Type: "BACK"},
		{Type: "ODD"}, {Type: "BACK"}, {Type: "USER"}, {Type: "ODD"}, {Type: "BACK"},
		{Type: "LOG"}, {Type: "LOG", Data: map[string]any{"x": 1.0}}, {Type: "PURE"}, {Type: "BACK"}, {Type: "PURE"},
	}
	for i, ev := range steps {
		var pe, ce []Effect
		before := cached.slow
		ps, pe = plain.Step(ps, ev)
		cs, ce = cached.Step(cs, ev)
		require.Equal(t, stepTrace(ps, pe), stepTrace(cs, ce), "event %d (%s)", i, ev.Type)
		if ev.Type != "PURE" && ev.Type != "BACK" {
			assert.Equal(t, before+1, cached.slow, "event %d (%s) is impure: the interpreter ran it", i, ev.Type)
		}
		if i == len(steps)-1 {
			assert.Equal(t, before, cached.slow, "the second PURE from a comes from the cache")
		}
	}
	assert.Equal(t, "b", cs.Value())
}

// TestStepCacheStopAndErrorEvents: xstate.stop and unhandled
// xstate.error.actor.* events depend on the payload or stop the machine;
// they behave the same with the cache on, however often they are sent.
func TestStepCacheStopAndErrorEvents(t *testing.T) {
	m := mustLoad(t, `{"id": "m", "initial": "a", "states": {
		"a": {"after": {"5": "a"}, "on": {"E": "b", "xstate.error.actor.x": "b", "xstate.stop": "b"}},
		"b": {"on": {"E": "a"}}}}`, nil)
	it := newTestInterpreter(m, true)
	s, _ := it.Start()
	for range 3 {
		st, effs := it.Step(s, Event{Type: "xstate.stop"})
		assert.Equal(t, StatusStopped, st.Status)
		assert.Equal(t, "a", st.Value())
		assert.Equal(t, []string{"cancel xstate.after.5.m.a"}, effectKinds(effs))
		ok, _ := it.Step(s, Event{Type: "xstate.error.actor.x", Data: map[string]any{"error": "handled"}})
		assert.Equal(t, StatusActive, ok.Status)
		assert.Equal(t, "b", ok.Value())
		for _, msg := range []string{"one", "two"} {
			er, _ := it.Step(ok, Event{Type: "xstate.error.actor.x", Data: map[string]any{"error": msg}})
			assert.Equal(t, StatusError, er.Status)
			assert.Equal(t, msg, er.Error)
		}
	}
}

// TestStepCacheLimit: past its bound the cache interns nothing more, and the
// steps from configurations it does not hold still run, exactly.
func TestStepCacheLimit(t *testing.T) {
	m := mustLoad(t, cacheMachine, nil)
	m.stepCache().limit = 4
	plain, cached := newTestInterpreter(m, false), newTestInterpreter(m, true)
	for pass := range 2 {
		ps, _ := plain.Start()
		cs, _ := cached.Start()
		for i, ev := range cacheEvents {
			var pe, ce []Effect
			ps, pe = plain.Step(ps, Event{Type: ev})
			cs, ce = cached.Step(cs, Event{Type: ev})
			require.Equal(t, stepTrace(ps, pe), stepTrace(cs, ce), "pass %d, event %d (%s)", pass, i, ev)
		}
	}
	assert.Equal(t, 4, StepCacheStats(m))
	assert.Greater(t, cached.slow, len(cacheEvents), "steps from configurations the cache does not hold are slow")
}

// TestStepCacheConcurrent: interpreters on many goroutines share one
// machine's cache (run with -race); each checks its steps against a plain
// interpreter of its own.
func TestStepCacheConcurrent(t *testing.T) {
	m := mustLoad(t, cacheMachine, nil)
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plain, cached := newTestInterpreter(m, false), newTestInterpreter(m, true)
			for pass := range 20 {
				ps, _ := plain.Start()
				cs, _ := cached.Start()
				for i := range cacheEvents {
					ev := Event{Type: cacheEvents[(i*(w+1)+pass)%len(cacheEvents)]}
					var pe, ce []Effect
					ps, pe = plain.Step(ps, ev)
					cs, ce = cached.Step(cs, ev)
					if want, got := stepTrace(ps, pe), stepTrace(cs, ce); want != got {
						errs <- fmt.Sprintf("worker %d pass %d event %d (%s):\nwant %s\ngot  %s", w, pass, i, ev.Type, want, got)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	assert.Positive(t, StepCacheStats(m))
}

// TestStepCacheOnByItself: a machine's cache turns on after stepCacheAfter
// slow steps of one interpreter, then serves every interpreter.
func TestStepCacheOnByItself(t *testing.T) {
	m := mustLoad(t, cacheMachine, nil)
	it := m.NewInterpreter()
	s, _ := it.Start()
	for i := 0; i < stepCacheAfter; i++ {
		s, _ = it.Step(s, Event{Type: "B"})
	}
	assert.Nil(t, m.steps.Load(), "off after %d steps", stepCacheAfter)
	s, _ = it.Step(s, Event{Type: "B"})
	s, _ = it.Step(s, Event{Type: "B"})
	require.NotNil(t, m.steps.Load())
	assert.Equal(t, 2, StepCacheStats(m), "plain and bold")
	other := m.NewInterpreter()
	o, _ := other.Start()
	for range 4 {
		o, _ = other.Step(o, Event{Type: "B"})
	}
	assert.LessOrEqual(t, other.slow, 1, "another interpreter's steps come from the cache (one may fill it)")
	assert.Equal(t, jsonOf(s.Value()), jsonOf(o.Value()))
}

// TestStepCacheNoAllocations: a cached step allocates nothing.
func TestStepCacheNoAllocations(t *testing.T) {
	m := mustLoad(t, cacheMachine, nil)
	it := newTestInterpreter(m, true)
	s, _ := it.Start()
	evs := []Event{{Type: "LEAVE"}, {Type: "S"}, {Type: "S"}, {Type: "BACK"}, {Type: "B"}, {Type: "B"}}
	for range 2 {
		for _, ev := range evs {
			s, _ = it.Step(s, ev)
		}
	}
	slow := it.slow
	allocs := testing.AllocsPerRun(100, func() {
		for _, ev := range evs {
			s, _ = it.Step(s, ev)
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, slow, it.slow, "every step came from the cache")
}
