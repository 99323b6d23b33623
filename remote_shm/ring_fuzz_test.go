package remote_shm

import (
	"context"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func allDead(int) bool { return true }

// exercise drives every consumer and producer operation over a ring that may
// hold anything; it must neither panic nor touch memory outside the region.
func exercise(t *testing.T, r *Ring) {
	for i := 0; i < 8; i++ {
		_, err := r.Read(0, func(typ int32, p int, b []byte) {
			require.GreaterOrEqual(t, typ, int32(0))
			require.Less(t, p, r.MaxProducers())
			require.LessOrEqual(t, len(b), r.MaxPayload())
		})
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
		}
		r.Unblock(allDead)
		_ = r.Stuck()
		_ = r.Pending()
	}
	_ = r.Stats()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for p := 0; p < r.MaxProducers(); p++ {
		if err := r.Write(ctx, p, 1, []byte("probe")); err != nil {
			require.True(t, errors.Is(err, ErrRingFull) || errors.Is(err, ErrCorrupt), "%v", err)
		}
	}
	if c, err := r.Claim(ctx, 0, 2, 3); err == nil {
		c.Abort()
	}
	if err := r.Wait(ctx, Spin{Iterations: 3}); err != nil { // nil only if a record is readable
		require.ErrorIs(t, err, context.Canceled)
	}
}

func FuzzAttachRing(f *testing.F) {
	size, err := RingSize(1024, 4)
	require.NoError(f, err)
	valid := heapRegion(size)
	r, err := FormatRing(valid, 4)
	require.NoError(f, err)
	require.NoError(f, r.Write(context.Background(), 1, 3, []byte("seed")))
	hdr := append([]byte(nil), valid[:headerSize(4)]...)
	f.Add(hdr, uint16(0))
	f.Add(hdr[:24], uint16(0))
	f.Add(hdr, uint16(8))
	bad := append([]byte(nil), hdr...)
	binary.LittleEndian.PutUint64(bad[offTail:], 1<<40)
	f.Add(bad, uint16(0))
	bad = append([]byte(nil), hdr...)
	binary.LittleEndian.PutUint64(bad[offProducers+pClaimPos:], 9)
	binary.LittleEndian.PutUint64(bad[offProducers+pClaimLen:], 40)
	f.Add(bad, uint16(0))
	f.Fuzz(func(t *testing.T, header []byte, shrink uint16) {
		region := heapRegion(size)
		r, err := FormatRing(region, 4)
		require.NoError(t, err)
		for i := 0; i < 5; i++ {
			require.NoError(t, r.Write(context.Background(), i%4, 1, []byte("some records")))
		}
		copy(region[:min(len(header), headerSize(4))], header)
		region = region[:size-int(shrink)%size]
		r, err = AttachRing(region)
		if err != nil {
			require.True(t, errors.Is(err, ErrNotRing) || errors.Is(err, ErrVersion) ||
				errors.Is(err, ErrBadRegion) || errors.Is(err, ErrCorrupt), "%v", err)
			return
		}
		exercise(t, r)
	})
}

// FuzzReadGarbage puts random bytes in the data area (and random positions)
// behind a valid header: the consumer delivers only well-formed records,
// counts the rest, reaches the tail, and the ring then works normally.
func FuzzReadGarbage(f *testing.F) {
	f.Add([]byte{0}, uint64(0), uint16(10))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint64(64), uint16(128))
	good := make([]byte, 24)
	binary.LittleEndian.PutUint32(good[0:], 21)
	binary.LittleEndian.PutUint32(good[4:], 1)
	binary.LittleEndian.PutUint32(good[12:], checkWord(21, 1, 0))
	f.Add(good, uint64(1000), uint16(128))
	neg := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(neg[0:], uint32(0xFFFFFFEB)) // -21: uncommitted
	f.Add(neg, uint64(8), uint16(60))
	f.Add([]byte{24, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff}, uint64(16), uint16(30))
	f.Fuzz(func(t *testing.T, garbage []byte, head uint64, span uint16) {
		if len(garbage) == 0 {
			return
		}
		r, _ := newTestRing(t, 1024, 4)
		for i := range r.data {
			r.data[i] = garbage[i%len(garbage)]
		}
		head = (head &^ 7) % (1 << 40)
		tail := head + (uint64(span)*8)%uint64(r.capacity+8)
		atomic.StoreUint64(r.head, head)
		atomic.StoreUint64(r.headCache, head)
		atomic.StoreUint64(r.tail, tail)

		delivered := uint64(0)
		for i := 0; i < 100 && r.Pending(); i++ {
			n, err := r.Read(0, func(typ int32, p int, b []byte) {
				require.GreaterOrEqual(t, typ, int32(0))
				require.Less(t, p, r.MaxProducers())
				require.LessOrEqual(t, len(b), r.MaxPayload())
			})
			if err != nil {
				require.ErrorIs(t, err, ErrCorrupt)
			}
			delivered += uint64(n)
			r.Unblock(allDead)
		}
		require.False(t, r.Pending(), "the consumer reached the tail: %+v", r.Stats())
		s := r.Stats()
		require.Equal(t, delivered, s.Read)
		require.LessOrEqual(t, s.CorruptBytes, tail-head)

		// The ring works normally afterwards.
		want := []byte("after the garbage")
		for i := 0; i < 3; i++ {
			require.NoError(t, r.Write(context.Background(), 2, 5, want))
			got := readAll(t, r)
			require.Len(t, got, 1)
			require.Equal(t, rec{5, 2, want}, got[0])
		}
	})
}

// FuzzRecordRoundTrip writes one record at any position in the ring (so at
// every wrap offset) and reads it back unchanged; invalid arguments give
// their errors and claim nothing.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add(int32(0), uint8(0), []byte{}, uint16(0))
	f.Add(int32(7), uint8(3), []byte("hello"), uint16(126))
	f.Add(int32(-1), uint8(1), []byte("x"), uint16(3))
	f.Add(int32(1), uint8(9), []byte("x"), uint16(3))
	f.Add(int32(1), uint8(1), make([]byte, 112), uint16(113))
	f.Add(int32(1), uint8(1), make([]byte, 113), uint16(113))
	f.Fuzz(func(t *testing.T, typ int32, producer uint8, payload []byte, start uint16) {
		r, _ := newTestRing(t, 1024, 4)
		idx := int(start) * 8 % r.capacity
		if idx == 8 {
			idx = 16 // no record ends at index 8
		}
		advanceTo(t, r, idx)
		before := r.Stats().Tail
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := r.Write(ctx, int(producer), typ, payload)
		switch {
		case int(producer) >= r.MaxProducers():
			require.ErrorIs(t, err, ErrBadProducer)
		case typ < 0:
			require.ErrorIs(t, err, ErrBadType)
		case len(payload) > r.MaxPayload():
			require.ErrorIs(t, err, ErrTooLarge)
		default:
			require.NoError(t, err)
			require.NoError(t, r.Write(ctx, 0, 0, []byte("next")))
			got := readAll(t, r)
			require.Len(t, got, 2)
			require.Equal(t, rec{typ, int(producer), append([]byte{}, payload...)}, got[0])
			require.Equal(t, []byte("next"), got[1].payload)
			return
		}
		require.Equal(t, before, r.Stats().Tail, "nothing claimed")
	})
}
