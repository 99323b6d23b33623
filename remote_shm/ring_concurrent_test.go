package remote_shm

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// consume reads until want records arrived (or ctx ends), checking that each
// producer's sequence numbers arrive in order without gaps.
func consume(ctx context.Context, t testing.TB, r *Ring, producers int, want uint64, spin Spin) []uint64 {
	t.Helper()
	next := make([]uint64, producers)
	var total uint64
	var bad string
	for total < want && bad == "" {
		n, err := r.Read(0, func(typ int32, p int, b []byte) {
			seq := checkSeqPayload(t, b)
			if seq != next[p] && bad == "" {
				bad = "out of order"
				t.Errorf("producer %d: got seq %d, want %d", p, seq, next[p])
			}
			if typ != int32(p) && bad == "" {
				bad = "wrong type"
				t.Errorf("producer %d: type %d", p, typ)
			}
			next[p] = seq + 1
		})
		require.NoError(t, err)
		total += uint64(n)
		if n == 0 {
			if err := r.Wait(ctx, spin); err != nil {
				t.Fatalf("consumer stopped after %d of %d records: %v (stats %+v)", total, want, err, r.Stats())
			}
		}
	}
	return next
}

// Many goroutine producers (Write and Claim/Commit, varied sizes, a small
// ring so that it wraps and fills) and one consumer: per-producer order, no
// loss, counters agree. Run under -race.
func TestConcurrentProducersOneConsumer(t *testing.T) {
	const producers = 6
	perProducer := 20000
	if testing.Short() {
		perProducer = 2000
	}
	r, region := newTestRing(t, 4096, producers)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		h := r
		if p%2 == 1 {
			var err error
			h, err = AttachRing(region) // as if from another process
			require.NoError(t, err)
		}
		wg.Add(1)
		go func(p int, h *Ring) {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				b := seqPayload(uint64(i), 8+(i*31+p*17)%200)
				if i%3 == 0 {
					c, err := h.Claim(ctx, p, int32(p), len(b))
					if !assert.NoError(t, err) {
						return
					}
					copy(c.Payload, b)
					c.Commit()
					continue
				}
				if !assert.NoError(t, h.Write(ctx, p, int32(p), b)) {
					return
				}
			}
		}(p, h)
	}
	next := consume(ctx, t, r, producers, uint64(producers*perProducer), Spin{Duration: 5 * time.Microsecond})
	wg.Wait()
	for p := range next {
		assert.Equal(t, uint64(perProducer), next[p], "producer %d", p)
	}
	s := r.Stats()
	assert.Equal(t, uint64(producers*perProducer), s.Written)
	assert.Equal(t, s.Written, s.Read)
	assert.Equal(t, s.WrittenBytes, s.ReadBytes)
	assert.Zero(t, s.Corrupt)
	assert.Zero(t, s.Lost)
	assert.Zero(t, s.Used)
	t.Logf("full waits %d, consumer sleeps %d, wakes %d", s.FullWaits, s.Sleeps, s.Wakes)
}
