package actor

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkCasePhases splits a whole bench case (RunCase) into its phases:
// the JSON parse, the definition, the compile, the run (a new interpreter,
// start, events, recorded steps) and the whole case without the parse, each
// op running the phase alone on the same input.
//
//	go test ./actor -run '^$' -bench 'BenchmarkCasePhases' -benchmem
func BenchmarkCasePhases(b *testing.B) {
	for _, name := range []string{"flat", "parallel", "history"} {
		data, err := os.ReadFile(filepath.Join("testdata", "bench", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		v, err := parseJSON(data)
		if err != nil {
			b.Fatal(err)
		}
		mv, _ := v.(*jsonObject).get("machine")
		def, err := definitionFromJSON(mv)
		if err != nil {
			b.Fatal(err)
		}
		phase := func(phase string, fn func()) {
			b.Run(name+"/"+phase, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				b.ReportAllocs()
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					fn()
				}
				b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
			})
		}
		phase("parse", func() {
			p := parserPool.Get().(*jsonParser)
			if _, err := p.parse(data); err != nil {
				b.Fatal(err)
			}
			p.release()
		})
		phase("definition", func() {
			if _, err := definitionFromJSON(mv); err != nil {
				b.Fatal(err)
			}
		})
		phase("compile", func() {
			if _, err := Compile(def, &Implementations{}); err != nil {
				b.Fatal(err)
			}
		})
		run0 := &caseRun{}
		m, events := run0.load(v, nil)
		if run0.err != "" {
			b.Fatal(run0.err)
		}
		phase("run", func() {
			run := &caseRun{}
			run.play(m.NewInterpreter(), events)
			if run.err != "" {
				b.Fatal(run.err)
			}
		})
		phase("case", func() {
			if r := runCaseValue(v); r.err != "" {
				b.Fatal(r.err)
			}
		})
	}
}
