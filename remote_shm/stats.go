package remote_shm

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/xorc-dev/xorc/internal/remote"
)

// The inbox region of a process slot: a block of transport counters, then
// the ring.
//
//	0    magic 'XSHM', layout version
//	64   the routing core's counters (remote.Counters, 16 words)
//	192  the transport's own counters (inbox*)
//	256  the ring (FormatRing layout)
const (
	blockMagic   uint32 = 0x4D485358 // "XSHM" in little-endian byte order
	blockVersion uint32 = 1
	blockBytes          = 256

	offBlockCounters = 64
	offInboxCounters = 192
)

// Counters of the transport itself, after the core's.
const (
	inboxBadRecords = iota // ring records of an unknown type
	inboxReadErrors        // Read calls that found corruption (the ring counts what it dropped)
	inboxUnblocked         // records of dead producers skipped
	inboxHandOns           // inline mailbox runs that outlasted InlineBudget
	inboxPolled            // requests whose reply the requester read itself (PollRequest)
	inboxPollMisses        // PollRequest calls that stopped polling before the reply came
	numInboxCounters
)

// Stats are a transport's counters: the routing core's (messages, batches,
// errors, dead letters) and its inbox's.
type Stats struct {
	remote.Stats
	BadRecords uint64 `json:"bad_records"` // inbox records of an unknown type
	ReadErrors uint64 `json:"read_errors"` // reads that found corrupt records
	Unblocked  uint64 `json:"unblocked"`   // records of dead producers skipped
	// HandOns counts the reader's inline mailbox runs (Options.Inline) that
	// outlasted InlineBudget, so that another goroutine took over reading.
	HandOns uint64 `json:"hand_ons"`
	// Polled counts requests whose reply the requesting goroutine read
	// from the inbox itself (PollRequest); PollMisses those whose reply
	// took longer than ReplySpin, which then waited for the reader.
	Polled     uint64    `json:"polled"`
	PollMisses uint64    `json:"poll_misses"`
	Inbox      RingStats `json:"inbox"`
}

// ErrNoInbox: the inbox region holds no transport block (the slot is free,
// or its process does not run the shared-memory transport).
var ErrNoInbox = errors.New("no shared-memory transport inbox")

// ReadInbox reads the counters of the inbox region of a process slot, as
// registry.View.InboxRegion or registry.Shm.InboxRegion returns it, without
// changing anything: for `xorc inspect`. A region without the transport's
// block fails with ErrNoInbox; a block with a bad ring with the ring's error.
func ReadInbox(region []byte) (Stats, error) {
	if len(region) < blockBytes || uintptr(unsafe.Pointer(&region[0]))%8 != 0 {
		return Stats{}, fmt.Errorf("inbox region of %d bytes: %w", len(region), ErrBadRegion)
	}
	if m := atomic.LoadUint32(u32at(region, 0)); m != blockMagic {
		return Stats{}, fmt.Errorf("%w (magic %#x)", ErrNoInbox, m)
	}
	if v := atomic.LoadUint32(u32at(region, 4)); v != blockVersion {
		return Stats{}, fmt.Errorf("inbox block version %d, this build reads %d: %w", v, blockVersion, ErrVersion)
	}
	r, err := AttachRing(region[blockBytes:])
	if err != nil {
		return Stats{}, err
	}
	ctr := (*remote.Counters)(unsafe.Pointer(&region[offBlockCounters]))
	inbox := (*[numInboxCounters]uint64)(unsafe.Pointer(&region[offInboxCounters]))
	return Stats{
		Stats:      ctr.Stats(),
		BadRecords: atomic.LoadUint64(&inbox[inboxBadRecords]),
		ReadErrors: atomic.LoadUint64(&inbox[inboxReadErrors]),
		Unblocked:  atomic.LoadUint64(&inbox[inboxUnblocked]),
		HandOns:    atomic.LoadUint64(&inbox[inboxHandOns]),
		Polled:     atomic.LoadUint64(&inbox[inboxPolled]),
		PollMisses: atomic.LoadUint64(&inbox[inboxPollMisses]),
		Inbox:      r.Stats(),
	}, nil
}
