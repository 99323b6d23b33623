//go:build unix

package registry

// Liveness: one monitor goroutine per Shm writes this process's heartbeat and
// scans the process table every HeartbeatInterval. For every live peer it
// holds a pidfd, polled by the Go runtime's netpoller: the kernel makes it
// readable the moment the peer exits, so a kill -9 is seen at once with no
// CPU spent while idle. Without pidfd the monitor checks peers' pids every
// PollInterval instead. Each tick it also checks every peer's pid against its
// start time (pid reuse) and its heartbeat age (a hung process, or one in
// another pid namespace).
//
// Whoever sees a death first takes the lock and reclaims the slot; every
// process then sees the slot change in its own scan and runs its
// OnProcessDown callbacks once for that (slot, generation).

import (
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// peerState is the monitor's knowledge of one process slot.
type peerState struct {
	active bool    // we saw generation gen of this slot active
	gen    uint32  // generation we saw
	proc   Process // as last seen active
	watch  *os.File
}

func (ps *peerState) stopWatch() {
	if ps.watch != nil {
		_ = ps.watch.Close()
		ps.watch = nil
	}
}

func (s *Shm) monitor() {
	defer s.wg.Done()
	hb := time.NewTicker(s.opts.HeartbeatInterval)
	defer hb.Stop()
	var poll *time.Ticker
	var pollC <-chan time.Time
	defer func() {
		if poll != nil {
			poll.Stop()
		}
		for i := range s.peers {
			s.peers[i].stopWatch()
		}
	}()
	lastTick := monoNow()
	s.scan(false)
	for {
		if poll == nil && s.pollMode.Load() {
			poll = time.NewTicker(s.opts.PollInterval)
			pollC = poll.C
		}
		select {
		case <-s.stop:
			return
		case <-hb.C:
			now := monoNow()
			// After a stall of our own (suspend, stop signal, starvation)
			// peers' heartbeats look old for the same reason: judge them by
			// pids only this round.
			judgeHeartbeats := now-lastTick < int64(s.opts.HeartbeatTimeout)/2
			lastTick = now
			s.heartbeat()
			s.scan(judgeHeartbeats)
		case <-pollC:
			s.scan(false)
		case d := <-s.deadCh:
			s.declareDead(d.slot, d.gen, d.why)
			s.scan(false)
		}
	}
}

// heartbeat stores the monotonic clock in this process's entry, unless a
// peer declared this process dead.
func (s *Shm) heartbeat() {
	if s.checkSelf() != nil {
		return
	}
	atomic.StoreUint64(u64(s.procEntry(s.slot), pHeartbeat), uint64(monoNow()))
}

// scan compares the process table with what the monitor saw last time:
// new peers get watched, dead ones reclaimed, departed ones reported.
func (s *Shm) scan(checkHeartbeats bool) {
	defer s.scans.Add(1)
	wall := time.Now()
	mono := monoAt(wall)
	for slot := range s.peers {
		if slot == s.slot {
			continue
		}
		p, err := s.readProcessRepairing(slot)
		if err != nil {
			continue
		}
		ps := &s.peers[slot]
		if ps.active && p.Gen != ps.gen {
			// The slot changed hands between two scans: the process we knew
			// is gone, how is unknown; report it as crashed.
			gone := ps.proc
			gone.Status = ProcessCrashed
			ps.active = false
			s.seenGen[slot].Store(0)
			ps.stopWatch()
			s.notify(gone)
		}
		if p.Status == ProcessActive {
			if !ps.active {
				*ps = peerState{active: true, gen: p.Gen, proc: toProcess(slot, p, mono, wall)}
				if !s.pollMode.Load() && p.PidNS == s.pidNS {
					s.watch(slot, p)
				}
				s.seenGen[slot].Store(p.Gen)
			}
			why := s.judgePeerFast(p, checkHeartbeats)
			if why == DownNone {
				continue
			}
			s.declareDead(slot, p.Gen, why)
			if p, err = s.readProcessRepairing(slot); err != nil {
				continue
			}
		}
		if ps.active && p.Gen == ps.gen && p.Status != ProcessActive {
			ps.active = false
			s.seenGen[slot].Store(0)
			ps.stopWatch()
			s.notify(toProcess(slot, p, mono, wall))
		}
	}
}

// judgePeerFast is judgePeer with the heartbeat check optional.
func (s *Shm) judgePeerFast(p procEntry, checkHeartbeats bool) DownReason {
	if !checkHeartbeats {
		p.Heartbeat = 0
	}
	return s.judgePeer(p)
}

// watch opens a pidfd on a peer and waits for it on the netpoller. If pidfd
// is not available the monitor falls back to polling.
func (s *Shm) watch(slot int, p procEntry) {
	sg := slotGen{slot: slot, gen: p.Gen, why: DownExited}
	f, err := openPidfd(int(p.PID))
	if err != nil {
		if err == unix.ESRCH {
			s.reportDead(sg)
		} else {
			s.pollMode.Store(true)
		}
		return
	}
	// The pidfd pins the process it was opened on; make sure that is the
	// peer and not a later process that reused the pid.
	if checkPID(int(p.PID), p.StartTime) == pidReused {
		_ = f.Close()
		sg.why = DownPidReused
		s.reportDead(sg)
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		s.pollMode.Store(true)
		return
	}
	s.peers[slot].watch = f
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := rc.Read(pidfdExited); err != nil {
			return // closed: the monitor stopped watching
		}
		s.reportDead(sg)
	}()
}

func (s *Shm) reportDead(sg slotGen) {
	select {
	case s.deadCh <- sg:
	case <-s.stop:
	}
}

// declareDead reclaims generation gen of slot if it is still marked active.
func (s *Shm) declareDead(slot int, gen uint32, why DownReason) {
	if s.closing.Load() {
		return
	}
	if err := s.lock(); err != nil {
		return
	}
	defer s.unlock()
	if s.reclaimLocked(slot, gen, why) {
		atomic.AddUint32(u32(s.procEntry(s.slot), pDeaths), 1)
	}
}

// notify queues p for the callbacks.
func (s *Shm) notify(p Process) {
	s.nMu.Lock()
	s.nQueue = append(s.nQueue, p)
	s.nMu.Unlock()
	select {
	case s.nWake <- struct{}{}:
	default:
	}
}

// notifier runs the OnProcessDown callbacks, one death at a time. It is not
// waited for by Close, so a callback may call Close.
func (s *Shm) notifier() {
	for {
		select {
		case <-s.nWake:
		case <-s.stop:
			return
		}
		for {
			s.nMu.Lock()
			if len(s.nQueue) == 0 {
				s.nMu.Unlock()
				break
			}
			p := s.nQueue[0]
			s.nQueue = s.nQueue[1:]
			s.nMu.Unlock()
			s.cbMu.Lock()
			fns := make([]func(Process), 0, len(s.cbs))
			for _, fn := range s.cbs {
				fns = append(fns, fn)
			}
			s.cbMu.Unlock()
			for _, fn := range fns {
				if s.closing.Load() {
					return
				}
				fn(p)
			}
		}
	}
}
