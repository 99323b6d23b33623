//go:build linux

package registry

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pidState is what /proc says about a pid.
type pidState uint8

const (
	pidUnknown pidState = iota // cannot tell (no /proc, no permission): rely on heartbeats
	pidAlive                   // exists with the expected start time
	pidGone                    // does not exist, or is a zombie
	pidReused                  // exists with another start time
)

// statPID reads /proc/<pid>/stat: the process state (field 3) and start time
// (field 22, clock ticks since boot). The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func statPID(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseStat(b)
}

var errBadStat = errors.New("unparsable /proc stat")

func parseStat(b []byte) (state byte, start uint64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, errBadStat
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); field 22 (starttime) is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, errBadStat
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, errBadStat
	}
	return f[0][0], start, nil
}

// checkPID says whether pid is still the process that started at start.
func checkPID(pid int, start uint64) pidState {
	state, st, err := statPID(pid)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH):
		return pidGone
	case err != nil:
		return pidUnknown
	case state == 'Z' || state == 'X':
		return pidGone
	case start != 0 && st != start:
		return pidReused
	}
	return pidAlive
}

// selfStartTime is this process's start time, 0 if /proc cannot tell.
func selfStartTime() uint64 {
	_, st, err := statPID(os.Getpid())
	if err != nil {
		return 0
	}
	return st
}

// pidNamespace identifies this process's pid namespace (the inode of
// /proc/self/ns/pid), 0 if unknown. Pids are only compared between processes
// of one namespace; others are judged by their heartbeats alone.
func pidNamespace() uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return 0
	}
	return st.Ino
}

// clockMonotonic reads CLOCK_MONOTONIC, which every process on the host
// shares (a system call: monoNow derives it from Go's clock instead).
func clockMonotonic() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// punchHole frees the pages of [off, off+n) in the segment file and makes
// them read as zeros. It reports false when the file system cannot.
func punchHole(fd int, off, n int64) bool {
	return unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n) == nil
}

// pidfdSupported: pidfd_open exists (Linux 5.3+).
const pidfdSupported = true

// openPidfd opens a pollable pidfd for pid.
func openPidfd(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid)), nil
}

// pidfdExited is the readiness check of a pidfd: readable once the process exited.
func pidfdExited(fd uintptr) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}
