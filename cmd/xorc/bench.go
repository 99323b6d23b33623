package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xorc-dev/xorc/bench"
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	transport := fs.String("transport", "inproc", "transport to measure")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	events := fs.Int("events", bench.DefaultEvents, "one-way events")
	requests := fs.Int("requests", bench.DefaultRequests, "request round trips")
	warmup := fs.Int("warmup", 0, "unmeasured warm-up events and requests (default requests/10)")
	spin := fs.Duration("spin", 0, "shm: the reader's spin budget (0: the default, negative: none)")
	spins := fs.String("spin-sweep", "", "shm: comma-separated spin budgets, one extra xorc-shm row each (e.g. -1ns,1us,10us,50us)")
	rows := fs.String("rows", "", "comma-separated names of the rows to run (default: all)")
	idle := fs.Duration("idle", 0, "two-process rows: how long the peer idles for its CPU use (default 2s, negative: skip)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var sweep []time.Duration
	for _, s := range strings.Split(*spins, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%w: --spin-sweep: %v", errUsage, err)
		}
		sweep = append(sweep, d)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, fs.Args())
	}
	if *events < 1 || *requests < 1 || *warmup < 0 {
		return fmt.Errorf("%w: --events and --requests must be positive, --warmup not negative", errUsage)
	}
	rep, err := bench.Run(ctx, *transport, bench.Options{Events: *events, Requests: *requests, Warmup: *warmup,
		ShmSpin: *spin, ShmSpins: sweep, IdleFor: *idle, Rows: splitList(*rows)})
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
