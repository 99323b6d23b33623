package actor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStrTable: every string added is found with its id, a second add keeps
// the first id, strings never added are not found; with lengths around the
// hash's cases (0-3, 4-7, 8-16, longer), strings that differ in one byte
// anywhere, and growth from the smallest table.
func TestStrTable(t *testing.T) {
	var keys []string
	keys = append(keys, "", "a", "ab", "abc", "NEXT", "PAUSE", "SETTINGS", "xstate.init", "xstate.done.state.m")
	for i := range 600 {
		keys = append(keys, fmt.Sprintf("xstate.done.state.machine.s%04d.child", i), fmt.Sprintf("e%d", i))
	}
	base := []byte("xstate.after.1000.machine.region.state")
	for i := range base {
		b := append([]byte(nil), base...)
		b[i] ^= 1
		keys = append(keys, string(b))
	}
	var tab strTable
	for i, k := range keys {
		require.Equal(t, int32(-1), tab.add(k, int32(i)), "new key %q", k)
	}
	for i, k := range keys {
		assert.Equal(t, int32(i), tab.lookup(k), "key %q", k)
		assert.Equal(t, int32(i), tab.add(k, 99999), "second add of %q", k)
	}
	for _, k := range []string{"b", "NEX", "NEXTT", "xstate.done.state.machine.s0600.child", string(base), "e600"} {
		assert.Equal(t, int32(-1), tab.lookup(k), "absent key %q", k)
	}
	assert.Equal(t, len(keys), tab.n)
	assert.LessOrEqual(t, 2*tab.n, len(tab.slots), "at most half full")
}
