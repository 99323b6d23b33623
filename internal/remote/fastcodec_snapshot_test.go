package remote

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"

	"github.com/xorc-dev/xorc/proto"
)

var snapshotCases = []*proto.Snapshot{
	{},
	{MachineId: "m"},
	{MachineId: "wafer-7", ValueJson: []byte(`"idle"`), ContextJson: []byte(`{"count":3}`)},
	{MachineId: "p", ValueJson: []byte(`{"p":{"a":"x"}}`), ContextJson: []byte(`{}`), Status: proto.Status_STATUS_DONE},
	{MachineId: "é✓", Status: proto.Status_STATUS_ERROR, Error: "action \"x\" failed: ✗"},
	{Status: proto.Status(-3)}, // an unknown (negative) enum value: a ten-byte varint
	{MachineId: strings.Repeat("m", 300), ContextJson: []byte(strings.Repeat("x", 70000))},
}

// The hand-written snapshot codec writes exactly what proto.Marshal writes
// and reads it back to an equal message (sharing no memory with the input).
func TestSnapshotFastCodec(t *testing.T) {
	for i, s := range snapshotCases {
		want, err := gproto.MarshalOptions{Deterministic: true}.Marshal(s)
		require.NoError(t, err)
		n, ok := sizeSnapshot(s)
		require.True(t, ok, "case %d", i)
		got := appendSnapshot([]byte("x"), s)[1:]
		assert.Equal(t, want, got, "case %d", i)
		assert.Equal(t, len(want), n, "case %d", i)
		back, ok := decodeSnapshot(got)
		require.True(t, ok, "case %d", i)
		assert.True(t, gproto.Equal(s, back), "case %d: %v", i, back)
		if len(back.ContextJson) > 0 {
			clear(got)
			assert.True(t, gproto.Equal(s, back), "case %d: the decoded bytes are copies", i)
		}
	}
	// What the fast path leaves to the generic one.
	_, ok := sizeSnapshot(&proto.Snapshot{MachineId: "\xff"})
	assert.False(t, ok, "invalid UTF-8")
	_, ok = sizeSnapshot(&proto.Snapshot{Error: "\xff"})
	assert.False(t, ok, "invalid UTF-8")
	_, ok = sizeSnapshot(nil)
	assert.False(t, ok)
	withUnknown := &proto.Snapshot{MachineId: "m"}
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1))
	_, ok = sizeSnapshot(withUnknown)
	assert.False(t, ok, "unknown fields")
	for name, b := range map[string][]byte{
		"unknown field": protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1),
		"field twice":   protowire.AppendString(protowire.AppendTag(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "a"), 1, protowire.BytesType), "b"),
		"wrong type":    protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1),
		"bad UTF-8":     protowire.AppendString(protowire.AppendTag(nil, 5, protowire.BytesType), "\xff"),
		"truncated":     {0x12, 0x05, 'a'},
	} {
		_, ok := decodeSnapshot(b)
		assert.False(t, ok, name)
	}
	// An envelope with an invalid snapshot still fails to encode, as before.
	_, err := appendEnvelope(nil, nil, nil, &proto.Snapshot{MachineId: "\xff"})
	require.Error(t, err)
}

// FuzzSnapshotCodec: whatever the hand-written decoder accepts, the
// protobuf runtime decodes to an equal message, and the encoder writes it
// back as the runtime does; what the runtime refuses, it refuses too.
func FuzzSnapshotCodec(f *testing.F) {
	for _, s := range snapshotCases[:6] {
		b, err := gproto.Marshal(s)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, ok := decodeSnapshot(b)
		var ref proto.Snapshot
		refErr := gproto.Unmarshal(b, &ref)
		if !ok {
			return
		}
		require.NoError(t, refErr, "the runtime refuses what the fast decoder took")
		require.True(t, gproto.Equal(&ref, s))
		want, err := gproto.MarshalOptions{Deterministic: true}.Marshal(s)
		require.NoError(t, err)
		n, ok := sizeSnapshot(s)
		require.True(t, ok)
		require.Equal(t, want, appendSnapshot([]byte{}, s))
		require.Equal(t, len(want), n)
	})
}
