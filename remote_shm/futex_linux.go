//go:build linux

package remote_shm

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations without FUTEX_PRIVATE_FLAG: the word lives in memory
// shared between processes, so the kernel must key the wait queue on the
// mapping, not on this process's address space.
const (
	futexWaitOp = 0 // FUTEX_WAIT
	futexWakeOp = 1 // FUTEX_WAKE
)

// futexWait sleeps while *addr == val, at most timeout. It reports whether
// the value changed (every wake-up of ours changes it first: Wake), so that a
// spurious return of FUTEX_WAIT (which the kernel allows), the timeout or a
// signal reports false.
func futexWait(addr *uint32, val uint32, timeout time.Duration) bool {
	ts := unix.NsecToTimespec(max(int64(timeout), 1))
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
	if errno == unix.EAGAIN {
		return true // the value was not val when the kernel looked
	}
	return atomic.LoadUint32(addr) != val // 0 (woken, or spuriously), ETIMEDOUT, EINTR
}

// futexWake wakes up to n waiters on addr.
func futexWake(addr *uint32, n int) {
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, uintptr(n), 0, 0, 0)
}

// osYield gives the CPU to another runnable thread, of any process. A
// spinning consumer calls it so that a producer the scheduler put on the same
// CPU (wake-affine placement of a ping-pong pair) can run and commit.
func osYield() {
	_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}
