//go:build unix

package registry

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// makeSegment creates a segment with one departed process and returns its bytes.
func makeSegment(t *testing.T, o ShmOptions) []byte {
	t.Helper()
	s, err := OpenShm(o)
	require.NoError(t, err)
	require.NoError(t, s.Register("m1", "a"))
	// Leave a registered machine in the file: copy it before Close removes it.
	b, err := os.ReadFile(segPath(o))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	return b
}

func TestBadSegments(t *testing.T) {
	o := testOpts(t)
	good := makeSegment(t, o)
	h, err := decodeHeader(good[:headerFieldBytes], int64(len(good)))
	require.NoError(t, err)
	proc0 := int(h.ProcessTableOff)
	mach := func(i int) int { return int(h.MachineTableOff) + i*MachineEntryBytes }
	usedMachine := -1
	for i := 0; i < int(h.MachineSlots); i++ {
		if good[mach(i)+mMeta] == slotUsed {
			usedMachine = i
		}
	}
	require.GreaterOrEqual(t, usedMachine, 0)

	cases := []struct {
		name string
		mod  func(b []byte) []byte
		want string
	}{
		{"wrong magic", func(b []byte) []byte { ne.PutUint32(b[hMagic:], 0xdeadbeef); return b }, "not an xorc segment"},
		{"wrong version", func(b []byte) []byte { ne.PutUint32(b[hVersion:], 9); fixChecksum(b); return b }, "layout version 9"},
		{"corrupt header", func(b []byte) []byte { b[hInboxBytes] ^= 1; return b }, "checksum"},
		{"absurd capacities", func(b []byte) []byte { ne.PutUint32(b[hMaxProcs:], 1<<20); fixChecksum(b); return b }, "max processes"},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "truncated"},
		{"only a header", func(b []byte) []byte { return b[:100] }, "too short"},
		{"garbage process status", func(b []byte) []byte { ne.PutUint32(b[proc0+pGenStatus+4:], 42); return b }, "process slot 0"},
		{"garbage process name length", func(b []byte) []byte { b[proc0+pLens] = 99; return b }, "name length 99"},
		{"garbage machine state", func(b []byte) []byte { b[mach(3)+mMeta] = 9; return b }, "machine table entry 3"},
		{"garbage machine id length", func(b []byte) []byte { b[mach(usedMachine)+mMeta+2] = 200; return b }, "ID length 200"},
		{"garbage machine owner", func(b []byte) []byte { ne.PutUint32(b[mach(usedMachine)+mOwnerSlot:], 1000); return b }, "owner slot 1000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := c.mod(append([]byte(nil), good...))
			require.NoError(t, os.WriteFile(segPath(o), bad, 0o600))
			s, err := OpenShm(o)
			if s != nil {
				_ = s.Close()
			}
			require.ErrorIs(t, err, ErrBadSegment)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), segPath(o), "the error names the file")

			// Inspect reports the same header problems; table garbage is
			// listed, not fatal, so an operator can see the rest.
			d, err := InspectFile(segPath(o))
			if err != nil {
				assert.ErrorIs(t, err, ErrBadSegment)
				assert.Contains(t, err.Error(), c.want)
			} else {
				require.NotEmpty(t, d.Problems)
				assert.Contains(t, d.Problems[0], c.want)
			}
			after, err := os.ReadFile(segPath(o))
			require.NoError(t, err)
			assert.Equal(t, bad, after, "a bad segment is never rewritten")
		})
	}

	t.Run("zero magic is reinitialised", func(t *testing.T) {
		// A creator that died before writing the magic leaves a file the
		// next opener initialises from scratch.
		half := append([]byte(nil), good...)
		ne.PutUint32(half[hMagic:], 0)
		half[proc0+pLens] = 99 // garbage that would otherwise be rejected
		require.NoError(t, os.WriteFile(segPath(o), half, 0o600))
		s, err := OpenShm(o)
		require.NoError(t, err)
		defer s.Close()
		d, err := s.Dump()
		require.NoError(t, err)
		assert.Empty(t, d.Problems)
		assert.Equal(t, uint64(1), d.Joins)
		assert.Zero(t, d.MachineCount)
	})

	t.Run("wrong counts are recomputed", func(t *testing.T) {
		img := append([]byte(nil), good...)
		ne.PutUint32(img[hProcCount:], 999)
		ne.PutUint32(img[hMachCount:], 77)
		require.NoError(t, os.WriteFile(segPath(o), img, 0o600))
		s, err := OpenShm(o)
		require.NoError(t, err)
		defer s.Close()
		d, err := s.Dump()
		require.NoError(t, err)
		active := 0
		for _, p := range d.Processes {
			if p.Status == ProcessActive {
				active++
			}
		}
		assert.Equal(t, active, d.ProcessCount)
		assert.Equal(t, len(d.Machines), d.MachineCount)
		assert.Equal(t, 1, d.MachineCount)
	})

	t.Run("not a regular file", func(t *testing.T) {
		require.NoError(t, os.Remove(segPath(o)))
		require.NoError(t, os.Mkdir(segPath(o), 0o700))
		defer os.Remove(segPath(o))
		_, err := OpenShm(o)
		require.Error(t, err)
		_, err = InspectFile(segPath(o))
		require.Error(t, err)
	})

	t.Run("symlink is not followed", func(t *testing.T) {
		target := segPath(o) + ".target"
		require.NoError(t, os.WriteFile(target, good, 0o600))
		defer os.Remove(target)
		_ = os.Remove(segPath(o))
		require.NoError(t, os.Symlink(target, segPath(o)))
		defer os.Remove(segPath(o))
		_, err := OpenShm(o)
		require.Error(t, err)
		_, err = InspectFile(segPath(o))
		require.Error(t, err)
		after, err := os.ReadFile(target)
		require.NoError(t, err)
		assert.Equal(t, good, after)
	})

	t.Run("not initialised for inspect", func(t *testing.T) {
		require.NoError(t, os.WriteFile(segPath(o), make([]byte, 8192), 0o600))
		_, err := InspectFile(segPath(o))
		require.ErrorIs(t, err, ErrBadSegment)
		assert.Contains(t, err.Error(), "not initialised")
	})
}
