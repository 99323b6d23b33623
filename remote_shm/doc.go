// Package remote_shm is xorc's shared-memory transport between processes on
// one host. Its core is the inbox ring: every process owns one
// many-producer / single-consumer ring in shared memory that the other
// processes write records into.
//
// # The transport
//
// New joins (or creates) the system's segment (package registry: the
// process table, the machine table, one inbox region per process slot),
// formats this process's inbox ring in its slot's region and publishes its
// address, shm://<name>/<slot>.<generation>. Start attaches it to a
// proto.actor ActorSystem: it sets the system's address, registers the
// routing core (internal/remote) as the address resolver for the other
// processes' PIDs, and starts the reader. Plain proto.actor code (Send,
// Request, RequestFuture, Watch) then crosses processes; the facade (package
// xorc, Config{Transport: SharedMemory}) adds routing by machine ID.
//
// Outbound, the core encodes envelopes (package proto) into a queue per peer
// and returns: a one-way send is accepted once queued, and the peer's writer
// goroutine writes the whole queue in batches of up to an eighth of the
// inbox, each one ring record (type RecordBatch) in the peer's inbox, as
// producer id = this process's slot, through one ring handle per peer slot
// (so this process's writes with its id are serialised). A request, and a
// reply to a request from that peer, is written by the sending goroutine
// itself when nothing is queued (no hand-off on a round trip). Back-pressure:
// while the peer's inbox is full the writer waits for room (up to
// Options.SendTimeout, then the batch fails with an error wrapping ErrFull
// and ErrRingFull that names the peer); the queue fills (Options.MaxQueueBytes)
// and senders wait for room in it until their deadline, then fail with
// ErrFull. Accepted messages that could not be written are dead letters,
// counted (Stats.Undelivered), and the next Deliver to that process fails
// with ErrUndelivered wrapping the cause; a peer found dead fails with
// registry.ErrProcessDied. See remote.Core.Deliver for the exact contract.
//
// Inbound, the reader goroutine reads records (Read), hands each batch to the
// core (decode, deliver to local PIDs' mailboxes), spins Options.Spin when the
// inbox is empty (RequestSpin after it received a request, for the next
// request of a request/reply loop), then sleeps on the ring's futex. A
// goroutine that sent a request through PollRequest (the facade's Request)
// reads the inbox itself for up to ReplySpin until its reply is there,
// while the reader sleeps without announcing it (Ring.BeginPoll); other
// requests make the reader spin ReplySpin for their reply. It gets past a record whose
// producer died between claim and commit (Unblock) when the registry reports
// that process dead, and every 10 ms while stuck, never before the death is
// known.
//
// Slots are reused: a restarted process may get the slot (and producer id)
// of a dead one, with the next generation. It clears its producer line in
// every ring before writing anywhere (ResetProducer), so that a claim its
// predecessor left does not pass for a live one. A writer that still holds
// the old generation's address when the slot changes hands can land a
// record in the new ring: every envelope names its target address, and the
// receiver counts and dead-letters envelopes addressed to an earlier
// generation (remote.Stats.Stale).
//
// The inbox region starts with a 256-byte block (magic 'XSHM', version, the
// core's counters and the reader's, published every 250 ms) that `xorc
// inspect` reads with ReadInbox; the ring follows it.
//
// # The ring
//
// A ring lives in any shared-mapped []byte region (a slice of the registry's
// segment, or a file in /dev/shm mapped MAP_SHARED). FormatRing lays it out
// (the owner does this when it takes its slot; FormatZeroedRing when the
// region is known to be zero, writing only the header so that tmpfs pages
// stay unallocated until used); AttachRing validates an existing one
// (producers, a restarted owner, `xorc inspect`). The layout, in
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
