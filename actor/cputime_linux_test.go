package actor

import (
	"syscall"
	"time"
)

// cpuTime is the calling thread's CPU time (getrusage RUSAGE_THREAD).
func cpuTime() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
