package remote_shm

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRingSize(t *testing.T) {
	tests := []struct {
		name      string
		data, n   int
		want      int
		wantError error
	}{
		{"min capacity", 1, 1, headerSize(1) + MinCapacity, nil},
		{"exact power of two", 1 << 20, 16, headerSize(16) + 1<<20, nil},
		{"rounded up", 1<<20 + 1, 16, headerSize(16) + 1<<21, nil},
		{"max", MaxCapacity, 1, headerSize(1) + MaxCapacity, nil},
		{"too big", MaxCapacity + 1, 1, 0, ErrBadRegion},
		{"zero data", 0, 1, 0, ErrBadRegion},
		{"zero producers", 4096, 0, 0, ErrBadRegion},
		{"too many producers", 4096, MaxProducersLimit + 1, 0, ErrBadRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RingSize(tt.data, tt.n)
			if tt.wantError != nil {
				require.ErrorIs(t, err, tt.wantError)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Zero(t, headerSize(tt.n)%lineStride)
		})
	}
}

func TestFormatRing(t *testing.T) {
	size, err := RingSize(1<<16, 16)
	require.NoError(t, err)

	t.Run("fills the region", func(t *testing.T) {
		region := heapRegion(size)
		for i := range region {
			region[i] = 0xAB // formatting must clear old contents
		}
		r, err := FormatRing(region, 16)
		require.NoError(t, err)
		assert.Equal(t, 1<<16, r.Capacity())
		assert.Equal(t, 1<<16/8-recHdrLen, r.MaxPayload())
		assert.Equal(t, 16, r.MaxProducers())
		assert.True(t, bytes.Equal(r.data, make([]byte, r.capacity)), "data area zeroed")
		assert.True(t, bytes.Equal(region[offTail:r.dataOffset()], make([]byte, r.dataOffset()-offTail)), "positions and counters zeroed")
		s := r.Stats()
		assert.Zero(t, s.Head)
		assert.Zero(t, s.Tail)
		assert.Len(t, s.Producers, 16)
	})
	t.Run("larger region keeps a power of two", func(t *testing.T) {
		r, err := FormatRing(heapRegion(size+5000), 16)
		require.NoError(t, err)
		assert.Equal(t, 1<<16, r.Capacity())
	})
	tests := []struct {
		name   string
		region []byte
		n      int
	}{
		{"too small for the header", heapRegion(100), 1},
		{"too small for data", heapRegion(headerSize(16) + MinCapacity - 8), 16},
		{"misaligned", heapRegion(size + 8)[3 : size+3], 16},
		{"zero producers", heapRegion(size), 0},
		{"too many producers", heapRegion(size), MaxProducersLimit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FormatRing(tt.region, tt.n)
			require.ErrorIs(t, err, ErrBadRegion)
		})
	}
}

func TestAttachRing(t *testing.T) {
	size, err := RingSize(4096, 4)
	require.NoError(t, err)
	tests := []struct {
		name    string
		mutate  func(region []byte) []byte
		wantErr error
		msg     string
	}{
		{"valid", func(b []byte) []byte { return b }, nil, ""},
		{"longer region", func(b []byte) []byte { return append(b, make([]byte, 100)...) }, nil, ""},
		{"bad magic", func(b []byte) []byte { b[0] ^= 1; return b }, ErrNotRing, "magic"},
		{"zeroed", func(b []byte) []byte { clear(b); return b }, ErrNotRing, "magic"},
		{"version", func(b []byte) []byte { *u32at(b, offVersion) = 2; return b }, ErrVersion, "version 2"},
		{"capacity not a power of two", func(b []byte) []byte { *u32at(b, offCapacity) = 3000; return b }, ErrBadRegion, "capacity 3000"},
		{"capacity bigger than region", func(b []byte) []byte { *u32at(b, offCapacity) = 8192; return b }, ErrBadRegion, "exceed"},
		{"truncated region", func(b []byte) []byte { return b[:len(b)-8] }, ErrBadRegion, "exceed"},
		{"capacity too small", func(b []byte) []byte { *u32at(b, offCapacity) = 512; return b }, ErrBadRegion, "capacity 512"},
		{"zero producers", func(b []byte) []byte { *u32at(b, offMaxProducers) = 0; return b }, ErrBadRegion, "max producers 0"},
		{"producers vs data offset", func(b []byte) []byte { *u32at(b, offMaxProducers) = 5; return b }, ErrBadRegion, "data offset"},
		{"max record", func(b []byte) []byte { *u32at(b, offMaxRecord) = 4096; return b }, ErrBadRegion, "max record"},
		{"head after tail", func(b []byte) []byte { *u64at(b, offHead) = 64; return b }, ErrCorrupt, "head 64"},
		{"tail a lap ahead", func(b []byte) []byte { *u64at(b, offTail) = 4096 + 8; return b }, ErrCorrupt, "tail 4104"},
		{"misaligned tail", func(b []byte) []byte { *u64at(b, offTail) = 12; return b }, ErrCorrupt, "tail 12"},
		{"header only", func(b []byte) []byte { return b[:64] }, ErrBadRegion, "smaller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			region := heapRegion(size + 128)[:size]
			_, err := FormatRing(region, 4)
			require.NoError(t, err)
			r, err := AttachRing(tt.mutate(region))
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, 4096, r.Capacity())
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	r, region := newTestRing(t, 4096, 4)
	consumer, err := AttachRing(region) // a second handle sees the same ring
	require.NoError(t, err)
	sizes := []int{0, 1, 7, 8, 9, 100, r.MaxPayload()}
	for i, n := range sizes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i + j)
		}
		require.NoError(t, r.Write(context.Background(), i%4, int32(i), p))
		got := readAll(t, consumer)
		require.Len(t, got, 1, "size %d", n)
		assert.Equal(t, int32(i), got[0].typ)
		assert.Equal(t, i%4, got[0].producer)
		assert.Equal(t, p, got[0].payload)
	}
	s := r.Stats()
	assert.Equal(t, uint64(len(sizes)), s.Written)
	assert.Equal(t, uint64(len(sizes)), s.Read)
	assert.Equal(t, s.WrittenBytes, s.ReadBytes)
	assert.Zero(t, s.Used)
	assert.Zero(t, s.Corrupt)
	assert.False(t, r.Pending())
}

func TestWrapAndPadding(t *testing.T) {
	tests := []struct {
		name        string
		startIdx    int // tail index before the record
		payload     int
		wantPadding int // bytes of padding before the record
	}{
		{"exact fit at the end", 1024 - 64, 64 - recHdrLen, 0},
		{"one byte too many", 1024 - 64, 64 - recHdrLen + 1, 64},
		{"8-byte padding", 1024 - 8, 0, 8},
		{"16-byte padding", 1024 - 16, 1, 16},
		{"max record at the end", 1024 - 128, 128 - recHdrLen, 0},
		{"max record wraps", 1024 - 120, 128 - recHdrLen, 120},
		{"no wrap", 512, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newTestRing(t, 1024, 2)
			advanceTo(t, r, tt.startIdx)
			before := r.Stats().Tail
			want := seqPayload(42, tt.payload)[:tt.payload]
			require.NoError(t, r.Write(context.Background(), 1, 5, want))
			after := r.Stats().Tail
			require.Equal(t, uint64(tt.wantPadding+align8(recHdrLen+tt.payload)), after-before)
			require.NoError(t, r.Write(context.Background(), 1, 6, []byte("next")))
			got := readAll(t, r)
			require.Len(t, got, 2)
			assert.Equal(t, want, got[0].payload)
			assert.Equal(t, int32(5), got[0].typ)
			assert.Equal(t, []byte("next"), got[1].payload)
			assert.Equal(t, make([]byte, r.capacity), r.data, "consumed space is zeroed")
		})
	}
}

func TestManyRecordsWrapInOrder(t *testing.T) {
	r, _ := newTestRing(t, 1024, 3)
	var next [3]uint64
	var want [3]uint64
	for round := 0; round < 400; round++ {
		for p := 0; p < 3; p++ {
			n := (round*7 + p*13) % 90
			require.NoError(t, r.Write(context.Background(), p, 1, seqPayload(want[p], n)))
			want[p]++
		}
		if round%3 == 2 {
			for _, g := range readAll(t, r) {
				require.Equal(t, next[g.producer], checkSeqPayload(t, g.payload))
				next[g.producer]++
			}
		}
	}
	for _, g := range readAll(t, r) {
		require.Equal(t, next[g.producer], checkSeqPayload(t, g.payload))
		next[g.producer]++
	}
	assert.Equal(t, want, next)
}

func TestWriteErrors(t *testing.T) {
	r, _ := newTestRing(t, 1024, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // none of these may wait
	tests := []struct {
		name     string
		producer int
		typ      int32
		n        int
		want     error
	}{
		{"too large", 0, 1, r.MaxPayload() + 1, ErrTooLarge},
		{"far too large", 0, 1, 1 << 20, ErrTooLarge},
		{"negative producer", -1, 1, 1, ErrBadProducer},
		{"producer out of range", 2, 1, 1, ErrBadProducer},
		{"padding type", 0, padType, 1, ErrBadType},
		{"skip type", 0, skipType, 1, ErrBadType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Write(ctx, tt.producer, tt.typ, make([]byte, tt.n))
			require.ErrorIs(t, err, tt.want)
			require.NotErrorIs(t, err, ErrRingFull)
			_, err = r.Claim(ctx, tt.producer, tt.typ, tt.n)
			require.ErrorIs(t, err, tt.want)
		})
	}
	assert.Zero(t, r.Stats().Tail, "nothing claimed")
	// A cancelled context does not stop a write that has room.
	require.NoError(t, r.Write(ctx, 0, 1, []byte("room")))
}

func fillRing(t *testing.T, r *Ring, producer int) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	for {
		err := r.Write(ctx, producer, 1, seqPayload(uint64(n), 40))
		if err != nil {
			require.ErrorIs(t, err, ErrRingFull)
			return n
		}
		n++
	}
}

func TestFullRingDeadline(t *testing.T) {
	r, _ := newTestRing(t, 1024, 2)
	n := fillRing(t, r, 0)
	require.Equal(t, 1024/56, n)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := r.Write(ctx, 1, 1, make([]byte, 40))
	require.ErrorIs(t, err, ErrRingFull)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "producer 1")
	require.Contains(t, err.Error(), "no room for a 56-byte record")
	require.Contains(t, err.Error(), "ring full")
	require.Contains(t, err.Error(), "deadline exceeded")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel2()
	_, err = r.Claim(ctx2, 1, 1, 40)
	require.ErrorIs(t, err, ErrRingFull)
	s := r.Stats()
	assert.Equal(t, uint64(2), s.Producers[1].FullWaits)
	assert.False(t, s.Producers[1].InFlight, "no intent left behind while waiting")
	assert.Equal(t, uint64(n), s.Written)
	// Nothing was lost: the consumer reads all of them.
	got := readAll(t, r)
	require.Len(t, got, n)
}

func TestFullRingWaitsForConsumer(t *testing.T) {
	r, _ := newTestRing(t, 1024, 2)
	n := fillRing(t, r, 0)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done <- r.Write(ctx, 1, 2, []byte("late"))
	}()
	for r.Stats().Producers[1].FullWaits == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("write returned %v while the ring was full", err)
	default:
	}
	got := readAll(t, r)
	require.NoError(t, <-done)
	got = append(got, readAll(t, r)...)
	require.Len(t, got, n+1)
	assert.Equal(t, []byte("late"), got[n].payload)
}

func TestClaimCommitAbort(t *testing.T) {
	r, _ := newTestRing(t, 1024, 2)
	c, err := r.Claim(context.Background(), 1, 7, 5)
	require.NoError(t, err)
	require.Len(t, c.Payload, 5)
	require.Equal(t, 5, cap(c.Payload), "payload cannot be appended into the next record")
	copy(c.Payload, "hello")
	assert.True(t, r.Stuck(), "claimed, not committed")
	n, err := r.Read(0, func(int32, int, []byte) { t.Fatal("uncommitted record delivered") })
	require.NoError(t, err)
	require.Zero(t, n)
	c.Commit()
	c.Commit() // no-op
	a, err := r.Claim(context.Background(), 1, 8, 3)
	require.NoError(t, err)
	a.Abort()
	a.Commit() // no-op after Abort
	require.NoError(t, r.Write(context.Background(), 1, 9, []byte("after")))
	got := readAll(t, r)
	require.Len(t, got, 2)
	assert.Equal(t, rec{7, 1, []byte("hello")}, got[0])
	assert.Equal(t, rec{9, 1, []byte("after")}, got[1])
	assert.Equal(t, uint64(2), r.Stats().Written, "aborted records are not counted")
}

func TestReadLimitAndZeroing(t *testing.T) {
	r, _ := newTestRing(t, 1024, 1)
	for i := 0; i < 5; i++ {
		require.NoError(t, r.Write(context.Background(), 0, int32(i), []byte{byte(i), 0xFF}))
	}
	var seen []int32
	var held []byte
	n, err := r.Read(2, func(typ int32, _ int, b []byte) {
		seen = append(seen, typ)
		require.Equal(t, len(b), cap(b), "appending cannot overwrite the next record")
		held = b // kept past fn on purpose: it must be zeroed afterwards
	})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	assert.Equal(t, []int32{0, 1}, seen)
	assert.Equal(t, []byte{0, 0}, held, "payload space is zeroed after Read")
	n, err = r.Read(0, func(typ int32, _ int, _ []byte) { seen = append(seen, typ) })
	require.NoError(t, err)
	require.Equal(t, 3, n)
	assert.Equal(t, []int32{0, 1, 2, 3, 4}, seen)
}

func TestReadPanicConsumesRecord(t *testing.T) {
	r, _ := newTestRing(t, 1024, 1)
	require.NoError(t, r.Write(context.Background(), 0, 1, []byte("boom")))
	require.NoError(t, r.Write(context.Background(), 0, 2, []byte("ok")))
	require.Panics(t, func() {
		_, _ = r.Read(0, func(typ int32, _ int, _ []byte) {
			if typ == 1 {
				panic("handler failed")
			}
		})
	})
	got := readAll(t, r)
	require.Len(t, got, 1, "the record whose handler panicked is not redelivered")
	assert.Equal(t, int32(2), got[0].typ)
}

func TestCorruptRecords(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(r *Ring, idx int) // idx: the second record's header
		reason  string
	}{
		{"length too large", func(r *Ring, i int) { *r.lenAt(i) = int32(r.maxRecord + 8) }, "max record"},
		{"length huge", func(r *Ring, i int) { *r.lenAt(i) = 1 << 30 }, "max record"},
		{"length short", func(r *Ring, i int) { *r.lenAt(i) = 9 }, "shorter"},
		{"bad producer", func(r *Ring, i int) { *r.producerAt(i) = 99 }, "producer id"},
		{"bad check word", func(r *Ring, i int) { *r.checkAt(i) ^= 1 }, "check word"},
		{"changed length", func(r *Ring, i int) { *r.lenAt(i) += 8 }, "check word"},
		{"unknown type", func(r *Ring, i int) { *r.typeAt(i) = -7 }, "unknown record type"},
		{"padding in the middle", func(r *Ring, i int) { *r.typeAt(i) = padType }, "padding"},
		{"crosses the end", func(r *Ring, i int) { *r.lenAt(i) = int32(r.capacity - i + 8) }, "max record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newTestRing(t, 1024, 2)
			require.NoError(t, r.Write(context.Background(), 0, 1, []byte("first")))
			second := int(r.Stats().Tail & r.mask)
			for i := 0; i < 3; i++ {
				require.NoError(t, r.Write(context.Background(), 1, 2, []byte("dropped")))
			}
			tail := r.Stats().Tail
			tt.corrupt(r, second)
			var got []string
			n, err := r.Read(0, func(_ int32, _ int, b []byte) { got = append(got, string(b)) })
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), tt.reason)
			require.Equal(t, 1, n)
			assert.Equal(t, []string{"first"}, got)
			s := r.Stats()
			assert.Equal(t, uint64(1), s.Corrupt)
			assert.Equal(t, tail-uint64(second), s.CorruptBytes)
			assert.Equal(t, tail, s.Head, "skipped to the tail")
			assert.Equal(t, make([]byte, r.capacity), r.data, "dropped space is zeroed")
			// The ring works on.
			require.NoError(t, r.Write(context.Background(), 1, 3, []byte("again")))
			again := readAll(t, r)
			require.Len(t, again, 1)
			assert.Equal(t, []byte("again"), again[0].payload)
		})
	}
}

func TestCorruptRecoveryStopsAtClaimInFlight(t *testing.T) {
	r, _ := newTestRing(t, 1024, 3)
	require.NoError(t, r.Write(context.Background(), 0, 1, []byte("bad")))
	require.NoError(t, r.Write(context.Background(), 0, 1, []byte("dropped")))
	c, err := r.Claim(context.Background(), 2, 4, 4) // a live producer still writing
	require.NoError(t, err)
	claimStart := r.Stats().Tail - uint64(align8(recHdrLen+4))
	require.NoError(t, r.Write(context.Background(), 1, 5, []byte("behind")))
	*r.checkAt(0) ^= 0xFF

	n, err := r.Read(0, func(int32, int, []byte) { t.Fatal("nothing is readable") })
	require.ErrorIs(t, err, ErrCorrupt)
	require.Zero(t, n)
	assert.Equal(t, claimStart, r.Stats().Head, "dropped only up to the claim in flight")
	copy(c.Payload, "live")
	c.Commit()
	got := readAll(t, r)
	require.Len(t, got, 2)
	assert.Equal(t, rec{4, 2, []byte("live")}, got[0])
	assert.Equal(t, rec{5, 1, []byte("behind")}, got[1])
}

func TestCorruptPositions(t *testing.T) {
	r, _ := newTestRing(t, 1024, 1)
	require.NoError(t, r.Write(context.Background(), 0, 1, []byte("x")))
	atomic.StoreUint64(r.head, 4000) // head (and the producers' cached head) past the tail
	atomic.StoreUint64(r.headCache, 4000)
	_, err := r.Read(0, func(int32, int, []byte) {})
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Zero(t, r.Unblock(deadSet(0)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = r.Write(ctx, 0, 1, []byte("y"))
	require.ErrorIs(t, err, ErrCorrupt)
	assert.False(t, errors.Is(err, ErrRingFull))
}

func TestWaitReturnsOnWrite(t *testing.T) {
	for _, spin := range []Spin{{}, {Iterations: 100}, {Duration: 50 * time.Microsecond}} {
		r, _ := newTestRing(t, 1024, 1)
		errc := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			errc <- r.Wait(ctx, spin)
		}()
		for atomic.LoadUint32(r.sleeping) == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		require.NoError(t, r.Write(context.Background(), 0, 1, []byte("wake")))
		require.NoError(t, <-errc)
		s := r.Stats()
		assert.GreaterOrEqual(t, s.Wakes, uint64(1), "the producer woke the sleeper")
		assert.GreaterOrEqual(t, s.Sleeps, uint64(1))
		assert.Len(t, readAll(t, r), 1)
		// A busy (not sleeping) consumer costs the producer no wake-up.
		wakes := r.Stats().Wakes
		require.NoError(t, r.Write(context.Background(), 0, 1, []byte("no wake")))
		assert.Equal(t, wakes, r.Stats().Wakes)
		require.NoError(t, r.Wait(context.Background(), spin), "readable: returns at once")
	}
}

func TestWaitContext(t *testing.T) {
	r, _ := newTestRing(t, 1024, 1)
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- r.Wait(ctx, Spin{}) }()
		for atomic.LoadUint32(r.sleeping) == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		cancel()
		err := <-errc
		require.ErrorIs(t, err, context.Canceled)
		require.Zero(t, atomic.LoadUint32(r.sleeping), "flag cleared on return")
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, r.Wait(ctx, Spin{Duration: time.Microsecond}), context.DeadlineExceeded)
	})
	t.Run("already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, r.Wait(ctx, DefaultSpin), context.Canceled)
	})
	t.Run("wake", func(t *testing.T) {
		errc := make(chan error, 1)
		go func() { errc <- r.Wait(context.Background(), Spin{}) }()
		for atomic.LoadUint32(r.sleeping) == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		r.Wake()
		require.NoError(t, <-errc)
	})
}

// An idle consumer sleeps in the kernel: over 350 ms it enters FUTEX_WAIT a
// handful of times (once per 100 ms slice), it does not poll.
func TestWaitIdleSleeps(t *testing.T) {
	r, _ := newTestRing(t, 1024, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, r.Wait(ctx, DefaultSpin), context.DeadlineExceeded)
	s := r.Stats().Sleeps
	assert.GreaterOrEqual(t, s, uint64(1))
	assert.LessOrEqual(t, s, uint64(12))
}

// HasRoom says whether a write of n bytes would be claimed without waiting:
// true on an empty ring up to MaxPayload, false once the ring is full, true
// again after a read; false for a payload no record can hold.
func TestHasRoom(t *testing.T) {
	r, _ := newTestRing(t, 4096, 1)
	assert.True(t, r.HasRoom(0))
	assert.True(t, r.HasRoom(r.MaxPayload()))
	assert.False(t, r.HasRoom(r.MaxPayload()+1))
	assert.False(t, r.HasRoom(-1))
	n := fillRing(t, r, 0)
	require.Positive(t, n)
	assert.False(t, r.HasRoom(100), "full")
	assert.NotEmpty(t, readAll(t, r))
	assert.True(t, r.HasRoom(100), "read: room again")
	// Every answer is what a write would find: room means it does not wait.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	for i := 0; r.HasRoom(300); i++ {
		require.NoError(t, r.Write(ctx, 0, 1, make([]byte, 300)), "write %d after HasRoom", i)
	}
	require.ErrorIs(t, r.Write(ctx, 0, 1, make([]byte, 300)), ErrRingFull)
}
