//go:build !(linux || darwin)

package remote_pipe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestUnsupportedPlatform(t *testing.T) {
	n, err := Listen(Options{Name: "demo"}, func(PeerInfo, []byte) {})
	require.Nil(t, n)
	require.ErrorIs(t, err, ErrUnsupportedPlatform)
	require.True(t, errors.Is(err, errors.ErrUnsupported))
	require.ErrorIs(t, (&Link{}).Send(context.Background(), nil), ErrUnsupportedPlatform)
	require.ErrorIs(t, (&Link{}).SendDeadline(time.Time{}, nil), ErrUnsupportedPlatform)
}
