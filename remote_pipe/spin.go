//go:build linux || darwin

package remote_pipe

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ReplySpin is how long the node's inbound readers poll their sockets
// (non-blocking reads, letting this process's other goroutines run between
// two polls) after a request went out, rather than park in the Go poller:
// the reply comes within a round trip. A parked reader costs, per message,
// the wake-up of the thread blocked in epoll and, because the reader then
// readies another goroutine while the process's second P is idle, the
// futex wake-up of another runtime thread that finds nothing to do and
// competes for a CPU with the peer process. Measured on the 2-vCPU VM
// (`xorc bench --transport pipe --rows xorc-pipe --requests 20000`): RTT
// p50 ~115-155 µs parked, ~20 µs polling (with RequestSpin on the peer).
const ReplySpin = 200 * time.Microsecond

// RequestSpin is how long the readers poll after a request came in: in a
// request/reply loop the next request follows our reply within a round
// trip. Shorter than ReplySpin: it is a guess. Both are needed: polling
// only for replies measured no gain (the serving process still parks and
// pays the wake-ups above on every request).
const RequestSpin = 50 * time.Microsecond

// spinYieldEvery: a polling reader also yields its CPU to other threads
// (sched_yield) at most this often, so that a peer process that shares
// its CPU still runs. Not much more often: a sched_yield often hands the
// CPU to this process's own runtime thread that the last hand-off woke
// (measured: every 10 µs, RTT p50 back to ~145 µs; every 50 µs, ~23 µs;
// never, ~21 µs).
const spinYieldEvery = 50 * time.Microsecond

// spinEnabled: a process limited to one CPU (taskset, a cpuset; Go's
// NumCPU counts the CPUs it may use) does not poll: its poller would keep
// the peer from running (measured with both processes on one CPU: RTT p50
// ~65 µs parked, 110-130 µs polling with the yield, ~300 µs without).
var spinEnabled = runtime.NumCPU() > 1

// ExpectTraffic makes the node's inbound readers poll for up to d (from
// now) before they park: the transport calls it after writing a request
// (ReplySpin) and when a request came in (RequestSpin). Idle readers are
// not affected: an idle process does not poll.
func (n *Node) ExpectTraffic(d time.Duration) {
	if d <= 0 || !spinEnabled {
		return
	}
	until := nanotime() + int64(d)
	for {
		cur := n.spinUntil.Load()
		if cur >= until || n.spinUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// spinReader is an inbound connection's byte source: while the node
// expects traffic it polls the socket with non-blocking reads, otherwise
// (and once the window passed) it reads through the Go poller. Deadlines
// and Close end a poll as they end a read.
type spinReader struct {
	n   *Node
	c   *net.UnixConn
	raw syscall.RawConn // nil: never poll
}

func newSpinReader(n *Node, c *net.UnixConn) *spinReader {
	raw, err := c.SyscallConn()
	if err != nil { // cannot fail for an open *net.UnixConn
		raw = nil
	}
	return &spinReader{n: n, c: c, raw: raw}
}

func (r *spinReader) Read(p []byte) (int, error) {
	if r.raw == nil || len(p) == 0 || nanotime() >= r.n.spinUntil.Load() {
		return r.c.Read(p)
	}
	lastYield := nanotime()
	for now := lastYield; now < r.n.spinUntil.Load(); now = nanotime() {
		if now-lastYield >= int64(spinYieldEvery) {
			lastYield = now
			osYield()
		}
		var k int
		var rerr error
		// The callback returns true: one attempt, never a wait in the
		// poller (a passed deadline or a close fails it at once).
		if err := r.raw.Read(func(fd uintptr) bool {
			for {
				k, rerr = unix.Read(int(fd), p)
				if rerr != unix.EINTR {
					return true
				}
			}
		}); err != nil {
			return 0, err
		}
		switch {
		case rerr == nil && k > 0:
			return k, nil
		case rerr == nil:
			return 0, io.EOF
		case errors.Is(rerr, unix.EAGAIN):
			runtime.Gosched() // let what the last frame woke run here
		default:
			return 0, &net.OpError{Op: "read", Net: "unix", Addr: r.c.LocalAddr(), Err: os.NewSyscallError("read", rerr)}
		}
	}
	return r.c.Read(p)
}
