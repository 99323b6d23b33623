//go:build linux || darwin

package xorc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_pipe"
)

func pipeTestConfig(t *testing.T) Config {
	name := fmt.Sprintf("facadep-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	t.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	dir, err := os.MkdirTemp("", "xfp")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return Config{Transport: NamedPipe, Name: name, Shm: ShmConfig{MaxProcesses: 4, MaxMachines: 16},
		Pipe: PipeConfig{Dir: filepath.Join(dir, "s"), MaxFrame: 8 << 10}}
}

// The facade over named pipes in one process: the system's address is the
// socket's path, recorded in the shared registry; local machines
// short-circuit; the pipe counters are there; Close removes the socket. (Across
// processes: internal/conformance.)
func TestNamedPipeTransport(t *testing.T) {
	cfg := pipeTestConfig(t)
	system := newSystem(t)
	o, err := New(system, cfg)
	require.NoError(t, err)
	dir, _, _, err := remote_pipe.ParseAddress(system.Address())
	require.NoError(t, err, system.Address())
	assert.Equal(t, cfg.Pipe.Dir, dir)
	info, err := os.Stat(cfg.Pipe.Dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	ctx := context.Background()
	_, err = o.Spawn(ctx, "door", load(t, doorChart, nil))
	require.NoError(t, err)
	s, err := o.Request(ctx, "door", actor.Event{Type: "OPEN"})
	require.NoError(t, err)
	assert.Equal(t, "open", s.Value)
	st, ok := o.TransportStats()
	require.True(t, ok)
	assert.Zero(t, st.Sent, "a machine of this process is not encoded")
	require.NotNil(t, st.Pipe)
	assert.Nil(t, st.Shm)
	assert.Zero(t, st.Pipe.Node.Dials)

	// A second process of the same system sees the machine at our socket.
	view, err := registry.OpenShm(registry.ShmOptions{Name: cfg.Name})
	require.NoError(t, err)
	m, err := view.Lookup("door")
	require.NoError(t, err)
	assert.Equal(t, system.Address(), m.Owner.Address)
	require.NoError(t, view.Close())

	// A message over the frame limit is refused before it is sent.
	other := newSystem(t)
	o2, err := New(other, cfg)
	require.NoError(t, err)
	defer o2.Close()
	err = o2.Send(ctx, "door", actor.Event{Type: "OPEN", Data: map[string]any{"pad": strings.Repeat("x", 8<<10)}})
	require.ErrorIs(t, err, ErrMessageTooLarge)
	s, err = o2.Request(ctx, "door", actor.Event{Type: "CLOSE"})
	require.NoError(t, err)
	assert.Equal(t, "closed", s.Value)
	st2, _ := o2.TransportStats()
	assert.Equal(t, uint64(1), st2.Pipe.Node.Dials)

	require.NoError(t, o.Close())
	assert.NoFileExists(t, system.Address())
	_, ok = o.TransportStats()
	assert.True(t, ok)
}

func TestNamedPipeTransportBadConfig(t *testing.T) {
	_, err := New(newSystem(t), Config{Transport: NamedPipe, Name: "has space"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	cfg := pipeTestConfig(t)
	cfg.Pipe.MaxFrame = -1
	_, err = New(newSystem(t), cfg)
	require.ErrorIs(t, err, ErrInvalidConfig)
	cfg = pipeTestConfig(t)
	cfg.Pipe.Dir = "/proc/not-here/s"
	_, err = New(newSystem(t), cfg)
	require.Error(t, err, "a socket directory that cannot be made")
}

// Where the transport does not run (Windows), New fails with a
// TransportUnavailableError that says so and wraps the platform error.
func TestNamedPipeUnsupportedPlatform(t *testing.T) {
	t.Cleanup(func() { pipeSupported = remote_pipe.Supported })
	pipeSupported = func() error { return remote_pipe.ErrUnsupportedPlatform }
	_, err := New(newSystem(t), Config{Transport: NamedPipe})
	require.ErrorIs(t, err, ErrTransportUnavailable)
	require.ErrorIs(t, err, remote_pipe.ErrUnsupportedPlatform)
	require.True(t, errors.Is(err, errors.ErrUnsupported))
	var tu *TransportUnavailableError
	require.ErrorAs(t, err, &tu)
	assert.Equal(t, NamedPipe, tu.Transport)
	assert.Equal(t, "transport pipe is unsupported on this platform (Linux and macOS only)", err.Error())
}
