package actor

import (
	"fmt"
	"testing"
)

// fuzzSource turns fuzz bytes into small decisions.
type fuzzSource struct {
	data []byte
	i    int
}

func (f *fuzzSource) n(k int) int {
	if k <= 1 || f.i >= len(f.data) {
		return 0
	}
	v := int(f.data[f.i]) % k
	f.i++
	return v
}

// fuzzMachine builds a machine from the bytes: compound, parallel, final and
// history states (shallow and deep, with and without default targets), and
// transitions to any state (history states included, from inside their
// parent too: the patterns where XState has bugs), reenter, always with
// xorc.in guards, raises and assign actions.
func fuzzMachine(f *fuzzSource) (*Builder, []string) { return fuzzMachineWith(f, false) }

// fuzzMachineWith is fuzzMachine; with mostlyPure, only some states and
// transitions have context actions (most macrosteps can then be cached by
// the step cache), and some states have `after` timers whose events are
// among the events sent.
func fuzzMachineWith(f *fuzzSource, mostlyPure bool) (*Builder, []string) {
	b := NewBuilder("m").WithContext(Context{"log": []any{}}).WithMaxIterations(40)
	var ids []string
	type node struct {
		sb   *StateBuilder
		id   string
		kind int
	}
	var nodes []node
	var build func(sb *StateBuilder, id string, depth int, kind int)
	build = func(sb *StateBuilder, id string, depth int, kind int) {
		nodes = append(nodes, node{sb, id, kind})
		ids = append(ids, id)
		if !mostlyPure || f.n(4) == 0 {
			sb.Entry(Action("xorc.append", Params{"value": id + "+"})).Exit(Action("xorc.append", Params{"value": id + "-"}))
		}
		if kind == 0 {
			return
		}
		nkids := 2 + f.n(2)
		var first string
		for i := 0; i < nkids; i++ {
			key := fmt.Sprintf("s%d", i)
			child := sb.State(key)
			cid := id + "." + key
			k := 0
			if depth < 3 {
				k = f.n(4) // 0 atomic, 1 compound, 2 parallel, 3 final/atomic
			}
			switch k {
			case 1:
				child.Initial("s0")
			case 2:
				child.Parallel()
			case 3:
				if kind == 1 && i > 0 {
					child.Final()
				}
				k = 0
			}
			if i == 0 {
				first = key
			}
			build(child, cid, depth+1, k)
		}
		if kind == 1 {
			sb.Initial(first)
		}
		switch f.n(4) {
		case 1:
			sb.State("h").History(false)
		case 2:
			sb.State("h").History(true)
		case 3:
			sb.State("h").History(f.n(2) == 1, first)
		}
		if f.n(3) == 0 {
			ids = append(ids, id+".h")
			if sb.State("h").typ == "" {
				sb.State("h").History(f.n(2) == 1)
			}
		}
	}
	b.Initial("s0")
	build(b.StateBuilder, "m", 0, 1)
	events := []string{"A", "B", "C"}
	if mostlyPure {
		for _, nd := range nodes {
			if f.n(5) == 0 {
				nd.sb.After("10", To("#"+ids[f.n(len(ids))]))
				events = append(events, "xstate.after.10."+nd.id)
			}
		}
		events = append(events, "UNKNOWN")
	}
	for _, nd := range nodes {
		for range f.n(3) {
			ev := events[f.n(len(events))]
			var tr *TransitionBuilder
			if f.n(5) == 0 {
				tr = To()
			} else {
				tr = To("#" + ids[f.n(len(ids))])
			}
			if f.n(4) == 0 {
				tr.Reenter()
			}
			if f.n(3) == 0 {
				tr.If(In("#" + nodes[f.n(len(nodes))].id))
			}
			switch f.n(4) {
			case 0:
				tr.Do(Action("xorc.raise", Params{"event": events[f.n(len(events))]}))
			case 1:
				if !mostlyPure || f.n(3) == 0 {
					tr.Do(Action("xorc.append", Params{"value": "t"}))
				}
			}
			nd.sb.On(ev, tr)
		}
		if f.n(6) == 0 {
			nd.sb.Always(To("#" + ids[f.n(len(ids))]).If(Not(In("#" + nodes[f.n(len(nodes))].id))))
		}
	}
	var evs []string
	for range 4 + f.n(8) {
		evs = append(evs, events[f.n(len(events))])
	}
	return b, evs
}

// FuzzInterpreter: no machine panics the interpreter, every configuration
// stays consistent (each active compound state has exactly one active child,
// each active parallel state all its regions, every active state its
// parent), and old snapshots never change.
func FuzzInterpreter(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("history from inside the parent, parallel regions, reenter"))
	f.Add([]byte{2, 2, 2, 1, 3, 0, 1, 2, 3, 1, 1, 1, 0, 0, 2, 2, 2, 3, 3, 3, 1, 2, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, evs := fuzzMachine(&fuzzSource{data: data})
		m, err := b.Compile(nil)
		if err != nil {
			return // e.g. a history default target that is not valid
		}
		it := m.NewInterpreter()
		s, _ := it.Start()
		type kept struct {
			s    Snapshot
			json string
		}
		var old []kept
		for _, ev := range evs {
			old = append(old, kept{s, jsonOf(s) + jsonOf(s.Persist())})
			s, _ = it.Step(s, Event{Type: ev})
			if s.Status == StatusActive || s.Status == StatusDone {
				if _, err := m.Restore(s.Persist()); err != nil {
					t.Fatalf("inconsistent configuration after %s: %v (%s)", ev, err, jsonOf(s.Persist()))
				}
			}
		}
		for i, k := range old {
			if got := jsonOf(k.s) + jsonOf(k.s.Persist()); got != k.json {
				t.Fatalf("snapshot %d changed:\n%s\n%s", i, k.json, got)
			}
		}
	})
}

// FuzzStepCache: on random machines (mostly without context actions, with
// timers, history, parallel regions, done events) and random events, an
// interpreter on the step cache gives exactly what the plain interpreter
// gives, step for step, snapshots (configuration order and history
// included) and effects, while the cache fills (first pass) and when it
// replays (second pass, another interpreter); so does one stepped as the
// machine actor steps (stepInPlace).
func FuzzStepCache(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("history from inside the parent, parallel regions, reenter"))
	f.Add([]byte{2, 2, 2, 1, 3, 0, 1, 2, 3, 1, 1, 1, 0, 0, 2, 2, 2, 3, 3, 3, 1, 2, 0, 1})
	f.Add([]byte{1, 1, 2, 0, 0, 0, 1, 1, 3, 2, 0, 1, 0, 4, 0, 0, 2, 1, 1, 0, 3, 0, 0, 0, 1, 2, 3, 4, 0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, evs := fuzzMachineWith(&fuzzSource{data: data}, true)
		m, err := b.Compile(nil)
		if err != nil {
			return
		}
		plain := newTestInterpreter(m, false)
		for pass := range 2 {
			cached := newTestInterpreter(m, true)
			inPlace := newTestInterpreter(m, true)
			ps, pe := plain.Start()
			cs, ce := cached.Start()
			is, _ := inPlace.Start()
			if want, got := stepTrace(ps, pe), stepTrace(cs, ce); want != got {
				t.Fatalf("pass %d, start:\nwant %s\ngot  %s", pass, want, got)
			}
			for i, ev := range evs {
				ps, pe = plain.Step(ps, Event{Type: ev})
				cs, ce = cached.Step(cs, Event{Type: ev})
				if want, got := stepTrace(ps, pe), stepTrace(cs, ce); want != got {
					t.Fatalf("pass %d, event %d (%s):\nwant %s\ngot  %s", pass, i, ev, want, got)
				}
				ie := inPlace.stepInPlace(&is, Event{Type: ev}, inPlace.eventID(ev))
				if want, got := stepTrace(ps, pe), stepTrace(is, ie); want != got {
					t.Fatalf("pass %d, event %d (%s), in place:\nwant %s\ngot  %s", pass, i, ev, want, got)
				}
			}
		}
	})
}
