package remote_shm

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Read hands up to limit committed records (all available if limit <= 0) to
// fn, in ring order, and returns how many it delivered. The payload is valid
// only during fn: the consumed space is zeroed and given back to producers
// when Read returns. Read must not be called from fn.
//
// A corrupt record is counted and dropped together with everything behind it
// up to the first claim still in flight (or the tail); Read then goes on and
// returns the records it delivered with an error wrapping ErrCorrupt that
// says what it dropped. Inconsistent head/tail positions fail with ErrCorrupt
// and change nothing.
func (r *Ring) Read(limit int, fn func(msgType int32, producer int, payload []byte)) (int, error) {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	return r.read(limit, fn)
}

// TryRead is Read if no other goroutine is reading the ring (ok), else it
// returns at once (that goroutine hands the records over).
func (r *Ring) TryRead(limit int, fn func(msgType int32, producer int, payload []byte)) (n int, ok bool, err error) {
	if !r.cmu.TryLock() {
		return 0, false, nil
	}
	defer r.cmu.Unlock()
	n, err = r.read(limit, fn)
	return n, true, err
}

// read is Read with r.cmu held.
func (r *Ring) read(limit int, fn func(msgType int32, producer int, payload []byte)) (int, error) {
	if limit <= 0 {
		limit = math.MaxInt
	}
	head := atomic.LoadUint64(r.head)
	tail := atomic.LoadUint64(r.tail)
	if err := r.checkPositions(head, tail); err != nil {
		return 0, err
	}
	var (
		n       int
		firstEr error
	)
	for n < limit {
		b := r.readBlock(head, tail, limit-n, fn)
		n += b.delivered
		head, tail = b.head, b.tail
		switch b.stop {
		case stopBlockEnd:
			continue
		case stopCorrupt:
			h, err := r.dropCorrupt(head, b.reason)
			if firstEr == nil {
				firstEr = err
			}
			if h == head { // could not move: leave it for the next call
				return n, firstEr
			}
			head = h
			tail = atomic.LoadUint64(r.tail)
			continue
		}
		break
	}
	return n, firstEr
}

type blockStop int

const (
	stopBlockEnd blockStop = iota // reached the end of the data area: go on at index 0
	stopLimit
	stopEmpty       // reached the tail
	stopUncommitted // the next record is claimed but not committed
	stopCorrupt     // the record at head is corrupt (reason says why)
)

type blockResult struct {
	head, tail uint64
	delivered  int
	stop       blockStop
	reason     string
}

// readBlock reads records from head up to the end of the data area at most.
// It releases what it consumed (zero, then publish the head) even if fn panics.
func (r *Ring) readBlock(head, tail uint64, limit int, fn func(int32, int, []byte)) (res blockResult) {
	idx := int(head & r.mask)
	off := idx
	var bytes uint64
	defer func() {
		if off > idx {
			clear(r.data[idx:off])
			atomic.StoreUint64(r.head, head+uint64(off-idx))
			atomic.AddUint64(r.readRecords, uint64(res.delivered))
			atomic.AddUint64(r.readBytes, bytes)
		}
		res.head = head + uint64(off-idx)
	}()
	res.tail = tail
	for off < r.capacity {
		if res.delivered >= limit {
			res.stop = stopLimit
			return
		}
		pos := head + uint64(off-idx)
		if pos >= res.tail {
			res.tail = atomic.LoadUint64(r.tail)
			if pos >= res.tail {
				res.stop = stopEmpty
				return
			}
		}
		length := atomic.LoadInt32(r.lenAt(off))
		if length <= 0 {
			res.stop = stopUncommitted
			return
		}
		size, typ, producer, reason := r.checkRecord(off, length)
		if reason == "" && pos+uint64(size) > res.tail {
			res.tail = atomic.LoadUint64(r.tail)
			if pos+uint64(size) > res.tail || res.tail-head > uint64(r.capacity) {
				reason = "record extends past the tail"
			}
		}
		if reason != "" {
			res.stop, res.reason = stopCorrupt, reason
			return
		}
		off += size // before fn: a panicking fn still consumes its record
		if typ >= 0 {
			res.delivered++
			bytes += uint64(length) - recHdrLen
			start, end := off-size+recHdrLen, off-size+int(length)
			fn(typ, producer, r.data[start:end:end])
		}
	}
	res.stop = stopBlockEnd
	return
}

// checkRecord validates the committed record at idx (length > 0) and returns
// its aligned size, type and producer, or a reason why it is corrupt.
func (r *Ring) checkRecord(idx int, length int32) (size int, typ int32, producer int, reason string) {
	toEnd := r.capacity - idx
	typ = *r.typeAt(idx)
	if typ == padType {
		// Producers pad less than a max record (they pad only when a record
		// does not fit before the end); so does Unblock.
		if int(length) != toEnd || int(length) >= r.maxRecord {
			return 0, 0, 0, "padding does not end at the end of the data area"
		}
		return toEnd, typ, 0, ""
	}
	if typ == skipType && length == recAlign {
		return recAlign, typ, 0, ""
	}
	switch {
	case typ < 0 && typ != skipType:
		return 0, 0, 0, "unknown record type"
	case length < recHdrLen:
		return 0, 0, 0, "length shorter than a record header"
	case int(length) > r.maxRecord:
		return 0, 0, 0, "length above the max record"
	case align8(int(length)) > toEnd:
		return 0, 0, 0, "record crosses the end of the data area"
	}
	p := *r.producerAt(idx)
	if p >= uint32(r.maxProducers) {
		return 0, 0, 0, "producer id out of range"
	}
	if *r.checkAt(idx) != checkWord(length, typ, p) {
		return 0, 0, 0, "check word mismatch"
	}
	return align8(int(length)), typ, int(p), ""
}

// dropCorrupt skips the corrupt record at pos and everything after it up to
// the first claim still in flight (a producer's published intent) or the
// tail, zeroes that space and publishes the new head. Space before the first
// claim in flight belongs to producers that have finished, so nobody writes
// there any more.
func (r *Ring) dropCorrupt(pos uint64, reason string) (uint64, error) {
	tail := atomic.LoadUint64(r.tail)
	if err := r.checkPositions(pos, tail); err != nil {
		return pos, err
	}
	target := tail
	for p := range r.prods {
		s := atomic.LoadUint64(r.prods[p].claimPos)
		if s == 0 {
			continue
		}
		s--
		if s > pos && s < target && s%recAlign == 0 {
			target = s
		}
	}
	r.zero(pos, target)
	atomic.StoreUint64(r.head, target)
	atomic.AddUint64(r.corrupt, 1)
	atomic.AddUint64(r.corruptBytes, target-pos)
	return target, fmt.Errorf("ring: corrupt record at position %d (%s): dropped %d bytes up to position %d: %w",
		pos, reason, target-pos, target, ErrCorrupt)
}

// zero clears the data area between two positions (at most one lap).
func (r *Ring) zero(from, to uint64) {
	for from < to {
		idx := int(from & r.mask)
		n := min(int(to-from), r.capacity-idx)
		clear(r.data[idx : idx+n])
		from += uint64(n)
	}
}

// HasRoom reports whether a record of n payload bytes would be claimed now
// without waiting for the consumer (another producer may take the room
// first). A corrupt position reports false.
func (r *Ring) HasRoom(n int) bool {
	if n < 0 || recHdrLen+n > r.maxRecord {
		return false
	}
	capacity := uint64(r.capacity)
	tail := atomic.LoadUint64(r.tail)
	head := atomic.LoadUint64(r.head)
	if head > tail || tail-head > capacity {
		return false
	}
	return tail-head+r.span(tail, uint64(align8(recHdrLen+n))) <= capacity
}

// Pending reports whether the ring holds claimed space the consumer has not
// consumed yet (committed or not).
func (r *Ring) Pending() bool {
	return atomic.LoadUint64(r.tail) != atomic.LoadUint64(r.head)
}

// Stuck reports whether the record at the head is claimed but not committed:
// the consumer can read nothing until its producer commits or Unblock skips
// it. A consumer that stays Stuck should ask the registry who died.
func (r *Ring) Stuck() bool {
	pos := atomic.LoadUint64(r.head)
	tail := atomic.LoadUint64(r.tail)
	for pos < tail {
		idx := int(pos & r.mask)
		length := atomic.LoadInt32(r.lenAt(idx))
		if length <= 0 {
			return true
		}
		if *r.typeAt(idx) != padType || int(length) != r.capacity-idx {
			return false
		}
		pos += uint64(length) // padding at the head: look at the record after the wrap
	}
	return false
}

// RingStats is a snapshot of a ring's counters (for `xorc inspect`). Values
// read from shared memory while producers run; they are not a consistent cut.
type RingStats struct {
	Capacity     int    // data area bytes
	MaxPayload   int    // largest payload accepted
	MaxProducers int    // producer ids [0, MaxProducers)
	Head, Tail   uint64 // positions: bytes consumed and claimed, ever
	Used         int    // Tail - Head: bytes claimed and not yet consumed
	Written      uint64 // records committed by producers
	WrittenBytes uint64 // payload bytes committed
	Read         uint64 // records delivered to the consumer
	ReadBytes    uint64 // payload bytes delivered
	FullWaits    uint64 // writes that found the ring full and waited
	Corrupt      uint64 // corrupt records found (each drop counts once)
	CorruptBytes uint64 // bytes dropped because of them
	Skipped      uint64 // uncommitted records skipped by Unblock
	Lost         uint64 // records lost with their producer (sum of Producers[].Lost and LostUnknown)
	LostUnknown  uint64 // skipped records whose producer could not be told
	Sleeps       uint64 // times the consumer slept on the futex
	Wakes        uint64 // futex wakes by producers (and Wake)
	Producers    []ProducerStats
}

// ProducerStats are the counters of one producer id.
type ProducerStats struct {
	Written   uint64 // records committed
	Bytes     uint64 // payload bytes committed
	FullWaits uint64 // writes that waited for room
	Lost      uint64 // records of this producer skipped by Unblock after its death
	InFlight  bool   // a claim is published and not committed
}

// Stats returns the ring's counters.
func (r *Ring) Stats() RingStats {
	s := RingStats{
		Capacity:     r.capacity,
		MaxPayload:   r.MaxPayload(),
		MaxProducers: r.maxProducers,
		Head:         atomic.LoadUint64(r.head),
		Tail:         atomic.LoadUint64(r.tail),
		Read:         atomic.LoadUint64(r.readRecords),
		ReadBytes:    atomic.LoadUint64(r.readBytes),
		Corrupt:      atomic.LoadUint64(r.corrupt),
		CorruptBytes: atomic.LoadUint64(r.corruptBytes),
		Skipped:      atomic.LoadUint64(r.skipped),
		LostUnknown:  atomic.LoadUint64(r.lostUnknown),
		Sleeps:       atomic.LoadUint64(r.sleeps),
		Wakes:        atomic.LoadUint64(r.wakes),
		Producers:    make([]ProducerStats, r.maxProducers),
	}
	if s.Tail >= s.Head && s.Tail-s.Head <= uint64(r.capacity) {
		s.Used = int(s.Tail - s.Head)
	}
	s.Lost = s.LostUnknown
	for p := range r.prods {
		pl := &r.prods[p]
		ps := ProducerStats{
			Written:   atomic.LoadUint64(pl.written),
			Bytes:     atomic.LoadUint64(pl.bytes),
			FullWaits: atomic.LoadUint64(pl.fullWaits),
			Lost:      atomic.LoadUint64(pl.losses),
			InFlight:  atomic.LoadUint64(pl.claimPos) != 0,
		}
		s.Producers[p] = ps
		s.Written += ps.Written
		s.WrittenBytes += ps.Bytes
		s.FullWaits += ps.FullWaits
		s.Lost += ps.Lost
	}
	return s
}

// ResetProducer clears producer's published claim intent. A process that
// takes over a producer id (its registry slot: the registry hands a slot on
// only once its previous process is dead) calls it on every ring before its
// first write there, so that an intent its predecessor left when it died
// between claim and commit does not pass for a claim of the new, live
// process: Unblock then sees that record as an orphan and skips it. It must
// not be called while this process has a claim in flight with that id.
func (r *Ring) ResetProducer(producer int) error {
	if producer < 0 || producer >= r.maxProducers {
		return fmt.Errorf("ring: producer %d outside [0, %d): %w", producer, r.maxProducers, ErrBadProducer)
	}
	atomic.StoreUint64(r.prods[producer].claimPos, 0)
	return nil
}
