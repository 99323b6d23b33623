package remote_shm

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// heapRegion returns a 64-byte aligned region on the Go heap: the race
// detector sees accesses to it (it does not instrument mmap'd memory).
func heapRegion(size int) []byte {
	b := make([]byte, size+64)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & 63)
	return b[off : off+size : off+size]
}

// newTestRing formats a ring with dataBytes of data area on the heap.
func newTestRing(t testing.TB, dataBytes, producers int) (*Ring, []byte) {
	t.Helper()
	size, err := RingSize(dataBytes, producers)
	require.NoError(t, err)
	region := heapRegion(size)
	r, err := FormatRing(region, producers)
	require.NoError(t, err)
	require.Equal(t, max(dataBytes, MinCapacity), r.Capacity())
	return r, region
}

type rec struct {
	typ      int32
	producer int
	payload  []byte
}

// readAll reads everything readable now, copying payloads.
func readAll(t testing.TB, r *Ring) []rec {
	t.Helper()
	var out []rec
	for {
		n, err := r.Read(0, func(typ int32, p int, b []byte) {
			out = append(out, rec{typ, p, append([]byte{}, b...)})
		})
		require.NoError(t, err)
		if n == 0 {
			return out
		}
	}
}

// seqPayload encodes a producer's sequence number, padded to size bytes.
func seqPayload(seq uint64, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.LittleEndian.PutUint64(b, seq)
	for i := 8; i < len(b); i++ {
		b[i] = byte(seq) + byte(i)
	}
	return b
}

func checkSeqPayload(t testing.TB, b []byte) uint64 {
	// No t.Helper or require on the happy path: this runs a million times.
	if len(b) < 8 {
		t.Helper()
		require.Failf(t, "payload too short", "%d bytes", len(b))
	}
	seq := binary.LittleEndian.Uint64(b)
	for i := 8; i < len(b); i++ {
		if b[i] != byte(seq)+byte(i) {
			t.Helper()
			require.Failf(t, "payload damaged", "seq %d byte %d", seq, i)
		}
	}
	return seq
}

// advanceTo writes and consumes filler records (producer 0) until the tail's
// index in the data area is idx (8-aligned, not 8: no record ends there); the
// ring must be empty. Fillers never cross the end of the area, except a
// 16-byte one when only 8 bytes are left (it pads 8 and wraps).
func advanceTo(t testing.TB, r *Ring, idx int) {
	t.Helper()
	require.False(t, r.Pending())
	require.True(t, idx%8 == 0 && idx != 8 && idx < r.capacity, "unreachable index %d", idx)
	for cur := int(r.Stats().Tail & r.mask); cur != idx; cur = int(r.Stats().Tail & r.mask) {
		d := r.capacity - cur // to the end of the lap...
		if idx > cur && idx-cur >= recHdrLen {
			d = idx - cur // ...or straight to idx
		}
		step := min(d, 64)
		switch {
		case d == 8:
			step = recHdrLen
		case d-step == 8:
			step -= 8
		}
		require.NoError(t, r.Write(context.Background(), 0, 9, make([]byte, step-recHdrLen)))
		readAll(t, r)
	}
}

// setCrash installs a crash hook for the duration of the test.
func setCrash(t testing.TB, f func(crashPoint, int) bool) {
	t.Helper()
	testCrash = f
	t.Cleanup(func() { testCrash = nil })
}

// crashAt makes producer die at point.
func crashAt(point crashPoint, producer int) func(crashPoint, int) bool {
	return func(p crashPoint, id int) bool { return p == point && id == producer }
}

func deadSet(ids ...int) func(int) bool {
	var mu sync.Mutex
	set := map[int]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return func(p int) bool {
		mu.Lock()
		defer mu.Unlock()
		return set[p]
	}
}
