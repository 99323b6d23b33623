//go:build unix

package bench

import (
	"syscall"
	"time"
)

// testProcessCPU is the CPU time (user + system) of the whole test process,
// GC workers included: per event it is less sensitive than wall time to other
// processes on a loaded machine.
func testProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
