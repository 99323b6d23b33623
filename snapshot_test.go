package xorc

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

const parallelChart = `{"id": "p", "type": "parallel", "context": {"k": "v"}, "states": {
  "motor": {"initial": "off", "states": {"off": {"on": {"RUN": "on"}}, "on": {}}},
  "door":  {"initial": "shut", "states": {"shut": {}, "ajar": {}}},
  "lamp":  {}}}`

// TestSnapshotWireRoundTrip: a snapshot that crosses processes reads the same
// as the local one: value (key order kept), context, status, Matches.
func TestSnapshotWireRoundTrip(t *testing.T) {
	m := load(t, parallelChart, nil)
	it := m.NewInterpreter()
	s, _ := it.Start()
	s, _ = it.Step(s, actor.Event{Type: "RUN"})
	local := snapshotFromLocal(&actor.Reply{MachineID: "p1", Snapshot: s})

	pw, err := (&actor.Reply{MachineID: "p1", Snapshot: s}).WireMessage()
	require.NoError(t, err)
	ps := pw.(*proto.Snapshot)
	assert.Equal(t, `{"motor":"on","door":"shut","lamp":{}}`, string(ps.ValueJson), "document order")

	remote, err := snapshotFromWire(ps)
	require.NoError(t, err)
	assert.Equal(t, local.Value, remote.Value, "same type and order on both sides")
	assert.Equal(t, local.Context, remote.Context)
	assert.Equal(t, local.Status, remote.Status)
	lj, _ := json.Marshal(local.Value)
	assert.Equal(t, string(ps.ValueJson), string(lj))
	for _, path := range []string{"motor", "motor.on", "door.shut", "lamp"} {
		assert.True(t, local.Matches(path), path)
		assert.True(t, remote.Matches(path), path)
	}
	for _, path := range []string{"motor.off", "door.ajar", "nope", "motor.on.deeper", ""} {
		assert.False(t, local.Matches(path), path)
		assert.False(t, remote.Matches(path), path)
	}
}

// TestSnapshotWireStatuses: every status a machine can reach crosses the
// wire as itself, stopped included (it used to go out as active).
func TestSnapshotWireStatuses(t *testing.T) {
	const chart = `{"id": "s", "initial": "a", "context": {"n": "text"}, "states": {
	  "a": {"on": {"FINISH": "end", "BREAK": {"actions": [{"type": "xorc.increment", "params": {"key": "n"}}]}}},
	  "end": {"type": "final"}}}`
	tests := []struct {
		name   string
		events []string
		want   actor.Status
		wire   proto.Status
	}{
		{"active", nil, actor.StatusActive, proto.Status_STATUS_ACTIVE},
		{"done", []string{"FINISH"}, actor.StatusDone, proto.Status_STATUS_DONE},
		{"error", []string{"BREAK"}, actor.StatusError, proto.Status_STATUS_ERROR},
		{"stopped", []string{"xstate.stop"}, actor.StatusStopped, proto.Status_STATUS_STOPPED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := load(t, chart, nil).NewInterpreter()
			s, _ := it.Start()
			for _, ev := range tt.events {
				s, _ = it.Step(s, actor.Event{Type: ev})
			}
			require.Equal(t, tt.want, s.Status, "the interpreter's status")

			pw, err := (&actor.Reply{MachineID: "s1", Snapshot: s}).WireMessage()
			require.NoError(t, err)
			ps := pw.(*proto.Snapshot)
			assert.Equal(t, tt.wire, ps.Status)
			remote, err := snapshotFromWire(ps)
			require.NoError(t, err)
			assert.Equal(t, tt.want, remote.Status)
			assert.Equal(t, tt.want.String(), remote.Status.String())
			assert.Equal(t, snapshotFromLocal(&actor.Reply{MachineID: "s1", Snapshot: s}).Error, remote.Error)
		})
	}

	var bad actor.Snapshot
	bad.Status = actor.StatusStopped + 1
	_, err := actor.SnapshotToWire("s1", bad)
	require.ErrorIs(t, err, actor.ErrUnknownStatus, "no wire form is made up for an unknown status")
}

func TestSnapshotFromWireErrors(t *testing.T) {
	tests := []struct {
		name string
		snap *proto.Snapshot
	}{
		{"value not JSON", &proto.Snapshot{ValueJson: []byte(`{`)}},
		{"value a number", &proto.Snapshot{ValueJson: []byte(`7`)}},
		{"value an array", &proto.Snapshot{ValueJson: []byte(`["a"]`)}},
		{"value with trailing data", &proto.Snapshot{ValueJson: []byte(`"a" "b"`)}},
		{"value too deep", &proto.Snapshot{ValueJson: []byte(deep(100))}},
		{"context not an object", &proto.Snapshot{ValueJson: []byte(`"a"`), ContextJson: []byte(`[1]`)}},
		{"unknown status", &proto.Snapshot{ValueJson: []byte(`"a"`), Status: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := snapshotFromWire(tt.snap)
			require.ErrorIs(t, err, proto.ErrMalformed)
		})
	}
	s, err := snapshotFromWire(&proto.Snapshot{MachineId: "m", ValueJson: []byte(deep(10)), Status: proto.Status_STATUS_ERROR, Error: "boom"})
	require.NoError(t, err)
	assert.Equal(t, actor.StatusError, s.Status)
	assert.Equal(t, "boom", s.Error)
	assert.Equal(t, actor.Context{}, s.Context, "no context is an empty one")
}

func deep(n int) string {
	out := `"x"`
	for range n {
		out = `{"a":` + out + `}`
	}
	return out
}

// FuzzSnapshotFromWire: any bytes in a snapshot from another process give a
// snapshot or an ErrMalformed, never a panic.
func FuzzSnapshotFromWire(f *testing.F) {
	f.Add([]byte(`{"motor":"on","door":{"a":{}}}`), []byte(`{"k":[1,{"x":null}]}`), int32(0))
	f.Add([]byte(`"idle"`), []byte(`{}`), int32(2))
	f.Add([]byte(deep(70)), []byte(`null`), int32(7))
	f.Fuzz(func(t *testing.T, value, ctx []byte, status int32) {
		s, err := snapshotFromWire(&proto.Snapshot{MachineId: "m", ValueJson: value, ContextJson: ctx, Status: proto.Status(status)})
		if err != nil {
			if !errors.Is(err, proto.ErrMalformed) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		_ = s.Matches("a.b")
		if s.Context == nil {
			t.Fatal("nil context")
		}
	})
}

// State names decode the same with and without the decoder (the fast path
// takes plain ASCII only).
func TestDecodeStateValueStrings(t *testing.T) {
	tests := []struct {
		json string
		want any
		ok   bool
	}{
		{`"idle"`, "idle", true},
		{`""`, "", true},
		{`"with space.and-dots"`, "with space.and-dots", true},
		{`"a\"b"`, `a"b`, true},
		{`"caf\u00e9"`, "café", true},
		{`"café"`, "café", true},
		{`"a\\b"`, `a\b`, true},
		{`"a" "b"`, nil, false},
		{`"a`, nil, false},
		{`"a"x`, nil, false},
		{`"`, nil, false},
		{"\"tab\there\"", nil, false}, // a control character inside a JSON string
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			got, err := decodeStateValue([]byte(tt.json))
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			var std string
			require.NoError(t, json.Unmarshal([]byte(tt.json), &std))
			assert.Equal(t, std, got, "what encoding/json reads")
		})
	}
}
