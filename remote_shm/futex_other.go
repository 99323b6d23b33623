//go:build !linux

package remote_shm

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Without a cross-process futex the consumer polls: it sleeps in short steps
// and watches the word. Wake-ups then cost up to pollStep of latency and an
// idle consumer wakes pollStep-often; only Linux is a supported target for
// the shared-memory transport, this keeps the package building elsewhere.
const pollStep = 200 * time.Microsecond

func futexWait(addr *uint32, val uint32, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for atomic.LoadUint32(addr) == val {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(left, pollStep))
	}
	return true
}

func futexWake(addr *uint32, n int) {}

func osYield() { runtime.Gosched() }
