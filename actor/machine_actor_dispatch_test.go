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
