// Package remote_shm is xorc's shared-memory transport between processes on
// one host. Its core is the inbox ring: every process owns one
// many-producer / single-consumer ring in shared memory that the other
// processes write records into.
//
// # The ring
//
// A ring lives in any shared-mapped []byte region (a slice of the registry's
// segment, or a file in /dev/shm mapped MAP_SHARED). FormatRing lays it out
// (the owner does this when it takes its slot); AttachRing validates an
// existing one (producers, a restarted owner, `xorc inspect`). The layout, in
// bytes from the start of the region (hot words 128 bytes apart so that no two
// of them share a cache line or an adjacent-line prefetch pair):
//
//	offset            what                                          written by
//	0                 magic 'RING', version, capacity, max producers, owner (Format)
//	                  data offset, max record length
//	128               tail position (claimed bytes, ever)            producers (CAS)
//	256               head cache (a recent head, read by producers)  producers
//	384               head position (consumed bytes, ever) and the   consumer
//	                  consumer's counters: read, corrupt, skipped
//	512               futex word, sleeping flag, sleeps, wakes       consumer / producers
//	640 + 128*p       producer p: claim intent (position, length),   producer p
//	                  written records and bytes, full waits;
//	                  +64: losses counted against p                 consumer
//	dataOffset        data area, capacity bytes (a power of two)
//
// Positions are 64-bit byte counts that only grow; a position's index in the
// data area is position & (capacity-1). Records are 8-byte aligned:
//
//	0   int32  length: 0 = nothing written, < 0 = claimed (-length), > 0 = committed;
//	           header + payload, not rounded up to 8
//	4   int32  type: >= 0 a message, -1 padding to the end of the data area,
//	           -2 a record to skip (aborted, or a dead producer's)
//	8   uint32 producer id
//	12  uint32 check word over length, type and producer (catches garbage)
//	16  payload
//
// A padding record may be just 8 bytes (length and type) when that is all the
// room left before the end of the data area.
//
// # Claim and commit
//
// A producer publishes its claim intent (record length, then the tail it is
// about to claim from) in its own producer line, claims space with a CAS on
// the tail, stores the negative length, writes type, producer id and payload,
// then commits with a release store of the positive length, and clears its
// intent. A claim that does not fit before the end of the data area claims the
// rest of the area too and fills it with a padding record. The consumer reads
// committed records in order from the head, hands each payload to a callback,
// zeroes the consumed bytes and then publishes the new head. Zeroed free space
// is what lets Unblock find the end of a record whose header was never written.
//
// # Dead producers
//
// A producer that died between claim and commit leaves an uncommitted record
// at some position; everything behind it waits. Unblock, called by the
// consumer when it learns of a death (and periodically while Stuck), finds the
// dead producer's published intent for that position, so it knows the claim's
// exact extent even if the header was never written, turns the record into a
// skip record and counts a loss against that producer. A record whose claimant
// may still be alive is never skipped.
//
// # Wake-ups
//
// The consumer spins for a configurable budget (Spin; it yields the CPU every
// few polls so that a producer sharing its CPU can run), then sets its
// sleeping flag and sleeps on a futex in the ring (cross-process: no private
// flag).
// Producers pay one atomic load of that flag per write, and a FUTEX_WAKE only
// when the consumer sleeps. See Wait for why no wake-up is lost.
//
// # Untrusted memory
//
// Every other process can scribble on the region, so every length, type,
// producer id and position read from it is checked before use. A corrupt record
// is counted and skipped, never trusted; a corrupt header fails AttachRing or
// Read with ErrCorrupt.
package remote_shm
