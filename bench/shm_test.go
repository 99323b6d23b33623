//go:build linux

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets this test binary serve as the peer process of the
// two-process rows (they re-execute their own binary).
func TestMain(m *testing.M) {
	if IsPeer() {
		os.Exit(PeerMain())
	}
	os.Exit(m.Run())
}

// TestRunShmSmoke runs the two-process suite with tiny counts: the peer is
// this test binary. It checks the rows, the ratios and the idle CPU field
// (not the speeds).
func TestRunShmSmoke(t *testing.T) {
	o := tiny
	o.IdleFor = 200 * time.Millisecond
	o.ShmSpins = []time.Duration{-1}
	rep, err := Run(context.Background(), "shm", o)
	require.NoError(t, err)
	var names []string
	for _, r := range rep.Rows {
		names = append(names, r.Name)
		assert.Greater(t, r.OnewayPerSec, 0.0, r.Name)
		assert.Greater(t, r.RTTP50us, 0.0, r.Name)
	}
	assert.Equal(t, []string{RowXorcShm, RowProtoactorGRPC, RowXorcInproc, RowXorcShm + " spin=-1ns"}, names)
	assert.Equal(t, RowProtoactorGRPC, rep.Baseline)
	assert.Greater(t, rep.Rows[0].OnewayVsBaseline, 0.0)
	assert.Greater(t, rep.Rows[0].IdleCPUPct, 0.0, "the peer's idle CPU was measured")
	assert.Less(t, rep.Rows[0].IdleCPUPct, 100.0)
	require.Len(t, rep.Comparisons, 1)
	assert.Equal(t, Comparison{Row: RowXorcShm, Baseline: RowXorcInproc,
		OnewayRatio: rep.Comparisons[0].OnewayRatio, RTTP50Ratio: rep.Comparisons[0].RTTP50Ratio}, rep.Comparisons[0])
	assert.Greater(t, rep.Comparisons[0].RTTP50Ratio, 0.0)

	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, "shm", doc["transport"])
	assert.Len(t, doc["comparisons"], 1)
	buf.Reset()
	require.NoError(t, rep.WriteTable(&buf))
	assert.Contains(t, buf.String(), "xorc-shm vs xorc-inproc")

	only, err := Run(context.Background(), "shm", Options{Events: 500, Requests: 100, Warmup: 10, IdleFor: -1, Rows: []string{RowXorcInproc}})
	require.NoError(t, err)
	require.Len(t, only.Rows, 1)
	assert.Equal(t, RowXorcInproc, only.Rows[0].Name)
}
