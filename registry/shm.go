//go:build unix

package registry

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Shm is the shared-memory Registry: this process's membership of a segment
// that every xorc process on the host with the same Config.Name maps.
//
// Mutations (join, leave, register, unregister, reclaim) hold the segment's
// kernel file lock (flock: released by the kernel if the holder dies) and an
// in-process mutex. Lookups take no lock: they read entries under their
// sequence counters (seqlock). A mutation that a dying holder left half-done
// is repaired by the next process that takes the lock.
type Shm struct {
	segment
	opts  ShmOptions
	path  string
	fd    int
	pid   int
	start uint64
	pidNS uint64

	slot int
	gen  uint32

	mu      sync.Mutex   // in-process half of the mutation lock
	live    sync.RWMutex // read-held by every operation; Close write-holds it to unmap
	closed  bool         // guarded by live
	closing atomic.Bool
	once    sync.Once
	closeEr error

	// genPage maps the header's first page a second time, read-only, for
	// Generation without the live lock; Close replaces it with a zero page
	// rather than unmapping it (see mapGenPage).
	genPage []byte
	genWord *uint64
	genOff  atomic.Bool // set by Close before the page is replaced

	evicted atomic.Bool   // a peer declared this process dead
	corrupt atomic.Uint64 // entries that failed to decode

	stop   chan struct{}
	wg     sync.WaitGroup
	deadCh chan slotGen

	cbMu   sync.Mutex
	cbs    map[uint64]func(Process)
	cbNext uint64
	nMu    sync.Mutex
	nQueue []Process
	nWake  chan struct{}

	// owned by the monitor goroutine
	peers    []peerState
	seenGen  []atomic.Uint32 // per slot: the generation the monitor watches as active (0: none)
	pollMode atomic.Bool
	scans    atomic.Uint64 // completed scans of the process table
}

type slotGen struct {
	slot int
	gen  uint32
	why  DownReason
}

var _ Registry = (*Shm)(nil)

// OpenShm creates the segment named by opts.Name, or opens it if it exists,
// and joins it: it takes a free process slot (or the oldest one of a dead or
// departed process), then heartbeats and watches its peers until Close.
//
// Creation and opening race safely between processes: the file is opened
// with O_CREAT, and whoever first holds the file lock and finds it
// uninitialised sizes it, writes the header and writes the magic last.
// Opening a segment of another layout version, with impossible capacities or
// offsets, truncated, or with garbage in its tables fails with an error
// wrapping ErrBadSegment.
func OpenShm(opts ShmOptions) (*Shm, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	path, err := segmentPathIn(opts.Dir, opts.Name)
	if err != nil {
		return nil, err
	}
	s := &Shm{
		opts:  opts,
		path:  path,
		pid:   os.Getpid(),
		start: selfStartTime(),
		pidNS: pidNamespace(),
		cbs:   map[uint64]func(Process){},
		nWake: make(chan struct{}, 1),
		stop:  make(chan struct{}),
	}
	// O_NOFOLLOW: /dev/shm is world-writable; never follow a planted symlink.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(opts.Mode))
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	s.fd = fd
	if err := s.setup(); err != nil {
		if s.mem != nil {
			_ = unix.Munmap(s.mem)
		}
		_ = unix.Close(fd)
		return nil, err
	}
	if err := s.mapGenPage(); err != nil {
		_ = s.leave()
		_ = unix.Munmap(s.mem)
		_ = unix.Close(fd)
		return nil, err
	}
	s.deadCh = make(chan slotGen, 2*s.h.MaxProcesses)
	s.peers = make([]peerState, s.h.MaxProcesses)
	s.seenGen = make([]atomic.Uint32, s.h.MaxProcesses)
	s.pollMode.Store(opts.DisablePidfd || !pidfdSupported)
	s.wg.Add(1)
	go s.monitor()
	go s.notifier()
	return s, nil
}

// setup runs under the file lock: initialise or validate, map, repair, join.
func (s *Shm) setup() error {
	if err := flock(s.fd, unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock segment %s: %w", s.path, err)
	}
	defer func() { _ = flock(s.fd, unix.LOCK_UN) }()
	var st unix.Stat_t
	if err := unix.Fstat(s.fd, &st); err != nil {
		return fmt.Errorf("stat segment %s: %w", s.path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("segment %s: %w", s.path, badf("not a regular file (mode %#o)", st.Mode))
	}
	var hb [headerFieldBytes]byte
	n, err := unix.Pread(s.fd, hb[:], 0)
	if err != nil {
		return fmt.Errorf("read segment header %s: %w", s.path, err)
	}
	if st.Size == 0 || (n == len(hb) && ne.Uint32(hb[hMagic:]) == 0) {
		if err := s.initialise(); err != nil {
			return err
		}
	} else {
		if n < len(hb) {
			return fmt.Errorf("segment %s: %w", s.path, badf("file is %d bytes: too short for a header", st.Size))
		}
		h, err := decodeHeader(hb[:], st.Size)
		if err != nil {
			return fmt.Errorf("segment %s: %w", s.path, err)
		}
		mem, err := unix.Mmap(s.fd, 0, int(h.TotalBytes), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("map segment %s: %w", s.path, err)
		}
		s.mem, s.h = mem, h
	}
	s.pcache = make([]atomic.Pointer[cachedProc], s.h.MaxProcesses)
	// Under the lock an odd sequence can only be a dead writer's (or
	// garbage), even if the mutating mark is missing.
	if atomic.LoadUint32(s.hdr32(hMutating)) != 0 || s.hasOddEntries() {
		s.repair()
	}
	if err := s.validateTables(); err != nil {
		return fmt.Errorf("segment %s: %w", s.path, err)
	}
	s.begin()
	s.settleLocked()
	s.end()
	return s.joinLocked()
}

// initialise sizes a new (or half-initialised) segment and writes its
// header, the magic last.
func (s *Shm) initialise() error {
	h := newHeader(s.opts.MaxProcesses, s.opts.MaxMachines, s.opts.InboxBytes, s.opts.InboxHeaderBytes, time.Now().UnixNano())
	// Truncating to 0 first zeroes whatever a creator that died half-way left.
	if err := unix.Ftruncate(s.fd, 0); err != nil {
		return fmt.Errorf("size segment %s: %w", s.path, err)
	}
	if err := unix.Ftruncate(s.fd, int64(h.TotalBytes)); err != nil {
		return fmt.Errorf("size segment %s to %d bytes: %w", s.path, h.TotalBytes, err)
	}
	if err := unix.Fchmod(s.fd, uint32(s.opts.Mode)); err != nil { // the umask must not narrow the mode
		return fmt.Errorf("chmod segment %s: %w", s.path, err)
	}
	mem, err := unix.Mmap(s.fd, 0, int(h.TotalBytes), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map segment %s: %w", s.path, err)
	}
	s.mem, s.h = mem, h
	var b [headerFieldBytes]byte
	encodeHeader(b[:], h)
	storeWords(mem, b[:], 8, headerFieldBytes)
	storeWords(mem, b[:], 0, 8) // magic and version last: readers trust nothing before it
	return nil
}

// validateTables decodes every entry; garbage fails the open.
func (s *Shm) validateTables() error {
	for slot := 0; slot < int(s.h.MaxProcesses); slot++ {
		if _, err := s.readProcess(slot); err != nil {
			return err
		}
	}
	for i := 0; i < int(s.h.MachineSlots); i++ {
		if _, err := s.readMachine(i); err != nil {
			return err
		}
	}
	return nil
}

func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// lock takes the mutation lock; a previous holder that died half-way through
// a mutation is repaired before lock returns.
func (s *Shm) lock() error {
	s.mu.Lock()
	if err := flock(s.fd, unix.LOCK_EX); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("lock segment %s: %w", s.path, err)
	}
	if atomic.LoadUint32(s.hdr32(hMutating)) != 0 {
		s.repair()
	}
	return nil
}

func (s *Shm) unlock() {
	_ = flock(s.fd, unix.LOCK_UN)
	s.mu.Unlock()
}

// begin marks the start of a mutation: if this process dies before end, the
// next locker finds the mark and repairs.
func (s *Shm) begin() { atomic.StoreUint32(s.hdr32(hMutating), uint32(s.pid)) }

func (s *Shm) end() {
	atomic.AddUint64(s.hdr64(hGeneration), 1)
	atomic.StoreUint32(s.hdr32(hMutating), 0)
}

// enter guards an operation against a concurrent Close unmapping the segment.
func (s *Shm) enter() error {
	s.live.RLock()
	if s.closed {
		s.live.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Shm) exit() { s.live.RUnlock() }

// checkSelf fails when a peer declared this process dead (its heartbeat
// stalled past the timeout): its machines were orphaned and its slot may be
// someone else's now.
func (s *Shm) checkSelf() error {
	if s.evicted.Load() {
		return s.evictedErr()
	}
	if g, st := s.genStatus(s.slot); g != s.gen || st != ProcessActive {
		s.evicted.Store(true)
		return s.evictedErr()
	}
	return nil
}

func (s *Shm) evictedErr() error {
	return fmt.Errorf("%w: this process (pid %d, slot %d, generation %d) was declared dead by a peer; open the registry again",
		ErrProcessDied, s.pid, s.slot, s.gen)
}

// writeProc writes p into slot's entry under its sequence. With keepLive the
// heartbeat word, which the owner writes without the lock, is left alone.
// point names the step for the crash test hook.
func (s *Shm) writeProc(slot int, p procEntry, keepLive bool, point string) {
	e := s.procEntry(slot)
	seq := atomic.LoadUint64(u64(e, pSeq))
	atomic.StoreUint64(u64(e, pSeq), seq|1)
	var b [ProcessEntryBytes]byte
	encodeProcess(b[:], p)
	storeWords(e, b[:], pGenStatus, pHeartbeat)
	crashPoint(point)
	if !keepLive {
		storeWords(e, b[:], pHeartbeat, pHeartbeat+8)
	}
	storeWords(e, b[:], pHeartbeat+8, ProcessEntryBytes)
	atomic.StoreUint64(u64(e, pSeq), (seq|1)+1)
}

// writeMach writes m into machine entry i under its sequence. With keepLive
// the last-activity word (bumped by Touch without the lock) is left alone.
func (s *Shm) writeMach(i int, m machEntry, keepLive bool, point string) {
	e := s.machEntry(i)
	seq := atomic.LoadUint64(u64(e, mSeq))
	atomic.StoreUint64(u64(e, mSeq), seq|1)
	var b [MachineEntryBytes]byte
	encodeMachine(b[:], m)
	storeWords(e, b[:], mMeta, mLastActivity)
	crashPoint(point)
	if !keepLive {
		storeWords(e, b[:], mLastActivity, mLastActivity+8)
	}
	storeWords(e, b[:], mLastActivity+8, MachineEntryBytes)
	atomic.StoreUint64(u64(e, mSeq), (seq|1)+1)
}

func (s *Shm) machState(i int) uint8 {
	var b [4]byte
	ne.PutUint32(b[:], atomic.LoadUint32(u32(s.machEntry(i), mMeta)))
	return b[0]
}

// findForWrite looks id up under the lock. It returns the entry holding id
// (or -1) and where a new entry for id would go: the first tombstone or free
// entry on id's probe chain (or -1 when the table has neither).
func (s *Shm) findForWrite(id string) (int, machEntry, int, error) {
	mask := int(s.h.MachineSlots - 1)
	i, insertAt := int(hashID(id))&mask, -1
	var buf [MachineEntryBytes]byte
	for n := 0; n <= mask; n++ {
		if err := readEntry(buf[:], s.machEntry(i)); err != nil {
			return -1, machEntry{}, -1, fmt.Errorf("machine table entry %d: %w", i, err)
		}
		switch buf[mMeta] {
		case slotFree:
			if insertAt < 0 {
				insertAt = i
			}
			return -1, machEntry{}, insertAt, nil
		case slotTombstone:
			if insertAt < 0 {
				insertAt = i
			}
		case slotUsed:
			if machineIDEquals(buf[:], id) {
				m, err := decodeMachine(buf[:], s.h.MaxProcesses)
				if err != nil {
					s.corrupt.Add(1)
					return -1, m, -1, fmt.Errorf("machine table entry %d: %w", i, err)
				}
				return i, m, insertAt, nil
			}
		default:
			s.corrupt.Add(1)
			return -1, machEntry{}, -1, fmt.Errorf("machine table entry %d: %w", i, badf("state %d unknown", buf[mMeta]))
		}
		i = (i + 1) & mask
	}
	return -1, machEntry{}, insertAt, nil
}

// deleteMachine removes entry i. It becomes free if the next entry is free
// (no probe chain runs through it), and then tombstones just before it are
// freed too; otherwise it becomes a tombstone. Every step is one entry write,
// so a crash anywhere leaves a valid table.
func (s *Shm) deleteMachine(i int) {
	mask := int(s.h.MachineSlots - 1)
	if s.machState((i+1)&mask) != slotFree {
		s.writeMach(i, machEntry{State: slotTombstone}, false, "delete")
		return
	}
	s.writeMach(i, machEntry{State: slotFree}, false, "delete")
	for j, n := (i-1)&mask, 0; n < mask && s.machState(j) == slotTombstone; j, n = (j-1)&mask, n+1 {
		s.writeMach(j, machEntry{State: slotFree}, false, "delete")
	}
}

// Self returns this process's own entry as it is now.
func (s *Shm) Self() Process {
	if err := s.enter(); err != nil {
		return Process{Slot: s.slot, Generation: s.gen, PID: s.pid, StartTime: s.start, Name: s.opts.ProcessName, Status: ProcessDisconnected}
	}
	defer s.exit()
	p, err := s.processView(s.slot)
	if err != nil || p.Generation != s.gen {
		return Process{Slot: s.slot, Generation: s.gen, PID: s.pid, StartTime: s.start, Name: s.opts.ProcessName, Status: ProcessCrashed}
	}
	return p
}

// Path is the segment's file.
func (s *Shm) Path() string { return s.path }

// Layout describes the segment's capacities and offsets.
func (s *Shm) Layout() Layout { return s.layout() }

// Generation is the segment's mutation counter: it changes whenever a
// process joins or leaves, or a machine is registered or removed, so a cache
// of lookups can check it.
//
// It takes no lock (a Send reads it every time): it reads a second mapping
// of the header's first page, which Close replaces with a zero page instead
// of unmapping it, so a read racing with Close returns 0 rather than
// faulting.
func (s *Shm) Generation() uint64 {
	if s.genOff.Load() {
		return 0
	}
	return atomic.LoadUint64(s.genWord)
}

// mapGenPage maps the page of the header that holds the generation
// counter a second time, read-only (see Generation).
func (s *Shm) mapGenPage() error {
	page := unix.Getpagesize()
	if hGeneration+8 > page {
		return fmt.Errorf("segment %s: the generation counter is not in the first page", s.path)
	}
	m, err := unix.Mmap(s.fd, 0, page, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map segment %s: %w", s.path, err)
	}
	s.genPage = m
	s.genWord = (*uint64)(unsafe.Pointer(&m[hGeneration]))
	return nil
}

// unmapGenPage replaces the generation page with an anonymous zero page at
// the same address (atomically: a concurrent Generation reads the old
// page or zeros, never an unmapped address). Its address space (one page
// per Close) is not given back.
func (s *Shm) unmapGenPage() error {
	s.genOff.Store(true)
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(&s.genPage[0]), uintptr(len(s.genPage)),
		unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("unmap generation page of segment %s: %w", s.path, err)
	}
	return nil
}

// CorruptEntries counts entries this process found undecodable.
func (s *Shm) CorruptEntries() uint64 { return s.corrupt.Load() }

// Process returns the current view of a process slot (any status), to check
// a generation before writing to the slot's inbox.
func (s *Shm) Process(slot int) (Process, error) {
	if slot < 0 || slot >= int(s.h.MaxProcesses) {
		return Process{}, fmt.Errorf("process slot %d outside [0, %d)", slot, s.h.MaxProcesses)
	}
	if err := s.enter(); err != nil {
		return Process{}, err
	}
	defer s.exit()
	return s.processView(slot)
}

func (s *Shm) processView(slot int) (Process, error) {
	p, err := s.readProcessRepairing(slot)
	if err != nil {
		return Process{}, err
	}
	wall := time.Now()
	return toProcess(slot, p, monoAt(wall), wall), nil
}

// IsAlive reports whether slot is held by generation gen of an active
// process: one atomic load.
func (s *Shm) IsAlive(slot int, gen uint32) bool {
	if slot < 0 || slot >= int(s.h.MaxProcesses) || s.enter() != nil {
		return false
	}
	defer s.exit()
	g, st := s.genStatus(slot)
	return g == gen && st == ProcessActive
}

// InboxRegion returns the inbox region of a process slot: InboxRegionBytes
// of shared memory, zeroed when the slot is taken. The ring transport formats
// and uses it; the slice is valid until Close.
func (s *Shm) InboxRegion(slot int) ([]byte, error) {
	if slot < 0 || slot >= int(s.h.MaxProcesses) {
		return nil, fmt.Errorf("inbox of process slot %d: outside [0, %d)", slot, s.h.MaxProcesses)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	return s.inbox(slot), nil
}

// SetAddress records this process's transport address (at most
// MaxAddressLen bytes; a Unix socket path fits).
func (s *Shm) SetAddress(addr string) error {
	if len(addr) > MaxAddressLen {
		return fmt.Errorf("%w: address %q is %d bytes, the limit is %d", ErrInvalidName, addr, len(addr), MaxAddressLen)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	if err := s.checkSelf(); err != nil {
		return err
	}
	p, err := s.readProcess(s.slot)
	if err != nil {
		return err
	}
	p.Address = addr
	s.begin()
	s.writeProc(s.slot, p, true, "address")
	s.end()
	return nil
}

// readProcessRepairing reads a process entry; if it stays half-written (its
// writer died holding the lock), taking the lock repairs it.
func (s *Shm) readProcessRepairing(slot int) (procEntry, error) {
	p, err := s.readProcess(slot)
	if errors.Is(err, errEntryBusy) {
		if err = s.lock(); err != nil {
			return p, err
		}
		s.unlock()
		p, err = s.readProcess(slot)
	}
	if err != nil && !errors.Is(err, errEntryBusy) {
		s.corrupt.Add(1)
	}
	return p, err
}

// Register records that this process owns machineID, served by actorID
// (at most MaxActorIDLen bytes unless it equals machineID). A machine ID
// owned by a live process fails with ErrMachineExists naming the owner; one
// owned by a dead process is taken over.
func (s *Shm) Register(machineID, actorID string) error {
	if err := validateID(machineID); err != nil {
		return err
	}
	if err := checkActorID(machineID, actorID); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	if err := s.checkSelf(); err != nil {
		return err
	}
	idx, m, insertAt, err := s.findForWrite(machineID)
	if err != nil {
		return fmt.Errorf("register %q: %w", machineID, err)
	}
	now := time.Now().UnixNano()
	entry := machEntry{
		State: slotUsed, Status: MachineActive,
		OwnerSlot: uint32(s.slot), OwnerGen: s.gen, OwnerPID: uint32(s.pid),
		RegisteredAt: now, LastActivity: now, ID: machineID, ActorID: actorID,
	}
	self := s.procEntry(s.slot)
	if idx >= 0 {
		if m.Status == MachineActive {
			if m.OwnerSlot == uint32(s.slot) && m.OwnerGen == s.gen {
				return fmt.Errorf("%w: %q is already registered by this process (pid %d, %q)", ErrMachineExists, machineID, s.pid, s.opts.ProcessName)
			}
			owner, err := s.readProcess(int(m.OwnerSlot))
			if err != nil {
				return fmt.Errorf("register %q: owner: %w", machineID, err)
			}
			if owner.Gen == m.OwnerGen && owner.Status == ProcessActive {
				if why := s.judgePeer(owner); why == DownNone {
					return fmt.Errorf("%w: %q is owned by process %d (%q, slot %d)", ErrMachineExists, machineID, owner.PID, owner.Name, m.OwnerSlot)
				} else if s.reclaimLocked(int(m.OwnerSlot), owner.Gen, why) {
					atomic.AddUint32(u32(self, pDeaths), 1)
				}
			}
		}
		s.begin()
		s.writeMach(idx, entry, false, "register")
		atomic.AddUint32(u32(self, pMachines), 1)
		atomic.AddUint32(u32(self, pRegs), 1)
		atomic.AddUint64(s.hdr64(hTakeovers), 1)
		s.end()
		return nil
	}
	if atomic.LoadUint32(s.hdr32(hMachCount)) >= s.h.MaxMachines || insertAt < 0 {
		if !s.evictOrphanLocked() {
			return fmt.Errorf("%w: cannot register %q: %d machines registered, the limit is %d", ErrFull, machineID, atomic.LoadUint32(s.hdr32(hMachCount)), s.h.MaxMachines)
		}
		if _, _, insertAt, err = s.findForWrite(machineID); err != nil || insertAt < 0 {
			return fmt.Errorf("%w: cannot register %q: no free machine entry (%v)", ErrFull, machineID, err)
		}
	}
	s.begin()
	s.writeMach(insertAt, entry, false, "register")
	atomic.AddUint32(s.hdr32(hMachCount), 1)
	atomic.AddUint32(u32(self, pMachines), 1)
	atomic.AddUint32(u32(self, pRegs), 1)
	s.end()
	return nil
}

// evictOrphanLocked drops the oldest orphaned machine to make room.
func (s *Shm) evictOrphanLocked() bool {
	victim, oldest := -1, int64(0)
	for i := 0; i < int(s.h.MachineSlots); i++ {
		m, err := s.readMachine(i)
		if err != nil || m.State != slotUsed || m.Status != MachineOrphaned {
			continue
		}
		if victim < 0 || m.RegisteredAt < oldest {
			victim, oldest = i, m.RegisteredAt
		}
	}
	if victim < 0 {
		return false
	}
	s.begin()
	s.deleteMachine(victim)
	atomic.AddUint32(s.hdr32(hMachCount), ^uint32(0))
	atomic.AddUint64(s.hdr64(hEvictions), 1)
	s.end()
	return true
}

// Unregister removes a machine this process owns. An unknown ID fails with
// ErrUnknownMachine, another process's with ErrNotOwner.
func (s *Shm) Unregister(machineID string) error {
	if err := validateID(machineID); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	if err := s.checkSelf(); err != nil {
		return err
	}
	idx, m, _, err := s.findForWrite(machineID)
	switch {
	case err != nil:
		return fmt.Errorf("unregister %q: %w", machineID, err)
	case idx < 0:
		return fmt.Errorf("%w: %q", ErrUnknownMachine, machineID)
	case m.OwnerSlot != uint32(s.slot) || m.OwnerGen != s.gen:
		return fmt.Errorf("%w: %q belongs to process %d (slot %d)", ErrNotOwner, machineID, m.OwnerPID, m.OwnerSlot)
	}
	s.begin()
	s.deleteMachine(idx)
	atomic.AddUint32(s.hdr32(hMachCount), ^uint32(0))
	atomic.AddUint32(u32(s.procEntry(s.slot), pMachines), ^uint32(0))
	s.end()
	return nil
}

// Lookup finds a machine's owner without taking a lock. A machine whose
// owner died fails with ErrProcessDied naming the machine and the process;
// an unknown one with ErrUnknownMachine.
func (s *Shm) Lookup(machineID string) (Machine, error) {
	if err := validateID(machineID); err != nil {
		return Machine{}, err
	}
	if err := s.enter(); err != nil {
		return Machine{}, err
	}
	defer s.exit()
	for attempt := 0; ; attempt++ {
		idx, m, err := s.probe(machineID)
		var owner procEntry
		if err == nil && idx >= 0 {
			owner, err = s.readProcessCached(int(m.OwnerSlot))
		}
		if errors.Is(err, errEntryBusy) && attempt == 0 {
			// An entry stayed half-written: its writer may have died holding
			// the lock. Taking the lock repairs it; then look again.
			if err := s.lock(); err != nil {
				return Machine{}, err
			}
			s.unlock()
			continue
		}
		if err != nil {
			if !errors.Is(err, errEntryBusy) {
				s.corrupt.Add(1)
			}
			return Machine{}, fmt.Errorf("lookup %q: %w", machineID, err)
		}
		if idx < 0 {
			return Machine{}, fmt.Errorf("%w: %q", ErrUnknownMachine, machineID)
		}
		if m.Status != MachineActive || owner.Gen != m.OwnerGen || owner.Status != ProcessActive {
			return Machine{}, diedErr(m, owner)
		}
		wall := time.Now()
		return toMachine(m, int(m.OwnerSlot), owner, monoAt(wall), wall), nil
	}
}

func toMachine(m machEntry, slot int, owner procEntry, mono int64, wall time.Time) Machine {
	return Machine{
		ID:           m.ID,
		Owner:        toProcess(slot, owner, mono, wall),
		ActorID:      m.ActorID,
		RegisteredAt: time.Unix(0, m.RegisteredAt),
		LastActivity: time.Unix(0, m.LastActivity),
	}
}

// diedErr names the machine and its dead owner; the owner's name is known
// while its slot has not been reused.
func diedErr(m machEntry, owner procEntry) error {
	if owner.Gen == m.OwnerGen && owner.Status != ProcessFree {
		state := "crashed"
		if owner.Status == ProcessDisconnected {
			state = "disconnected"
		}
		if owner.DownReason != DownNone {
			state += " (" + owner.DownReason.String() + ")"
		}
		return fmt.Errorf("%w: machine %q: its process %d (%q, slot %d, generation %d) %s",
			ErrProcessDied, m.ID, m.OwnerPID, owner.Name, m.OwnerSlot, m.OwnerGen, state)
	}
	return fmt.Errorf("%w: machine %q: its process %d (slot %d, generation %d) is gone",
		ErrProcessDied, m.ID, m.OwnerPID, m.OwnerSlot, m.OwnerGen)
}

// Touch records activity on a machine (its last-activity time) with one
// atomic store and no lock.
func (s *Shm) Touch(machineID string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	idx, _, err := s.probe(machineID)
	switch {
	case err != nil:
		return fmt.Errorf("touch %q: %w", machineID, err)
	case idx < 0:
		return fmt.Errorf("%w: %q", ErrUnknownMachine, machineID)
	}
	atomic.StoreUint64(u64(s.machEntry(idx), mLastActivity), uint64(time.Now().UnixNano()))
	return nil
}

// Machines lists the machines whose owner is alive (Dump shows all).
func (s *Shm) Machines() []Machine {
	if s.enter() != nil {
		return nil
	}
	defer s.exit()
	wall := time.Now()
	mono := monoAt(wall)
	procs := make([]procEntry, s.h.MaxProcesses)
	for slot := range procs {
		procs[slot], _ = s.readProcess(slot)
	}
	var out []Machine
	for i := 0; i < int(s.h.MachineSlots); i++ {
		m, err := s.readMachine(i)
		if err != nil || m.State != slotUsed || m.Status != MachineActive {
			continue
		}
		if o := procs[m.OwnerSlot]; o.Gen == m.OwnerGen && o.Status == ProcessActive {
			out = append(out, toMachine(m, int(m.OwnerSlot), o, mono, wall))
		}
	}
	return out
}

// Processes lists the used process table entries (active, crashed and
// departed ones).
func (s *Shm) Processes() []Process {
	if s.enter() != nil {
		return nil
	}
	defer s.exit()
	wall := time.Now()
	mono := monoAt(wall)
	var out []Process
	for slot := 0; slot < int(s.h.MaxProcesses); slot++ {
		p, err := s.readProcess(slot)
		if err != nil || p.Status == ProcessFree {
			continue
		}
		out = append(out, toProcess(slot, p, mono, wall))
	}
	return out
}

// Dump is a snapshot of the whole segment, like Inspect's.
func (s *Shm) Dump() (*Dump, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	return s.dump(s.path), nil
}

// OnProcessDown registers fn to be called once for every peer found dead or
// departed after this call (not for this process). Callbacks run one at a
// time on a registry goroutine, in the order deaths are seen; fn may call the
// registry (even Close). The returned function removes fn.
func (s *Shm) OnProcessDown(fn func(Process)) (cancel func()) {
	s.cbMu.Lock()
	id := s.cbNext
	s.cbNext++
	s.cbs[id] = fn
	s.cbMu.Unlock()
	return func() {
		s.cbMu.Lock()
		delete(s.cbs, id)
		s.cbMu.Unlock()
	}
}

// joinLocked takes a process slot: a free one, else the one of the
// longest-gone dead or departed process, else one whose process is found
// dead now.
func (s *Shm) joinLocked() error {
	slot, oldest := -1, int64(0)
	procs := make([]procEntry, s.h.MaxProcesses)
	for i := range procs {
		p, err := s.readProcess(i)
		if err != nil {
			return err
		}
		procs[i] = p
		if p.Status == ProcessFree {
			slot = i
			break
		}
		if p.Status != ProcessActive && (slot < 0 || p.DownAt < oldest) {
			slot, oldest = i, p.DownAt
		}
	}
	if slot < 0 {
		for i, p := range procs {
			if why := s.judgePeer(p); why != DownNone && s.reclaimLocked(i, p.Gen, why) {
				slot = i
				break
			}
		}
	}
	if slot < 0 {
		return fmt.Errorf("%w: process table of %d slots is full of live processes", ErrFull, s.h.MaxProcesses)
	}
	gen := procs[slot].Gen + 1
	if gen == 0 {
		gen = 1
	}
	s.slot, s.gen = slot, gen
	s.begin()
	s.clearInbox(slot)
	s.writeProc(slot, procEntry{
		Gen: gen, Status: ProcessActive, PID: uint32(s.pid), StartTime: s.start,
		Heartbeat: monoNow(), JoinedAt: time.Now().UnixNano(), PidNS: s.pidNS,
		Name: s.opts.ProcessName, Address: s.opts.Address,
	}, false, "join")
	atomic.AddUint32(s.hdr32(hProcCount), 1)
	atomic.AddUint64(s.hdr64(hJoins), 1)
	s.end()
	return nil
}

// judgePeer checks a live-marked peer's pid (when it shares our pid
// namespace) and heartbeat, returning why it is dead or DownNone.
func (s *Shm) judgePeer(p procEntry) DownReason {
	if p.Status != ProcessActive {
		return DownNone
	}
	// Our own pid (another Shm of this process) is alive; its heartbeat
	// still says whether that Shm is.
	if p.PidNS == s.pidNS && (p.PID != uint32(s.pid) || p.StartTime != s.start) {
		switch checkPID(int(p.PID), p.StartTime) {
		case pidGone:
			return DownExited
		case pidReused:
			return DownPidReused
		}
	}
	// A heartbeat from the future is as impossible as a stale one: the
	// clock is shared by every process on the host.
	if age := monoNow() - p.Heartbeat; p.Heartbeat != 0 && (age > int64(s.opts.HeartbeatTimeout) || age < -int64(s.opts.HeartbeatTimeout)) {
		return DownHeartbeat
	}
	return DownNone
}

// reclaimLocked marks generation gen of slot crashed, orphans its machines
// and releases its inbox pages. It does nothing (false) if the slot no
// longer holds that live generation.
func (s *Shm) reclaimLocked(slot int, gen uint32, why DownReason) bool {
	p, err := s.readProcess(slot)
	if err != nil || p.Gen != gen || p.Status != ProcessActive {
		return false
	}
	s.begin()
	p.Status, p.DownAt, p.DownReason = ProcessCrashed, time.Now().UnixNano(), why
	s.writeProc(slot, p, true, "reclaim")
	s.orphanMachinesLocked(slot, gen)
	atomic.AddUint32(s.hdr32(hProcCount), ^uint32(0))
	atomic.AddUint64(s.hdr64(hReclaims), 1)
	s.clearInbox(slot)
	s.end()
	return true
}

func (s *Shm) orphanMachinesLocked(slot int, gen uint32) {
	for i := 0; i < int(s.h.MachineSlots); i++ {
		m, err := s.readMachine(i)
		if err != nil || m.State != slotUsed || m.Status != MachineActive || m.OwnerSlot != uint32(slot) || m.OwnerGen != gen {
			continue
		}
		m.Status = MachineOrphaned
		s.writeMach(i, m, true, "orphan")
	}
}

// clearInbox returns a slot's inbox pages to the system; they read as zeros.
func (s *Shm) clearInbox(slot int) {
	off := int64(s.h.InboxOff) + int64(slot)*int64(s.h.InboxStride)
	if !punchHole(s.fd, off, int64(s.h.InboxStride)) {
		zeroWords(s.inbox(slot))
	}
}

// repair runs under the lock when the previous holder died in the middle of
// a mutation (the header's mutating mark is set). Entries left half-written
// (odd sequence) are settled: a process entry means that process was dying
// or being reclaimed, so it is marked crashed; a machine entry becomes a
// tombstone. Then machines of dead owners are orphaned and the counts are
// recomputed. Repair is idempotent: a crash during it is repaired again.
func (s *Shm) repair() {
	s.begin()
	now := time.Now().UnixNano()
	for slot := 0; slot < int(s.h.MaxProcesses); slot++ {
		e := s.procEntry(slot)
		if atomic.LoadUint64(u64(e, pSeq))&1 == 0 {
			continue
		}
		var b [ProcessEntryBytes]byte
		loadWords(b[:], e)
		ne.PutUint64(b[pSeq:], 0)
		p, err := decodeProcess(b[:])
		switch {
		case err != nil || p.Status == ProcessFree:
			p = procEntry{Gen: ne.Uint32(b[pGenStatus:]), Status: ProcessFree}
		case p.Status == ProcessActive:
			p.Status, p.DownAt, p.DownReason = ProcessCrashed, now, DownRepaired
		}
		s.writeProc(slot, p, false, "")
	}
	for i := 0; i < int(s.h.MachineSlots); i++ {
		if atomic.LoadUint64(u64(s.machEntry(i), mSeq))&1 == 0 {
			if _, err := s.readMachine(i); err == nil {
				continue
			}
		}
		// Half-written, or garbage: a tombstone keeps probe chains intact.
		s.writeMach(i, machEntry{State: slotTombstone}, false, "")
	}
	s.settleLocked()
	atomic.AddUint64(s.hdr64(hRepairs), 1)
	s.end()
}

// settleLocked orphans active machines whose owner is not live any more and
// recomputes the counts (header and per process) from the tables. It runs
// after a repair and when a process opens the segment, so counts that a
// crash or garbage left wrong cannot stick.
func (s *Shm) settleLocked() {
	procs := make([]procEntry, s.h.MaxProcesses)
	active := uint32(0)
	for slot := range procs {
		procs[slot], _ = s.readProcess(slot)
		if procs[slot].Status == ProcessActive {
			active++
		}
	}
	used := uint32(0)
	perOwner := make([]uint32, s.h.MaxProcesses)
	for i := 0; i < int(s.h.MachineSlots); i++ {
		m, err := s.readMachine(i)
		if err != nil || m.State != slotUsed {
			continue
		}
		used++
		o := procs[m.OwnerSlot]
		if m.Status == MachineActive && (o.Gen != m.OwnerGen || o.Status != ProcessActive) {
			m.Status = MachineOrphaned
			s.writeMach(i, m, true, "")
		}
		if m.Status == MachineActive {
			perOwner[m.OwnerSlot]++
		}
	}
	for slot, p := range procs {
		if p.Status == ProcessActive && p.Machines != perOwner[slot] {
			atomic.StoreUint32(u32(s.procEntry(slot), pMachines), perOwner[slot])
		}
	}
	atomic.StoreUint32(s.hdr32(hProcCount), active)
	atomic.StoreUint32(s.hdr32(hMachCount), used)
}

// Close leaves the segment: this process's machines are unregistered, its
// entry is marked disconnected (peers' OnProcessDown callbacks run) and its
// inbox pages are released. The segment file stays (see Remove). Close is
// idempotent; operations after it fail with ErrClosed.
func (s *Shm) Close() error {
	s.once.Do(func() {
		s.closing.Store(true)
		close(s.stop)
		s.wg.Wait()
		s.closeEr = s.leave()
		s.live.Lock()
		s.closed = true
		if err := unix.Munmap(s.mem); err != nil && s.closeEr == nil {
			s.closeEr = fmt.Errorf("unmap segment %s: %w", s.path, err)
		}
		if err := s.unmapGenPage(); err != nil && s.closeEr == nil {
			s.closeEr = err
		}
		if err := unix.Close(s.fd); err != nil && s.closeEr == nil {
			s.closeEr = fmt.Errorf("close segment %s: %w", s.path, err)
		}
		s.live.Unlock()
	})
	return s.closeEr
}

func (s *Shm) leave() error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	p, err := s.readProcess(s.slot)
	if err != nil || p.Gen != s.gen || p.Status != ProcessActive {
		return nil // declared dead by a peer: nothing of ours is left
	}
	s.begin()
	removed := uint32(0)
	for i := 0; i < int(s.h.MachineSlots); i++ {
		m, err := s.readMachine(i)
		if err == nil && m.State == slotUsed && m.OwnerSlot == uint32(s.slot) && m.OwnerGen == s.gen {
			s.deleteMachine(i)
			removed++
		}
	}
	atomic.AddUint32(s.hdr32(hMachCount), -removed)
	p.Status, p.DownAt, p.DownReason, p.Machines = ProcessDisconnected, time.Now().UnixNano(), DownLeft, 0
	s.writeProc(s.slot, p, false, "leave")
	atomic.AddUint32(s.hdr32(hProcCount), ^uint32(0))
	s.clearInbox(s.slot)
	s.end()
	return nil
}
