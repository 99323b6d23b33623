// Package registry maps machine IDs to the processes (and actors) that own them.
//
// Every transport shares the Registry interface: the in-process
// implementation (NewInProc) for a single process, and the shared-memory
// implementation (OpenShm) for processes on one host.
//
// # The shared-memory registry
//
// OpenShm maps the segment /dev/shm/xorc.<Name> (created by the first process,
// opened by the next: there is no "create" flag to get wrong) and joins it by
// taking a slot in its process table. Machines are registered in its machine
// table, an open-addressed hash table (FNV-1a of the ID, linear probing,
// tombstones) so a lookup reads one or two entries. Every process has an
// inbox region in the segment that the shared-memory transport formats as its
// ring; tmpfs allocates pages lazily, so unused inboxes cost nothing.
//
// Mutations (join, leave, register, unregister, reclaiming a dead process)
// take the segment file's flock (the kernel drops it if the holder dies) and
// an in-process mutex, and mark the header "mutating" until done. Every entry
// has a sequence counter that is odd while the entry is being written.
// Lookups take no lock: they copy an entry with atomic loads and retry if the
// sequence was odd or changed (a seqlock). A process that died in the middle
// of a mutation leaves the mark set; the next process to take the lock
// repairs: half-written process entries are marked crashed, half-written
// machine entries become tombstones, machines of dead owners are orphaned and
// the counts recomputed.
//
// Liveness: each process writes a heartbeat (CLOCK_MONOTONIC) every
// HeartbeatInterval and watches every peer with a pidfd, which the kernel
// makes readable the instant the peer exits; without pidfd it checks pids
// every PollInterval. Pids are compared with the start time recorded at join
// (/proc/<pid>/stat field 22), so a reused pid is not mistaken for the peer;
// a heartbeat older than HeartbeatTimeout also counts as dead. A dead process
// is marked crashed, its machines orphaned (Lookup fails with ErrProcessDied
// naming the machine and the process until the ID is registered again), its
// inbox pages released, and OnProcessDown callbacks run once per death in
// every surviving process. Its slot is reused by a later process with the
// slot generation bumped, so stale references (slot, generation) are
// detectable with IsAlive.
//
// # Segment layout (version 1)
//
// All integers are native-endian; every shared word is accessed with
// sync/atomic; offsets are from the start of the file.
//
//	| offset                        | size                   | contents                                   |
//	|-------------------------------|------------------------|--------------------------------------------|
//	| 0                             | 4096                   | header (fields in the first 256 bytes)     |
//	| ProcessTableOff (4096)        | MaxProcesses x 256     | process table                              |
//	| MachineTableOff (64-aligned)  | MachineSlots x 128     | machine table, MachineSlots = 2^k >= 2 x MaxMachines |
//	| InboxOff (4096-aligned)       | MaxProcesses x stride  | inbox regions, one per process slot        |
//
// Header fields:
//
//	| off | size | field                                                        |
//	|-----|------|--------------------------------------------------------------|
//	| 0   | 4    | magic 0x584F5243 ('XORC'), written last at creation          |
//	| 4   | 4    | layout version (1)                                           |
//	| 8   | 4    | header bytes (4096)                                          |
//	| 12  | 4    | max processes (default 16, at most 1024)                     |
//	| 16  | 4    | max machines (default 256)                                   |
//	| 20  | 4    | machine table slots (power of two >= 2 x max machines)       |
//	| 24  | 4    | process entry bytes (256)                                    |
//	| 28  | 4    | machine entry bytes (128)                                    |
//	| 32  | 8    | process table offset                                         |
//	| 40  | 8    | machine table offset                                         |
//	| 48  | 8    | first inbox offset                                           |
//	| 56  | 8    | inbox stride (page multiple)                                 |
//	| 64  | 8    | inbox data bytes (ring size, power of two, default 1 MiB)    |
//	| 72  | 8    | inbox region bytes (ring header reserve + data)              |
//	| 80  | 8    | total bytes                                                  |
//	| 88  | 8    | created at (Unix ns)                                         |
//	| 96  | 4    | CRC-32C of bytes [0, 96)                                     |
//	| 104 | 8    | generation: bumped by every mutation                         |
//	| 112 | 4    | active process count                                         |
//	| 116 | 4    | used machine entry count                                     |
//	| 120 | 4    | pid of the process in the middle of a mutation, 0 if none    |
//	| 128 | 8    | repairs                                                      |
//	| 136 | 8    | reclaims (dead processes cleaned up)                         |
//	| 144 | 8    | takeovers (IDs re-registered from a dead owner)              |
//	| 152 | 8    | joins                                                        |
//	| 160 | 8    | evictions (orphaned machines dropped for room)               |
//
// Process table entry (256 bytes):
//
//	| off | size | field                                                        |
//	|-----|------|--------------------------------------------------------------|
//	| 0   | 8    | sequence (odd while being written)                           |
//	| 8   | 4    | slot generation (bumped each time the slot is taken)         |
//	| 12  | 4    | status: 0 free, 1 active, 2 disconnected, 3 crashed          |
//	| 16  | 4    | pid                                                          |
//	| 20  | 4    | machine count                                                |
//	| 24  | 8    | process start time (clock ticks since boot)                  |
//	| 32  | 8    | last heartbeat (CLOCK_MONOTONIC ns; written without the lock)|
//	| 40  | 8    | joined at (Unix ns)                                          |
//	| 48  | 8    | down at (Unix ns)                                            |
//	| 56  | 8    | pid namespace inode                                          |
//	| 64  | 1+1+1| name length, address length, down reason                     |
//	| 72  | 64   | name                                                         |
//	| 136 | 112  | transport address (a Unix socket path fits)                  |
//	| 248 | 4    | machines registered since join                               |
//	| 252 | 4    | peer deaths this process detected                            |
//
// Machine table entry (128 bytes):
//
//	| off | size | field                                                        |
//	|-----|------|--------------------------------------------------------------|
//	| 0   | 8    | sequence (odd while being written)                           |
//	| 8   | 1    | state: 0 free, 1 used, 2 tombstone                           |
//	| 9   | 1    | status: 1 active, 2 orphaned (owner died)                    |
//	| 10  | 1    | machine ID length (1..64)                                    |
//	| 11  | 1    | actor ID length (0..24, 255 = same as the machine ID)        |
//	| 12  | 4    | owner slot                                                   |
//	| 16  | 4    | owner slot generation                                        |
//	| 20  | 4    | owner pid                                                    |
//	| 24  | 8    | registered at (Unix ns)                                      |
//	| 32  | 8    | last activity (Unix ns; Touch writes it without the lock)    |
//	| 40  | 64   | machine ID                                                   |
//	| 104 | 24   | actor ID                                                     |
//
// Inbox region i starts at InboxOff + i x stride and is InboxRegionBytes long
// (InboxHeaderBytes for the ring's header, then InboxBytes of ring data). The
// registry zeroes it (punching a hole, which also frees its pages) when the
// slot is taken and when its process dies or leaves; the transport formats it.
//
// Limits: a segment must not be truncated by a third party while mapped (the
// kernel would deliver SIGBUS; View.Dump turns that into an error, a joined
// Shm cannot). Processes in different pid namespaces are judged by heartbeats
// only.
package registry
