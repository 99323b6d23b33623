//go:build unix

package registry

import (
	"os"

	"golang.org/x/sys/unix"
)

// crashAtEnv names a test hook: a process whose environment sets it to a
// mutation step ("join", "register", "delete", "reclaim", "orphan",
// "address", "leave") SIGKILLs itself half-way through writing an entry in
// that step, holding the lock, so the tests can check that the next process
// to take the lock repairs the table. Unset, it costs one string comparison
// per entry write.
const crashAtEnv = "XORC_REGISTRY_TEST_CRASH_AT"

var crashAt = os.Getenv(crashAtEnv)

func crashPoint(step string) {
	if crashAt == "" || crashAt != step {
		return
	}
	_ = unix.Kill(os.Getpid(), unix.SIGKILL)
	select {} // SIGKILL cannot be caught; never go on writing
}
