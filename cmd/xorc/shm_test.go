//go:build linux

package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/bench"
)

// TestMain lets this test binary serve as the peer of `xorc bench`'s
// two-process rows, as the xorc binary does.
func TestMain(m *testing.M) {
	if bench.IsPeer() {
		os.Exit(bench.PeerMain())
	}
	os.Exit(m.Run())
}

func TestBenchShmJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "bench", "--transport", "shm", "--json", "--events", "500", "--requests", "50",
		"--warmup", "10", "--idle", "-1s", "--rows", "xorc-shm", "--spin-sweep", "1us")
	require.Equal(t, 0, code, errOut)
	var rep bench.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Len(t, rep.Rows, 2)
	assert.Equal(t, "xorc-shm", rep.Rows[0].Name)
	assert.Equal(t, "xorc-shm spin=1µs", rep.Rows[1].Name)
	assert.Greater(t, rep.Rows[0].OnewayPerSec, 0.0)
}
