package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// The demo is one causal chain of events, so its output is the same on every run.
const wantDemo = `wafer tool: [chamber loadport robot], 3 wafers
  1  loadport  START                              -> running
  2  robot     PICK                               -> loading
  3  robot     xstate.after.20.robot.loading      -> idle
  4  chamber   LOAD                               -> processing
  5  chamber   xstate.after.40.chamber.processing -> idle
  6  robot     UNLOAD                             -> unloading
  7  robot     xstate.after.20.robot.unloading    -> idle
  8  loadport  WAFER_DONE                         -> running
  9  robot     PICK                               -> loading
 10  robot     xstate.after.20.robot.loading      -> idle
 11  chamber   LOAD                               -> processing
 12  chamber   xstate.after.40.chamber.processing -> idle
 13  robot     UNLOAD                             -> unloading
 14  robot     xstate.after.20.robot.unloading    -> idle
 15  loadport  WAFER_DONE                         -> running
 16  robot     PICK                               -> loading
 17  robot     xstate.after.20.robot.loading      -> idle
 18  chamber   LOAD                               -> processing
 19  chamber   xstate.after.40.chamber.processing -> idle
 20  robot     UNLOAD                             -> unloading
 21  robot     xstate.after.20.robot.unloading    -> idle
 22  loadport  WAFER_DONE                         -> unloaded
final states:
  loadport  unloaded  done    {"sent":3}
  robot     idle      active  {"moves":6}
  chamber   idle      active  {"processed":3}
`

func TestDemo(t *testing.T) {
	for i := 0; i < 2; i++ { // twice: deterministic, not lucky
		code, out, errOut := runCLI(t, "", "demo")
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, wantDemo, out)
	}
}

func TestBenchJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "bench", "--transport", "inproc", "--json", "--events", "2000", "--requests", "300", "--warmup", "20")
	require.Equal(t, 0, code, errOut)
	var rep struct {
		Transport string `json:"transport"`
		Rows      []struct {
			Name         string   `json:"name"`
			OnewayPerSec *float64 `json:"oneway_per_sec"`
			RTTP50us     *float64 `json:"rtt_p50_us"`
			RTTP99us     *float64 `json:"rtt_p99_us"`
			RTTP999us    *float64 `json:"rtt_p999_us"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, "inproc", rep.Transport)
	require.Len(t, rep.Rows, 2)
	assert.Equal(t, "xorc-inproc", rep.Rows[0].Name)
	assert.Equal(t, "protoactor-local", rep.Rows[1].Name)
	for _, r := range rep.Rows {
		for _, v := range []*float64{r.OnewayPerSec, r.RTTP50us, r.RTTP99us, r.RTTP999us} {
			require.NotNil(t, v, "row %s has every field", r.Name)
			assert.Positive(t, *v)
		}
	}

	code, out, _ = runCLI(t, "", "bench", "--events", "1000", "--requests", "100")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "xorc-inproc")
	assert.Contains(t, out, "RTT p50")
}

// The oracle README's example case and what `node oracle.mjs` prints for it.
const (
	oracleCase = `{"machine": {"id": "m", "initial": "idle", "context": {"count": 0, "log": []},
  "states": {
    "idle": {"on": {"GO": {"target": "busy", "guard": {"type": "xorc.event", "params": {"field": "job"}},
                           "actions": [{"type": "xorc.copy", "params": {"key": "job", "field": "job"}}]}}},
    "busy": {"entry": ["xorc.increment"],
             "after": {"100": {"target": "idle", "actions": ["xorc.append"]}}}}},
 "events": [{"type": "GO"}, {"type": "GO", "job": 7}, {"type": "$wait", "ms": 100}]}`
	oracleOut = `{"step":0,"event":null,"value":"idle","context":{"count":0,"log":[]},"status":"active","done":false,"now":0}
{"step":1,"event":{"type":"GO"},"value":"idle","context":{"count":0,"log":[]},"status":"active","done":false,"now":0}
{"step":2,"event":{"type":"GO","job":7},"value":"busy","context":{"count":1,"log":[],"job":7},"status":"active","done":false,"now":0}
{"step":3,"event":{"type":"$wait","ms":100},"value":"idle","context":{"count":1,"log":["xstate.after.100.m.busy"],"job":7},"status":"active","done":false,"now":100}
`
)

func TestMachineRun(t *testing.T) {
	check := func(t *testing.T, out string) {
		got := strings.Split(strings.TrimSpace(out), "\n")
		want := strings.Split(strings.TrimSpace(oracleOut), "\n")
		require.Len(t, got, len(want))
		for i := range want {
			assert.JSONEq(t, want[i], got[i], "step %d", i) // contexts compare as data
		}
	}
	t.Run("stdin", func(t *testing.T) {
		code, out, errOut := runCLI(t, oracleCase, "machine", "run")
		require.Equal(t, 0, code, errOut)
		check(t, out)
	})
	t.Run("file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "case.json")
		require.NoError(t, os.WriteFile(p, []byte(oracleCase), 0o600))
		code, out, errOut := runCLI(t, "", "machine", "run", p)
		require.Equal(t, 0, code, errOut)
		check(t, out)
	})
	t.Run("batch", func(t *testing.T) {
		code, out, errOut := runCLI(t, "["+oracleCase+`, {"machine": {"id": "m", "states": {"a": {}}}, "events": []}]`, "machine", "run")
		require.Equal(t, 0, code, errOut)
		var results []struct {
			Steps []json.RawMessage `json:"steps"`
			Error string            `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &results), out)
		require.Len(t, results, 2)
		assert.Len(t, results[0].Steps, 4)
		assert.Empty(t, results[1].Steps)
		assert.True(t, strings.HasPrefix(results[1].Error, "config: "), results[1].Error)
	})
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "no command"},
		{[]string{"fly"}, 2, `unknown command "fly"`},
		{[]string{"machine"}, 2, "machine run"},
		{[]string{"bench", "--events", "0"}, 2, "positive"},
		{[]string{"bench", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"bench", "extra"}, 2, "no arguments"},
		{[]string{"bench", "--transport", "shm", "--events", "10", "--requests", "10"}, 1, "no benchmark for transport"},
		{[]string{"machine", "run", "/nonexistent/case.json"}, 1, "no such file"},
		{[]string{"machine", "run", "a", "b"}, 2, "at most one FILE"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, errOut, tt.want)
		})
	}
	code, out, _ := runCLI(t, "", "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "xorc demo")
}
