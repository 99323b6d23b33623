//go:build unix

package registry

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// garbageOpts: a segment in a temp dir, tiny capacities if it gets created.
func garbageOpts(dir string) ShmOptions {
	return ShmOptions{
		Name: "fuzz", Dir: dir, MaxProcesses: 2, MaxMachines: 4, InboxBytes: MinInboxBytes,
		InboxHeaderBytes: 64, HeartbeatInterval: time.Hour,
	}
}

// FuzzGarbageSegment writes random bytes (plus zero pages) as a segment file
// and inspects and opens it: errors are fine, panics and faults are not. An
// open that succeeds must give a working registry.
func FuzzGarbageSegment(f *testing.F) {
	// Seed: a real small segment with a process and a machine in it.
	dir := f.TempDir()
	o := garbageOpts(dir)
	s, err := OpenShm(o)
	require.NoError(f, err)
	require.NoError(f, s.Register("seed", "seed"))
	img, err := os.ReadFile(filepath.Join(dir, segmentPrefix+o.Name))
	require.NoError(f, err)
	require.NoError(f, s.Close())
	f.Add(img[:headerFieldBytes], uint16(len(img)/4096))
	f.Add(img, uint16(0))
	f.Add([]byte("XORC"), uint16(3))
	f.Add([]byte{}, uint16(0))

	f.Fuzz(func(t *testing.T, data []byte, zeroPages uint16) {
		dir := t.TempDir()
		o := garbageOpts(dir)
		path := filepath.Join(dir, segmentPrefix+o.Name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		if zeroPages > 0 {
			require.NoError(t, os.Truncate(path, int64(len(data))+int64(zeroPages%512)*4096))
		}
		if d, err := InspectFile(path); err == nil {
			require.NotNil(t, d)
		} else {
			require.True(t, errors.Is(err, ErrBadSegment) || errors.Is(err, ErrClosed), err.Error())
		}
		s, err := OpenShm(o)
		if err != nil {
			require.ErrorIs(t, err, ErrBadSegment)
			return
		}
		defer s.Close()
		// An accepted segment works (garbage may hold the ID or fill the table).
		if err := s.Register("fuzz-machine", "a"); err != nil {
			require.True(t, errors.Is(err, ErrMachineExists) || errors.Is(err, ErrFull), err.Error())
			return
		}
		m, err := s.Lookup("fuzz-machine")
		require.NoError(t, err)
		require.Equal(t, os.Getpid(), m.Owner.PID)
		_, err = s.Lookup("absent")
		if err != nil && !errors.Is(err, ErrUnknownMachine) && !errors.Is(err, ErrProcessDied) {
			require.ErrorIs(t, err, ErrBadSegment)
		}
		d, err := s.Dump()
		require.NoError(t, err)
		require.NotNil(t, d)
	})
}
