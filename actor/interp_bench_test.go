package actor

// Interpreter micro-benchmarks on machines built in Go:
//
//	go test ./actor -run '^$' -bench 'BenchmarkInterp' -benchmem
//
// One op is one external event that takes one transition. Besides ns/op
// (wall clock) they report cpu-ns/op, the process CPU time per op (user +
// system, from getrusage), which is less sensitive to other processes on a
// loaded machine. On Linux it is the benchmark thread's own CPU time
// (RUSAGE_THREAD, the goroutine locked to its thread), elsewhere it is 0.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flatMachine: n states in a ring, NEXT/PREV, no context.
func flatMachine(tb testing.TB, n int) (*Machine, []Event) {
	b := NewBuilder("flat")
	b.Initial("s0")
	for i := 0; i < n; i++ {
		b.State(fmt.Sprintf("s%d", i)).
			On("NEXT", To(fmt.Sprintf("s%d", (i+1)%n))).
			On("PREV", To(fmt.Sprintf("s%d", (i+n-1)%n)))
	}
	m, err := b.Compile(nil)
	require.NoError(tb, err)
	return m, []Event{{Type: "NEXT"}, {Type: "NEXT"}, {Type: "PREV"}}
}

// parallelMachine: a parallel state of three regions, each a compound state
// with a nested compound child; TICK moves every region, FLIP one nested
// state, RESET crosses regions (exits and enters all of them).
func parallelMachine(tb testing.TB) (*Machine, []Event) {
	b := NewBuilder("par")
	b.Initial("p")
	p := b.State("p").Parallel()
	for _, r := range []string{"r1", "r2", "r3"} {
		reg := p.State(r).Initial("a")
		reg.State("a").Initial("x").On("TICK", To("b"))
		reg.State("a").State("x").On("FLIP", To("y"))
		reg.State("a").State("y").On("FLIP", To("x"))
		reg.State("b").On("TICK", To("a"))
	}
	p.State("r3").State("b").On("RESET", To("#par.p.r1.a"))
	m, err := b.Compile(nil)
	require.NoError(tb, err)
	return m, []Event{{Type: "TICK"}, {Type: "TICK"}, {Type: "FLIP"}, {Type: "TICK"}, {Type: "RESET"}}
}

// historyMachine: a compound state with deep and shallow history, left and
// restored on every other event.
func historyMachine(tb testing.TB) (*Machine, []Event) {
	b := NewBuilder("hist")
	b.Initial("work")
	w := b.State("work").Initial("a").On("PAUSE", To("#hist.idle"))
	w.State("a").Initial("a1").On("N", To("b"))
	w.State("a").State("a1").On("M", To("a2"))
	w.State("a").State("a2")
	w.State("b").On("N", To("a"))
	w.State("deep").History(true)
	w.State("shallow").History(false)
	b.State("idle").On("DEEP", To("#hist.work.deep")).On("SHALLOW", To("#hist.work.shallow"))
	m, err := b.Compile(nil)
	require.NoError(tb, err)
	return m, []Event{{Type: "M"}, {Type: "PAUSE"}, {Type: "DEEP"}, {Type: "N"}, {Type: "PAUSE"}, {Type: "SHALLOW"}, {Type: "N"}, {Type: "PAUSE"}, {Type: "DEEP"}}
}

// counterMachine: a flat machine whose transitions assign to the context.
func counterMachine(tb testing.TB) (*Machine, []Event) {
	b := NewBuilder("ctr").WithContext(Context{"count": 0})
	b.Initial("a")
	b.State("a").On("E", To("b").Do(Action("xorc.increment", nil)))
	b.State("b").On("E", To("a").Do(Action("xorc.increment", nil)))
	m, err := b.Compile(nil)
	require.NoError(tb, err)
	return m, []Event{{Type: "E"}}
}

func benchMachine(b *testing.B, m *Machine, evs []Event) {
	it := m.NewInterpreter()
	s, _ := it.Start()
	for range 3 {
		for _, ev := range evs {
			next, _ := it.Step(s, ev)
			require.NotEqual(b, jsonOf(s.Value()), jsonOf(next.Value()), "%s takes a transition", ev.Type)
			s = next
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i, j := 0, 0; i < b.N; i++ {
		s, _ = it.Step(s, evs[j])
		if j++; j == len(evs) {
			j = 0
		}
	}
	c1 := cpuTime()
	b.StopTimer()
	require.Equal(b, StatusActive, s.Status)
	b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkInterp(b *testing.B) {
	for _, tc := range []struct {
		name string
		mk   func(testing.TB) (*Machine, []Event)
	}{
		{"flat", func(tb testing.TB) (*Machine, []Event) { return flatMachine(tb, 10) }},
		{"flat100", func(tb testing.TB) (*Machine, []Event) { return flatMachine(tb, 100) }},
		{"nested-parallel", parallelMachine},
		{"history", historyMachine},
		{"flat-assign", counterMachine},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, evs := tc.mk(b)
			benchMachine(b, m, evs)
		})
	}
}

// BenchmarkInterpBenchCases runs the events of testdata/bench/*.json (the
// cases bench/xstate/bench.mjs gives XState) on created machines.
func BenchmarkInterpBenchCases(b *testing.B) {
	for _, name := range []string{"flat", "parallel", "history"} {
		b.Run(name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join("testdata", "bench", name+".json"))
			require.NoError(b, err)
			var c struct {
				Machine json.RawMessage `json:"machine"`
				Events  []Event         `json:"events"`
			}
			require.NoError(b, json.Unmarshal(data, &c))
			m, err := LoadJSON(c.Machine, nil)
			require.NoError(b, err)
			benchMachine(b, m, c.Events)
		})
	}
}

// BenchmarkRunCaseBenchCases: whole cases (load, compile, run, output steps)
// of testdata/bench/*.json through RunCase, like bench/xstate/bench.mjs's
// "case" figure.
func BenchmarkRunCaseBenchCases(b *testing.B) {
	for _, name := range []string{"flat", "parallel", "history"} {
		b.Run(name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join("testdata", "bench", name+".json"))
			require.NoError(b, err)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if r := RunCase(data); r.Error != "" {
					b.Fatal(r.Error)
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func BenchmarkLoadJSON(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := LoadJSON([]byte(builderJSON), &Implementations{
			Actions: map[string]ActionFunc{"note": func(*ActionArgs) error { return nil }},
			Guards:  map[string]GuardFunc{"never": func(*GuardArgs) bool { return false }},
			Delays:  map[string]time.Duration{"soon": time.Millisecond},
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkRunCase(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if r := RunCase([]byte(clockCase)); r.Error != "" {
			b.Fatal(r.Error)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}
