//go:build linux

package xorc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_shm"
)

func shmTestConfig(t *testing.T) Config {
	name := fmt.Sprintf("facade-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	t.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	return Config{Transport: SharedMemory, Name: name, Shm: ShmConfig{MaxProcesses: 4, MaxMachines: 16, InboxBytes: 16 << 10}}
}

// The facade over shared memory in one process: the segment is joined, the
// system gets an shm:// address, local machines short-circuit, and Close
// leaves the registry. (Across processes: internal/conformance.)
func TestSharedMemoryTransport(t *testing.T) {
	cfg := shmTestConfig(t)
	system := newSystem(t)
	o, err := New(system, cfg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(system.Address(), remote_shm.Scheme+cfg.Name+"/"), system.Address())

	ctx := context.Background()
	pid, err := o.Spawn(ctx, strings.Repeat("x", 64), load(t, doorChart, nil))
	require.NoError(t, err, "a 64-byte machine ID fits the shared registry")
	assert.Equal(t, system.Address(), pid.Address)
	s, err := o.Request(ctx, strings.Repeat("x", 64), actor.Event{Type: "OPEN"})
	require.NoError(t, err)
	assert.Equal(t, "open", s.Value)
	st, ok := o.TransportStats()
	require.True(t, ok)
	assert.Zero(t, st.Sent, "a machine of this process is not encoded")
	require.NotNil(t, st.Shm)
	assert.Equal(t, 16<<10, st.Shm.Inbox.Capacity)

	// A second process of the same system sees the machine (here: a second
	// registry member of the same segment).
	view, err := registry.OpenShm(registry.ShmOptions{Name: cfg.Name})
	require.NoError(t, err)
	m, err := view.Lookup(strings.Repeat("x", 64))
	require.NoError(t, err)
	assert.Equal(t, system.Address(), m.Owner.Address)
	require.NoError(t, view.Close())

	require.NoError(t, o.Close())
	_, ok = o.TransportStats()
	assert.True(t, ok)
}

func TestSharedMemoryTransportBadConfig(t *testing.T) {
	_, err := New(newSystem(t), Config{Transport: SharedMemory, Name: "has space"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	cfg := shmTestConfig(t)
	cfg.Shm.InboxBytes = 3000
	_, err = New(newSystem(t), cfg)
	require.ErrorIs(t, err, ErrInvalidConfig)
}
