//go:build linux

package xorc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/registry"
)

// Two members of one named-pipe system in this process: the CPU cost of the
// socket path without a second process's scheduling. The two-process
// figures come from `xorc bench --transport pipe`.
func benchPipePair(b *testing.B) (a, z *Orchestrator) {
	name := fmt.Sprintf("bench-pipe-pair-%d", os.Getpid())
	dir, err := os.MkdirTemp("", "xbp")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = os.RemoveAll(dir)
		_ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name))
	})
	return benchPairOf(b, Config{Transport: NamedPipe, Name: name, Shm: ShmConfig{MaxProcesses: 4, MaxMachines: 8},
		Pipe: PipeConfig{Dir: filepath.Join(dir, "s")}})
}

func BenchmarkPipeSendOneWay(b *testing.B) {
	a, z := benchPipePair(b)
	sendOneWay(b, a, z)
	st, _ := a.TransportStats()
	b.ReportMetric(float64(st.Pipe.Node.FramesOut)/float64(max(st.Pipe.Node.Writes, 1)), "frames/write")
}

func BenchmarkPipeRequest(b *testing.B) {
	a, _ := benchPipePair(b)
	ctx := context.Background()
	ev := actor.Event{Type: "T"}
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuNs(b)()
	for range b.N {
		if _, err := a.Request(ctx, "toggle", ev); err != nil {
			b.Fatal(err)
		}
	}
}
