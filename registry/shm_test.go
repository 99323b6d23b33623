//go:build unix

package registry

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenCreatesSegment(t *testing.T) {
	o := testOpts(t)
	o.Mode = 0o640
	s := open(t, o)

	st, err := os.Stat(segPath(o))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm(), "mode is set despite the umask")
	l := s.Layout()
	assert.Equal(t, int64(st.Size()), l.TotalBytes)
	assert.Equal(t, 8, l.MaxProcesses)
	assert.Equal(t, 64, l.MaxMachines)
	assert.Equal(t, 128, l.MachineSlots)
	assert.Equal(t, MinInboxBytes, l.InboxBytes)
	assert.Equal(t, MinInboxBytes+256, l.InboxRegionBytes)
	assert.Zero(t, l.InboxOffset%4096)
	assert.Zero(t, l.MachineTableOff%64)

	self := s.Self()
	assert.Equal(t, os.Getpid(), self.PID)
	assert.Equal(t, ProcessActive, self.Status)
	assert.Equal(t, uint32(1), self.Generation)
	assert.NotZero(t, self.StartTime)
	assert.WithinDuration(t, time.Now(), self.LastHeartbeat, 5*time.Second)

	// A second opener uses the stored capacities, not its own options.
	o2 := o
	o2.MaxProcesses, o2.MaxMachines = 4, 8
	s2 := open(t, o2)
	assert.Equal(t, l, s2.Layout())
	assert.NotEqual(t, self.Slot, s2.Self().Slot)
	assert.Len(t, s.Processes(), 2)
}

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*ShmOptions)
		want string
	}{
		{"slash in name", func(o *ShmOptions) { o.Name = "a/b" }, "segment name"},
		{"dotdot", func(o *ShmOptions) { o.Name = "../x" }, "segment name"},
		{"empty name", func(o *ShmOptions) { o.Name = "" }, "segment name"},
		{"long name", func(o *ShmOptions) { o.Name = string(make([]byte, 101)) }, "segment name"},
		{"inbox not power of two", func(o *ShmOptions) { o.InboxBytes = 5000 }, "power of two"},
		{"too many processes", func(o *ShmOptions) { o.MaxProcesses = 5000 }, "max processes"},
		{"negative machines", func(o *ShmOptions) { o.MaxMachines = -1 }, "max machines"},
		{"odd inbox header", func(o *ShmOptions) { o.InboxHeaderBytes = 100 }, "inbox header"},
		{"mode bits", func(o *ShmOptions) { o.Mode = os.ModeDir | 0o600 }, "permission bits"},
		{"process name", func(o *ShmOptions) { o.ProcessName = string(make([]byte, 65)) }, "process name"},
		{"address", func(o *ShmOptions) { o.Address = string(make([]byte, 113)) }, "address"},
		{"timeout", func(o *ShmOptions) { o.HeartbeatTimeout = o.HeartbeatInterval }, "heartbeat timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testOpts(t)
			c.mod(&o)
			_, err := OpenShm(o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestRegisterLookupUnregister(t *testing.T) {
	o := testOpts(t)
	a := open(t, o)
	o.ProcessName = "second"
	b := open(t, o)

	require.NoError(t, a.Register("door", "door"))
	require.NoError(t, a.Register("robot/arm", "$12"))

	m, err := b.Lookup("door")
	require.NoError(t, err)
	assert.Equal(t, "door", m.ID)
	assert.Equal(t, "door", m.ActorID, "an actor ID equal to the machine ID is kept")
	assert.Equal(t, a.Self().Slot, m.Owner.Slot)
	assert.Equal(t, os.Getpid(), m.Owner.PID)
	assert.Equal(t, ProcessActive, m.Owner.Status)
	assert.WithinDuration(t, time.Now(), m.RegisteredAt, 5*time.Second)

	m, err = b.Lookup("robot/arm")
	require.NoError(t, err)
	assert.Equal(t, "$12", m.ActorID)

	_, err = b.Lookup("nope")
	assert.ErrorIs(t, err, ErrUnknownMachine)
	assert.Contains(t, err.Error(), `"nope"`)

	// Duplicates name the owner, from another process slot and from the owner.
	err = b.Register("door", "x")
	require.ErrorIs(t, err, ErrMachineExists)
	assert.Contains(t, err.Error(), fmt.Sprint(os.Getpid()))
	assert.Contains(t, err.Error(), `"door"`)
	err = a.Register("door", "x")
	require.ErrorIs(t, err, ErrMachineExists)
	assert.Contains(t, err.Error(), "this process")

	err = b.Unregister("door")
	assert.ErrorIs(t, err, ErrNotOwner)
	assert.Equal(t, 2, a.Self().Machines)
	require.NoError(t, a.Unregister("door"))
	assert.Equal(t, 1, a.Self().Machines)
	_, err = b.Lookup("door")
	assert.ErrorIs(t, err, ErrUnknownMachine)
	assert.ErrorIs(t, a.Unregister("door"), ErrUnknownMachine)

	// The ID is free again.
	require.NoError(t, b.Register("door", "d2"))
	m, err = a.Lookup("door")
	require.NoError(t, err)
	assert.Equal(t, b.Self().Slot, m.Owner.Slot)
	assert.Equal(t, "second", m.Owner.Name)

	ids := map[string]string{}
	for _, m := range a.Machines() {
		ids[m.ID] = m.Owner.Name
	}
	assert.Len(t, ids, 2)
	assert.Equal(t, "second", ids["door"])
}

func TestIDValidation(t *testing.T) {
	s := open(t, testOpts(t))
	long := string(make([]byte, 65))
	for _, id := range []string{"", long, "\xff\xfe"} {
		assert.ErrorIs(t, s.Register(id, "a"), ErrInvalidID)
		_, err := s.Lookup(id)
		assert.ErrorIs(t, err, ErrInvalidID)
		assert.ErrorIs(t, s.Unregister(id), ErrInvalidID)
	}
	// Longest ID, as its own actor ID; a long different actor ID is refused.
	id64 := fmt.Sprintf("m%063d", 7)
	require.NoError(t, s.Register(id64, id64))
	m, err := s.Lookup(id64)
	require.NoError(t, err)
	assert.Equal(t, id64, m.ActorID)
	err = s.Register("short", "an-actor-id-longer-than-24-bytes")
	assert.ErrorIs(t, err, ErrInvalidID)
	assert.Contains(t, err.Error(), "actor ID")
	require.NoError(t, s.Register("exact", "123456789012345678901234"))
	m, err = s.Lookup("exact")
	require.NoError(t, err)
	assert.Equal(t, "123456789012345678901234", m.ActorID)
}

// TestHashTableChurn registers, removes and re-registers many IDs (some
// colliding) and checks every lookup against a model map.
func TestHashTableChurn(t *testing.T) {
	o := testOpts(t)
	o.MaxMachines = 16 // 32 slots: heavy collisions and tombstones
	s := open(t, o)
	model := map[string]bool{}
	for round := 0; round < 20; round++ {
		for i := 0; i < 16; i++ {
			id := fmt.Sprintf("m-%d", (i*7+round*3)%40)
			if model[id] {
				require.NoError(t, s.Unregister(id), "round %d unregister %s", round, id)
				delete(model, id)
			} else if len(model) < 16 {
				require.NoError(t, s.Register(id, "a"), "round %d register %s", round, id)
				model[id] = true
			}
		}
		for i := 0; i < 40; i++ {
			id := fmt.Sprintf("m-%d", i)
			_, err := s.Lookup(id)
			if model[id] {
				require.NoError(t, err, "round %d lookup %s", round, id)
			} else {
				require.ErrorIs(t, err, ErrUnknownMachine, "round %d lookup %s", round, id)
			}
		}
		d, err := s.Dump()
		require.NoError(t, err)
		require.Len(t, d.Machines, len(model))
		require.Equal(t, len(model), d.MachineCount)
		require.Equal(t, len(model), s.Self().Machines)
		require.Empty(t, d.Problems)
	}
	// Full: the 17th machine is refused.
	for i := 0; len(model) < 16; i++ {
		id := fmt.Sprintf("fill-%d", i)
		require.NoError(t, s.Register(id, "a"))
		model[id] = true
	}
	err := s.Register("one-too-many", "a")
	require.ErrorIs(t, err, ErrFull)
	assert.Contains(t, err.Error(), "one-too-many")
}

func TestProcessTableFull(t *testing.T) {
	o := testOpts(t)
	o.MaxProcesses = 2
	open(t, o)
	open(t, o)
	_, err := OpenShm(o)
	require.ErrorIs(t, err, ErrFull)
	assert.Contains(t, err.Error(), "process table")
}

func TestCloseDisconnectsAndNotifies(t *testing.T) {
	o := testOpts(t)
	o.MaxProcesses = 2 // so the departed slot is the only one to reuse
	watcher := open(t, o)
	leaver, err := OpenShm(o)
	require.NoError(t, err)
	require.NoError(t, leaver.Register("mine", "a"))
	self := leaver.Self()

	var mu sync.Mutex
	var downs []Process
	cancel := watcher.OnProcessDown(func(p Process) {
		mu.Lock()
		downs = append(downs, p)
		mu.Unlock()
	})
	defer cancel()
	// The watcher must have seen the leaver alive before it leaves.
	eventually(t, 10*time.Second, "watcher sees the peer", func() bool {
		return watcher.peerSeen(self.Slot, self.Generation)
	})
	require.NoError(t, leaver.Close())
	require.NoError(t, leaver.Close(), "Close is idempotent")

	eventually(t, 10*time.Second, "OnProcessDown for a clean Close", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(downs) == 1
	})
	mu.Lock()
	assert.Equal(t, self.Slot, downs[0].Slot)
	assert.Equal(t, self.Generation, downs[0].Generation)
	assert.Equal(t, ProcessDisconnected, downs[0].Status)
	mu.Unlock()

	_, err = watcher.Lookup("mine")
	assert.ErrorIs(t, err, ErrUnknownMachine, "a clean Close unregisters its machines")
	assert.False(t, watcher.IsAlive(self.Slot, self.Generation))
	p, err := watcher.Process(self.Slot)
	require.NoError(t, err)
	assert.Equal(t, ProcessDisconnected, p.Status)

	assert.ErrorIs(t, leaver.Register("x", "a"), ErrClosed)
	_, err = leaver.Lookup("x")
	assert.ErrorIs(t, err, ErrClosed)
	_, err = leaver.InboxRegion(0)
	assert.ErrorIs(t, err, ErrClosed)

	// The slot is reused with the next generation (free slots go first, so
	// this needs a full table).
	o.ProcessName = "again"
	again := open(t, o)
	assert.Equal(t, self.Slot, again.Self().Slot)
	assert.Equal(t, self.Generation+1, again.Self().Generation)
	assert.True(t, watcher.IsAlive(self.Slot, self.Generation+1))
	assert.False(t, watcher.IsAlive(self.Slot, self.Generation))
	time.Sleep(3 * o.HeartbeatInterval)
	mu.Lock()
	assert.Len(t, downs, 1, "callbacks run once per departure")
	mu.Unlock()
}

func TestSetAddressAndInbox(t *testing.T) {
	o := testOpts(t)
	a := open(t, o)
	b := open(t, o)
	sock := fmt.Sprintf("/tmp/%0100d.sock", 1)
	require.Len(t, sock, 110)
	require.NoError(t, a.SetAddress(sock))
	p, err := b.Process(a.Self().Slot)
	require.NoError(t, err)
	assert.Equal(t, sock, p.Address)
	assert.Error(t, a.SetAddress(string(make([]byte, MaxAddressLen+1))))

	// Inbox regions are distinct, page aligned, sized, and shared.
	ra, err := a.InboxRegion(a.Self().Slot)
	require.NoError(t, err)
	rb, err := b.InboxRegion(a.Self().Slot)
	require.NoError(t, err)
	require.Len(t, ra, a.Layout().InboxRegionBytes)
	assert.Equal(t, len(ra), cap(ra), "the region cannot be appended past")
	atomic.StoreUint64(u64(ra, 64), 0xfeedface)
	assert.Equal(t, uint64(0xfeedface), atomic.LoadUint64(u64(rb, 64)), "the same memory in both mappings")
	for _, slot := range []int{-1, 8} {
		_, err = a.InboxRegion(slot)
		assert.Error(t, err)
		_, err = a.Process(slot)
		assert.Error(t, err)
		assert.False(t, a.IsAlive(slot, 1))
	}

	// Leaving zeroes the inbox for the slot's next owner.
	slot := a.Self().Slot
	require.NoError(t, a.Close())
	assert.Zero(t, atomic.LoadUint64(u64(rb, 64)))
	_ = slot
}

func TestTouch(t *testing.T) {
	s := open(t, testOpts(t))
	require.NoError(t, s.Register("m", "m"))
	m1, err := s.Lookup("m")
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, s.Touch("m"))
	m2, err := s.Lookup("m")
	require.NoError(t, err)
	assert.True(t, m2.LastActivity.After(m1.LastActivity))
	assert.ErrorIs(t, s.Touch("absent"), ErrUnknownMachine)
}

// TestConcurrentLookups runs lock-free lookups against registrations and
// removals in another "process" (Shm) under -race.
func TestConcurrentLookups(t *testing.T) {
	o := testOpts(t)
	w := open(t, o)
	r := open(t, o)
	require.NoError(t, w.Register("stable", "s"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad atomic.Value
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				m, err := r.Lookup("stable")
				if err != nil || m.ActorID != "s" {
					bad.Store(fmt.Sprintf("stable: %v %+v", err, m))
				}
				if _, err := r.Lookup("churn-3"); err != nil && !errors.Is(err, ErrUnknownMachine) {
					bad.Store(err.Error())
				}
			}
		}()
	}
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("churn-%d", i%10)
		if err := w.Register(id, "c"); err != nil {
			require.ErrorIs(t, err, ErrMachineExists)
			require.NoError(t, w.Unregister(id))
		}
	}
	close(stop)
	wg.Wait()
	assert.Nil(t, bad.Load())
}

func TestInspect(t *testing.T) {
	o := testOpts(t)
	o.ProcessName = "inspected"
	s := open(t, o)
	require.NoError(t, s.Register("a", "a"))
	require.NoError(t, s.Register("b", "$2"))
	d, err := InspectFile(segPath(o))
	require.NoError(t, err)
	assert.Equal(t, 1, d.ProcessCount)
	assert.Equal(t, 2, d.MachineCount)
	assert.Equal(t, uint64(1), d.Joins)
	require.Len(t, d.Processes, 1)
	assert.Equal(t, "inspected", d.Processes[0].Name)
	assert.Equal(t, uint32(2), d.Processes[0].Registrations)
	assert.Less(t, d.Processes[0].HeartbeatAge, 5*time.Second)
	require.Len(t, d.Machines, 2)
	for _, m := range d.Machines {
		assert.Equal(t, "inspected", m.OwnerName)
		assert.Equal(t, MachineActive, m.Status)
		assert.Equal(t, ProcessActive, m.OwnerStatus)
	}
	assert.Empty(t, d.Problems)
	assert.Equal(t, s.Generation(), d.Generation)

	v, err := OpenViewFile(segPath(o))
	require.NoError(t, err)
	region, err := v.InboxRegion(s.Self().Slot)
	require.NoError(t, err)
	region[0] = 1 // copy-on-write: never reaches the segment
	real, err := s.InboxRegion(s.Self().Slot)
	require.NoError(t, err)
	assert.Zero(t, real[0])
	require.NoError(t, v.Close())
	_, err = v.Dump()
	assert.ErrorIs(t, err, ErrClosed)

	_, err = Inspect("no-such-segment-" + segName(t))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestRepairInProcess simulates a holder that died half-way through writing
// a machine entry: the mutating mark is set and the entry's sequence is odd.
func TestRepairInProcess(t *testing.T) {
	o := testOpts(t)
	s := open(t, o)
	require.NoError(t, s.Register("kept", "k"))
	require.NoError(t, s.Register("half", "h"))
	idx, _, err := s.probe("half")
	require.NoError(t, err)
	e := s.machEntry(idx)
	atomic.AddUint64(u64(e, mSeq), 1)                       // odd: being written
	atomic.StoreUint32(s.hdr32(hMutating), uint32(1<<22-1)) // a holder that is gone

	// A lookup of the half-written entry does not hang: it takes the lock,
	// which repairs.
	_, err = s.Lookup("half")
	assert.ErrorIs(t, err, ErrUnknownMachine)
	_, err = s.Lookup("kept")
	assert.NoError(t, err)
	d, err := s.Dump()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), d.Repairs)
	assert.Zero(t, d.MutatingPID)
	assert.Equal(t, 1, d.MachineCount)
	assert.Equal(t, 1, s.Self().Machines, "counts are recomputed")
	require.NoError(t, s.Register("half", "h"))
}

// peerSeen reports whether s's monitor has seen generation gen of slot active.
func (s *Shm) peerSeen(slot int, gen uint32) bool { return s.seenGen[slot].Load() == gen }

// TestHeartbeatTimeout: a process whose heartbeat stops (here: a Shm whose
// heartbeat interval is an hour, standing for a hung process) is declared
// crashed by a peer; it then finds itself evicted.
func TestHeartbeatTimeout(t *testing.T) {
	o := testOpts(t)
	o.HeartbeatInterval, o.HeartbeatTimeout = time.Hour, 2*time.Hour
	hung := open(t, o)
	require.NoError(t, hung.Register("hung-m", "h"))
	o.HeartbeatInterval = 20 * time.Millisecond
	o.HeartbeatTimeout = 300 * time.Millisecond
	judge := open(t, o)
	downs := make(chan Process, 4)
	judge.OnProcessDown(func(p Process) { downs <- p })

	var p Process
	select {
	case p = <-downs:
	case <-time.After(20 * time.Second):
		t.Fatal("the stalled process was not declared dead")
	}
	assert.Equal(t, hung.Self().Slot, p.Slot)
	assert.Equal(t, ProcessCrashed, p.Status)
	d, err := judge.Dump()
	require.NoError(t, err)
	for _, pi := range d.Processes {
		if pi.Slot == p.Slot {
			assert.Equal(t, DownHeartbeat, pi.DownReason)
			assert.GreaterOrEqual(t, pi.HeartbeatAge, o.HeartbeatTimeout)
		}
	}
	_, err = judge.Lookup("hung-m")
	assert.ErrorIs(t, err, ErrProcessDied)
	assert.Contains(t, err.Error(), "heartbeat timeout")

	// The evicted process learns it on its next operation.
	err = hung.Register("more", "m")
	require.ErrorIs(t, err, ErrProcessDied)
	assert.Contains(t, err.Error(), "declared dead")
	assert.Equal(t, ProcessCrashed, hung.Self().Status)
	require.NoError(t, hung.Close(), "closing an evicted registry is fine")
	// And the ID can be taken over.
	require.NoError(t, judge.Register("hung-m", "j"))
}

func TestDefaultInboxHeaderScalesWithProcesses(t *testing.T) {
	for _, c := range []struct{ procs, want int }{{1, 4096}, {16, 4096}, {17, 8192}, {64, 16384}} {
		o := testOpts(t)
		o.MaxProcesses, o.InboxHeaderBytes = c.procs, 0
		s := open(t, o)
		assert.Equal(t, o.InboxBytes+c.want, s.Layout().InboxRegionBytes, "%d processes", c.procs)
	}
}

// Generation moves with every registration, in every process's view, and
// reads 0 once this process closed the segment, also while Close runs
// (it takes no lock: a read racing with the unmapping must not fault).
func TestGenerationLockFree(t *testing.T) {
	o := testOpts(t)
	a, b := open(t, o), open(t, o)
	g0 := a.Generation()
	require.NotZero(t, g0)
	require.NoError(t, b.Register("m1", "m1"))
	assert.Greater(t, a.Generation(), g0, "b's registration, seen by a")
	assert.Equal(t, a.Generation(), b.Generation())

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var afterClose atomic.Uint64
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if a.Generation() == 0 {
					afterClose.Add(1)
				}
			}
		})
	}
	require.NoError(t, a.Close())
	assert.Zero(t, a.Generation())
	eventually(t, 5*time.Second, "readers see the close", func() bool { return afterClose.Load() > 0 })
	close(stop)
	wg.Wait()
	require.NoError(t, b.Register("m2", "m2"), "the other process goes on")
	assert.NotZero(t, b.Generation())
}
