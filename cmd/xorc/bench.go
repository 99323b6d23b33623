package main

import (
	"context"
	"fmt"
	"io"

	"github.com/xorc-dev/xorc/bench"
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	transport := fs.String("transport", "inproc", "transport to measure")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	events := fs.Int("events", bench.DefaultEvents, "one-way events")
	requests := fs.Int("requests", bench.DefaultRequests, "request round trips")
	warmup := fs.Int("warmup", 0, "unmeasured warm-up events and requests (default requests/10)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, fs.Args())
	}
	if *events < 1 || *requests < 1 || *warmup < 0 {
		return fmt.Errorf("%w: --events and --requests must be positive, --warmup not negative", errUsage)
	}
	rep, err := bench.Run(ctx, *transport, bench.Options{Events: *events, Requests: *requests, Warmup: *warmup})
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}
