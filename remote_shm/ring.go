package remote_shm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Write appends one record to the ring: claim, copy, commit, and wake the
// consumer if it sleeps. A full ring makes Write wait (spinning briefly, then
// sleeping in growing steps) until there is room or ctx ends; then it fails
// with an error wrapping ErrRingFull and ctx's error. A payload larger than
// MaxPayload fails at once with ErrTooLarge. msgType must be >= 0.
func (r *Ring) Write(ctx context.Context, producer int, msgType int32, payload []byte) error {
	return r.write(waitSpec{ctx: ctx}, producer, msgType, payload)
}

// WriteBy is Write for callers that have a deadline rather than a context:
// a full ring makes it wait until deadline (none if zero), or until abort
// (when not nil; it is called between the waiting rounds, about once a
// millisecond at most) returns an error, e.g. because the consumer's process
// died. The error then wraps ErrRingFull and abort's error (or
// context.DeadlineExceeded). Nothing is allocated when the ring has room.
func (r *Ring) WriteBy(deadline time.Time, abort func() error, producer int, msgType int32, payload []byte) error {
	return r.write(waitSpec{deadline: deadline, abort: abort}, producer, msgType, payload)
}

func (r *Ring) write(ws waitSpec, producer int, msgType int32, payload []byte) error {
	if err := r.checkWrite(producer, msgType, len(payload)); err != nil {
		return err
	}
	l := &r.locks[producer]
	l.Lock()
	idx, recLen, err := r.claim(&ws, producer, msgType, len(payload))
	if err != nil {
		l.Unlock()
		return err
	}
	copy(r.data[idx+recHdrLen:idx+int(recLen)], payload)
	r.commit(producer, idx, recLen, msgType)
	l.Unlock()
	r.wakeIfSleeping()
	return nil
}

// Claim is space claimed in the ring for zero-copy encoding: fill Payload,
// then Commit (or Abort). Until then the producer id is held by this claim
// (other writes with the same id in this process wait) and the consumer
// cannot read past the record: commit promptly.
type Claim struct {
	// Payload is the record's payload, inside the shared region.
	Payload []byte

	r        *Ring
	producer int
	idx      int
	recLen   int32
	typ      int32
}

// Claim reserves a record of n payload bytes, waiting for room like Write.
func (r *Ring) Claim(ctx context.Context, producer int, msgType int32, n int) (Claim, error) {
	if err := r.checkWrite(producer, msgType, n); err != nil {
		return Claim{}, err
	}
	l := &r.locks[producer]
	l.Lock()
	ws := waitSpec{ctx: ctx}
	idx, recLen, err := r.claim(&ws, producer, msgType, n)
	if err != nil {
		l.Unlock()
		return Claim{}, err
	}
	p := idx + recHdrLen
	return Claim{Payload: r.data[p : p+n : p+n], r: r, producer: producer, idx: idx, recLen: recLen, typ: msgType}, nil
}

// Commit publishes the claimed record. A second Commit or Abort does nothing.
func (c *Claim) Commit() {
	r := c.r
	if r == nil {
		return
	}
	c.r, c.Payload = nil, nil
	r.commit(c.producer, c.idx, c.recLen, c.typ)
	r.locks[c.producer].Unlock()
	r.wakeIfSleeping()
}

// Abort gives the claimed space back as a record the consumer skips.
func (c *Claim) Abort() {
	r := c.r
	if r == nil {
		return
	}
	c.r, c.Payload = nil, nil
	r.commit(c.producer, c.idx, c.recLen, skipType)
	r.locks[c.producer].Unlock()
	r.wakeIfSleeping()
}

func (r *Ring) checkWrite(producer int, msgType int32, n int) error {
	if producer < 0 || producer >= r.maxProducers {
		return fmt.Errorf("ring: producer %d outside [0, %d): %w", producer, r.maxProducers, ErrBadProducer)
	}
	if msgType < 0 {
		return fmt.Errorf("ring: message type %d (negative types are reserved): %w", msgType, ErrBadType)
	}
	if n < 0 || n > r.MaxPayload() {
		return fmt.Errorf("ring: payload of %d bytes, max %d (capacity %d): %w", n, r.MaxPayload(), r.capacity, ErrTooLarge)
	}
	return nil
}

// crash points for tests that simulate a producer dying inside claim.
type crashPoint int

const (
	crashAfterIntent  crashPoint = iota + 1 // intent published, CAS not done
	crashAfterCAS                           // space claimed, nothing written
	crashAfterPadding                       // padding written (wrapping claims only), record header not
	crashAfterHeader                        // negative length, type and producer written, payload not
)

// testCrash, when set by a test, is called at each crash point; true makes
// claim stop there as if the process had died (the lock stays held).
var testCrash func(point crashPoint, producer int) bool

var errCrashed = errors.New("simulated producer death")

func crashHere(point crashPoint, producer int) bool {
	f := testCrash
	return f != nil && f(point, producer)
}

// claim reserves an 8-aligned record of recHdrLen+n bytes for producer (whose
// lock the caller holds) and writes its uncommitted header. It returns the
// record's index in the data area and its length.
// span is the room a record of need bytes (aligned) takes at tail: need,
// plus the padding to the end of the data area when it does not fit before
// it (the record then goes at index 0).
func (r *Ring) span(tail, need uint64) uint64 {
	if left := uint64(r.capacity) - tail&r.mask; need > left {
		return need + left
	}
	return need
}

func (r *Ring) claim(ws *waitSpec, producer int, msgType int32, n int) (int, int32, error) {
	recLen := recHdrLen + n
	need := uint64(align8(recLen))
	capacity := uint64(r.capacity)
	pl := &r.prods[producer]
	// The intent (length, then position) is what lets Unblock find this
	// claim's extent if we die before writing the header. It is published
	// before the CAS and cleared after the commit.
	atomic.StoreUint64(pl.claimLen, uint64(recLen))
	var waiter fullWaiter
	for {
		tail := atomic.LoadUint64(r.tail)
		idx := tail & r.mask
		total := r.span(tail, need)
		head := atomic.LoadUint64(r.headCache)
		if tail-head > capacity || tail-head+total > capacity { // the first test also catches head > tail
			head = atomic.LoadUint64(r.head)
			if head > tail && atomic.LoadUint64(r.tail) != tail {
				continue // our tail is stale: others claimed and the consumer read past it
			}
			if err := r.checkPositions(head, tail); err != nil {
				atomic.StoreUint64(pl.claimPos, 0)
				return 0, 0, err
			}
			if tail-head+total > capacity {
				atomic.StoreUint64(pl.claimPos, 0) // no intent while we wait
				if err := waiter.wait(ws, r, producer, recLen, tail-head); err != nil {
					return 0, 0, err
				}
				continue
			}
			atomic.StoreUint64(r.headCache, head)
		}
		atomic.StoreUint64(pl.claimPos, tail+1)
		if crashHere(crashAfterIntent, producer) {
			return 0, 0, errCrashed
		}
		if !atomic.CompareAndSwapUint64(r.tail, tail, tail+total) {
			continue
		}
		if crashHere(crashAfterCAS, producer) {
			return 0, 0, errCrashed
		}
		at := int(idx)
		if total != need {
			toEnd := r.capacity - at
			*r.typeAt(at) = padType
			if toEnd >= recHdrLen {
				*r.producerAt(at) = uint32(producer)
			}
			atomic.StoreInt32(r.lenAt(at), int32(toEnd))
			at = 0
			if crashHere(crashAfterPadding, producer) {
				return 0, 0, errCrashed
			}
		}
		atomic.StoreInt32(r.lenAt(at), int32(-recLen))
		*r.typeAt(at) = msgType
		*r.producerAt(at) = uint32(producer)
		if crashHere(crashAfterHeader, producer) {
			return 0, 0, errCrashed
		}
		return at, int32(recLen), nil
	}
}

// commit publishes the record at idx with a release store of its length,
// then clears the producer's intent and counts the record.
func (r *Ring) commit(producer, idx int, recLen, typ int32) {
	*r.typeAt(idx) = typ
	*r.checkAt(idx) = checkWord(recLen, typ, uint32(producer))
	atomic.StoreInt32(r.lenAt(idx), recLen)
	pl := &r.prods[producer]
	atomic.StoreUint64(pl.claimPos, 0)
	if typ >= 0 {
		atomic.AddUint64(pl.written, 1)
		atomic.AddUint64(pl.bytes, uint64(recLen-recHdrLen))
	}
}

// wakeIfSleeping is the producer's half of the wake-up protocol (see Wait):
// after its commit, one load of the sleeping flag; a FUTEX_WAKE only if set,
// and only by the producer that clears the flag, so a crowd of producers
// committing while the consumer sleeps makes one wake-up, not one each.
func (r *Ring) wakeIfSleeping() {
	if atomic.LoadUint32(r.sleeping) != 0 && atomic.CompareAndSwapUint32(r.sleeping, 1, 0) {
		r.Wake()
	}
}

// Wake wakes the consumer if it sleeps in Wait (Wait then returns nil). Any
// process may call it, e.g. the consumer's own goroutine that called Unblock.
func (r *Ring) Wake() {
	atomic.AddUint32(r.futex, 1)
	atomic.AddUint64(r.wakes, 1)
	futexWake(r.futex, 1)
}

// waitSpec bounds a producer's wait for room: a context (Write, Claim), or
// a deadline and an abort check (WriteBy).
type waitSpec struct {
	ctx      context.Context
	deadline time.Time
	abort    func() error
}

// err is why the wait must end now, or nil.
func (ws *waitSpec) err() error {
	if ws.ctx != nil {
		if ws.ctx.Err() != nil {
			return context.Cause(ws.ctx)
		}
		return nil
	}
	if ws.abort != nil {
		if err := ws.abort(); err != nil {
			return err
		}
	}
	if !ws.deadline.IsZero() && !time.Now().Before(ws.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (ws *waitSpec) deadlineOf() (time.Time, bool) {
	if ws.ctx != nil {
		return ws.ctx.Deadline()
	}
	return ws.deadline, !ws.deadline.IsZero()
}

// fullWaiter paces a producer waiting for room: a few yields, then sleeps
// that double from 2 µs to 1 ms, bounded by the deadline.
type fullWaiter struct {
	rounds  int
	sleep   time.Duration
	started time.Time
}

func (w *fullWaiter) wait(ws *waitSpec, r *Ring, producer, recLen int, used uint64) error {
	if w.rounds == 0 {
		atomic.AddUint64(r.prods[producer].fullWaits, 1)
		w.started = time.Now()
	}
	w.rounds++
	if err := ws.err(); err != nil {
		return w.fail(err, r, producer, recLen, used)
	}
	if w.rounds <= 8 {
		runtime.Gosched()
		return nil
	}
	if w.sleep == 0 {
		w.sleep = 2 * time.Microsecond
	} else if w.sleep < time.Millisecond {
		w.sleep *= 2
	}
	d := w.sleep
	if dl, ok := ws.deadlineOf(); ok {
		if left := time.Until(dl); left < d {
			d = max(left, 0)
		}
	}
	if ws.ctx == nil {
		time.Sleep(d)
		return nil
	}
	t := time.NewTimer(d)
	select {
	case <-ws.ctx.Done():
		t.Stop()
		return w.fail(context.Cause(ws.ctx), r, producer, recLen, used)
	case <-t.C:
		return nil
	}
}

func (w *fullWaiter) fail(cause error, r *Ring, producer, recLen int, used uint64) error {
	return fmt.Errorf("ring: producer %d: no room for a %d-byte record after waiting %v (%d of %d bytes used): %w: %w",
		producer, recLen, time.Since(w.started).Round(time.Microsecond), used, r.capacity, ErrRingFull, cause)
}
