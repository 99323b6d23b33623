package remote_shm

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noSleepSlice makes a consumer's FUTEX_WAIT unbounded for the test: a
// missed wake-up then hangs instead of being papered over by the one-second
// re-check.
func noSleepSlice(t *testing.T) {
	old := sleepSlice
	sleepSlice = time.Hour
	t.Cleanup(func() { sleepSlice = old })
}

// consumer runs Read and Wait (without spinning) until ctx ends, sending
// the first 8 bytes of every record it reads (a sequence number) to got.
func consumer(t *testing.T, ctx context.Context, r *Ring, got chan<- uint64) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			n, err := r.Read(0, func(_ int32, _ int, b []byte) { got <- binary.LittleEndian.Uint64(b) })
			if err != nil {
				t.Error(err)
				return
			}
			if n == 0 {
				_ = r.Wait(ctx, Spin{})
			}
		}
	})
	return &wg
}

func recv(t *testing.T, got <-chan uint64, what string) uint64 {
	t.Helper()
	select {
	case v := <-got:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s", what)
		return 0
	}
}

// TryRead reads unless another goroutine is reading.
func TestTryRead(t *testing.T) {
	r, _ := newTestRing(t, 1024, 1)
	ctx := context.Background()
	require.NoError(t, r.Write(ctx, 0, 1, seqPayload(1, 8)))
	require.NoError(t, r.Write(ctx, 0, 1, seqPayload(2, 8)))
	var inside struct {
		n  int
		ok bool
	}
	n, err := r.Read(1, func(int32, int, []byte) {
		done := make(chan struct{})
		go func() { // another goroutine, while this Read holds the ring
			defer close(done)
			inside.n, inside.ok, _ = r.TryRead(0, func(int32, int, []byte) {})
		}()
		<-done
	})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, inside.ok, "TryRead during a Read")
	assert.Zero(t, inside.n)
	var seqs []uint64
	n, ok, err := r.TryRead(0, func(_ int32, _ int, b []byte) { seqs = append(seqs, binary.LittleEndian.Uint64(b)) })
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 1, n)
	assert.Equal(t, []uint64{2}, seqs)
}

// While a poller reads, the sleeping consumer is left asleep: producers make
// no FUTEX_WAKE and the poller gets the records. A record the poller left
// is handed to the consumer by EndPoll; afterwards producers wake the
// consumer again.
func TestPollKeepsConsumerAsleep(t *testing.T) {
	noSleepSlice(t)
	r, _ := newTestRing(t, 4096, 1)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan uint64, 16)
	wg := consumer(t, ctx, r, got)
	defer func() { cancel(); wg.Wait() }()
	require.Eventually(t, func() bool { return r.parked.Load() }, 10*time.Second, 100*time.Microsecond, "the consumer sleeps")

	r.BeginPoll()
	wakes := r.Stats().Wakes
	require.NoError(t, r.Write(ctx, 0, 1, seqPayload(1, 8)))
	var polled []uint64
	for len(polled) == 0 {
		_, ok, err := r.TryRead(0, func(_ int32, _ int, b []byte) { polled = append(polled, binary.LittleEndian.Uint64(b)) })
		require.NoError(t, err)
		require.True(t, ok, "nobody else reads")
	}
	assert.Equal(t, []uint64{1}, polled)
	assert.Equal(t, wakes, r.Stats().Wakes, "no wake-up while polled")
	assert.Empty(t, got, "the consumer slept")

	require.NoError(t, r.Write(ctx, 0, 1, seqPayload(2, 8))) // left for the consumer
	assert.Equal(t, wakes, r.Stats().Wakes)
	r.EndPoll()
	assert.Equal(t, uint64(2), recv(t, got, "the record left by the poller"))

	require.Eventually(t, func() bool { return r.parked.Load() }, 10*time.Second, 100*time.Microsecond)
	require.NoError(t, r.Write(ctx, 0, 1, seqPayload(3, 8)))
	assert.Equal(t, uint64(3), recv(t, got, "a record after the poll"))
}

// Pollers that come and go at random while a producer writes and the
// consumer sleeps whenever it finds nothing: every record is read once, in
// order, and none waits for a wake-up that never comes (FUTEX_WAIT is
// unbounded here: a lost wake-up hangs the test).
func TestPollNoLostWakeups(t *testing.T) {
	noSleepSlice(t)
	r, _ := newTestRing(t, 64<<10, 1)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan uint64, 1024)
	wg := consumer(t, ctx, r, got)
	defer func() { cancel(); wg.Wait() }()

	const n = 3000
	var stop atomic.Bool
	var pollers sync.WaitGroup
	for p := range 2 {
		pollers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 7))
			for !stop.Load() {
				r.BeginPoll()
				for range rng.IntN(20) {
					_, _, err := r.TryRead(0, func(_ int32, _ int, b []byte) { got <- binary.LittleEndian.Uint64(b) })
					if err != nil {
						t.Error(err)
					}
				}
				r.EndPoll()
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
				}
			}
		})
	}
	go func() {
		rng := rand.New(rand.NewPCG(3, 7))
		for i := range uint64(n) {
			if err := r.Write(ctx, 0, 1, seqPayload(i, 8)); err != nil {
				t.Error(err)
				return
			}
			if rng.IntN(8) == 0 {
				time.Sleep(time.Duration(rng.IntN(100)) * time.Microsecond)
			}
		}
	}()
	for i := range uint64(n) {
		require.Equal(t, i, recv(t, got, "record"), "in order")
	}
	stop.Store(true)
	pollers.Wait()
	assert.Zero(t, r.pollers.Load())
	// No poller left: the consumer alone, woken by producers.
	for i := uint64(n); i < n+50; i++ {
		require.NoError(t, r.Write(ctx, 0, 1, seqPayload(i, 8)))
		require.Equal(t, i, recv(t, got, "record after the pollers"))
	}
	assert.Empty(t, got, "each record once")
}
