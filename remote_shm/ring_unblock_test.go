package remote_shm

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func payloads(rs []rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.payload)
	}
	return out
}

// A producer dies at each point of its claim; other producers write behind
// its record. The consumer is stuck until Unblock is told of the death, never
// before, and then gets every other record; the loss is counted against the
// dead producer.
func TestUnblockDeadProducer(t *testing.T) {
	const dying = 1
	points := []struct {
		name  string
		point crashPoint
	}{
		{"after intent", crashAfterIntent},
		{"after CAS", crashAfterCAS},
		{"after padding", crashAfterPadding},
		{"after header", crashAfterHeader},
	}
	for _, pt := range points {
		for _, wrap := range []bool{false, true} {
			for _, reuse := range []bool{false, true} {
				if pt.point == crashAfterPadding && !wrap {
					continue // no padding without a wrap
				}
				name := fmt.Sprintf("%s/wrap=%v/id_reused=%v", pt.name, wrap, reuse)
				t.Run(name, func(t *testing.T) {
					r, region := newTestRing(t, 1024, 4)
					if wrap {
						advanceTo(t, r, 1024-48) // a1 takes 24 bytes, the dying 56-byte record wraps
					}
					ctx := context.Background()
					require.NoError(t, r.Write(ctx, 0, 1, []byte("a1")))
					startOfDying := r.Stats().Tail

					victim, err := AttachRing(region) // the dying process's own handle
					require.NoError(t, err)
					setCrash(t, crashAt(pt.point, dying))
					err = victim.Write(ctx, dying, 1, make([]byte, 40))
					require.ErrorIs(t, err, errCrashed)
					testCrash = nil
					claimed := pt.point != crashAfterIntent
					if claimed {
						want := uint64(56)
						if wrap {
							want += 24
						}
						require.Equal(t, startOfDying+want, r.Stats().Tail)
					}

					require.NoError(t, r.Write(ctx, 0, 1, []byte("a2")))
					require.NoError(t, r.Write(ctx, 2, 1, []byte("b1")))
					if reuse {
						// A restarted process got the dead one's producer id:
						// its first write overwrites the dead claim's intent.
						restarted, err := AttachRing(region)
						require.NoError(t, err)
						require.NoError(t, restarted.Write(ctx, dying, 1, []byte("n1")))
					}
					require.NoError(t, r.Write(ctx, 2, 1, []byte("b2")))
					after := []string{"a2", "b1", "b2"}
					if reuse {
						after = []string{"a2", "b1", "n1", "b2"}
					}

					got := payloads(readAll(t, r))
					if !claimed {
						assert.Equal(t, append([]string{"a1"}, after...), got, "a dead intent without a claim blocks nothing")
						assert.False(t, r.Stuck())
						assert.Zero(t, r.Unblock(deadSet(dying)))
						return
					}
					require.Equal(t, []string{"a1"}, got)
					require.True(t, r.Stuck())
					assert.Zero(t, r.Unblock(nil), "no death known")
					if !reuse {
						assert.Zero(t, r.Unblock(deadSet()), "nobody dead")
						assert.Zero(t, r.Unblock(deadSet(0, 2, 3)), "the owner is alive")
						require.True(t, r.Stuck())
					}
					require.Equal(t, 1, r.Unblock(deadSet(dying)))
					assert.False(t, r.Stuck())
					require.Equal(t, after, payloads(readAll(t, r)))

					s := r.Stats()
					assert.Equal(t, uint64(1), s.Skipped)
					assert.Equal(t, uint64(1), s.Lost)
					if reuse && pt.point != crashAfterHeader {
						// No header, no intent: the producer cannot be told.
						assert.Equal(t, uint64(1), s.LostUnknown)
					} else {
						assert.Equal(t, uint64(1), s.Producers[dying].Lost)
					}
					assert.Zero(t, s.Corrupt)
					assert.Equal(t, make([]byte, r.capacity), r.data, "all consumed space zeroed")

					// The ring goes on, and the id can be used again.
					again, err := AttachRing(region)
					require.NoError(t, err)
					require.NoError(t, again.Write(ctx, dying, 1, []byte("later")))
					assert.Equal(t, []string{"later"}, payloads(readAll(t, r)))
				})
			}
		}
	}
}

// Unblock walks over committed records to every dead record behind the head.
func TestUnblockSeveralDeadRecords(t *testing.T) {
	r, region := newTestRing(t, 4096, 4)
	ctx := context.Background()
	for i, p := range []int{1, 3} {
		require.NoError(t, r.Write(ctx, 0, 1, []byte(fmt.Sprint("x", i))))
		victim, err := AttachRing(region)
		require.NoError(t, err)
		setCrash(t, crashAt([]crashPoint{crashAfterCAS, crashAfterHeader}[i], p))
		require.ErrorIs(t, victim.Write(ctx, p, 1, make([]byte, 100)), errCrashed)
		testCrash = nil
	}
	require.NoError(t, r.Write(ctx, 2, 1, []byte("y")))
	assert.Zero(t, r.Unblock(deadSet(3)), "the first stuck record's owner is alive")
	require.Equal(t, 2, r.Unblock(deadSet(1, 3)))
	assert.Equal(t, []string{"x0", "x1", "y"}, payloads(readAll(t, r)))
	s := r.Stats()
	assert.Equal(t, uint64(1), s.Producers[1].Lost)
	assert.Equal(t, uint64(1), s.Producers[3].Lost)
}

// A live producer that is slow between its CAS and its commit is never
// skipped, whoever else is reported dead.
func TestUnblockNeverSkipsSlowLiveProducer(t *testing.T) {
	for _, point := range []crashPoint{crashAfterIntent, crashAfterCAS, crashAfterPadding, crashAfterHeader} {
		t.Run(fmt.Sprint("paused at ", point), func(t *testing.T) {
			const slow = 2
			r, region := newTestRing(t, 1024, 4)
			advanceTo(t, r, 1024-24) // the slow record wraps: padding, then the record
			paused, resume := make(chan struct{}), make(chan struct{})
			setCrash(t, func(p crashPoint, id int) bool {
				if p == point && id == slow {
					close(paused)
					<-resume
				}
				return false
			})
			slowRing, err := AttachRing(region)
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- slowRing.Write(context.Background(), slow, 1, []byte("slow but alive")) }()
			<-paused
			if point != crashAfterIntent {
				require.NoError(t, r.Write(context.Background(), 0, 1, []byte("behind")))
				require.True(t, r.Stuck())
			}
			assert.Zero(t, r.Unblock(deadSet(0, 1, 3)), "everyone else is dead")
			assert.Zero(t, r.Stats().Skipped)
			close(resume)
			require.NoError(t, <-done)
			got := payloads(readAll(t, r))
			if point == crashAfterIntent {
				require.NoError(t, r.Write(context.Background(), 0, 1, []byte("behind")))
				got = append(got, payloads(readAll(t, r))...)
			}
			assert.Equal(t, []string{"slow but alive", "behind"}, got)
			assert.Zero(t, r.Stats().Lost)
		})
	}
}

// Two dead producers whose intents both name the stuck position (one won the
// CAS, the other lost it and died before retrying) and disagree on the
// length: Unblock falls back to the scan.
func TestUnblockAmbiguousDeadIntents(t *testing.T) {
	r, region := newTestRing(t, 1024, 4)
	ctx := context.Background()
	require.NoError(t, r.Write(ctx, 0, 1, []byte("a")))
	pos := r.Stats().Tail
	victim, err := AttachRing(region)
	require.NoError(t, err)
	setCrash(t, crashAt(crashAfterCAS, 1))
	require.ErrorIs(t, victim.Write(ctx, 1, 1, make([]byte, 40)), errCrashed)
	testCrash = nil
	// Producer 3 published an intent for the same position and died.
	*r.prods[3].claimLen = recHdrLen + 100
	*r.prods[3].claimPos = pos + 1
	require.NoError(t, r.Write(ctx, 2, 1, []byte("b")))
	assert.Equal(t, []string{"a"}, payloads(readAll(t, r)))
	assert.Zero(t, r.Unblock(deadSet(1)), "3 may be alive and own it")
	require.Equal(t, 1, r.Unblock(deadSet(1, 3)))
	assert.Equal(t, []string{"b"}, payloads(readAll(t, r)))
	assert.Equal(t, uint64(1), r.Stats().LostUnknown)
}

// Unblock called from another goroutine wakes the consumer sleeping in Wait.
func TestUnblockWakesSleepingConsumer(t *testing.T) {
	r, region := newTestRing(t, 1024, 2)
	victim, err := AttachRing(region)
	require.NoError(t, err)
	setCrash(t, crashAt(crashAfterHeader, 1))
	require.ErrorIs(t, victim.Write(context.Background(), 1, 1, []byte("lost")), errCrashed)
	testCrash = nil
	require.NoError(t, r.Write(context.Background(), 0, 1, []byte("behind")))
	errc := make(chan error, 1)
	go func() { errc <- r.Wait(context.Background(), Spin{}) }()
	for atomic.LoadUint32(r.sleeping) == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	require.Equal(t, 1, r.Unblock(deadSet(1)))
	require.NoError(t, <-errc)
	assert.Equal(t, []string{"behind"}, payloads(readAll(t, r)))
}

// An uncommitted record nobody claims, with a length no producer could have
// written, is dropped as corrupt rather than trusted.
func TestUnblockOrphanWithBadLength(t *testing.T) {
	r, _ := newTestRing(t, 1024, 2)
	require.NoError(t, r.Write(context.Background(), 0, 1, []byte("x")))
	readAll(t, r)
	pos := r.Stats().Tail
	// Claim 64 bytes by hand and leave a garbage negative length behind.
	atomic.StoreUint64(r.tail, pos+64)
	atomic.StoreInt32(r.lenAt(int(pos&r.mask)), -5000)
	require.True(t, r.Stuck())
	assert.Zero(t, r.Unblock(deadSet(0, 1)))
	s := r.Stats()
	assert.Equal(t, uint64(1), s.Corrupt)
	assert.Equal(t, uint64(64), s.CorruptBytes)
	assert.False(t, r.Pending())
	require.NoError(t, r.Write(context.Background(), 1, 1, []byte("fine")))
	assert.Equal(t, []string{"fine"}, payloads(readAll(t, r)))
}
