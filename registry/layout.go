package registry

// The segment layout: constants, the decoded forms of the header and of the
// table entries, and their pure encoders and decoders. Nothing here touches
// shared memory: the decoders work on private copies taken word by word with
// atomic loads (see mem.go), so they can be fuzzed on arbitrary bytes. Every
// length, offset and count is checked before use; a bad value is an error
// wrapping ErrBadSegment, never a panic.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"unicode/utf8"
)

// Magic is the first word of an initialised segment: 'XORC'.
const Magic uint32 = 0x584F5243

// LayoutVersion is the segment layout this build reads and writes.
const LayoutVersion uint32 = 1

// Sizes of the fixed parts of the layout.
const (
	// HeaderBytes is the size of the segment header (one page; the fields use
	// the first headerFieldBytes).
	HeaderBytes = 4096
	// ProcessEntryBytes is the size of one process table entry.
	ProcessEntryBytes = 256
	// MachineEntryBytes is the size of one machine table entry.
	MachineEntryBytes = 128
	// MaxProcessNameLen is the longest process name in bytes.
	MaxProcessNameLen = 64
	// MaxAddressLen is the longest transport address in bytes. A Unix socket
	// path (108 bytes of sun_path) fits.
	MaxAddressLen = 112
	// MaxActorIDLen is the longest actor ID stored in a machine entry, unless
	// the actor ID equals the machine ID (then it is stored as a flag and may
	// be MaxMachineIDLen bytes).
	MaxActorIDLen = 24

	headerFieldBytes = 256
	inboxAlign       = 4096 // inbox regions start on a page: tmpfs allocates (and punches) whole pages
	tableAlign       = 64   // tables start on a cache line
)

// Limits of the capacities a segment may declare. Anything outside is
// rejected at creation and at open.
const (
	MaxProcessesLimit     = 1024
	MaxMachinesLimit      = 1 << 20
	MinInboxBytes         = 4096
	MaxInboxBytes         = 1 << 30
	MaxInboxHeaderBytes   = 1 << 20
	DefaultMaxProcesses   = 16
	DefaultMaxMachines    = 256
	DefaultInboxBytes     = 1 << 20
	DefaultInboxHeaderLen = 4096
)

// ErrBadSegment is wrapped by every error about a segment that is not a valid
// xorc segment: wrong magic or version, impossible capacities or offsets, a
// truncated file, garbage in a table entry.
var ErrBadSegment = errors.New("bad shared-memory segment")

// ErrNotOwner is returned by Unregister for a machine another process owns.
var ErrNotOwner = errors.New("machine owned by another process")

// Header field offsets.
const (
	hMagic        = 0
	hVersion      = 4
	hHeaderBytes  = 8
	hMaxProcs     = 12
	hMaxMachines  = 16
	hMachineSlots = 20
	hProcEntry    = 24
	hMachEntry    = 28
	hProcOff      = 32
	hMachOff      = 40
	hInboxOff     = 48
	hInboxStride  = 56
	hInboxBytes   = 64
	hInboxRegion  = 72
	hTotalBytes   = 80
	hCreatedAt    = 88
	hChecksum     = 96 // crc32 (Castagnoli) of bytes [0, hChecksum)
	// mutable words, from here on
	hGeneration = 104
	hProcCount  = 112
	hMachCount  = 116
	hMutating   = 120 // pid of a process in the middle of a mutation, 0 when clean
	hRepairs    = 128
	hReclaims   = 136
	hTakeovers  = 144
	hJoins      = 152
	hEvictions  = 160
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the decoded segment header.
type header struct {
	Magic             uint32
	Version           uint32
	HeaderBytes       uint32
	MaxProcesses      uint32
	MaxMachines       uint32
	MachineSlots      uint32
	ProcessEntryBytes uint32
	MachineEntryBytes uint32
	ProcessTableOff   uint64
	MachineTableOff   uint64
	InboxOff          uint64
	InboxStride       uint64
	InboxBytes        uint64
	InboxRegionBytes  uint64
	TotalBytes        uint64
	CreatedAt         int64
	Checksum          uint32

	Generation   uint64
	ProcessCount uint32
	MachineCount uint32
	Mutating     uint32
	Repairs      uint64
	Reclaims     uint64
	Takeovers    uint64
	Joins        uint64
	Evictions    uint64
}

var ne = binary.NativeEndian

// newHeader computes the layout for the given capacities. The capacities must
// have been validated (validateCapacities).
func newHeader(maxProcs, maxMachines, inboxBytes, inboxHeader int, createdAt int64) header {
	slots := nextPow2(uint64(maxMachines) * 2)
	procOff := uint64(HeaderBytes)
	machOff := alignUp(procOff+uint64(maxProcs)*ProcessEntryBytes, tableAlign)
	inboxOff := alignUp(machOff+slots*MachineEntryBytes, inboxAlign)
	region := uint64(inboxBytes) + uint64(inboxHeader)
	stride := alignUp(region, inboxAlign)
	h := header{
		Magic:             Magic,
		Version:           LayoutVersion,
		HeaderBytes:       HeaderBytes,
		MaxProcesses:      uint32(maxProcs),
		MaxMachines:       uint32(maxMachines),
		MachineSlots:      uint32(slots),
		ProcessEntryBytes: ProcessEntryBytes,
		MachineEntryBytes: MachineEntryBytes,
		ProcessTableOff:   procOff,
		MachineTableOff:   machOff,
		InboxOff:          inboxOff,
		InboxStride:       stride,
		InboxBytes:        uint64(inboxBytes),
		InboxRegionBytes:  region,
		TotalBytes:        inboxOff + uint64(maxProcs)*stride,
		CreatedAt:         createdAt,
	}
	return h
}

// validateCapacities checks capacities given for a new segment.
func validateCapacities(maxProcs, maxMachines, inboxBytes, inboxHeader int) error {
	switch {
	case maxProcs < 1 || maxProcs > MaxProcessesLimit:
		return fmt.Errorf("max processes %d: must be in [1, %d]", maxProcs, MaxProcessesLimit)
	case maxMachines < 1 || maxMachines > MaxMachinesLimit:
		return fmt.Errorf("max machines %d: must be in [1, %d]", maxMachines, MaxMachinesLimit)
	case inboxBytes < MinInboxBytes || inboxBytes > MaxInboxBytes || inboxBytes&(inboxBytes-1) != 0:
		return fmt.Errorf("inbox bytes %d: must be a power of two in [%d, %d]", inboxBytes, MinInboxBytes, MaxInboxBytes)
	case inboxHeader < 0 || inboxHeader > MaxInboxHeaderBytes || inboxHeader%tableAlign != 0:
		return fmt.Errorf("inbox header bytes %d: must be a multiple of %d in [0, %d]", inboxHeader, tableAlign, MaxInboxHeaderBytes)
	}
	return nil
}

// encodeHeader writes h into b (at least headerFieldBytes long), computing
// the checksum of the immutable part.
func encodeHeader(b []byte, h header) {
	ne.PutUint32(b[hMagic:], h.Magic)
	ne.PutUint32(b[hVersion:], h.Version)
	ne.PutUint32(b[hHeaderBytes:], h.HeaderBytes)
	ne.PutUint32(b[hMaxProcs:], h.MaxProcesses)
	ne.PutUint32(b[hMaxMachines:], h.MaxMachines)
	ne.PutUint32(b[hMachineSlots:], h.MachineSlots)
	ne.PutUint32(b[hProcEntry:], h.ProcessEntryBytes)
	ne.PutUint32(b[hMachEntry:], h.MachineEntryBytes)
	ne.PutUint64(b[hProcOff:], h.ProcessTableOff)
	ne.PutUint64(b[hMachOff:], h.MachineTableOff)
	ne.PutUint64(b[hInboxOff:], h.InboxOff)
	ne.PutUint64(b[hInboxStride:], h.InboxStride)
	ne.PutUint64(b[hInboxBytes:], h.InboxBytes)
	ne.PutUint64(b[hInboxRegion:], h.InboxRegionBytes)
	ne.PutUint64(b[hTotalBytes:], h.TotalBytes)
	ne.PutUint64(b[hCreatedAt:], uint64(h.CreatedAt))
	ne.PutUint32(b[hChecksum:], crc32.Checksum(b[:hChecksum], castagnoli))
	ne.PutUint32(b[hChecksum+4:], 0)
	ne.PutUint64(b[hGeneration:], h.Generation)
	ne.PutUint32(b[hProcCount:], h.ProcessCount)
	ne.PutUint32(b[hMachCount:], h.MachineCount)
	ne.PutUint32(b[hMutating:], h.Mutating)
	ne.PutUint32(b[hMutating+4:], 0)
	ne.PutUint64(b[hRepairs:], h.Repairs)
	ne.PutUint64(b[hReclaims:], h.Reclaims)
	ne.PutUint64(b[hTakeovers:], h.Takeovers)
	ne.PutUint64(b[hJoins:], h.Joins)
	ne.PutUint64(b[hEvictions:], h.Evictions)
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadSegment}, args...)...)
}

// decodeHeader decodes and validates a header read from a file of fileSize
// bytes. It checks the magic, the version, the checksum, the capacities and
// that the tables and inboxes lie in order, without overlap, inside the file.
func decodeHeader(b []byte, fileSize int64) (header, error) {
	var h header
	if len(b) < headerFieldBytes {
		return h, badf("header is %d bytes, need %d", len(b), headerFieldBytes)
	}
	h.Magic = ne.Uint32(b[hMagic:])
	if h.Magic == 0 {
		return h, badf("segment is not initialised (magic is zero)")
	}
	if h.Magic != Magic {
		return h, badf("magic %#08x, want %#08x ('XORC'): not an xorc segment", h.Magic, Magic)
	}
	h.Version = ne.Uint32(b[hVersion:])
	if h.Version != LayoutVersion {
		return h, badf("layout version %d, this build reads version %d", h.Version, LayoutVersion)
	}
	h.Checksum = ne.Uint32(b[hChecksum:])
	if sum := crc32.Checksum(b[:hChecksum], castagnoli); sum != h.Checksum {
		return h, badf("header checksum %#08x, computed %#08x: header is corrupt", h.Checksum, sum)
	}
	h.HeaderBytes = ne.Uint32(b[hHeaderBytes:])
	h.MaxProcesses = ne.Uint32(b[hMaxProcs:])
	h.MaxMachines = ne.Uint32(b[hMaxMachines:])
	h.MachineSlots = ne.Uint32(b[hMachineSlots:])
	h.ProcessEntryBytes = ne.Uint32(b[hProcEntry:])
	h.MachineEntryBytes = ne.Uint32(b[hMachEntry:])
	h.ProcessTableOff = ne.Uint64(b[hProcOff:])
	h.MachineTableOff = ne.Uint64(b[hMachOff:])
	h.InboxOff = ne.Uint64(b[hInboxOff:])
	h.InboxStride = ne.Uint64(b[hInboxStride:])
	h.InboxBytes = ne.Uint64(b[hInboxBytes:])
	h.InboxRegionBytes = ne.Uint64(b[hInboxRegion:])
	h.TotalBytes = ne.Uint64(b[hTotalBytes:])
	h.CreatedAt = int64(ne.Uint64(b[hCreatedAt:]))
	h.Generation = ne.Uint64(b[hGeneration:])
	h.ProcessCount = ne.Uint32(b[hProcCount:])
	h.MachineCount = ne.Uint32(b[hMachCount:])
	h.Mutating = ne.Uint32(b[hMutating:])
	h.Repairs = ne.Uint64(b[hRepairs:])
	h.Reclaims = ne.Uint64(b[hReclaims:])
	h.Takeovers = ne.Uint64(b[hTakeovers:])
	h.Joins = ne.Uint64(b[hJoins:])
	h.Evictions = ne.Uint64(b[hEvictions:])

	switch {
	case h.HeaderBytes != HeaderBytes:
		return h, badf("header size %d, want %d", h.HeaderBytes, HeaderBytes)
	case h.ProcessEntryBytes != ProcessEntryBytes:
		return h, badf("process entry size %d, want %d", h.ProcessEntryBytes, ProcessEntryBytes)
	case h.MachineEntryBytes != MachineEntryBytes:
		return h, badf("machine entry size %d, want %d", h.MachineEntryBytes, MachineEntryBytes)
	case h.MaxProcesses < 1 || h.MaxProcesses > MaxProcessesLimit:
		return h, badf("max processes %d outside [1, %d]", h.MaxProcesses, MaxProcessesLimit)
	case h.MaxMachines < 1 || h.MaxMachines > MaxMachinesLimit:
		return h, badf("max machines %d outside [1, %d]", h.MaxMachines, MaxMachinesLimit)
	case h.MachineSlots < h.MaxMachines || h.MachineSlots > 2*MaxMachinesLimit || bits.OnesCount32(h.MachineSlots) != 1:
		return h, badf("machine table of %d slots for %d machines: must be a power of two >= max machines", h.MachineSlots, h.MaxMachines)
	case h.InboxBytes < MinInboxBytes || h.InboxBytes > MaxInboxBytes || bits.OnesCount64(h.InboxBytes) != 1:
		return h, badf("inbox bytes %d: must be a power of two in [%d, %d]", h.InboxBytes, MinInboxBytes, MaxInboxBytes)
	case h.InboxRegionBytes < h.InboxBytes || h.InboxRegionBytes > h.InboxBytes+MaxInboxHeaderBytes:
		return h, badf("inbox region %d bytes for %d data bytes: impossible", h.InboxRegionBytes, h.InboxBytes)
	case h.InboxStride < h.InboxRegionBytes || h.InboxStride > h.InboxRegionBytes+inboxAlign || h.InboxStride%inboxAlign != 0:
		return h, badf("inbox stride %d for regions of %d bytes: impossible", h.InboxStride, h.InboxRegionBytes)
	}
	// All the products below are bounded by the limits checked above (at most
	// 2^10 * (2^30 + 2^21) and 2^21 * 128), so nothing overflows a uint64.
	procEnd := h.ProcessTableOff + uint64(h.MaxProcesses)*ProcessEntryBytes
	machEnd := h.MachineTableOff + uint64(h.MachineSlots)*MachineEntryBytes
	inboxEnd := h.InboxOff + uint64(h.MaxProcesses)*h.InboxStride
	const maxOff = 1 << 40
	switch {
	case h.ProcessTableOff < uint64(h.HeaderBytes) || h.ProcessTableOff > maxOff || h.ProcessTableOff%tableAlign != 0:
		return h, badf("process table offset %d: must be 64-byte aligned, after the %d-byte header", h.ProcessTableOff, h.HeaderBytes)
	case h.MachineTableOff < procEnd || h.MachineTableOff > maxOff || h.MachineTableOff%tableAlign != 0:
		return h, badf("machine table offset %d overlaps the process table (ends at %d) or is misaligned", h.MachineTableOff, procEnd)
	case h.InboxOff < machEnd || h.InboxOff > maxOff || h.InboxOff%inboxAlign != 0:
		return h, badf("inbox offset %d overlaps the machine table (ends at %d) or is not page aligned", h.InboxOff, machEnd)
	case h.TotalBytes != inboxEnd:
		return h, badf("total size %d, the layout needs %d", h.TotalBytes, inboxEnd)
	case fileSize < 0 || uint64(fileSize) < h.TotalBytes:
		return h, badf("file is %d bytes, the layout needs %d: truncated", fileSize, h.TotalBytes)
	case h.TotalBytes > math.MaxInt:
		return h, badf("total size %d cannot be mapped", h.TotalBytes)
	}
	// The counts are derived from the tables (and recomputed when a process
	// opens the segment), so they are not checked here.
	return h, nil
}

// Process entry field offsets.
const (
	pSeq       = 0  // u64: odd while the entry is being written
	pGenStatus = 8  // u32 generation, u32 status: one 64-bit word so both load together
	pPID       = 16 // u32
	pMachines  = 20 // u32 machine count
	pStartTime = 24 // u64 OS start time (clock ticks since boot)
	pHeartbeat = 32 // i64 CLOCK_MONOTONIC ns, written by the owner without the lock
	pJoinedAt  = 40 // i64 wall ns
	pDownAt    = 48 // i64 wall ns when it went down
	pPidNS     = 56 // u64 pid namespace inode (0 unknown)
	pLens      = 64 // u8 name length, u8 address length, u8 down reason
	pName      = 72 // 64 bytes
	pAddr      = 136
	pRegs      = 248 // u32 machines registered since join
	pDeaths    = 252 // u32 peer deaths this process detected
)

// procEntry is a decoded process table entry.
type procEntry struct {
	Seq            uint64
	Gen            uint32
	Status         ProcessStatus
	PID            uint32
	Machines       uint32
	StartTime      uint64
	Heartbeat      int64
	JoinedAt       int64
	DownAt         int64
	PidNS          uint64
	Name           string
	Address        string
	DownReason     DownReason
	Registrations  uint32
	DeathsDetected uint32
}

// DownReason says why a process table entry is no longer active.
type DownReason uint8

const (
	DownNone      DownReason = iota // still active (or never was)
	DownLeft                        // closed cleanly
	DownExited                      // its pid exited (seen by pidfd or /proc)
	DownPidReused                   // its pid now belongs to a process with another start time
	DownHeartbeat                   // its heartbeat was older than the timeout
	DownRepaired                    // its entry was found half-written after the writer died
)

// String names the reason for inspect output.
func (r DownReason) String() string {
	switch r {
	case DownNone:
		return ""
	case DownLeft:
		return "left"
	case DownExited:
		return "pid exited"
	case DownPidReused:
		return "pid reused"
	case DownHeartbeat:
		return "heartbeat timeout"
	case DownRepaired:
		return "repaired"
	}
	return "unknown"
}

func encodeProcess(b []byte, p procEntry) {
	clear(b[:ProcessEntryBytes])
	ne.PutUint64(b[pSeq:], p.Seq)
	ne.PutUint32(b[pGenStatus:], p.Gen)
	ne.PutUint32(b[pGenStatus+4:], uint32(p.Status))
	ne.PutUint32(b[pPID:], p.PID)
	ne.PutUint32(b[pMachines:], p.Machines)
	ne.PutUint64(b[pStartTime:], p.StartTime)
	ne.PutUint64(b[pHeartbeat:], uint64(p.Heartbeat))
	ne.PutUint64(b[pJoinedAt:], uint64(p.JoinedAt))
	ne.PutUint64(b[pDownAt:], uint64(p.DownAt))
	ne.PutUint64(b[pPidNS:], p.PidNS)
	b[pLens] = byte(len(p.Name))
	b[pLens+1] = byte(len(p.Address))
	b[pLens+2] = byte(p.DownReason)
	copy(b[pName:pName+MaxProcessNameLen], p.Name)
	copy(b[pAddr:pAddr+MaxAddressLen], p.Address)
	ne.PutUint32(b[pRegs:], p.Registrations)
	ne.PutUint32(b[pDeaths:], p.DeathsDetected)
}

// decodeProcess decodes and validates a process table entry.
func decodeProcess(b []byte) (procEntry, error) {
	var p procEntry
	if len(b) != ProcessEntryBytes {
		return p, badf("process entry is %d bytes, want %d", len(b), ProcessEntryBytes)
	}
	p.Seq = ne.Uint64(b[pSeq:])
	p.Gen = ne.Uint32(b[pGenStatus:])
	p.Status = ProcessStatus(ne.Uint32(b[pGenStatus+4:]))
	p.PID = ne.Uint32(b[pPID:])
	p.Machines = ne.Uint32(b[pMachines:])
	p.StartTime = ne.Uint64(b[pStartTime:])
	p.Heartbeat = int64(ne.Uint64(b[pHeartbeat:]))
	p.JoinedAt = int64(ne.Uint64(b[pJoinedAt:]))
	p.DownAt = int64(ne.Uint64(b[pDownAt:]))
	p.PidNS = ne.Uint64(b[pPidNS:])
	p.Registrations = ne.Uint32(b[pRegs:])
	p.DeathsDetected = ne.Uint32(b[pDeaths:])
	if p.Status > ProcessCrashed {
		return p, badf("process status %d unknown", p.Status)
	}
	if p.Status == ProcessFree {
		return p, nil // the rest of a free entry is not used
	}
	nameLen, addrLen := int(b[pLens]), int(b[pLens+1])
	p.DownReason = DownReason(b[pLens+2])
	switch {
	case p.DownReason > DownRepaired:
		return p, badf("process down reason %d unknown", p.DownReason)
	case p.PID == 0 || p.PID > 1<<22:
		return p, badf("process pid %d impossible", p.PID)
	case p.Gen == 0:
		return p, badf("process generation 0 on a used entry")
	case nameLen > MaxProcessNameLen:
		return p, badf("process name length %d > %d", nameLen, MaxProcessNameLen)
	case addrLen > MaxAddressLen:
		return p, badf("process address length %d > %d", addrLen, MaxAddressLen)
	case p.Machines > MaxMachinesLimit*2:
		return p, badf("process machine count %d impossible", p.Machines)
	}
	name := b[pName : pName+nameLen]
	if !utf8.Valid(name) {
		return p, badf("process name %q is not valid UTF-8", string(name))
	}
	p.Name = string(name)
	p.Address = string(b[pAddr : pAddr+addrLen])
	return p, nil
}

// Machine entry field offsets.
const (
	mSeq          = 0  // u64: odd while the entry is being written
	mMeta         = 8  // u8 state, u8 status, u8 id length, u8 actor id length
	mOwnerSlot    = 12 // u32
	mOwnerGen     = 16 // u32
	mOwnerPID     = 20 // u32: kept so a dead owner can be named after its slot is reused
	mRegisteredAt = 24 // i64 wall ns
	mLastActivity = 32 // i64 wall ns, bumped by Touch without the lock
	mID           = 40 // 64 bytes
	mActor        = 104
)

// Machine entry states in the open-addressed table.
const (
	slotFree      = 0 // never used since the probe chain was last cut here: ends a probe
	slotUsed      = 1
	slotTombstone = 2 // deleted: a probe goes on past it
)

// actorSameAsID in the actor length byte means the actor ID equals the machine ID.
const actorSameAsID = 0xFF

// MachineStatus is a machine table entry's status.
type MachineStatus uint8

const (
	MachineNone     MachineStatus = iota // not a used entry
	MachineActive                        // owner alive
	MachineOrphaned                      // owner crashed: lookups fail with ErrProcessDied until re-registered
)

// String names the status for inspect output.
func (s MachineStatus) String() string {
	switch s {
	case MachineNone:
		return "none"
	case MachineActive:
		return "active"
	case MachineOrphaned:
		return "orphaned"
	}
	return "unknown"
}

// machEntry is a decoded machine table entry.
type machEntry struct {
	Seq          uint64
	State        uint8
	Status       MachineStatus
	OwnerSlot    uint32
	OwnerGen     uint32
	OwnerPID     uint32
	RegisteredAt int64
	LastActivity int64
	ID           string
	ActorID      string
}

// encodeMachine writes m into b. m.ActorID must fit (checkActorID).
func encodeMachine(b []byte, m machEntry) {
	clear(b[:MachineEntryBytes])
	ne.PutUint64(b[mSeq:], m.Seq)
	b[mMeta] = m.State
	b[mMeta+1] = uint8(m.Status)
	b[mMeta+2] = byte(len(m.ID))
	switch {
	case m.ActorID == m.ID && m.ID != "":
		b[mMeta+3] = actorSameAsID
	default:
		b[mMeta+3] = byte(len(m.ActorID))
		copy(b[mActor:mActor+MaxActorIDLen], m.ActorID)
	}
	ne.PutUint32(b[mOwnerSlot:], m.OwnerSlot)
	ne.PutUint32(b[mOwnerGen:], m.OwnerGen)
	ne.PutUint32(b[mOwnerPID:], m.OwnerPID)
	ne.PutUint64(b[mRegisteredAt:], uint64(m.RegisteredAt))
	ne.PutUint64(b[mLastActivity:], uint64(m.LastActivity))
	copy(b[mID:mID+MaxMachineIDLen], m.ID)
}

// checkActorID reports whether actorID can be stored for machine id.
func checkActorID(id, actorID string) error {
	if actorID == id || len(actorID) <= MaxActorIDLen {
		return nil
	}
	return fmt.Errorf("%w: actor ID %q of machine %q is %d bytes; the limit is %d unless it equals the machine ID",
		ErrInvalidID, actorID, id, len(actorID), MaxActorIDLen)
}

// decodeMachine decodes and validates a machine table entry of a segment
// with maxProcs process slots.
func decodeMachine(b []byte, maxProcs uint32) (machEntry, error) {
	return decodeMachineID(b, maxProcs, "")
}

// decodeMachineID is decodeMachine for an entry whose ID is already known to
// equal knownID (machineIDEquals): the string is reused, not allocated.
func decodeMachineID(b []byte, maxProcs uint32, knownID string) (machEntry, error) {
	var m machEntry
	if len(b) != MachineEntryBytes {
		return m, badf("machine entry is %d bytes, want %d", len(b), MachineEntryBytes)
	}
	m.Seq = ne.Uint64(b[mSeq:])
	m.State = b[mMeta]
	switch m.State {
	case slotFree, slotTombstone:
		return m, nil
	case slotUsed:
	default:
		return m, badf("machine entry state %d unknown", m.State)
	}
	m.Status = MachineStatus(b[mMeta+1])
	idLen, actorLen := int(b[mMeta+2]), int(b[mMeta+3])
	m.OwnerSlot = ne.Uint32(b[mOwnerSlot:])
	m.OwnerGen = ne.Uint32(b[mOwnerGen:])
	m.OwnerPID = ne.Uint32(b[mOwnerPID:])
	m.RegisteredAt = int64(ne.Uint64(b[mRegisteredAt:]))
	m.LastActivity = int64(ne.Uint64(b[mLastActivity:]))
	switch {
	case m.Status != MachineActive && m.Status != MachineOrphaned:
		return m, badf("machine status %d unknown", m.Status)
	case idLen < 1 || idLen > MaxMachineIDLen:
		return m, badf("machine ID length %d outside [1, %d]", idLen, MaxMachineIDLen)
	case actorLen > MaxActorIDLen && actorLen != actorSameAsID:
		return m, badf("actor ID length %d > %d", actorLen, MaxActorIDLen)
	case m.OwnerSlot >= maxProcs:
		return m, badf("machine owner slot %d >= max processes %d", m.OwnerSlot, maxProcs)
	case m.OwnerGen == 0:
		return m, badf("machine owner generation 0")
	}
	id := b[mID : mID+idLen]
	if !utf8.Valid(id) {
		return m, badf("machine ID %q is not valid UTF-8", string(id))
	}
	if knownID != "" && string(id) == knownID {
		m.ID = knownID
	} else {
		m.ID = string(id)
	}
	if actorLen == actorSameAsID {
		m.ActorID = m.ID
	} else {
		m.ActorID = string(b[mActor : mActor+actorLen])
	}
	return m, nil
}

// machineIDEquals compares the ID stored in entry copy b with id without
// decoding (no allocation). b must be a full entry.
func machineIDEquals(b []byte, id string) bool {
	n := int(b[mMeta+2])
	return b[mMeta] == slotUsed && n == len(id) && n <= MaxMachineIDLen && string(b[mID:mID+n]) == id
}

// hashID is FNV-1a (32-bit) of the machine ID: stable across processes and builds.
func hashID(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return h
}

func nextPow2(v uint64) uint64 {
	if v <= 1 {
		return 1
	}
	return 1 << bits.Len64(v-1)
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }
