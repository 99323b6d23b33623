package remote_shm

import "sync/atomic"

// Unblock lets the consumer get past records whose producers died between
// claim and commit. dead reports whether a producer id's process is known to
// be dead (from the registry). Call it when the registry reports a death, and
// periodically while the ring stays Stuck. It returns the number of records
// skipped; each counts as a loss against its producer (Stats). A record is
// skipped only when nobody alive can still own it: a slow live producer is
// never skipped.
//
// Unblock walks from the head over committed records to each uncommitted one
// and decides from the producers' published claim intents (see claim):
//
//   - The producer whose intent starts at (or pads up to) the record is dead:
//     its intent gives the claim's exact extent, whether or not it wrote the
//     header, so the record is rewritten as a skip record (and a missing
//     padding record is written first if the claim wrapped).
//   - Some producer that may be alive has such an intent: wait; it may be the
//     owner (a producer whose CAS lost publishes the same start for a moment).
//   - Nobody has such an intent, and the length still reads uncommitted: the
//     claimant is gone. (Its intent was published before its CAS and is
//     cleared only after its commit; having seen the tail past the record we
//     would see that intent, or, if it was cleared, the commit.) Its intent
//     was overwritten, e.g. by a new process that reused the dead one's
//     producer id. A header with a negative length gives the extent; with no
//     header at all Unblock scans forward, as Agrona does, for the next
//     non-zero length word (consumed space is zeroed, which is what makes
//     this work), bounded by the tail and by every claim still in flight.
//
// Unblock(nil) treats every producer as alive and skips nothing. With a dead
// func it assumes that what it calls dead has really stopped writing.
func (r *Ring) Unblock(dead func(producer int) bool) int {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	if dead == nil {
		return 0
	}
	head := atomic.LoadUint64(r.head)
	tail := atomic.LoadUint64(r.tail)
	if r.checkPositions(head, tail) != nil {
		return 0
	}
	skipped := 0
	pos := head
	for guard := 0; pos < tail && guard < 2*r.capacity/recAlign+16; guard++ {
		idx := int(pos & r.mask)
		toEnd := r.capacity - idx
		length := atomic.LoadInt32(r.lenAt(idx))
		if length > 0 {
			size, _, _, reason := r.checkRecord(idx, length)
			if reason != "" {
				break // Read drops it
			}
			pos += uint64(size)
			continue
		}
		owner, intent, v := r.claimantOf(pos, dead)
		if atomic.LoadInt32(r.lenAt(idx)) != length {
			continue // its producer moved on while we looked: look again
		}
		switch v {
		case claimantMayLive:
			return r.unblocked(skipped)
		case claimantDead:
			if intent.start == pos && intent.rec != pos {
				// The claim wrapped and died before writing its padding.
				r.writePadding(idx)
				pos += uint64(toEnd)
				continue
			}
			if length < 0 && int(-length) != intent.length {
				break // header and intent disagree: treat as orphan below
			}
			r.writeSkip(idx, intent.length, owner)
			atomic.AddUint64(r.prods[owner].losses, 1)
			atomic.AddUint64(r.skipped, 1)
			skipped++
			pos += uint64(align8(intent.length))
			continue
		}
		// Orphan: no live claimant. Find its extent from what it left.
		if length < 0 {
			l := int(-length)
			if l < recHdrLen || l > r.maxRecord || align8(l) > toEnd {
				if pos == head {
					_, _ = r.dropCorrupt(pos, "uncommitted length out of range")
				}
				return r.unblocked(skipped)
			}
			p := *r.producerAt(idx)
			if p < uint32(r.maxProducers) {
				atomic.AddUint64(r.prods[p].losses, 1)
			} else {
				p = 0
				atomic.AddUint64(r.lostUnknown, 1)
			}
			r.writeSkip(idx, l, int(p))
			atomic.AddUint64(r.skipped, 1)
			skipped++
			pos += uint64(align8(l))
			continue
		}
		end := r.scanOrphan(pos, tail, toEnd)
		if end-pos == uint64(toEnd) {
			// It ran to the end of the area: padding (or skip records if
			// that is longer than any padding), and the record after the wrap.
			if toEnd < r.maxRecord {
				r.writePadding(idx)
			} else {
				r.writeSkipRange(pos, end)
			}
		} else {
			r.writeSkipRange(pos, end)
			atomic.AddUint64(r.lostUnknown, 1)
			atomic.AddUint64(r.skipped, 1)
			skipped++
		}
		pos = end
	}
	return r.unblocked(skipped)
}

func (r *Ring) unblocked(skipped int) int {
	if skipped > 0 {
		r.wakeIfSleeping()
	}
	return skipped
}

type claimVerdict int

const (
	claimantNone    claimVerdict = iota // no intent names this position
	claimantMayLive                     // a producer not known dead has an intent here
	claimantDead                        // dead owner with a consistent intent
)

// intent is a producer's published claim: the tail it claimed from (start),
// where its record starts (rec: start, or the next lap's index 0 if the claim
// wrapped) and the record length (header + payload).
type intent struct {
	start, rec uint64
	length     int
}

func (r *Ring) intentOf(p int) (intent, bool) {
	pl := &r.prods[p]
	s := atomic.LoadUint64(pl.claimPos)
	if s == 0 {
		return intent{}, false
	}
	s--
	l := atomic.LoadUint64(pl.claimLen)
	in := intent{start: s, rec: s, length: -1}
	if l >= recHdrLen && l <= uint64(r.maxRecord) {
		in.length = int(l)
		if toEnd := r.capacity - int(s&r.mask); align8(in.length) > toEnd {
			in.rec = s + uint64(toEnd)
		}
	}
	return in, true
}

// claimantOf finds who claimed the record at pos from the published intents.
func (r *Ring) claimantOf(pos uint64, dead func(int) bool) (int, intent, claimVerdict) {
	owner := -1
	var found intent
	consistent := true
	for p := range r.prods {
		in, ok := r.intentOf(p)
		if !ok || (in.start != pos && in.rec != pos) {
			continue
		}
		if !dead(p) {
			return p, in, claimantMayLive
		}
		if owner < 0 {
			owner, found = p, in
		} else if in != found {
			consistent = false
		}
	}
	if owner < 0 || !consistent || found.length < 0 || found.start%recAlign != 0 {
		return -1, intent{}, claimantNone
	}
	if found.rec == pos && align8(found.length) > r.capacity-int(pos&r.mask) {
		return -1, intent{}, claimantNone
	}
	return owner, found, claimantDead
}

// scanOrphan returns the end of an orphan claim at pos whose header was never
// written: the first 8-aligned position with a non-zero length word, bounded
// by the tail, the end of the data area and every claim still in flight.
func (r *Ring) scanOrphan(pos, tail uint64, toEnd int) uint64 {
	bound := min(tail, pos+uint64(toEnd))
	for p := range r.prods {
		if in, ok := r.intentOf(p); ok && in.start > pos && in.start < bound {
			bound = in.start
		}
	}
	end := pos + recAlign
	for end < bound && atomic.LoadInt32(r.lenAt(int(end&r.mask))) == 0 {
		end += recAlign
	}
	return end
}

// writePadding turns the space from idx to the end of the data area into a
// committed padding record.
func (r *Ring) writePadding(idx int) {
	toEnd := r.capacity - idx
	*r.typeAt(idx) = padType
	atomic.StoreInt32(r.lenAt(idx), int32(toEnd))
}

// writeSkip turns the record at idx into a committed skip record of length l.
func (r *Ring) writeSkip(idx, l, producer int) {
	*r.typeAt(idx) = skipType
	*r.producerAt(idx) = uint32(producer)
	*r.checkAt(idx) = checkWord(int32(l), skipType, uint32(producer))
	atomic.StoreInt32(r.lenAt(idx), int32(l))
}

// writeSkipRange covers [from, to) (within one lap, not crossing the end of
// the data area) with skip records no longer than the max record.
func (r *Ring) writeSkipRange(from, to uint64) {
	chunk := uint64(r.maxRecord &^ (recAlign - 1))
	for from < to {
		n := min(to-from, chunk)
		idx := int(from & r.mask)
		if n == recAlign {
			*r.typeAt(idx) = skipType
			atomic.StoreInt32(r.lenAt(idx), recAlign)
		} else {
			r.writeSkip(idx, int(n), 0)
		}
		from += n
	}
}
