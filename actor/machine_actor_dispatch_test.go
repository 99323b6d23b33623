package actor

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoolDispatcherRunsEverything(t *testing.T) {
	d := NewPoolDispatcher(3, 0)
	assert.Equal(t, 300, d.Throughput())
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := 0
	for range 200 {
		wg.Add(1)
		d.Schedule(func() {
			defer wg.Done()
			time.Sleep(time.Millisecond) // overlap, so that the pool must grow
			mu.Lock()
			ran++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 200, ran)
	require.Eventually(t, func() bool { return d.Idle() == 3 }, 5*time.Second, time.Millisecond,
		"workers beyond maxIdle exit, maxIdle stay parked")
}

func TestPoolDispatcherReusesParkedWorkers(t *testing.T) {
	d := NewPoolDispatcher(2, 10)
	assert.Equal(t, 10, d.Throughput())
	done := make(chan struct{})
	d.Schedule(func() { done <- struct{}{} })
	<-done
	require.Eventually(t, func() bool { return d.Idle() == 1 }, 5*time.Second, time.Millisecond)
	before := runtime.NumGoroutine()
	for range 100 { // sequential: each one normally finds a parked worker
		d.Schedule(func() { done <- struct{}{} })
		<-done
		require.Eventually(t, func() bool { return d.Idle() >= 1 }, 5*time.Second, 10*time.Microsecond)
	}
	// A schedule that races a worker on its way to park starts one more
	// goroutine; beyond maxIdle they exit. Never one per schedule.
	assert.LessOrEqual(t, d.Idle(), 2)
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+2, "no goroutine per schedule")
}

func TestPoolDispatcherOffer(t *testing.T) {
	d := NewPoolDispatcher(2, 0)
	assert.Nil(t, d.Take(), "nothing offered, nothing taken")

	require.True(t, d.Offer())
	assert.False(t, d.Offer(), "one offer at a time")
	ran := make(chan string, 2)
	d.Schedule(func() { ran <- "first" })
	d.Schedule(func() { ran <- "second" }) // the offer is filled: a worker runs it
	assert.Equal(t, "second", <-ran)
	fn := d.Take()
	require.NotNil(t, fn, "the first Schedule left its work in the offer")
	select {
	case r := <-ran:
		t.Fatalf("%s ran on a worker", r)
	default:
	}
	fn()
	assert.Equal(t, "first", <-ran)

	require.True(t, d.Offer(), "Take closed the offer")
	assert.Nil(t, d.Take(), "an offer nobody filled")
	d.Schedule(func() { ran <- "after" })
	assert.Equal(t, "after", <-ran, "a closed offer takes nothing")
	assert.Nil(t, d.Take())
}

// Schedules racing with Offer and Take: every function runs exactly once,
// taken or on a worker.
func TestPoolDispatcherOfferRace(t *testing.T) {
	d := NewPoolDispatcher(2, 0)
	const n = 2000
	var wg sync.WaitGroup
	var mu sync.Mutex
	runs := map[int]int{}
	wg.Add(n)
	stop := make(chan struct{})
	taker := make(chan int)
	go func() {
		taken := 0
		for {
			select {
			case <-stop:
				taker <- taken
				return
			default:
			}
			if d.Offer() {
				runtime.Gosched()
				if fn := d.Take(); fn != nil {
					taken++
					fn()
				}
			}
		}
	}()
	for i := range n {
		d.Schedule(func() {
			mu.Lock()
			runs[i]++
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	close(stop)
	t.Logf("%d of %d taken", <-taker, n)
	require.Len(t, runs, n)
	for i, c := range runs {
		require.Equal(t, 1, c, "function %d", i)
	}
}
