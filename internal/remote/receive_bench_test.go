//go:build unix

package remote

import (
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

// BenchmarkReceiveMachine is the receiving process of a one-way stream
// without a transport and without the sender: batches of encoded events
// (as a peer writes them) go through Receive to a toggle machine actor,
// with at most maxBacklog events waiting in its mailbox (the sender's
// back-pressure). cpu-ns/op is the process's CPU per event, both the
// decoding goroutine and the machine's: nothing here spins while waiting.
func BenchmarkReceiveMachine(b *testing.B) {
	for _, perBatch := range []int{1, 16, 1024} {
		b.Run(strconv.Itoa(perBatch)+"-per-batch", func(b *testing.B) { benchReceiveMachine(b, perBatch) })
	}
}

func benchReceiveMachine(b *testing.B, perBatch int) {
	const addr = scheme + "b"
	const maxBacklog = 1 << 16
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	defer sys.Shutdown()
	sys.ProcessRegistry.Address = addr
	c, err := New(Config{System: sys, Address: addr, Match: func(a string) bool { return strings.HasPrefix(a, scheme) },
		Dial: func(string) (Link, error) { return nil, ErrClosed }})
	if err != nil {
		b.Fatal(err)
	}
	m, err := actor.LoadJSON([]byte(`{"id": "t", "initial": "a", "states": {"a": {"on": {"T": "b"}}, "b": {"on": {"T": "a"}}}}`), nil)
	if err != nil {
		b.Fatal(err)
	}
	stats := &actor.MachineStats{}
	pid, err := sys.Root.SpawnNamed(actor.MachineProps("toggle", m, actor.WithStats(stats)), "xorc/toggle")
	if err != nil {
		b.Fatal(err)
	}
	var batch []byte
	for range perBatch {
		if batch, err = appendEnvelope(batch, pid, nil, &proto.Event{Type: "T"}); err != nil {
			b.Fatal(err)
		}
	}
	wait := func(upTo uint64) {
		for stats.Events.Load() < upTo {
			time.Sleep(20 * time.Microsecond)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	before := processCPU()
	sent := 0
	for sent < b.N {
		if err := c.Receive(batch); err != nil {
			b.Fatal(err)
		}
		sent += perBatch
		if sent > maxBacklog {
			wait(uint64(sent - maxBacklog))
		}
	}
	wait(uint64(sent))
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-before)/float64(sent), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
