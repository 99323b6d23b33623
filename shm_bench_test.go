//go:build linux

package xorc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"golang.org/x/sys/unix"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/registry"
)

// Two members of one shared-memory system in this process (two actor
// systems, two slots, two inboxes): the CPU cost of the cross-process path
// without a second process's scheduling. The two-process figures come from
// `xorc bench --transport shm`.
func benchPair(b *testing.B) (a, z *Orchestrator) {
	name := fmt.Sprintf("bench-pair-%d", os.Getpid())
	b.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	cfg := Config{Transport: SharedMemory, Name: name, Shm: ShmConfig{MaxProcesses: 4, MaxMachines: 8}}
	if v := os.Getenv("XORC_SHM_SPIN"); v != "" {
		d, _ := time.ParseDuration(v)
		cfg.Shm.Spin = Duration(d)
	}
	return benchPairOf(b, cfg)
}

// benchPairOf is benchPair for any transport between processes: two
// orchestrators of cfg's system, a toggle machine in the second.
func benchPairOf(b *testing.B, cfg Config) (a, z *Orchestrator) {
	mk := func() *Orchestrator {
		sys := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
		b.Cleanup(sys.Shutdown)
		o, err := New(sys, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = o.Close() })
		return o
	}
	a, z = mk(), mk()
	m, err := actor.LoadJSON([]byte(`{"id": "t", "initial": "a", "states": {"a": {"on": {"T": "b"}}, "b": {"on": {"T": "a"}}}}`), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := z.Spawn(context.Background(), "toggle", m); err != nil {
		b.Fatal(err)
	}
	return a, z
}

// cpuNs reports the process's CPU time per operation (both members, all
// threads): less sensitive to a loaded machine than wall time.
func cpuNs(b *testing.B) func() {
	var before unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &before)
	return func() {
		var after unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_SELF, &after)
		used := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
		b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	}
}

// drained waits until the machine "toggle" has taken every event sent
// before (a snapshot request queues behind them). One-way sends return once
// queued and the machine's mailbox is unbounded, so after a long run the
// backlog can take longer than the default request timeout: the wait is
// bounded by a minute instead.
func drained(b *testing.B, a *Orchestrator) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := a.Snapshot(ctx, "toggle"); err != nil {
		b.Fatal(err)
	}
}

// checkEvents fails the benchmark unless the machine took every one of the
// b.N events sent since it had taken before.
func checkEvents(b *testing.B, z *Orchestrator, before uint64) {
	if got := z.Stats().Events - before; got != uint64(b.N) {
		ts, _ := z.TransportStats()
		b.Fatalf("the machine took %d of %d events (receiver: %d decode errors, %d dead letters in)",
			got, b.N, ts.DecodeErrors, ts.DeadLettersIn)
	}
}

// sendOneWay is the body of the one-way benchmarks: b.N events from a to
// the machine "toggle" of z, timed until the machine took them all (and
// checked that it did), then the sender's envelopes per batch.
func sendOneWay(b *testing.B, a, z *Orchestrator) {
	ctx := context.Background()
	ev := actor.Event{Type: "T"}
	before := z.Stats().Events
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuNs(b)()
	for range b.N {
		if err := a.Send(ctx, "toggle", ev); err != nil {
			b.Fatal(err)
		}
	}
	drained(b, a)
	b.StopTimer()
	checkEvents(b, z, before)
	st, _ := a.TransportStats()
	b.ReportMetric(float64(st.Sent)/float64(st.SentBatches), "envelopes/batch")
}

func BenchmarkShmSendOneWay(b *testing.B) {
	a, z := benchPair(b)
	sendOneWay(b, a, z)
	if zz, _ := z.TransportStats(); zz.Shm.Inbox.FullWaits > 0 {
		b.ReportMetric(float64(zz.Shm.Inbox.FullWaits), "full-waits")
	}
}

func BenchmarkShmRequest(b *testing.B) {
	a, z := benchPair(b)
	ctx := context.Background()
	ev := actor.Event{Type: "T"}
	if _, err := a.Request(ctx, "toggle", ev); err != nil { // dialed both ways
		b.Fatal(err)
	}
	sleeps := func() uint64 {
		sa, _ := a.TransportStats()
		sz, _ := z.TransportStats()
		return sa.Shm.Inbox.Sleeps + sz.Shm.Inbox.Sleeps
	}
	before := sleeps()
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuNs(b)()
	for range b.N {
		if _, err := a.Request(ctx, "toggle", ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// Futex sleeps of the two readers per round trip: each one is a wake-up
	// (system calls, a scheduling delay) on the request path.
	b.ReportMetric(float64(sleeps()-before)/float64(b.N), "reader-sleeps/op")
}
