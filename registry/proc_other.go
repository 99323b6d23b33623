//go:build unix && !linux

package registry

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

type pidState uint8

const (
	pidUnknown pidState = iota
	pidAlive
	pidGone
	pidReused
)

// checkPID without /proc: kill(pid, 0) tells whether the pid exists; pid
// reuse cannot be seen (heartbeats catch it).
func checkPID(pid int, _ uint64) pidState {
	switch err := unix.Kill(pid, 0); {
	case err == nil || errors.Is(err, unix.EPERM):
		return pidAlive
	case errors.Is(err, unix.ESRCH):
		return pidGone
	}
	return pidUnknown
}

func selfStartTime() uint64 { return 0 }

func pidNamespace() uint64 { return 0 }

func clockMonotonic() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

func punchHole(int, int64, int64) bool { return false }

const pidfdSupported = false

func openPidfd(int) (*os.File, error) { return nil, errors.ErrUnsupported }

func pidfdExited(uintptr) bool { return false }
