//go:build unix

package actor_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) of the whole test process, GC
// workers included, the same measure bench/xstate/bench.mjs takes from
// process.cpuUsage(). It is less sensitive than wall time to other processes
// on a loaded machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
