package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
)

// Row names of the in-process suite.
const (
	RowXorcInproc      = "xorc-inproc"
	RowProtoactorLocal = "protoactor-local"
)

func init() {
	Register(Suite{
		Transport: "inproc",
		Baseline:  RowProtoactorLocal,
		Runners: []Runner{
			{Name: RowXorcInproc, Run: runXorcInproc},
			{Name: RowProtoactorLocal, Run: runProtoactorLocal},
		},
	})
}

// ToggleJSON is the benchmark machine: every T event is one transition.
const ToggleJSON = `{"id": "toggle", "initial": "a", "states": {
  "a": {"on": {"T": "b"}},
  "b": {"on": {"T": "a"}}}}`

// requestTimeout bounds each request of a run; a benchmark that stalls fails.
const requestTimeout = time.Minute

// Target is what a row measures: a way to send one-way events and requests
// to one machine (or actor).
type Target struct {
	// Send sends n one-way events and returns once all were processed.
	Send func(n int) error
	// Request makes one request and waits for its answer.
	Request func() error
	// Processed reports how many events the target processed (a sanity check).
	Processed func() uint64
	Close     func()
}

// NewXorcInproc starts an in-process orchestrator with one toggle machine;
// its one-way events and requests are T events without data.
func NewXorcInproc(ctx context.Context) (*Target, error) {
	return newXorcInproc(ctx, actor.Event{Type: "T"})
}

// newXorcInproc is NewXorcInproc sending ev (of type T).
func newXorcInproc(ctx context.Context, ev actor.Event) (*Target, error) {
	m, err := actor.LoadJSON([]byte(ToggleJSON), nil)
	if err != nil {
		return nil, fmt.Errorf("load toggle machine: %w", err)
	}
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	orc, err := xorc.New(system, xorc.Config{Transport: xorc.InProcess, Name: "bench", RequestTimeout: xorc.Duration(requestTimeout)})
	if err != nil {
		system.Shutdown()
		return nil, err
	}
	if _, err := orc.Spawn(ctx, "toggle", m); err != nil {
		orc.Close()
		system.Shutdown()
		return nil, err
	}
	return &Target{
		Send: func(n int) error {
			for range n {
				if err := orc.Send(ctx, "toggle", ev); err != nil {
					return err
				}
			}
			// The mailbox is FIFO: this answer comes after every event above.
			_, err := orc.Snapshot(ctx, "toggle")
			return err
		},
		Request: func() error {
			_, err := orc.Request(ctx, "toggle", ev)
			return err
		},
		Processed: func() uint64 { return orc.Stats().Events },
		Close: func() {
			orc.Close()
			system.Shutdown()
		},
	}, nil
}

func runXorcInproc(ctx context.Context, o Options) (Row, error) {
	t, err := NewXorcInproc(ctx)
	if err != nil {
		return Row{}, err
	}
	defer t.Close()
	return measure(o, t)
}

// plainMsg is the baseline's message, a small struct like actor.Event.
type plainMsg struct{ typ string }

// plainQuery asks the baseline actor for its count.
type plainQuery struct{}

type plainActor struct{ n int }

func (a *plainActor) Receive(c pactor.Context) {
	switch c.Message().(type) {
	case plainMsg:
		a.n++
		if c.Sender() != nil {
			c.Respond(a.n)
		}
	case *plainQuery:
		c.Respond(a.n)
	}
}

// NewProtoactorLocal starts a plain proto.actor actor that counts messages.
func NewProtoactorLocal() *Target {
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	root := system.Root
	a := &plainActor{}
	pid := root.Spawn(pactor.PropsFromProducer(func() pactor.Actor { return a }))
	msg := plainMsg{typ: "T"}
	return &Target{
		Send: func(n int) error {
			for range n {
				root.Send(pid, msg)
			}
			_, err := root.RequestFuture(pid, &plainQuery{}, requestTimeout).Result()
			return err
		},
		Request: func() error {
			_, err := root.RequestFuture(pid, msg, requestTimeout).Result()
			return err
		},
		Processed: func() uint64 {
			n, _ := root.RequestFuture(pid, &plainQuery{}, requestTimeout).Result()
			c, _ := n.(int)
			return uint64(c)
		},
		Close: system.Shutdown,
	}
}

func runProtoactorLocal(_ context.Context, o Options) (Row, error) {
	t := NewProtoactorLocal()
	defer t.Close()
	return measure(o, t)
}

// measure runs the one-way and the round-trip measurement with warm-ups.
// Every row measures the same: one-way, a single sender goroutine sends
// o.Events messages in a loop and then makes one request, which the target
// answers after processing all of them (its mailbox is FIFO); the rate is
// o.Events over the wall time from the first send to that answer, so it
// counts the processing at the receiver, not just the sending. Round trip:
// o.Requests sequential requests, each timed from the send to the answer.
// Each row then checks the count of messages its receiver processed. A
// collection before each phase keeps one row's garbage out of the next.
func measure(o Options, t *Target) (Row, error) {
	if err := t.Send(o.Warmup); err != nil {
		return Row{}, fmt.Errorf("warm-up: %w", err)
	}
	runtime.GC()
	start := time.Now()
	if err := t.Send(o.Events); err != nil {
		return Row{}, fmt.Errorf("one-way: %w", err)
	}
	oneway := PerSec(o.Events, time.Since(start))

	for range o.Warmup {
		if err := t.Request(); err != nil {
			return Row{}, fmt.Errorf("warm-up request: %w", err)
		}
	}
	runtime.GC()
	samples := make([]time.Duration, o.Requests)
	for i := range samples {
		t0 := time.Now()
		if err := t.Request(); err != nil {
			return Row{}, fmt.Errorf("request %d: %w", i, err)
		}
		samples[i] = time.Since(t0)
	}
	if n, want := t.Processed(), uint64(o.Warmup*2+o.Events+o.Requests); n != want {
		return Row{}, fmt.Errorf("processed %d events, want %d", n, want)
	}
	p50, p99, p999 := Latencies(samples)
	return Row{OnewayPerSec: oneway, RTTP50us: p50, RTTP99us: p99, RTTP999us: p999}, nil
}
