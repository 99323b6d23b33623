package actor

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marshalJSON's shortcuts write what the encoder writes.
func TestMarshalJSONShortcuts(t *testing.T) {
	for _, v := range []any{
		"idle", "", "with space.and-dots", `a"b`, `a\b`, "café", "<tag>&", "tab\there", "\x7f",
		map[string]any{}, Context{}, map[string]any{"k": 1},
	} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		got, err := marshalJSON(v)
		require.NoError(t, err)
		assert.Equal(t, bytes.TrimSuffix(buf.Bytes(), []byte("\n")), got, "%q", v)
	}
}

// WireMessage and WireEvent agree (the encoders' fast path uses WireEvent).
func TestWireEventMatchesWireMessage(t *testing.T) {
	for _, ev := range []Event{{Type: "T"}, {Type: "GO", Data: map[string]any{"job": 7.0, "s": "<x>"}}} {
		pm, err := ev.WireMessage()
		require.NoError(t, err)
		typ, payload, err := ev.WireEvent()
		require.NoError(t, err)
		pe := pm.(interface {
			GetType() string
			GetPayload() []byte
		})
		assert.Equal(t, pe.GetType(), typ)
		assert.Equal(t, pe.GetPayload(), payload)
	}
	for _, bad := range []Event{{}, {Type: "T", Data: map[string]any{"type": "x"}}, {Type: "T", Data: map[string]any{"f": func() {}}}} {
		_, _, err := bad.WireEvent()
		assert.ErrorIs(t, err, ErrBadEvent)
		_, err = bad.WireMessage()
		assert.ErrorIs(t, err, ErrBadEvent)
	}
}
