package remote_shm

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Spin is the consumer's busy-wait budget in Wait before it sleeps in the
// kernel: it polls the ring until either limit is reached (a zero field is no
// limit; the zero Spin does not spin at all). Every 16 polls it lets this
// process's runnable goroutines run (runtime.Gosched), and every yieldEvery
// of spinning it also yields the CPU to other threads (sched_yield): a
// ping-pong pair of processes placed on one CPU needs that, or a spinner
// keeps its peer from running and so from answering. Spinning trades CPU for
// latency: a futex wake-up across CPUs costs microseconds to tens of
// microseconds on a VM; a spinning consumer sees a record within nanoseconds
// of its commit. Duration is wall time, including time yielded.
type Spin struct {
	Iterations int           // polls of the ring
	Duration   time.Duration // wall time
}

// DefaultSpin is the budget the transport uses unless configured otherwise.
var DefaultSpin = Spin{Duration: 10 * time.Microsecond}

// yieldEvery is how long Wait spins between two sched_yield calls. Not
// shorter: a sched_yield hands the CPU to another thread, often one of this
// process's own Go threads that the last hand-off woke, and the spinner then
// waits for a whole scheduler turn. Measured on the 2-vCPU VM with `xorc
// bench --transport shm --rows xorc-shm --requests 20000`: yielding every 16
// polls (about 1 µs), request RTT p50 ~100 µs; every 5 µs, ~93 µs; every
// 10 µs, ~10 µs (the reply comes before the first yield); never, 9.3 µs.
// With both processes pinned to one CPU (taskset -c 0) the yield is what
// lets the peer answer: 20 µs yielding every 16 polls, 40 µs every 10 µs,
// 90 µs never. So a process limited to one CPU (taskset, a cpuset: Go's
// NumCPU counts the CPUs it may use) keeps yielding every 16 polls.
var yieldEvery = func() time.Duration {
	if runtime.NumCPU() == 1 {
		return 0
	}
	return 10 * time.Microsecond
}()

// sleepSlice bounds one FUTEX_WAIT so that Wait re-checks ctx even if the
// wake-up from context.AfterFunc were missed; an idle consumer wakes once a
// second (every wake-up of an idle Go process costs it tens of
// microseconds of CPU across its runtime threads).
var sleepSlice = time.Second // a variable for tests

// Wait blocks the consumer until a committed record is at the head, Wake is
// called (after Wait began), or ctx ends (then it returns ctx's error,
// wrapped). It may return nil with nothing to read (a wake-up raced with an
// earlier Read): callers loop on Read and Wait.
//
// It spins for the spin budget, then sleeps on the futex word in the ring.
// No wake-up is lost. With sequentially consistent atomics (Go's), each round
// of the consumer and each commit run:
//
//	consumer (entry = word when Wait began)   producer of the head record
//	C1 store sleeping = 1                     P1 store length > 0 (commit)
//	C2 seq = load word; seq != entry: return  P2 load sleeping; if 1, CAS 1 -> 0
//	C3 load length at head; > 0: return       P3 if P2 cleared it: word++, FUTEX_WAKE
//	C4 FUTEX_WAIT(word, seq)
//
// Either P2 precedes this round's C1: then P1 precedes C3, which sees the
// commit. Or the flag was cleared after C1, by this producer or another one
// (whose P2 then reads 0 and it skips the wake), and the one that cleared it
// increments the word: before C2, C2 sees a changed word and returns; after
// C2, FUTEX_WAIT finds the word changed and returns at once (the kernel
// compares and queues atomically), or the waiter is queued already and
// FUTEX_WAKE wakes it. A busy consumer costs producers only the load in P2,
// and many producers committing to a sleeper make one FUTEX_WAKE, not one
// each. Cancellation: context.AfterFunc calls Wake (and Wait returns only
// after that call, so the caller may unmap the ring once Wait returned);
// each FUTEX_WAIT is also bounded by 1 s (or the deadline) as a safety
// net.
func (r *Ring) Wait(ctx context.Context, spin Spin) error {
	entry := atomic.LoadUint32(r.futex) // a Wake from now on ends this Wait
	if r.readable() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ring: wait: %w", err)
	}
	if spin.Iterations > 0 || spin.Duration > 0 {
		start := time.Now()
		yielded := start
		for i := 1; ; i++ {
			if r.readable() {
				return nil
			}
			if spin.Iterations > 0 && i >= spin.Iterations {
				break
			}
			if i%16 == 0 {
				now := time.Now()
				if spin.Duration > 0 && now.Sub(start) >= spin.Duration {
					break
				}
				if r.pollers.Load() > 0 {
					break // a poller reads: sleep without announcing it (below)
				}
				// Let this process's runnable goroutines (the actor the
				// last record woke, a requester waiting for its reply) run
				// on our P first; now and then give the CPU to other
				// threads (see yieldEvery).
				runtime.Gosched()
				if now.Sub(yielded) >= yieldEvery {
					osYield()
					yielded = time.Now()
				}
			}
		}
	}
	defer atomic.StoreUint32(r.sleeping, 0)
	if ctx.Done() != nil {
		// Wait returns only once the wake-up has run, if it started: the
		// ring's memory may be unmapped as soon as the consumer is done.
		woken := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(woken)
			r.Wake()
		})
		defer func() {
			if !stop() {
				<-woken
			}
		}()
	}
	for {
		if r.pollers.Load() > 0 {
			r.park()
			return nil
		}
		atomic.StoreUint32(r.sleeping, 1) // C1 (again each round: a waking producer clears it)
		seq := atomic.LoadUint32(r.futex) // C2
		if seq != entry || r.readable() { // C3
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ring: wait: %w", err)
		}
		d := sleepSlice
		if dl, ok := ctx.Deadline(); ok {
			left := time.Until(dl)
			if left <= 0 { // ctx's own timer may fire a little later: do not spin until it does
				return fmt.Errorf("ring: wait: %w", context.DeadlineExceeded)
			}
			d = min(d, left)
		}
		r.parked.Store(true)
		if atomic.LoadUint32(r.sleeping) == 0 {
			// Cleared since C1: by a producer (that wakes us: the word
			// moves) or by BeginPoll (a poller reads; its EndPoll may have
			// found us not parked yet): look again rather than sleep.
			r.parked.Store(false)
			return nil
		}
		atomic.AddUint64(r.sleeps, 1)
		woken := futexWait(r.futex, seq, d) // C4
		r.parked.Store(false)
		if woken {
			if r.readable() {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("ring: wait: %w", err)
			}
			return nil
		}
	}
}

// readable reports whether a committed record is at the head.
func (r *Ring) readable() bool {
	head := atomic.LoadUint64(r.head)
	if atomic.LoadInt32(r.lenAt(int(head&r.mask))) <= 0 {
		return false
	}
	return atomic.LoadUint64(r.tail) > head // garbage beyond the tail is not a record
}

// Polling. A goroutine that expects a record soon (a requester waiting for
// its reply) may read the ring itself between BeginPoll and EndPoll
// (TryRead), rather than leave the record to the consumer goroutine, which
// would hand it over through the Go scheduler: a thread wake-up on the
// round trip's path. Meanwhile the consumer goroutine does not spin, and it
// sleeps without announcing it: producers leave the sleeping flag alone and
// make no FUTEX_WAKE while a poller reads for it. The last EndPoll
// announces the sleeping consumer again, and wakes it if a record came
// after the poller's last read:
//
//	consumer in Wait                    the last EndPoll
//	K1 store parked = 1                 E1 pollers = 0
//	K2 load pollers (or sleeping):      E2 load parked; if 1: store
//	   0 (or cleared): do not sleep        sleeping = 1, then if readable,
//	K3 FUTEX_WAIT(word, seq)               Wake
//
// Either E2 sees K1 and the consumer is announced again (a producer's
// commit after E2 wakes it; one before it is seen by E2's readable), or K2
// follows E1 and the consumer does not sleep unannounced.

// BeginPoll registers a poller (see above).
func (r *Ring) BeginPoll() {
	r.pmu.Lock()
	if r.pollers.Add(1) == 1 {
		atomic.StoreUint32(r.sleeping, 0) // an announced sleeper is left alone now
	}
	r.pmu.Unlock()
}

// EndPoll ends a poller's turn; after the last one the consumer goroutine
// reads again.
func (r *Ring) EndPoll() {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	if r.pollers.Add(-1) > 0 { // E1
		return
	}
	if r.parked.Load() { // E2
		atomic.StoreUint32(r.sleeping, 1)
		if r.readable() && atomic.CompareAndSwapUint32(r.sleeping, 1, 0) {
			r.Wake()
		}
	}
}

// park is the consumer's sleep while a poller reads: unannounced, until the
// word moves (a Wake, or a producer's once the last EndPoll announced it),
// or a second, whatever comes first.
func (r *Ring) park() {
	seq := atomic.LoadUint32(r.futex)
	r.parked.Store(true)                       // K1
	if r.pollers.Load() > 0 && !r.readable() { // K2
		atomic.AddUint64(r.sleeps, 1)
		futexWait(r.futex, seq, sleepSlice) // K3
	}
	r.parked.Store(false)
}
