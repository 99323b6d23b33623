package remote_shm

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Errors callers match with errors.Is. Returned errors wrap them with context
// (sizes, positions, the producer).
var (
	// ErrRingFull: the ring had no room for the record before the caller's
	// context ended.
	ErrRingFull = errors.New("ring full")
	// ErrTooLarge: the payload is larger than the ring's MaxPayload.
	ErrTooLarge = errors.New("record too large for ring")
	// ErrBadRegion: the region cannot hold a ring (too small, misaligned) or
	// the requested capacities are impossible.
	ErrBadRegion = errors.New("bad ring region")
	// ErrNotRing: the region does not start with the ring magic.
	ErrNotRing = errors.New("not a ring (bad magic)")
	// ErrVersion: the ring was formatted by another layout version.
	ErrVersion = errors.New("unsupported ring layout version")
	// ErrCorrupt: a header field or a record in the ring is inconsistent.
	ErrCorrupt = errors.New("ring corrupt")
	// ErrBadProducer: a producer id outside [0, MaxProducers).
	ErrBadProducer = errors.New("bad producer id")
	// ErrBadType: a negative message type (negative types are the ring's own).
	ErrBadType = errors.New("bad message type")
)

const (
	ringMagic   uint32 = 0x474E4952 // "RING" in little-endian byte order
	RingVersion uint32 = 1          // layout version written by FormatRing

	// MinCapacity and MaxCapacity bound the data area (a power of two).
	MinCapacity = 1 << 10
	MaxCapacity = 1 << 30
	// MaxProducersLimit bounds the producer table.
	MaxProducersLimit = 4096

	lineStride = 128 // hot words this far apart: no shared line, no shared prefetch pair
	recAlign   = 8
	recHdrLen  = 16

	padType  int32 = -1 // padding to the end of the data area
	skipType int32 = -2 // aborted or unblocked record: skip silently

	// header offsets
	offMagic        = 0
	offVersion      = 4
	offCapacity     = 8
	offMaxProducers = 12
	offDataOffset   = 16
	offMaxRecord    = 20

	offTail      = 1 * lineStride
	offHeadCache = 2 * lineStride

	offHead         = 3 * lineStride
	offReadRecords  = offHead + 8
	offReadBytes    = offHead + 16
	offCorrupt      = offHead + 24
	offCorruptBytes = offHead + 32
	offSkipped      = offHead + 40 // records skipped by Unblock
	offLostUnknown  = offHead + 48 // skipped records whose producer is unknown

	offFutex    = 4 * lineStride
	offSleeping = offFutex + 4
	offSleeps   = offFutex + 8
	offWakes    = offFutex + 16

	offProducers = 5 * lineStride
	// per producer, relative to its line
	pClaimPos  = 0 // claim start position + 1; 0 = no claim in flight
	pClaimLen  = 8 // record length (header + payload) of the claim
	pWritten   = 16
	pBytes     = 24
	pFullWaits = 32
	pLosses    = 64 // written by the consumer: on the second half of the stride
)

func align8(n int) int { return (n + recAlign - 1) &^ (recAlign - 1) }

// headerSize is the data offset for maxProducers producers.
func headerSize(maxProducers int) int {
	return offProducers + maxProducers*lineStride
}

// maxRecordFor is the largest record (header + payload) a ring of this
// capacity accepts: an eighth of it, so a claim that must pad to the end of
// the data area always fits into an empty ring and one writer cannot hog it.
func maxRecordFor(capacity int) int { return capacity / 8 }

// RingSize returns the region size a ring with dataBytes of data area (rounded
// up to a power of two, at least MinCapacity) and maxProducers producers needs.
func RingSize(dataBytes, maxProducers int) (int, error) {
	if maxProducers < 1 || maxProducers > MaxProducersLimit {
		return 0, fmt.Errorf("ring: max producers %d outside [1, %d]: %w", maxProducers, MaxProducersLimit, ErrBadRegion)
	}
	if dataBytes < 1 || dataBytes > MaxCapacity {
		return 0, fmt.Errorf("ring: data bytes %d outside [1, %d]: %w", dataBytes, MaxCapacity, ErrBadRegion)
	}
	c := max(MinCapacity, 1<<bits.Len(uint(dataBytes-1)))
	return headerSize(maxProducers) + c, nil
}

// Ring is one process's handle on a ring in shared memory. Write, Claim and
// Stats may be called from many goroutines; Read, Unblock and Wait belong to
// the single consumer (Read and Unblock serialise on a mutex; Wait must not
// run in two goroutines at once).
//
// Producer ids: every process writing into a ring must use its own producer id
// (its registry slot); within one process, writes with the same id are
// serialised by the handle. Use one handle per ring per process.
type Ring struct {
	region       []byte
	data         []byte
	capacity     int
	mask         uint64
	maxProducers int
	maxRecord    int

	tail      *uint64
	headCache *uint64
	head      *uint64

	readRecords, readBytes, corrupt, corruptBytes, skipped, lostUnknown *uint64

	futex, sleeping *uint32
	sleeps, wakes   *uint64

	prods []producerLine
	locks []paddedMutex

	cmu sync.Mutex // consumer side: Read and Unblock

	// Polling (see BeginPoll): pmu serialises BeginPoll and EndPoll,
	// pollers counts the goroutines polling, parked is set while the
	// consumer sleeps in Wait.
	pmu     sync.Mutex
	pollers atomic.Int32
	parked  atomic.Bool
}

type producerLine struct {
	claimPos, claimLen, written, bytes, fullWaits, losses *uint64
}

type paddedMutex struct {
	sync.Mutex
	_ [64 - unsafe.Sizeof(sync.Mutex{})%64]byte
}

func u64at(b []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&b[off])) }
func u32at(b []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
func i32at(b []byte, off int) *int32  { return (*int32)(unsafe.Pointer(&b[off])) }

func checkRegionBase(region []byte) error {
	if len(region) < offProducers+lineStride {
		return fmt.Errorf("ring: region of %d bytes is smaller than the %d-byte header: %w", len(region), offProducers+lineStride, ErrBadRegion)
	}
	if uintptr(unsafe.Pointer(&region[0]))%8 != 0 {
		return fmt.Errorf("ring: region not 8-byte aligned: %w", ErrBadRegion)
	}
	return nil
}

// FormatRing lays out a new, empty ring over region, for producers with ids
// in [0, maxProducers). The data area is the largest power of two that fits
// after the header (at most MaxCapacity); size the region with RingSize.
// Formatting zeroes the region and writes the magic last. Only the ring's owner
// formats, when it takes the region and before any producer may attach.
func FormatRing(region []byte, maxProducers int) (*Ring, error) {
	return formatRing(region, maxProducers, true)
}

// FormatZeroedRing is FormatRing for a region whose data area the caller
// knows to be zero already (the registry zeroes an inbox, by punching a hole,
// when a process takes its slot): it clears only the header, so the data
// pages of a tmpfs segment stay unallocated until records are written. The
// protocol needs the data area zeroed (consumed space reads as zero; Unblock
// relies on it), so never use it on a region of unknown contents.
func FormatZeroedRing(region []byte, maxProducers int) (*Ring, error) {
	return formatRing(region, maxProducers, false)
}

func formatRing(region []byte, maxProducers int, clearData bool) (*Ring, error) {
	if err := checkRegionBase(region); err != nil {
		return nil, err
	}
	if maxProducers < 1 || maxProducers > MaxProducersLimit {
		return nil, fmt.Errorf("ring: max producers %d outside [1, %d]: %w", maxProducers, MaxProducersLimit, ErrBadRegion)
	}
	hdr := headerSize(maxProducers)
	room := len(region) - hdr
	if room < MinCapacity {
		return nil, fmt.Errorf("ring: region of %d bytes leaves %d bytes for data after the %d-byte header, need %d: %w",
			len(region), room, hdr, MinCapacity, ErrBadRegion)
	}
	capacity := min(MaxCapacity, 1<<(bits.Len(uint(room))-1))
	used := region[:hdr+capacity]
	atomic.StoreUint32(u32at(region, offMagic), 0) // invalidate first: attachers fail while we format
	if clearData {
		clear(used[8:])
	} else {
		clear(used[8:hdr])
	}
	atomic.StoreUint32(u32at(region, offVersion), RingVersion)
	atomic.StoreUint32(u32at(region, offCapacity), uint32(capacity))
	atomic.StoreUint32(u32at(region, offMaxProducers), uint32(maxProducers))
	atomic.StoreUint32(u32at(region, offDataOffset), uint32(hdr))
	atomic.StoreUint32(u32at(region, offMaxRecord), uint32(maxRecordFor(capacity)))
	atomic.StoreUint32(u32at(region, offMagic), ringMagic)
	return newRing(region, capacity, maxProducers, hdr), nil
}

// AttachRing validates the ring in region and returns a handle on it: magic,
// version, capacity (a power of two that fits the region), producer table,
// data offset, max record, and the head and tail positions. The region may be
// longer than the ring; the ring uses its first RingSize bytes.
func AttachRing(region []byte) (*Ring, error) {
	if err := checkRegionBase(region); err != nil {
		return nil, err
	}
	if m := atomic.LoadUint32(u32at(region, offMagic)); m != ringMagic {
		return nil, fmt.Errorf("ring: magic %#x, want %#x: %w", m, ringMagic, ErrNotRing)
	}
	if v := atomic.LoadUint32(u32at(region, offVersion)); v != RingVersion {
		return nil, fmt.Errorf("ring: layout version %d, this build reads %d: %w", v, RingVersion, ErrVersion)
	}
	capacity := int(atomic.LoadUint32(u32at(region, offCapacity)))
	maxProducers := int(atomic.LoadUint32(u32at(region, offMaxProducers)))
	dataOff := int(atomic.LoadUint32(u32at(region, offDataOffset)))
	maxRecord := int(atomic.LoadUint32(u32at(region, offMaxRecord)))
	switch {
	case capacity < MinCapacity || capacity > MaxCapacity || capacity&(capacity-1) != 0:
		return nil, fmt.Errorf("ring: capacity %d is not a power of two in [%d, %d]: %w", capacity, MinCapacity, MaxCapacity, ErrBadRegion)
	case maxProducers < 1 || maxProducers > MaxProducersLimit:
		return nil, fmt.Errorf("ring: max producers %d outside [1, %d]: %w", maxProducers, MaxProducersLimit, ErrBadRegion)
	case dataOff != headerSize(maxProducers):
		return nil, fmt.Errorf("ring: data offset %d, want %d for %d producers: %w", dataOff, headerSize(maxProducers), maxProducers, ErrBadRegion)
	case dataOff+capacity > len(region):
		return nil, fmt.Errorf("ring: header (%d bytes) + capacity (%d) exceed the %d-byte region: %w", dataOff, capacity, len(region), ErrBadRegion)
	case maxRecord != maxRecordFor(capacity):
		return nil, fmt.Errorf("ring: max record %d, want %d for capacity %d: %w", maxRecord, maxRecordFor(capacity), capacity, ErrBadRegion)
	}
	r := newRing(region, capacity, maxProducers, dataOff)
	head, tail := atomic.LoadUint64(r.head), atomic.LoadUint64(r.tail)
	if err := r.checkPositions(head, tail); err != nil {
		return nil, err
	}
	return r, nil
}

func newRing(region []byte, capacity, maxProducers, dataOff int) *Ring {
	r := &Ring{
		region:       region[:dataOff+capacity],
		data:         region[dataOff : dataOff+capacity : dataOff+capacity],
		capacity:     capacity,
		mask:         uint64(capacity - 1),
		maxProducers: maxProducers,
		maxRecord:    maxRecordFor(capacity),
		tail:         u64at(region, offTail),
		headCache:    u64at(region, offHeadCache),
		head:         u64at(region, offHead),
		readRecords:  u64at(region, offReadRecords),
		readBytes:    u64at(region, offReadBytes),
		corrupt:      u64at(region, offCorrupt),
		corruptBytes: u64at(region, offCorruptBytes),
		skipped:      u64at(region, offSkipped),
		lostUnknown:  u64at(region, offLostUnknown),
		futex:        u32at(region, offFutex),
		sleeping:     u32at(region, offSleeping),
		sleeps:       u64at(region, offSleeps),
		wakes:        u64at(region, offWakes),
		prods:        make([]producerLine, maxProducers),
		locks:        make([]paddedMutex, maxProducers),
	}
	for p := range r.prods {
		base := offProducers + p*lineStride
		r.prods[p] = producerLine{
			claimPos:  u64at(region, base+pClaimPos),
			claimLen:  u64at(region, base+pClaimLen),
			written:   u64at(region, base+pWritten),
			bytes:     u64at(region, base+pBytes),
			fullWaits: u64at(region, base+pFullWaits),
			losses:    u64at(region, base+pLosses),
		}
	}
	return r
}

// checkPositions validates a head and tail read from shared memory.
func (r *Ring) checkPositions(head, tail uint64) error {
	if head%recAlign != 0 || tail%recAlign != 0 || tail < head || tail-head > uint64(r.capacity) {
		return fmt.Errorf("ring: head %d and tail %d inconsistent for capacity %d: %w", head, tail, r.capacity, ErrCorrupt)
	}
	return nil
}

func (r *Ring) dataOffset() int { return len(r.region) - r.capacity }

// Capacity is the size of the data area in bytes.
func (r *Ring) Capacity() int { return r.capacity }

// MaxPayload is the largest payload Write accepts.
func (r *Ring) MaxPayload() int { return r.maxRecord - recHdrLen }

// MaxProducers is the number of producer ids the ring was formatted for.
func (r *Ring) MaxProducers() int { return r.maxProducers }

// Record header accessors; idx is an 8-aligned index with idx+recHdrLen <= capacity
// (or idx+8 <= capacity for the length and type words).
func (r *Ring) lenAt(idx int) *int32       { return i32at(r.data, idx) }
func (r *Ring) typeAt(idx int) *int32      { return i32at(r.data, idx+4) }
func (r *Ring) producerAt(idx int) *uint32 { return u32at(r.data, idx+8) }
func (r *Ring) checkAt(idx int) *uint32    { return u32at(r.data, idx+12) }

// checkWord mixes a committed record's length, type and producer so that
// garbage is unlikely to pass for a record.
func checkWord(length, typ int32, producer uint32) uint32 {
	h := uint32(length)*0x9E3779B1 ^ uint32(typ)*0x85EBCA77 ^ (producer+1)*0xC2B2AE3D
	return h ^ h>>15 ^ ringMagic
}
