package remote_shm

// Tests of the ring API the transport uses: FormatZeroedRing, WriteBy and
// ResetProducer.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FormatZeroedRing writes the header and leaves the data area alone (the
// registry zeroed it): a mark in the data area survives, the header is reset.
func TestFormatZeroedRingLeavesData(t *testing.T) {
	size, err := RingSize(4096, 4)
	require.NoError(t, err)
	region := heapRegion(size)
	r, err := FormatRing(region, 4)
	require.NoError(t, err)
	require.NoError(t, r.Write(context.Background(), 1, 7, []byte("old")))
	dataOff := r.dataOffset()
	region[dataOff+4000] = 0xAB // beyond every record: must survive

	z, err := FormatZeroedRing(region, 4)
	require.NoError(t, err)
	assert.Equal(t, byte(0xAB), region[dataOff+4000], "the data area is not touched")
	st := z.Stats()
	assert.Zero(t, st.Head)
	assert.Zero(t, st.Tail)
	assert.Zero(t, st.Written, "producer counters are in the header: reset")

	// On a zero data area it is a working ring like FormatRing's.
	clear(region[dataOff:])
	z, err = FormatZeroedRing(region, 4)
	require.NoError(t, err)
	require.NoError(t, z.Write(context.Background(), 2, 7, []byte("new")))
	got := readAll(t, z)
	require.Len(t, got, 1)
	assert.Equal(t, "new", string(got[0].payload))
	_, err = FormatZeroedRing(region[:100], 4)
	require.ErrorIs(t, err, ErrBadRegion)
}

func TestWriteBy(t *testing.T) {
	t.Run("room: no allocation", func(t *testing.T) {
		r, _ := newTestRing(t, 1<<16, 2)
		payload := make([]byte, 64)
		deadline := time.Now().Add(time.Minute)
		check := func() error { return nil }
		allocs := testing.AllocsPerRun(100, func() {
			require.NoError(t, r.WriteBy(deadline, check, 1, 3, payload))
			_, _ = r.Read(0, func(int32, int, []byte) {})
		})
		assert.Zero(t, allocs)
	})
	t.Run("full until the deadline", func(t *testing.T) {
		r, _ := newTestRing(t, 4096, 2)
		fillRing(t, r, 0)
		t0 := time.Now()
		err := r.WriteBy(t0.Add(20*time.Millisecond), nil, 1, 3, make([]byte, 64))
		require.ErrorIs(t, err, ErrRingFull)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.GreaterOrEqual(t, time.Since(t0), 20*time.Millisecond)
		assert.Equal(t, uint64(1), r.Stats().Producers[1].FullWaits)
	})
	t.Run("full, then aborted", func(t *testing.T) {
		r, _ := newTestRing(t, 4096, 2)
		fillRing(t, r, 0)
		gone := errors.New("consumer died")
		calls := 0
		err := r.WriteBy(time.Now().Add(time.Minute), func() error {
			if calls++; calls > 3 {
				return gone
			}
			return nil
		}, 1, 3, make([]byte, 64))
		require.ErrorIs(t, err, gone)
		require.ErrorIs(t, err, ErrRingFull)
	})
	t.Run("full, then room", func(t *testing.T) {
		r, _ := newTestRing(t, 4096, 2)
		fillRing(t, r, 0)
		go func() {
			time.Sleep(5 * time.Millisecond)
			readAll(t, r)
		}()
		require.NoError(t, r.WriteBy(time.Now().Add(10*time.Second), nil, 1, 3, []byte("fits later")))
	})
	t.Run("refusals", func(t *testing.T) {
		r, _ := newTestRing(t, 4096, 2)
		require.ErrorIs(t, r.WriteBy(time.Time{}, nil, 2, 1, nil), ErrBadProducer)
		require.ErrorIs(t, r.WriteBy(time.Time{}, nil, 0, -1, nil), ErrBadType)
		require.ErrorIs(t, r.WriteBy(time.Time{}, nil, 0, 1, make([]byte, r.MaxPayload()+1)), ErrTooLarge)
	})
}

// A process dies between claim and commit; a new process takes its slot (and
// so its producer id) and calls ResetProducer before writing anywhere. The
// consumer, asked whether that producer id is dead, hears "no" (the new
// process lives) and still gets past the dead record, because the dead
// intent no longer passes for a live claim.
func TestResetProducerLetsUnblockSkipAPredecessorsClaim(t *testing.T) {
	const id = 1
	for _, point := range []crashPoint{crashAfterIntent, crashAfterCAS, crashAfterHeader} {
		t.Run(fmt.Sprint(point), func(t *testing.T) {
			r, region := newTestRing(t, 4096, 4)
			ctx := context.Background()
			require.NoError(t, r.Write(ctx, 0, 1, []byte("before")))
			victim, err := AttachRing(region)
			require.NoError(t, err)
			setCrash(t, crashAt(point, id))
			require.ErrorIs(t, victim.Write(ctx, id, 1, make([]byte, 40)), errCrashed)
			testCrash = nil
			require.NoError(t, r.Write(ctx, 2, 1, []byte("after")))

			alive := func(int) bool { return false } // the slot's current process is alive
			claimed := point != crashAfterIntent
			if claimed {
				assert.Equal(t, []string{"before"}, payloads(readAll(t, r)))
				assert.True(t, r.Stuck())
				assert.Zero(t, r.Unblock(alive), "the intent looks like a live claim of the slot's new process")
			} else {
				assert.Equal(t, []string{"before", "after"}, payloads(readAll(t, r)), "nothing was claimed")
			}

			successor, err := AttachRing(region)
			require.NoError(t, err)
			require.NoError(t, successor.ResetProducer(id))
			require.ErrorIs(t, successor.ResetProducer(4), ErrBadProducer)
			if claimed {
				assert.Equal(t, 1, r.Unblock(alive), "an orphan now")
				assert.Equal(t, []string{"after"}, payloads(readAll(t, r)))
			}
			require.NoError(t, successor.Write(ctx, id, 1, []byte("successor")))
			assert.Equal(t, []string{"successor"}, payloads(readAll(t, r)))
		})
	}
}
