//go:build unix

package registry

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// crashAtEnv names a test hook: a process whose environment sets it to a
// mutation step ("join", "register", "delete", "reclaim", "orphan",
// "address", "leave"), optionally with ":N" for the Nth time that step runs,
// SIGKILLs itself half-way through writing an entry in that step, holding
// the lock, so the tests can check that the next process to take the lock
// repairs the tables. Unset, it costs one comparison per entry write.
const crashAtEnv = "XORC_REGISTRY_TEST_CRASH_AT"

var crashStep, crashNth = parseCrashAt(os.Getenv(crashAtEnv))

var crashCount atomic.Int64

func parseCrashAt(v string) (string, int64) {
	step, nth, ok := strings.Cut(v, ":")
	if !ok {
		return step, 1
	}
	n, err := strconv.ParseInt(nth, 10, 64)
	if err != nil || n < 1 {
		return step, 1
	}
	return step, n
}

func crashPoint(step string) {
	if crashStep == "" || crashStep != step || crashCount.Add(1) != crashNth {
		return
	}
	_ = unix.Kill(os.Getpid(), unix.SIGKILL)
	select {} // SIGKILL cannot be caught; never go on writing
}
