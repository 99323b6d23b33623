package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/examples/wafer"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return runDemo(ctx, stdout)
}

// runDemo runs the wafer tool (package examples/wafer: a load port, a robot
// and a process chamber that drive each other by machine ID) until the load
// port is done, and prints the event flow and the final states. The flow is one causal chain, so the
// output is the same on every run.
func runDemo(ctx context.Context, w io.Writer) error {
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	defer system.Shutdown()
	orc, err := xorc.New(system, xorc.Config{Transport: xorc.InProcess, Name: "demo"})
	if err != nil {
		return err
	}
	defer orc.Close()

	var mu sync.Mutex
	step := 0
	done := make(chan struct{})
	var once sync.Once
	sub := system.EventStream.Subscribe(func(evt any) {
		sc, ok := evt.(*actor.StateChanged)
		if !ok || sc.Event.Type == "xstate.init" {
			return
		}
		mu.Lock()
		step++
		fmt.Fprintf(w, "%3d  %-9s %-34s -> %s\n", step, sc.MachineID, sc.Event.Type, valueString(sc.Snapshot.Value()))
		mu.Unlock()
		if sc.MachineID == "loadport" && sc.Snapshot.Status == actor.StatusDone {
			once.Do(func() { close(done) })
		}
	})
	defer system.EventStream.Unsubscribe(sub)

	for _, id := range wafer.IDs {
		m, err := wafer.Load(id)
		if err != nil {
			return err
		}
		if _, err := orc.Spawn(ctx, id, m); err != nil {
			return err
		}
		// Wait for the start macrostep, so that the machines start in order.
		if _, err := orc.Snapshot(ctx, id); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "wafer tool: %v, %d wafers\n", orc.Machines(), wafer.Wafers)
	if err := orc.Send(ctx, "loadport", actor.Event{Type: "START"}); err != nil {
		return err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("demo did not finish: %w", ctx.Err())
	}

	mu.Lock() // no more flow lines from here on
	defer mu.Unlock()
	fmt.Fprintln(w, "final states:")
	for _, id := range wafer.IDs {
		s, err := orc.Snapshot(ctx, id)
		if err != nil {
			return err
		}
		cj, _ := json.Marshal(s.Context)
		fmt.Fprintf(w, "  %-9s %-9s %-7s %s\n", id, valueString(s.Value), statusString(s.Status), cj)
	}
	if st := orc.Stats(); st.SendErrors > 0 || st.Panics > 0 {
		return fmt.Errorf("demo had %d send errors and %d panics", st.SendErrors, st.Panics)
	}
	return nil
}

func valueString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func statusString(s actor.Status) string {
	switch s {
	case actor.StatusDone:
		return "done"
	case actor.StatusError:
		return "error"
	}
	return "active"
}
