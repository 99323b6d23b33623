//go:build linux

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunPipeSmoke runs the named-pipe suite with tiny counts (the peer is
// this test binary, see TestMain): the rows, their order, the ratios and
// the idle CPU field, not the speeds.
func TestRunPipeSmoke(t *testing.T) {
	o := tiny
	o.IdleFor = 200 * time.Millisecond
	rep, err := Run(context.Background(), "pipe", o)
	require.NoError(t, err)
	var names []string
	for _, r := range rep.Rows {
		names = append(names, r.Name)
		assert.Greater(t, r.OnewayPerSec, 0.0, r.Name)
		assert.Greater(t, r.RTTP50us, 0.0, r.Name)
	}
	assert.Equal(t, []string{RowXorcPipe, RowProtoactorGRPC, RowXorcInproc}, names)
	assert.Equal(t, RowProtoactorGRPC, rep.Baseline)
	assert.Greater(t, rep.Rows[0].OnewayVsBaseline, 0.0)
	assert.Greater(t, rep.Rows[0].RTTP50VsBaseline, 0.0)
	assert.Greater(t, rep.Rows[0].IdleCPUPct, 0.0, "the peer's idle CPU was measured")
	require.Len(t, rep.Comparisons, 1)
	assert.Equal(t, RowXorcPipe, rep.Comparisons[0].Row)
	assert.Equal(t, RowXorcInproc, rep.Comparisons[0].Baseline)

	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	var doc struct {
		Transport string `json:"transport"`
		Rows      []struct {
			Name string `json:"name"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, "pipe", doc.Transport)
	require.Len(t, doc.Rows, 3)
	assert.Equal(t, "xorc-pipe", doc.Rows[0].Name)
}
