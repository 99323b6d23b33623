package bench

import (
	"context"
	"testing"

	"github.com/xorc-dev/xorc/actor"
)

// The Go benchmarks behind the goals (go test -bench . ./bench): machine
// events at least 0.5x plain actor messages per second, request p50 at most
// 1.5x. `xorc bench` reports the same with percentiles.

func targets(b *testing.B) map[string]func() *Target {
	return map[string]func() *Target{
		RowXorcInproc: func() *Target {
			t, err := NewXorcInproc(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			return t
		},
		RowProtoactorLocal: NewProtoactorLocal,
		// The same machine, sent T events that carry data (which the
		// machine ignores): each Send boxes its Event (one allocation).
		rowXorcInprocData: func() *Target {
			t, err := newXorcInproc(context.Background(), actor.Event{Type: "T", Data: map[string]any{"n": 1.0}})
			if err != nil {
				b.Fatal(err)
			}
			return t
		},
	}
}

const rowXorcInprocData = RowXorcInproc + "-data"

func BenchmarkOneway(b *testing.B) {
	for _, name := range []string{RowXorcInproc, rowXorcInprocData, RowProtoactorLocal} {
		b.Run(name, func(b *testing.B) {
			t := targets(b)[name]()
			defer t.Close()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := testProcessCPU()
			if err := t.Send(b.N); err != nil {
				b.Fatal(err)
			}
			cpu := testProcessCPU() - cpu0
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

func BenchmarkRequest(b *testing.B) {
	for _, name := range []string{RowXorcInproc, RowProtoactorLocal} {
		b.Run(name, func(b *testing.B) {
			t := targets(b)[name]()
			defer t.Close()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := testProcessCPU()
			for range b.N {
				if err := t.Request(); err != nil {
					b.Fatal(err)
				}
			}
			cpu := testProcessCPU() - cpu0
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
