package actor_test

// Interpreter benchmarks on the cases of testdata/bench/ (the same cases
// bench/xstate/bench.mjs runs through XState; scripts/bench-interp.sh runs both
// and prints the ratios).
//
//	go test ./actor -run '^$' -bench 'Benchmark(Step|Case)$' -benchmem
//
// BenchmarkStep: one op = one event sent to a machine that is already
// created and started (every event of these cases takes a transition, so
// transitions/s = events/s and allocs/op = allocations per transition). On
// these machines every step comes from the step cache once it is warm;
// BenchmarkStepNoCache runs the interpreter for every event.
// BenchmarkCase: one op = one whole case through actor.RunCase (load,
// compile, start, every event, the oracle's output format).
// Both also report cpu-ns/op, the process CPU time per op (GC included),
// which bench-interp.sh compares with XState's process CPU time.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
)

type benchCase struct {
	raw     []byte // the whole case, compact JSON
	machine json.RawMessage
	events  []actor.Event
}

func loadBenchCase(tb testing.TB, name string) benchCase {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bench", name+".json"))
	require.NoError(tb, err)
	var c struct {
		Machine json.RawMessage  `json:"machine"`
		Events  []map[string]any `json:"events"`
	}
	require.NoError(tb, json.Unmarshal(data, &c))
	bc := benchCase{raw: data, machine: c.Machine}
	for i, e := range c.Events {
		typ, ok := e["type"].(string)
		require.True(tb, ok && typ != "$wait", "%s event %d: a bench event needs a type and cannot be $wait", name, i)
		ev := actor.Event{Type: typ}
		delete(e, "type")
		if len(e) > 0 {
			ev.Data = e
		}
		bc.events = append(bc.events, ev)
	}
	require.NotEmpty(tb, bc.events, name)
	return bc
}

func valueJSON(tb testing.TB, s actor.Snapshot) any {
	tb.Helper()
	v, err := goData(s.Value())
	require.NoError(tb, err)
	return v
}

// TestBenchCases checks, on XState's output, that the bench cases measure what
// they claim: every event changes the state value (so every event takes a
// transition), the context never changes, and one pass over the events
// returns to the initial value, so that the benchmarks can cycle through them.
func TestBenchCases(t *testing.T) {
	goldens := readGoldens(t, filepath.Join(oracleDir, "bench.golden.jsonl"))
	require.Len(t, goldens, len(benchNames))
	for i, name := range benchNames {
		t.Run(name, func(t *testing.T) {
			bc := loadBenchCase(t, name)
			g := goldens[i]
			require.Empty(t, g.Error)
			require.Len(t, g.Steps, len(bc.events)+1)
			first, err := jsonData(g.Steps[0].Value)
			require.NoError(t, err)
			prev := first
			for _, s := range g.Steps[1:] {
				require.Equal(t, "active", s.Status)
				v, err := jsonData(s.Value)
				require.NoError(t, err)
				require.NotEqual(t, prev, v, "step %d (%s) takes no transition", s.Step, s.Event)
				require.JSONEq(t, string(g.Steps[0].Context), string(s.Context), "step %d changes the context", s.Step)
				prev = v
			}
			require.Equal(t, first, prev, "the events must lead back to the initial state")
		})
	}
}

func BenchmarkStep(b *testing.B) { benchmarkStep(b, true) }

// BenchmarkStepNoCache is BenchmarkStep without the step cache: every event
// runs the interpreter, as for a machine whose transitions read or write the
// context.
func BenchmarkStepNoCache(b *testing.B) { benchmarkStep(b, false) }

func benchmarkStep(b *testing.B, cache bool) {
	for _, name := range benchNames {
		b.Run(name, func(b *testing.B) {
			bc := loadBenchCase(b, name)
			m, err := actor.LoadJSON(bc.machine, nil)
			require.NoError(b, err)
			it := m.NewInterpreter()
			if !cache {
				actor.DisableStepCache(it)
			}
			s, _ := it.Start()
			require.Equal(b, actor.StatusActive, s.Status, s.Error)
			start := valueJSON(b, s)
			// One pass outside the timer: it must come back to the start value
			// (TestBenchCases checks the same on XState's output).
			for _, ev := range bc.events {
				s, _ = it.Step(s, ev)
			}
			require.Equal(b, actor.StatusActive, s.Status, s.Error)
			require.Equal(b, start, valueJSON(b, s), "one pass over the events")

			evs := bc.events
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			// (A wrapping index: a division per op would be a good part of
			// a cached step.)
			for i, j := 0, 0; i < b.N; i++ {
				s, _ = it.Step(s, evs[j])
				if j++; j == len(evs) {
					j = 0
				}
			}
			cpu := processCPU() - cpu0
			b.StopTimer()
			require.Equal(b, actor.StatusActive, s.Status, s.Error)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transitions/s")
			reportCPU(b, cpu)
		})
	}
}

func BenchmarkCase(b *testing.B) {
	for _, name := range benchNames {
		b.Run(name, func(b *testing.B) {
			bc := loadBenchCase(b, name)
			res := actor.RunCase(bc.raw)
			require.Empty(b, res.Error)
			require.Len(b, res.Steps, len(bc.events)+1)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				res = actor.RunCase(bc.raw)
			}
			cpu := processCPU() - cpu0
			b.StopTimer()
			require.Empty(b, res.Error)
			require.Len(b, res.Steps, len(bc.events)+1)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
			reportCPU(b, cpu)
		})
	}
}

func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
