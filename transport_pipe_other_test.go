//go:build !(linux || darwin)

package xorc

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/remote_pipe"
)

// On this platform the named-pipe transport does not run: New says so.
func TestNamedPipeUnsupportedPlatform(t *testing.T) {
	_, err := New(newSystem(t), Config{Transport: NamedPipe})
	require.ErrorIs(t, err, ErrTransportUnavailable)
	require.ErrorIs(t, err, remote_pipe.ErrUnsupportedPlatform)
	require.True(t, errors.Is(err, errors.ErrUnsupported))
}
