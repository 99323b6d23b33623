package conformance

import (
	"os"
	"testing"

	"github.com/xorc-dev/xorc"
)

// TestHelperNode is not a test: it is the body of the suite's child processes.
func TestHelperNode(t *testing.T) {
	if !IsNode() {
		t.Skip("a child process of the conformance suite")
	}
	os.Exit(Node())
}

func TestInProcess(t *testing.T) {
	Run(t, Target{
		Name:   "inproc",
		Config: func(name string) xorc.Config { return xorc.Config{Transport: xorc.InProcess, Name: name} },
	})
}
