package remote_pipe

import "golang.org/x/sys/unix"

// osYield gives the CPU to another thread (sched_yield).
func osYield() { _, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
