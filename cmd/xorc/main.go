// Command xorc runs statechart machines as proto.actor actors.
//
//	xorc demo                      a wafer tool: several machines talking by ID
//	xorc machine run [FILE]        run oracle cases (stdin without FILE)
//	xorc bench [--transport inproc] [--json] [--events N] [--requests N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  xorc demo                                  run the wafer-tool demo in one process
  xorc machine run [FILE]                    run oracle-format cases (stdin without FILE)
  xorc bench [--transport inproc] [--json]   measure one-way events/s and request RTT
             [--events N] [--requests N] [--warmup N]
`

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdin, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "xorc: %v\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "xorc: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	switch args[0] {
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "machine":
		if len(args) < 2 || args[1] != "run" {
			return fmt.Errorf("%w: want \"machine run [FILE]\"", errUsage)
		}
		return cmdMachineRun(args[2:], stdin, stdout)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		return flag.ErrHelp
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// newFlagSet returns a flag set whose errors come back as values.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
