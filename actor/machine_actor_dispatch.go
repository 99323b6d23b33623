package actor

import (
	"runtime"
	"sync/atomic"

	pactor "github.com/asynkron/protoactor-go/actor"
)

// PoolDispatcher is a proto.actor Dispatcher that runs mailboxes on a pool of
// long-lived goroutines instead of a new goroutine per burst of messages.
//
// Why: proto.actor's default dispatcher starts a goroutine each time an idle
// mailbox gets a message. A new goroutine starts with a small stack, and a
// machine's macrostep (mailbox, actor context, interpreter) needs more, so the
// stack grows and is copied on nearly every request; a grown stack is freed
// when the goroutine exits. Reusing parked workers keeps their grown stacks:
// in our measurements this halves the CPU time of a request round trip.
//
// Schedule hands the mailbox to a parked worker when there is one and starts
// a new goroutine otherwise, so it never blocks and never queues behind a busy
// worker. At most MaxIdle workers stay parked; the others exit.
type PoolDispatcher struct {
	work       chan func()
	idle       atomic.Int32
	maxIdle    int32
	throughput int

	// The offer (see Offer): offerClosed, offerOpen, offerFilling (a
	// Schedule is storing its work), offerFilled.
	offer     atomic.Uint32
	offeredFn func() // written under offerFilling, read under offerFilled
}

const (
	offerClosed uint32 = iota
	offerOpen
	offerFilling
	offerFilled
)

var _ pactor.Dispatcher = (*PoolDispatcher)(nil)

// NewPoolDispatcher returns a pool that keeps at most maxIdle parked workers
// (<= 0: 4 per CPU) and processes up to throughput messages per mailbox
// before yielding (<= 0: 300, proto.actor's default).
func NewPoolDispatcher(maxIdle, throughput int) *PoolDispatcher {
	if maxIdle <= 0 {
		maxIdle = 4 * runtime.GOMAXPROCS(0)
	}
	if throughput <= 0 {
		throughput = 300
	}
	return &PoolDispatcher{work: make(chan func()), maxIdle: int32(maxIdle), throughput: throughput}
}

// defaultDispatcher is shared by every machine actor that sets none.
var defaultDispatcher = NewPoolDispatcher(0, 0)

// DefaultDispatcher is the pool that runs the mailboxes of machine actors
// spawned without WithDispatcher.
func DefaultDispatcher() *PoolDispatcher { return defaultDispatcher }

// Schedule implements pactor.Dispatcher. While an offer is open (see Offer)
// the first Schedule leaves its work in the offer instead.
func (d *PoolDispatcher) Schedule(fn func()) {
	if d.offer.Load() == offerOpen && d.offer.CompareAndSwap(offerOpen, offerFilling) {
		d.offeredFn = fn
		d.offer.Store(offerFilled)
		return
	}
	select {
	case d.work <- fn: // a parked worker takes it
	default:
		go d.worker(fn)
	}
}

// Throughput implements pactor.Dispatcher.
func (d *PoolDispatcher) Throughput() int { return d.throughput }

// Idle is the number of parked workers (for tests and metrics).
func (d *PoolDispatcher) Idle() int { return int(d.idle.Load()) }

func (d *PoolDispatcher) worker(fn func()) {
	for {
		fn()
		if d.idle.Add(1) > d.maxIdle {
			d.idle.Add(-1)
			return
		}
		fn = <-d.work
		d.idle.Add(-1)
	}
}

// Offer opens an offer to run one mailbox: until Take, the first Schedule on
// d (from any goroutine) leaves its work for the caller of Take instead of
// handing it to a worker. It reports false, and opens nothing, while another
// offer is open (one at a time per dispatcher).
//
// Why: a goroutine that delivers a message to an idle mailbox and then has
// nothing else to do (a transport's reader after a request from another
// process) runs the mailbox itself rather than waking a parked worker: waking
// a goroutine while another CPU is idle also wakes an OS thread, which costs
// microseconds on a VM and competes for the CPUs. Whoever takes the work must
// run it promptly, and must not let a slow or blocking mailbox run hold up
// the duty it left (the transport hands its reading to another goroutine
// after a budget). Work of another goroutine's Schedule that lands in the
// offer waits at most until Take.
func (d *PoolDispatcher) Offer() bool {
	return d.offer.CompareAndSwap(offerClosed, offerOpen)
}

// Take closes the offer opened by Offer and returns the work a Schedule left
// in it, or nil (also when no offer is open). The caller must run it (it is
// a mailbox run no worker has). Only the caller of a successful Offer may
// call Take.
func (d *PoolDispatcher) Take() func() {
	for {
		if d.offer.CompareAndSwap(offerOpen, offerClosed) {
			return nil
		}
		switch d.offer.Load() {
		case offerClosed: // no offer open
			return nil
		case offerFilled:
			fn := d.offeredFn
			d.offeredFn = nil
			d.offer.Store(offerClosed)
			return fn
		}
		runtime.Gosched() // a Schedule is between its two stores
	}
}
