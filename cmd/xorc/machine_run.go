package main

import (
	"fmt"
	"io"
	"os"

	"github.com/xorc-dev/xorc/actor"
)

// cmdMachineRun runs oracle-format cases through the interpreter: a thin call
// into package actor, which prints exactly what the XState oracle prints.
func cmdMachineRun(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("%w: machine run takes at most one FILE", errUsage)
	}
	in := stdin
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	return actor.RunOracleInput(in, stdout)
}
