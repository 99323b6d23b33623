package actor

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clockCase exercises the simulated clock: a 0 ms timer fires on the next
// $wait only, same deadlines fire in scheduling order (JS key order: "10"
// before the named "ten"), a timer started by a firing counts from the
// firing time, fractional ms, a negative $wait, done cancelling timers, an
// overflowing number and a JSON.stringify-only escape.
const clockCase = `{"machine": {"id": "m", "initial": "a", "context": {"a": [], "log": []}, "states": {
  "a": {"entry": [{"type": "xorc.append", "params": {"key": "a", "value": "in"}}],
        "after": {"10": {"actions": ["xorc.append"]}, "ten": {"actions": ["xorc.append"]}, "0": {"actions": ["xorc.append"]}, "15": "b"}},
  "b": {"after": {"5": "c"}, "on": {"X": {"actions": ["xorc.append"]}}},
  "c": {"after": {"1": {"target": "c", "reenter": true, "actions": ["xorc.append"]}}, "on": {"STOP": "d"}},
  "d": {"type": "final"}}},
 "delays": {"ten": 10},
 "events": [{"type": "X"}, {"type": "$wait", "ms": 0}, {"type": "$wait", "ms": 12}, {"type": "$wait", "ms": 8}, {"type": "$wait", "ms": 3.5}, {"type": "$wait", "ms": -1}, {"type": "STOP"}, {"type": "$wait", "ms": 100}, {"type": "X", "n": 1e999, "s": "<\u2028>"}]}`

// clockWant is the oracle's output for clockCase, byte for byte.
const clockWant = `{"step":0,"event":null,"value":"a","context":{"a":["in"],"log":[]},"status":"active","done":false,"now":0}
{"step":1,"event":{"type":"X"},"value":"a","context":{"a":["in"],"log":[]},"status":"active","done":false,"now":0}
{"step":2,"event":{"type":"$wait","ms":0},"value":"a","context":{"a":["in"],"log":["xstate.after.0.m.a"]},"status":"active","done":false,"now":0}
{"step":3,"event":{"type":"$wait","ms":12},"value":"a","context":{"a":["in"],"log":["xstate.after.0.m.a","xstate.after.10.m.a","xstate.after.ten.m.a"]},"status":"active","done":false,"now":12}
{"step":4,"event":{"type":"$wait","ms":8},"value":"c","context":{"a":["in"],"log":["xstate.after.0.m.a","xstate.after.10.m.a","xstate.after.ten.m.a"]},"status":"active","done":false,"now":20}
{"step":5,"event":{"type":"$wait","ms":3.5},"value":"c","context":{"a":["in"],"log":["xstate.after.0.m.a","xstate.after.10.m.a","xstate.after.ten.m.a","xstate.after.1.m.c","xstate.after.1.m.c","xstate.after.1.m.c"]},"status":"active","done":false,"now":23.5}
{"step":6,"event":{"type":"$wait","ms":-1},"value":"c","context":{"a":["in"],"log":["xstate.after.0.m.a","xstate.after.10.m.a","xstate.after.ten.m.a","xstate.after.1.m.c","xstate.after.1.m.c","xstate.after.1.m.c"]},"status":"active","done":false,"now":23.5,"error":"Unable to travel back in time"}
{"step":7,"event":{"type":"STOP"},"value":"d","context":{"a":["in"],"log":["xstate.after.0.m.a","xstate.after.10.m.a","xstate.after.ten.m.a","xstate.after.1.m.c","xstate.after.1.m.c","xstate.after.1.m.c"]},"status":"done","done":true,"now":23.5}
{"step":8,"event":{"type":"$wait","ms":100},"value":"d","context":{"a":["in"],"log":["xstate.after.0.m.a","xstate.after.10.m.a","xstate.after.ten.m.a","xstate.after.1.m.c","xstate.after.1.m.c","xstate.after.1.m.c"]},"status":"done","done":true,"now":123.5}
{"step":9,"event":{"type":"X","n":null,"s":"<` + "\u2028" + `>"},"value":"d","context":{"a":["in"],"log":["xstate.after.0.m.a","xstate.after.10.m.a","xstate.after.ten.m.a","xstate.after.1.m.c","xstate.after.1.m.c","xstate.after.1.m.c"]},"status":"done","done":true,"now":123.5}
`

func TestRunOracleInputSingleCase(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, RunOracleInput(strings.NewReader(clockCase), &out))
	assert.Equal(t, clockWant, out.String())

	res := RunCase(json.RawMessage(clockCase))
	require.Len(t, res.Steps, 10)
	assert.Equal(t, int64(23), res.Steps[5].Now, "CaseStep.Now truncates fractional ms")
	assert.Equal(t, `{"type":"$wait","ms":3.5}`, string(res.Steps[5].Event))
	assert.Nil(t, res.Steps[0].Event)
}

const batchIn = `[{"machine":{"id":"m","initial":"a","states":{"a":{"on":{"E":"b"}},"b":{"type":"final"}}},"events":[{"type":"E"},{"type":"E"}]},
 {"machine":{"id":"m","initial":"zz","states":{"a":{}}},"events":[]}]`

const batchStepsWant = `{"steps":[{"step":0,"event":null,"value":"a","context":{},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":"b","context":{},"status":"done","done":true,"now":0},{"step":2,"event":{"type":"E"},"value":"b","context":{},"status":"done","done":true,"now":0}]}`

func TestRunOracleInputBatchAndJSONL(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, RunOracleInput(strings.NewReader(batchIn), &out))
	cfgErr := `{"steps":[],"error":"config: initial: initial state \"zz\" is not a child of \"#m\""}`
	assert.Equal(t, "["+batchStepsWant+","+cfgErr+"]\n", out.String())

	var lines []string
	var arr []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(batchIn), &arr))
	for _, c := range arr {
		var b bytes.Buffer
		require.NoError(t, json.Compact(&b, c))
		lines = append(lines, b.String())
	}
	out.Reset()
	require.NoError(t, RunOracleJSONL(strings.NewReader(strings.Join(lines, "\n")+"\n\n"), &out))
	assert.Equal(t, batchStepsWant+"\n"+cfgErr+"\n", out.String())

	res, err := RunCases([]byte(batchIn))
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Len(t, res[0].Steps, 3)
	assert.Empty(t, res[1].Steps)
	assert.NotNil(t, res[1].Steps, "steps is [] on a config error")
	assert.True(t, strings.HasPrefix(res[1].Error, "config: "))

	// A config error in single-case mode is one {"error": ...} line.
	out.Reset()
	require.NoError(t, RunOracleInput(strings.NewReader(`{"machine": {"id": "m", "initial": "a", "states": {"a": {"on": {"E": "nope"}}}}}`), &out))
	assert.Equal(t, `{"error":"config: states.a.on.E: unknown target \"nope\": state \"#m\" has no child \"nope\""}`+"\n", out.String())

	assert.Error(t, RunOracleInput(strings.NewReader(`{`), &out))
	_, err = RunCases([]byte(`{}`))
	assert.ErrorIs(t, err, ErrJSONSyntax)
}

func TestRunCaseEdgeInputs(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{`[]`, "config: case must be an object"},
		{`{"events": []}`, "config: machine config must be a JSON object, got null"},
		{`{"machine": {"id": "m"}, "events": {}}`, "config: events must be an array"},
		{`{"machine": {"id": "m"}, "delays": {"x": "5"}}`, `config: delays.x must be a finite number of ms, got "5"`},
		{`{"machine": {"id": "m"`, "config: invalid JSON: unexpected end of input in an object at offset 22"},
	} {
		assert.Equal(t, tc.err, RunCase(json.RawMessage(tc.in)).Error, tc.in)
	}
	res := RunCase(json.RawMessage(`{"machine": {"id": "m"}, "events": [{"type": "$wait", "ms": "5"}, 7, {"no": "type"}]}`))
	require.Empty(t, res.Error)
	require.Len(t, res.Steps, 4)
	assert.Equal(t, `$wait: ms must be a number, got "5"`, res.Steps[1].Error)
	assert.Equal(t, "active", res.Steps[1].Status)
	assert.Contains(t, res.Steps[2].Error, "an event must be a JSON object")
	assert.Contains(t, res.Steps[3].Error, `an event needs a string "type"`)
	assert.Equal(t, StateValue{}, res.Steps[0].Value, "an atomic root has the value {}")
}

// TestRunCaseTimerStorm: a generated case (live oracle seed 9101, case 2691)
// whose pending timeouts multiply as they fire: the $wait that reaches the
// firing bound reports it like the oracle's MAX_TIMER_FIRINGS, with
// thousands of timeouts pending, and the case goes on. XState itself runs out
// of memory on it; xorc used to sort every pending timeout again after each
// firing and took minutes.
func TestRunCaseTimerStorm(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "runcase", "timer-storm.json"))
	require.NoError(t, err)
	res := RunCase(raw)
	require.Empty(t, res.Error)
	require.Len(t, res.Steps, 8)
	for i, st := range res.Steps {
		if i == 5 {
			assert.Equal(t, "more than 10000 timer rounds in one $wait (0ms timer loop?)", st.Error)
			continue
		}
		assert.Empty(t, st.Error, "step %d", i)
		assert.Equal(t, "active", st.Status, "step %d", i)
	}
	assert.Equal(t, int64(230), res.Steps[7].Now)
}

func TestRunCaseTimerBounds(t *testing.T) {
	// A 1 ms self-loop: one clock round per ms, the oracle stops a $wait
	// after 10000 rounds with an error (the machine stays active).
	loop := `{"machine": {"id": "m", "initial": "a", "context": {"count": 0}, "states": {"a": {"after": {"1": {"target": "a", "reenter": true, "actions": ["xorc.increment"]}}}}},
		"events": [{"type": "$wait", "ms": 20000}, {"type": "$wait", "ms": 5}]}`
	res := RunCase(json.RawMessage(loop))
	require.Len(t, res.Steps, 3)
	assert.Equal(t, "more than 10000 timer rounds in one $wait (0ms timer loop?)", res.Steps[1].Error)
	assert.Equal(t, int64(10000), res.Steps[1].Now)
	assert.Equal(t, 10000.0, res.Steps[1].Context["count"])
	assert.Equal(t, "active", res.Steps[1].Status)
	assert.Equal(t, int64(10005), res.Steps[2].Now)
	assert.Equal(t, 10005.0, res.Steps[2].Context["count"])

	// A 0 ms loop fires within one round; xorc stops it after 10000 firings.
	zero := `{"machine": {"id": "m", "initial": "a", "states": {"a": {"after": {"0": "b"}}, "b": {"after": {"0": "a"}}}},
		"events": [{"type": "$wait", "ms": 0}]}`
	res = RunCase(json.RawMessage(zero))
	require.Len(t, res.Steps, 2)
	assert.Equal(t, "more than 10000 timer rounds in one $wait (0ms timer loop?)", res.Steps[1].Error)
}
