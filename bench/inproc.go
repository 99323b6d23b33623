package bench

import (
	"context"
	"fmt"
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
const requestTimeout = 10 * time.Second

func runXorcInproc(ctx context.Context, o Options) (Row, error) {
	m, err := actor.LoadJSON([]byte(ToggleJSON), nil)
	if err != nil {
		return Row{}, fmt.Errorf("load toggle machine: %w", err)
	}
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	orc, err := xorc.New(system, xorc.Config{Transport: xorc.InProcess, Name: "bench"})
	if err != nil {
		return Row{}, err
	}
	defer orc.Close()
	if _, err := orc.Spawn(ctx, "toggle", m); err != nil {
		return Row{}, err
	}
	ev := actor.Event{Type: "T"}
	send := func(n int) error {
		for range n {
			if err := orc.Send(ctx, "toggle", ev); err != nil {
				return err
			}
		}
		// The mailbox is FIFO: the answer to this request comes after every event above.
		_, err := orc.Snapshot(ctx, "toggle")
		return err
	}
	request := func() error {
		_, err := orc.Request(ctx, "toggle", ev)
		return err
	}
	row, err := measure(o, send, request)
	if err != nil {
		return Row{}, err
	}
	if n := orc.Stats().Events; n < uint64(o.Events+o.Requests) {
		return Row{}, fmt.Errorf("machine processed %d events, want at least %d", n, o.Events+o.Requests)
	}
	return row, nil
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

func runProtoactorLocal(ctx context.Context, o Options) (Row, error) {
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	root := system.Root
	pid := root.Spawn(pactor.PropsFromProducer(func() pactor.Actor { return &plainActor{} }))
	defer root.Stop(pid)
	msg := plainMsg{typ: "T"}
	send := func(n int) error {
		for range n {
			root.Send(pid, msg)
		}
		_, err := root.RequestFuture(pid, &plainQuery{}, requestTimeout).Result()
		return err
	}
	request := func() error {
		_, err := root.RequestFuture(pid, msg, requestTimeout).Result()
		return err
	}
	return measure(o, send, request)
}

// measure runs the one-way and the round-trip measurement with warm-ups.
// send(n) sends n one-way messages and returns once all were processed.
func measure(o Options, send func(n int) error, request func() error) (Row, error) {
	if err := send(o.Warmup); err != nil {
		return Row{}, fmt.Errorf("warm-up: %w", err)
	}
	start := time.Now()
	if err := send(o.Events); err != nil {
		return Row{}, fmt.Errorf("one-way: %w", err)
	}
	oneway := PerSec(o.Events, time.Since(start))

	for range o.Warmup {
		if err := request(); err != nil {
			return Row{}, fmt.Errorf("warm-up request: %w", err)
		}
	}
	samples := make([]time.Duration, o.Requests)
	for i := range samples {
		t0 := time.Now()
		if err := request(); err != nil {
			return Row{}, fmt.Errorf("request %d: %w", i, err)
		}
		samples[i] = time.Since(t0)
	}
	p50, p99, p999 := Latencies(samples)
	return Row{OnewayPerSec: oneway, RTTP50us: p50, RTTP99us: p99, RTTP999us: p999}, nil
}
