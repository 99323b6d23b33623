package registry

// segment: lock-free reads of a mapped segment, shared by the joined registry
// (Shm) and the read-only View used by `xorc inspect`.

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// errEntryBusy: an entry's sequence stayed odd (being written) for longer
// than a writer needs; its writer may have died holding the lock. Callers
// that can take the lock do so (which repairs the entry) and retry.
var errEntryBusy = errors.New("entry is being written")

// busyWait bounds how long a reader retries an entry whose sequence is odd.
const busyWait = 5 * time.Millisecond

// dumpWait bounds the total wait for half-written entries in one Dump.
const dumpWait = 20 * time.Millisecond

// segment is a validated mapping of a whole segment.
type segment struct {
	mem []byte // the mapping, h.TotalBytes long
	h   header // the immutable layout fields (mutable ones are read live)
	// pcache holds, per process slot, the last decoded entry and its
	// sequence: while the sequence is unchanged only the words written
	// outside it (heartbeat, counters) need reading, and the name and
	// address strings are not allocated again.
	pcache []atomic.Pointer[cachedProc]
}

type cachedProc struct {
	seq uint64
	p   procEntry
}

func (g *segment) procEntry(slot int) []byte {
	off := int(g.h.ProcessTableOff) + slot*ProcessEntryBytes
	return g.mem[off : off+ProcessEntryBytes : off+ProcessEntryBytes]
}

func (g *segment) machEntry(i int) []byte {
	off := int(g.h.MachineTableOff) + i*MachineEntryBytes
	return g.mem[off : off+MachineEntryBytes : off+MachineEntryBytes]
}

func (g *segment) inbox(slot int) []byte {
	off := int(g.h.InboxOff) + slot*int(g.h.InboxStride)
	end := off + int(g.h.InboxRegionBytes)
	return g.mem[off:end:end]
}

func (g *segment) hdr64(off int) *uint64 { return u64(g.mem, off) }
func (g *segment) hdr32(off int) *uint32 { return u32(g.mem, off) }

// readEntry copies entry e into dst under its sequence (seqlock read): it
// returns once a copy was taken while the sequence was even and unchanged,
// or errEntryBusy after busyWait.
func readEntry(dst, e []byte) error {
	return readEntryUntil(dst, e, time.Time{})
}

// readEntryUntil is readEntry giving up at deadline (the zero deadline:
// after busyWait).
func readEntryUntil(dst, e []byte, deadline time.Time) error {
	seq := u64(e, 0)
	for i := 0; ; i++ {
		s1 := atomic.LoadUint64(seq)
		if s1&1 == 0 {
			loadWords(dst, e)
			if atomic.LoadUint64(seq) == s1 {
				ne.PutUint64(dst, s1)
				return nil
			}
		}
		if i < 64 {
			continue // a live writer holds the entry odd for well under a microsecond
		}
		if i == 64 && deadline.IsZero() {
			deadline = time.Now().Add(busyWait)
		} else if i%64 == 0 && time.Now().After(deadline) {
			return errEntryBusy
		}
		runtime.Gosched()
	}
}

// readProcess returns a consistent copy of process slot's entry.
func (g *segment) readProcess(slot int) (procEntry, error) {
	return g.readProcessUntil(slot, time.Time{})
}

func (g *segment) readProcessUntil(slot int, deadline time.Time) (procEntry, error) {
	var buf [ProcessEntryBytes]byte
	if err := readEntryUntil(buf[:], g.procEntry(slot), deadline); err != nil {
		return procEntry{}, fmt.Errorf("process slot %d: %w", slot, err)
	}
	p, err := decodeProcess(buf[:])
	if err != nil {
		return p, fmt.Errorf("process slot %d: %w", slot, err)
	}
	return p, nil
}

// readProcessCached is readProcess through pcache (lookups' hot path).
func (g *segment) readProcessCached(slot int) (procEntry, error) {
	var buf [ProcessEntryBytes]byte
	if err := readEntry(buf[:], g.procEntry(slot)); err != nil {
		return procEntry{}, fmt.Errorf("process slot %d: %w", slot, err)
	}
	seq := ne.Uint64(buf[pSeq:])
	if c := g.pcache[slot].Load(); c != nil && c.seq == seq {
		p := c.p
		p.Heartbeat = int64(ne.Uint64(buf[pHeartbeat:]))
		p.Registrations = ne.Uint32(buf[pRegs:])
		p.DeathsDetected = ne.Uint32(buf[pDeaths:])
		if p.Machines = ne.Uint32(buf[pMachines:]); p.Machines > MaxMachinesLimit*2 {
			return p, fmt.Errorf("process slot %d: %w", slot, badf("process machine count %d impossible", p.Machines))
		}
		return p, nil
	}
	p, err := decodeProcess(buf[:])
	if err != nil {
		return p, fmt.Errorf("process slot %d: %w", slot, err)
	}
	if seq != 0 {
		g.pcache[slot].Store(&cachedProc{seq: seq, p: p})
	}
	return p, nil
}

// genStatus loads a process entry's generation and status with one atomic load.
func (g *segment) genStatus(slot int) (uint32, ProcessStatus) {
	var b [8]byte
	ne.PutUint64(b[:], atomic.LoadUint64(u64(g.procEntry(slot), pGenStatus)))
	return ne.Uint32(b[:]), ProcessStatus(ne.Uint32(b[4:]))
}

// readMachine returns a consistent copy of machine table entry i.
func (g *segment) readMachine(i int) (machEntry, error) {
	return g.readMachineUntil(i, time.Time{})
}

func (g *segment) readMachineUntil(i int, deadline time.Time) (machEntry, error) {
	var buf [MachineEntryBytes]byte
	if err := readEntryUntil(buf[:], g.machEntry(i), deadline); err != nil {
		return machEntry{}, fmt.Errorf("machine table entry %d: %w", i, err)
	}
	m, err := decodeMachine(buf[:], g.h.MaxProcesses)
	if err != nil {
		return m, fmt.Errorf("machine table entry %d: %w", i, err)
	}
	return m, nil
}

// hasOddEntries reports whether any entry's sequence is odd. Under the lock
// that means a writer died half-way (or garbage): a repair is due.
func (g *segment) hasOddEntries() bool {
	for slot := 0; slot < int(g.h.MaxProcesses); slot++ {
		if atomic.LoadUint64(u64(g.procEntry(slot), pSeq))&1 != 0 {
			return true
		}
	}
	for i := 0; i < int(g.h.MachineSlots); i++ {
		if atomic.LoadUint64(u64(g.machEntry(i), mSeq))&1 != 0 {
			return true
		}
	}
	return false
}

// probe finds id in the machine table without a lock: it walks the probe
// chain from id's hash, skipping tombstones, until the ID or a free entry.
// It returns the entry's index and decoded copy, or index -1 when absent.
func (g *segment) probe(id string) (int, machEntry, error) {
	var buf [MachineEntryBytes]byte
	mask := int(g.h.MachineSlots - 1)
	i := int(hashID(id)) & mask
	for n := 0; n <= mask; n++ {
		if err := readEntry(buf[:], g.machEntry(i)); err != nil {
			return -1, machEntry{}, fmt.Errorf("machine table entry %d: %w", i, err)
		}
		switch buf[mMeta] {
		case slotFree:
			return -1, machEntry{}, nil
		case slotUsed:
			if machineIDEquals(buf[:], id) {
				m, err := decodeMachineID(buf[:], g.h.MaxProcesses, id)
				if err != nil {
					return -1, m, fmt.Errorf("machine table entry %d: %w", i, err)
				}
				return i, m, nil
			}
		case slotTombstone:
		default:
			return -1, machEntry{}, fmt.Errorf("machine table entry %d: %w", i, badf("machine entry state %d unknown", buf[mMeta]))
		}
		i = (i + 1) & mask
	}
	return -1, machEntry{}, nil
}

// Go's monotonic clock is CLOCK_MONOTONIC read through the vDSO, offset by
// a per-process origin. Reading CLOCK_MONOTONIC once, next to a time.Now(),
// gives that offset, so monoAt turns any time.Time into system-wide
// CLOCK_MONOTONIC nanoseconds without a system call.
var monoOrigin, monoOriginNanos = time.Now(), clockMonotonic()

// monoAt is t on CLOCK_MONOTONIC in nanoseconds. Heartbeats written by one
// process compare with another's clock because the clock is system-wide.
func monoAt(t time.Time) int64 { return monoOriginNanos + int64(t.Sub(monoOrigin)) }

// monoNow is monoAt(time.Now()).
func monoNow() int64 { return monoAt(time.Now()) }

// toProcess converts an entry to the public view. monoNow/wallNow convert
// the monotonic heartbeat to wall time.
func toProcess(slot int, p procEntry, mono int64, wall time.Time) Process {
	pr := Process{
		Slot:       slot,
		Generation: p.Gen,
		PID:        int(p.PID),
		StartTime:  p.StartTime,
		Name:       p.Name,
		Address:    p.Address,
		Machines:   int(p.Machines),
		Status:     p.Status,
	}
	if p.Heartbeat != 0 {
		pr.LastHeartbeat = wall.Add(-time.Duration(mono - p.Heartbeat))
	}
	return pr
}

// Layout describes a segment's capacities and where its parts are.
type Layout struct {
	Version          uint32
	MaxProcesses     int
	MaxMachines      int
	MachineSlots     int // size of the open-addressed machine table (a power of two)
	ProcessTableOff  int64
	MachineTableOff  int64
	InboxOffset      int64 // offset of slot 0's inbox region
	InboxStride      int64 // distance between two inbox regions
	InboxBytes       int   // data bytes of a ring (a power of two)
	InboxRegionBytes int   // bytes of an inbox region: the ring header reserve plus InboxBytes
	TotalBytes       int64
	CreatedAt        time.Time
}

func (g *segment) layout() Layout {
	return Layout{
		Version:          g.h.Version,
		MaxProcesses:     int(g.h.MaxProcesses),
		MaxMachines:      int(g.h.MaxMachines),
		MachineSlots:     int(g.h.MachineSlots),
		ProcessTableOff:  int64(g.h.ProcessTableOff),
		MachineTableOff:  int64(g.h.MachineTableOff),
		InboxOffset:      int64(g.h.InboxOff),
		InboxStride:      int64(g.h.InboxStride),
		InboxBytes:       int(g.h.InboxBytes),
		InboxRegionBytes: int(g.h.InboxRegionBytes),
		TotalBytes:       int64(g.h.TotalBytes),
		CreatedAt:        time.Unix(0, g.h.CreatedAt),
	}
}

// Dump is a snapshot of a segment for inspection (`xorc inspect`).
type Dump struct {
	Path   string
	Layout Layout
	// Generation is bumped by every mutation of the tables.
	Generation   uint64
	ProcessCount int
	MachineCount int
	// MutatingPID is the pid of a process in the middle of a mutation (0 when
	// none); if that process died, the next one to take the lock repairs.
	MutatingPID int
	Repairs     uint64 // mutations found half-done and repaired
	Reclaims    uint64 // dead processes whose slot and machines were reclaimed
	Takeovers   uint64 // machine IDs taken over from a dead owner
	Joins       uint64 // processes that joined since creation
	Evictions   uint64 // orphaned machines dropped to make room
	Processes   []ProcessInfo
	Machines    []MachineInfo
	// Problems lists entries that could not be read (corrupt, or stuck in
	// the middle of a write).
	Problems []string
}

// ProcessInfo is one used process table entry.
type ProcessInfo struct {
	Process
	HeartbeatAge   time.Duration // 0 when the process never heartbeated
	JoinedAt       time.Time
	DownAt         time.Time  // when it crashed or left; zero while active
	DownReason     DownReason // why it is not active
	Registrations  uint32     // machines registered since it joined
	DeathsDetected uint32     // peer deaths this process detected
	InboxOffset    int64
	InboxBytes     int
}

// MachineInfo is one used machine table entry.
type MachineInfo struct {
	ID              string
	ActorID         string
	Status          MachineStatus
	OwnerSlot       int
	OwnerGeneration uint32
	OwnerPID        int
	// OwnerName and OwnerStatus are read from the owner's slot while it
	// still holds the owning generation; otherwise the owner is gone and
	// OwnerStatus is ProcessCrashed or ProcessDisconnected as last known.
	OwnerName    string
	OwnerStatus  ProcessStatus
	RegisteredAt time.Time
	LastActivity time.Time
}

// dump reads the whole segment without a lock.
func (g *segment) dump(path string) *Dump {
	d := &Dump{
		Path:         path,
		Layout:       g.layout(),
		Generation:   atomic.LoadUint64(g.hdr64(hGeneration)),
		ProcessCount: int(atomic.LoadUint32(g.hdr32(hProcCount))),
		MachineCount: int(atomic.LoadUint32(g.hdr32(hMachCount))),
		MutatingPID:  int(atomic.LoadUint32(g.hdr32(hMutating))),
		Repairs:      atomic.LoadUint64(g.hdr64(hRepairs)),
		Reclaims:     atomic.LoadUint64(g.hdr64(hReclaims)),
		Takeovers:    atomic.LoadUint64(g.hdr64(hTakeovers)),
		Joins:        atomic.LoadUint64(g.hdr64(hJoins)),
		Evictions:    atomic.LoadUint64(g.hdr64(hEvictions)),
	}
	wall := time.Now()
	mono := monoAt(wall)
	// Half-written entries are waited for, but only dumpWait in all: a
	// segment full of stuck or garbage entries still dumps at once.
	deadline := wall.Add(dumpWait)
	procs := make([]procEntry, g.h.MaxProcesses)
	for slot := range procs {
		p, err := g.readProcessUntil(slot, deadline)
		if err != nil {
			d.Problems = append(d.Problems, err.Error())
			continue
		}
		procs[slot] = p
		if p.Status == ProcessFree {
			continue
		}
		pi := ProcessInfo{
			Process:        toProcess(slot, p, mono, wall),
			JoinedAt:       time.Unix(0, p.JoinedAt),
			DownReason:     p.DownReason,
			Registrations:  p.Registrations,
			DeathsDetected: p.DeathsDetected,
			InboxOffset:    int64(g.h.InboxOff) + int64(slot)*int64(g.h.InboxStride),
			InboxBytes:     int(g.h.InboxRegionBytes),
		}
		if p.Heartbeat != 0 {
			pi.HeartbeatAge = time.Duration(mono - p.Heartbeat)
		}
		if p.DownAt != 0 {
			pi.DownAt = time.Unix(0, p.DownAt)
		}
		d.Processes = append(d.Processes, pi)
	}
	for i := 0; i < int(g.h.MachineSlots); i++ {
		m, err := g.readMachineUntil(i, deadline)
		if err != nil {
			d.Problems = append(d.Problems, err.Error())
			continue
		}
		if m.State != slotUsed {
			continue
		}
		mi := MachineInfo{
			ID:              m.ID,
			ActorID:         m.ActorID,
			Status:          m.Status,
			OwnerSlot:       int(m.OwnerSlot),
			OwnerGeneration: m.OwnerGen,
			OwnerPID:        int(m.OwnerPID),
			OwnerStatus:     ProcessCrashed,
			RegisteredAt:    time.Unix(0, m.RegisteredAt),
			LastActivity:    time.Unix(0, m.LastActivity),
		}
		if o := procs[m.OwnerSlot]; o.Gen == m.OwnerGen {
			mi.OwnerName, mi.OwnerStatus = o.Name, o.Status
		}
		d.Machines = append(d.Machines, mi)
	}
	return d
}
