//go:build unix

package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var nameSeq atomic.Uint64

// segName makes a segment name unique to this test run.
func segName(t testing.TB) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, t.Name())
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("test-%d-%d-%s", os.Getpid(), nameSeq.Add(1), n)
}

// testOpts: small capacities, fast heartbeats, a unique segment in /dev/shm
// removed when the test ends.
func testOpts(t testing.TB) ShmOptions {
	o := ShmOptions{
		Name:              segName(t),
		Dir:               DefaultDir,
		MaxProcesses:      8,
		MaxMachines:       64,
		InboxBytes:        MinInboxBytes,
		InboxHeaderBytes:  256,
		HeartbeatInterval: 100 * time.Millisecond,
		HeartbeatTimeout:  5 * time.Second, // generous: -race on a loaded 2-core machine
	}
	path := filepath.Join(o.Dir, segmentPrefix+o.Name)
	t.Cleanup(func() { _ = os.Remove(path) })
	return o
}

func segPath(o ShmOptions) string { return filepath.Join(o.Dir, segmentPrefix+o.Name) }

func open(t testing.TB, o ShmOptions) *Shm {
	t.Helper()
	s, err := OpenShm(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// eventually polls cond until it holds or the generous deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
