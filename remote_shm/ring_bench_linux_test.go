//go:build linux

package remote_shm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Benchmarks. Rings live in /dev/shm, mapped MAP_SHARED, as in production.
//
//	go test -run '^$' -bench . -benchtime 2000000x ./remote_shm/   (throughput)
//	go test -run '^$' -bench PingPong -benchtime 20000x ./remote_shm/

// BenchmarkThroughput: goroutine producers, one consumer goroutine, 16-byte
// payloads, a 1 MiB ring. ns/op is per record.
func BenchmarkThroughput(b *testing.B) {
	for _, producers := range []int{1, 2} {
		b.Run(fmt.Sprintf("producers=%d/payload=16", producers), func(b *testing.B) {
			size, err := RingSize(1<<20, 16)
			require.NoError(b, err)
			_, region := shmFile(b, size)
			r, err := FormatRing(region, 16)
			require.NoError(b, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			per := b.N / producers
			total := per * producers
			payload := make([]byte, 16)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for p := 0; p < producers; p++ {
				wg.Add(1)
				go func(p int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						if err := r.Write(ctx, p, 1, payload); err != nil {
							b.Error(err)
							return
						}
					}
				}(p)
			}
			got := 0
			for got < total {
				n, err := r.Read(0, func(int32, int, []byte) {})
				if err != nil {
					b.Fatal(err)
				}
				got += n
				if n == 0 {
					if err := r.Wait(ctx, DefaultSpin); err != nil {
						b.Fatal(err)
					}
				}
			}
			elapsed := time.Since(start)
			wg.Wait()
			b.StopTimer()
			s := r.Stats()
			b.ReportMetric(float64(total)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(s.FullWaits)/float64(total), "fullwaits/rec")
			b.ReportMetric(float64(s.Wakes)/float64(total), "wakes/rec")
		})
	}
}

// BenchmarkCrossProcessThroughput: one producer process, this process
// consumes; timed from the first record to the last. ns/op is per record.
func BenchmarkCrossProcessThroughput(b *testing.B) {
	size, err := RingSize(1<<20, 4)
	require.NoError(b, err)
	path, region := shmFile(b, size)
	r, err := FormatRing(region, 4)
	require.NoError(b, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	h := startHelper(b, helperEnv("produce", path, envProducer+"=1", envCount+"="+strconv.Itoa(b.N+1), envSize+"=16")...)
	for got := 0; got == 0; {
		got, err = r.Read(1, func(int32, int, []byte) {})
		require.NoError(b, err)
		if got == 0 {
			require.NoError(b, r.Wait(ctx, DefaultSpin))
		}
	}
	b.ResetTimer()
	start := time.Now()
	for got := 0; got < b.N; {
		n, err := r.Read(0, func(int32, int, []byte) {})
		require.NoError(b, err)
		got += n
		if n == 0 {
			require.NoError(b, r.Wait(ctx, DefaultSpin))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	h.wait(b)
	s := r.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(s.Wakes)/float64(b.N), "wakes/rec")
}

// BenchmarkPingPong: a round trip between two processes, each consumer
// waiting with the same spin budget before it sleeps on the futex. ns/op is
// the mean round trip; p50/p99 are reported too.
func BenchmarkPingPong(b *testing.B) {
	for _, spin := range []time.Duration{0, time.Microsecond, 10 * time.Microsecond, 50 * time.Microsecond} {
		b.Run("spin="+spin.String(), func(b *testing.B) {
			one, err := RingSize(64<<10, 2)
			require.NoError(b, err)
			path, region := shmFile(b, 2*one)
			mine, err := FormatRing(region[:one], 2)
			require.NoError(b, err)
			theirs, err := FormatRing(region[one:], 2)
			require.NoError(b, err)
			h := startHelper(b, envHelper+"=echo", envPath+"="+path, envOffset+"="+strconv.Itoa(one),
				envOffset2+"=0", envSpin+"="+strconv.Itoa(int(spin)))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			sp := Spin{Duration: spin}
			payload := make([]byte, 16)
			rtt := make([]time.Duration, 0, b.N)
			roundTrip := func() {
				require.NoError(b, theirs.Write(ctx, 1, 1, payload))
				for {
					n, err := mine.Read(0, func(int32, int, []byte) {})
					require.NoError(b, err)
					if n > 0 {
						return
					}
					require.NoError(b, mine.Wait(ctx, sp))
				}
			}
			roundTrip() // the echo process is up
			sleeps0, theirSleeps0 := mine.Stats().Sleeps, theirs.Stats().Sleeps
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				roundTrip()
				rtt = append(rtt, time.Since(t0))
			}
			b.StopTimer()
			require.NoError(b, theirs.Write(ctx, 1, stopType, nil))
			h.wait(b)
			slices.Sort(rtt)
			b.ReportMetric(float64(rtt[len(rtt)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(rtt[len(rtt)*99/100].Nanoseconds())/1e3, "p99-µs")
			b.ReportMetric(float64(mine.Stats().Sleeps-sleeps0+theirs.Stats().Sleeps-theirSleeps0)/float64(b.N), "sleeps/rtt")
		})
	}
}
