//go:build linux

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain: the example's children re-execute this test binary.
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		if err := child(role); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestExample(t *testing.T) {
	for _, transport := range []string{"shm", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			t.Setenv("XORC_NAME", "") // the example picks and removes its own segment
			t.Setenv("XORC_TRANSPORT", transport)
			var out bytes.Buffer
			require.NoError(t, parent(&out))
			got := out.String()
			assert.Contains(t, got, "machines: chamber, loadport, robot (three processes, transport "+transport+")")
			assert.Contains(t, got, "final: loadport unloaded  map[sent:3]")
			assert.Contains(t, got, "final: robot    idle      map[moves:6]")
			assert.Contains(t, got, "final: chamber  idle      map[processed:3]")
			assert.Equal(t, 3, strings.Count(got, "WAFER_DONE"))
		})
	}
}
