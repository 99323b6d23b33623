package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var tiny = Options{Events: 2000, Requests: 500, Warmup: 50}

// TestRunInprocSmoke runs the real in-process suite with tiny counts and
// checks the JSON shape scripts rely on (not the speeds).
func TestRunInprocSmoke(t *testing.T) {
	rep, err := Run(context.Background(), "inproc", tiny)
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, "inproc", doc["transport"])
	assert.Equal(t, RowProtoactorLocal, doc["baseline"])
	rows, ok := doc["rows"].([]any)
	require.True(t, ok, "rows is an array")
	require.Len(t, rows, 2)
	names := []string{}
	for _, r := range rows {
		row := r.(map[string]any)
		names = append(names, row["name"].(string))
		for _, k := range []string{"oneway_per_sec", "rtt_p50_us", "rtt_p99_us", "rtt_p999_us"} {
			v, ok := row[k].(float64)
			require.True(t, ok, "%s.%s is a number", row["name"], k)
			assert.Greater(t, v, 0.0, "%s.%s measured", row["name"], k)
		}
		assert.LessOrEqual(t, row["rtt_p50_us"], row["rtt_p99_us"])
		assert.LessOrEqual(t, row["rtt_p99_us"], row["rtt_p999_us"])
	}
	assert.Equal(t, []string{RowXorcInproc, RowProtoactorLocal}, names)
	xr := rows[0].(map[string]any)
	assert.Greater(t, xr["oneway_vs_baseline"], 0.0)
	assert.Greater(t, xr["rtt_p50_vs_baseline"], 0.0)
	_, hasRatio := rows[1].(map[string]any)["oneway_vs_baseline"]
	assert.False(t, hasRatio, "the baseline row has no ratio to itself")

	buf.Reset()
	require.NoError(t, rep.WriteTable(&buf))
	assert.Contains(t, buf.String(), RowXorcInproc)
	assert.Contains(t, buf.String(), RowProtoactorLocal)
}

func TestRunSuiteRatiosAndErrors(t *testing.T) {
	var seen Options
	Register(Suite{Transport: "test-fake", Baseline: "base", Runners: []Runner{
		{Name: "fast", Run: func(_ context.Context, o Options) (Row, error) {
			seen = o
			return Row{OnewayPerSec: 300, RTTP50us: 5}, nil
		}},
		{Name: "base", Run: func(context.Context, Options) (Row, error) {
			return Row{OnewayPerSec: 100, RTTP50us: 10}, nil
		}},
	}})
	rep, err := Run(context.Background(), "test-fake", Options{})
	require.NoError(t, err)
	assert.Equal(t, Options{Events: DefaultEvents, Requests: DefaultRequests, Warmup: DefaultRequests / 10}, seen)
	assert.Equal(t, 3.0, rep.Rows[0].OnewayVsBaseline)
	assert.Equal(t, 0.5, rep.Rows[0].RTTP50VsBaseline)
	assert.Zero(t, rep.Rows[1].OnewayVsBaseline)
	assert.Contains(t, Transports(), "inproc")

	_, err = Run(context.Background(), "carrier-pigeon", tiny)
	require.ErrorIs(t, err, ErrUnknownTransport)
	assert.Contains(t, err.Error(), "inproc", "lists what exists")

	boom := errors.New("boom")
	Register(Suite{Transport: "test-broken", Runners: []Runner{{Name: "x", Run: func(context.Context, Options) (Row, error) {
		return Row{}, boom
	}}}})
	_, err = Run(context.Background(), "test-broken", tiny)
	require.ErrorIs(t, err, boom)
	assert.True(t, strings.Contains(err.Error(), "bench x"), err.Error())
}

func TestLatencies(t *testing.T) {
	samples := make([]time.Duration, 1000)
	for i := range samples {
		samples[len(samples)-1-i] = time.Duration(i+1) * time.Microsecond // reversed on purpose
	}
	p50, p99, p999 := Latencies(samples)
	assert.Equal(t, 501.0, p50)
	assert.Equal(t, 991.0, p99)
	assert.Equal(t, 1000.0, p999)
	p50, _, _ = Latencies(nil)
	assert.Zero(t, p50)
	assert.Equal(t, 2000.0, PerSec(1000, 500*time.Millisecond))
	assert.Zero(t, PerSec(1, 0))
}
