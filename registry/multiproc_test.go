//go:build linux

package registry

// Multi-process tests: real OS processes, re-executing this test binary as
// TestHelperProcess with a role in the environment. A helper opens the
// segment with the options the parent passes (JSON), prints "READY slot gen
// pid", then obeys one command per stdin line and answers on stdout.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

const (
	helperEnv   = "XORC_REGISTRY_HELPER"
	helperOpts  = "XORC_REGISTRY_HELPER_OPTS"
	helperRegs  = "XORC_REGISTRY_HELPER_MACHINES"
	helperStart = "XORC_REGISTRY_HELPER_START" // CLOCK_MONOTONIC ns to open at (racers)
)

// TestHelperProcess is not a test: it is the body of the child processes.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process for the multi-process tests")
	}
	os.Exit(runHelper())
}

func runHelper() int {
	var o ShmOptions
	if err := json.Unmarshal([]byte(os.Getenv(helperOpts)), &o); err != nil {
		fmt.Println("ERR options:", err)
		return 2
	}
	if at, _ := strconv.ParseInt(os.Getenv(helperStart), 10, 64); at != 0 {
		for monoNow() < at {
			// spin to the start line so the racers really race
		}
	}
	s, err := OpenShm(o)
	if err != nil {
		fmt.Println("ERR open:", err)
		return 3
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	s.OnProcessDown(func(p Process) {
		say("DOWN %d %d %d %s %d", p.Slot, p.Generation, p.PID, p.Status, monoNow())
	})
	for _, id := range strings.Fields(strings.ReplaceAll(os.Getenv(helperRegs), ",", " ")) {
		if err := s.Register(id, id); err != nil {
			say("ERR register %s: %v", id, err)
			return 4
		}
	}
	self := s.Self()
	say("READY %d %d %d %d", self.Slot, self.Generation, self.PID, s.Layout().CreatedAt.UnixNano())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		arg := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		answer := func(err error, ok string) {
			if err != nil {
				say("ERR %v", err)
			} else {
				say("OK %s", ok)
			}
		}
		switch f[0] {
		case "reg":
			answer(s.Register(arg(1), arg(1)), "")
		case "unreg":
			answer(s.Unregister(arg(1)), "")
		case "addr":
			answer(s.SetAddress(arg(1)), "")
		case "lookup":
			m, err := s.Lookup(arg(1))
			answer(err, strconv.Itoa(m.Owner.PID))
		case "await-peer": // slot gen: wait until this process watches that peer
			slot, _ := strconv.Atoi(arg(1))
			gen, _ := strconv.ParseUint(arg(2), 10, 32)
			deadline := time.Now().Add(20 * time.Second)
			for !s.peerSeen(slot, uint32(gen)) && time.Now().Before(deadline) {
				time.Sleep(2 * time.Millisecond)
			}
			answer(nil, strconv.FormatBool(s.peerSeen(slot, uint32(gen))))
		case "idle": // seconds: report CPU time used while idle
			secs, _ := strconv.ParseFloat(arg(1), 64)
			before := cpuTime()
			time.Sleep(time.Duration(secs * float64(time.Second)))
			answer(nil, strconv.FormatInt(int64(cpuTime()-before), 10))
		case "exit":
			answer(s.Close(), "")
			return 0
		default:
			say("ERR unknown command %q", f[0])
		}
	}
	if err := s.Close(); err != nil {
		say("ERR close: %v", err)
		return 5
	}
	return 0
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type child struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	stderr *bytes.Buffer
	slot   int
	gen    uint32
	pid    int
	// created is the segment's creation time as this child saw it.
	created int64
	waited  chan struct{}
	waitErr error
}

// startChild starts a helper; env adds variables (e.g. the crash hook).
// With ready it waits for the READY line.
func startChild(t testing.TB, o ShmOptions, machines []string, ready bool, env ...string) *child {
	t.Helper()
	js, err := json.Marshal(o)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperOpts+"="+string(js), helperRegs+"="+strings.Join(machines, ","))
	cmd.Env = append(cmd.Env, env...)
	c := &child{t: t, cmd: cmd, lines: make(chan string, 100), stderr: &bytes.Buffer{}, waited: make(chan struct{})}
	c.in, err = cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = c.stderr
	require.NoError(t, cmd.Start())
	c.pid = cmd.Process.Pid
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.waitErr = cmd.Wait()
		close(c.waited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.waited
	})
	if ready {
		f := strings.Fields(c.expect("READY", 60*time.Second))
		require.Len(t, f, 5)
		c.slot, _ = strconv.Atoi(f[1])
		g, _ := strconv.ParseUint(f[2], 10, 32)
		c.gen = uint32(g)
		require.Equal(t, strconv.Itoa(c.pid), f[3])
		c.created, _ = strconv.ParseInt(f[4], 10, 64)
	}
	return c
}

// expect returns the next line starting with prefix, skipping others (DOWN
// lines are kept for expectDown).
func (c *child) expect(prefix string, d time.Duration) string {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("child %d exited waiting for %q; stderr:\n%s", c.pid, prefix, c.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
			if strings.HasPrefix(l, "ERR") && prefix != "ERR" && !strings.HasPrefix(prefix, "OK") {
				c.t.Fatalf("child %d: %s", c.pid, l)
			}
		case <-timeout:
			c.t.Fatalf("child %d: no %q line within %v; stderr:\n%s", c.pid, prefix, d, c.stderr.String())
		}
	}
}

// do sends a command and returns the answer line ("OK ..." or "ERR ...").
func (c *child) do(cmd string) string {
	c.t.Helper()
	_, err := fmt.Fprintln(c.in, cmd)
	require.NoError(c.t, err)
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("child %d exited during %q; stderr:\n%s", c.pid, cmd, c.stderr.String())
			}
			if strings.HasPrefix(l, "OK") || strings.HasPrefix(l, "ERR") {
				return l
			}
		case <-timeout:
			c.t.Fatalf("child %d: no answer to %q", c.pid, cmd)
		}
	}
}

// send writes a command without waiting for an answer (the child may die).
func (c *child) send(cmd string) {
	_, _ = fmt.Fprintln(c.in, cmd)
}

func (c *child) kill() { require.NoError(c.t, c.cmd.Process.Signal(syscall.SIGKILL)) }

// wait waits for the child to exit and returns how it ended.
func (c *child) wait(d time.Duration) error {
	c.t.Helper()
	select {
	case <-c.waited:
		return c.waitErr
	case <-time.After(d):
		c.t.Fatalf("child %d did not exit within %v", c.pid, d)
		return nil
	}
}

func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestMultiProcessCreateRace: several processes create-or-open the same new
// segment at the same instant; exactly one initialises it and all join.
func TestMultiProcessCreateRace(t *testing.T) {
	o := testOpts(t)
	const n = 6
	start := monoNow() + int64(1500*time.Millisecond) // after every child has started
	kids := make([]*child, n)
	for i := range kids {
		kids[i] = startChild(t, o, []string{fmt.Sprintf("racer-%d", i)}, false, helperStart+"="+strconv.FormatInt(start, 10))
	}
	slots := map[int]bool{}
	created := map[int64]bool{}
	for _, k := range kids {
		f := strings.Fields(k.expect("READY", 60*time.Second))
		slot, _ := strconv.Atoi(f[1])
		c, _ := strconv.ParseInt(f[4], 10, 64)
		slots[slot] = true
		created[c] = true
		k.pid, _ = strconv.Atoi(f[3])
	}
	assert.Len(t, slots, n, "every process got its own slot")
	assert.Len(t, created, 1, "the segment was initialised once")

	s := open(t, o)
	d, err := s.Dump()
	require.NoError(t, err)
	assert.Equal(t, uint64(n+1), d.Joins)
	assert.Equal(t, n+1, d.ProcessCount)
	assert.Equal(t, n, d.MachineCount)
	assert.Empty(t, d.Problems)
	for i, k := range kids {
		m, err := s.Lookup(fmt.Sprintf("racer-%d", i))
		require.NoError(t, err)
		assert.Equal(t, k.pid, m.Owner.PID)
	}
	for _, k := range kids {
		require.NoError(t, k.in.Close())
	}
	for _, k := range kids {
		require.NoError(t, k.wait(30*time.Second), k.stderr.String())
	}
	eventually(t, 10*time.Second, "children gone", func() bool {
		d, err := s.Dump()
		return err == nil && d.ProcessCount == 1 && d.MachineCount == 0
	})
}

// TestMultiProcessRegistry: machines registered in one process are found
// from others; duplicates name the owning process.
func TestMultiProcessRegistry(t *testing.T) {
	o := testOpts(t)
	o.ProcessName = "owner-proc"
	a := startChild(t, o, []string{"door", "robot"}, true)
	o.ProcessName = "other-proc"
	b := startChild(t, o, nil, true)
	o.ProcessName = "test"
	s := open(t, o)

	assert.Equal(t, "OK "+strconv.Itoa(a.pid), b.do("lookup door"))
	assert.Equal(t, "OK "+strconv.Itoa(a.pid), b.do("lookup robot"))
	assert.Contains(t, b.do("lookup nothing"), ErrUnknownMachine.Error())

	ans := b.do("reg door")
	assert.Contains(t, ans, ErrMachineExists.Error())
	assert.Contains(t, ans, strconv.Itoa(a.pid))
	assert.Contains(t, ans, "owner-proc")

	err := s.Register("robot", "r")
	require.ErrorIs(t, err, ErrMachineExists)
	assert.Contains(t, err.Error(), strconv.Itoa(a.pid))
	assert.Contains(t, err.Error(), "owner-proc")

	require.NoError(t, s.Register("panel", "p"))
	assert.Equal(t, "OK "+strconv.Itoa(os.Getpid()), a.do("lookup panel"))
	assert.Contains(t, a.do("unreg panel"), ErrNotOwner.Error())
	assert.Equal(t, "OK ", a.do("unreg door"))
	assert.Contains(t, b.do("lookup door"), ErrUnknownMachine.Error())
	assert.Equal(t, "OK ", b.do("reg door"))
	m, err := s.Lookup("door")
	require.NoError(t, err)
	assert.Equal(t, b.pid, m.Owner.PID)
	assert.Equal(t, "other-proc", m.Owner.Name)
}

// TestMultiProcessKill: a SIGKILLed process is noticed by every survivor
// (callbacks once, Lookup says ErrProcessDied naming machine and process),
// and a restarted process takes its machine IDs back.
func TestMultiProcessKill(t *testing.T) {
	for _, mode := range []string{"pidfd", "poll"} {
		t.Run(mode, func(t *testing.T) {
			o := testOpts(t)
			o.DisablePidfd = mode == "poll"
			o.ProcessName = "watcher"
			w := startChild(t, o, nil, true)
			o.ProcessName = "victim"
			machines := []string{"m1", "m2", "m3"}
			v := startChild(t, o, machines, true)
			o.ProcessName = "test"
			s := open(t, o)

			type down struct {
				p  Process
				at int64
			}
			downs := make(chan down, 10)
			s.OnProcessDown(func(p Process) { downs <- down{p, monoNow()} })
			eventually(t, 20*time.Second, "test process watches the victim", func() bool { return s.peerSeen(v.slot, v.gen) })
			require.Equal(t, "OK true", w.do(fmt.Sprintf("await-peer %d %d", v.slot, v.gen)))
			m, err := s.Lookup("m1")
			require.NoError(t, err)
			require.Equal(t, v.pid, m.Owner.PID)

			killedAt := monoNow()
			v.kill()
			var got down
			select {
			case got = <-downs:
			case <-time.After(20 * time.Second):
				t.Fatal("no OnProcessDown within 20s of SIGKILL")
			}
			t.Logf("%s: detection latency in the test process: %v%s", mode, time.Duration(got.at-killedAt), raceBuild)
			assert.Equal(t, v.slot, got.p.Slot)
			assert.Equal(t, v.gen, got.p.Generation)
			assert.Equal(t, v.pid, got.p.PID)
			assert.Equal(t, ProcessCrashed, got.p.Status)
			assert.Equal(t, "victim", got.p.Name)

			f := strings.Fields(w.expect("DOWN", 20*time.Second))
			require.Len(t, f, 6)
			assert.Equal(t, []string{strconv.Itoa(v.slot), strconv.Itoa(int(v.gen)), strconv.Itoa(v.pid), "crashed"}, f[1:5])
			wAt, _ := strconv.ParseInt(f[5], 10, 64)
			t.Logf("%s: detection latency in the watcher process: %v%s", mode, time.Duration(wAt-killedAt), raceBuild)

			for _, id := range machines {
				_, err := s.Lookup(id)
				require.ErrorIs(t, err, ErrProcessDied, id)
				assert.Contains(t, err.Error(), strconv.Quote(id))
				assert.Contains(t, err.Error(), strconv.Itoa(v.pid))
				assert.Contains(t, err.Error(), "victim")
				ans := w.do("lookup " + id)
				assert.Contains(t, ans, ErrProcessDied.Error())
				assert.Contains(t, ans, strconv.Itoa(v.pid))
			}
			assert.False(t, s.IsAlive(v.slot, v.gen))
			assert.Empty(t, s.Machines(), "orphaned machines are not listed as available")
			d, err := s.Dump()
			require.NoError(t, err)
			assert.Equal(t, uint64(1), d.Reclaims, "one process reclaimed the victim")
			var victim ProcessInfo
			for _, p := range d.Processes {
				if p.Slot == v.slot {
					victim = p
				}
			}
			assert.Equal(t, ProcessCrashed, victim.Status)
			assert.Contains(t, []DownReason{DownExited, DownPidReused}, victim.DownReason)
			for _, m := range d.Machines {
				assert.Equal(t, MachineOrphaned, m.Status, m.ID)
			}

			// Restart: the new process takes the IDs back.
			o.ProcessName = "victim"
			v2 := startChild(t, o, machines, true)
			for _, id := range machines {
				m, err := s.Lookup(id)
				require.NoError(t, err, id)
				assert.Equal(t, v2.pid, m.Owner.PID)
				assert.Equal(t, "OK "+strconv.Itoa(v2.pid), w.do("lookup "+id))
			}
			d, err = s.Dump()
			require.NoError(t, err)
			assert.Equal(t, uint64(len(machines)), d.Takeovers)
			assert.Equal(t, len(machines), d.MachineCount)

			time.Sleep(5 * o.HeartbeatInterval)
			assert.Empty(t, downs, "callbacks run once per death")
		})
	}
}

// TestMultiProcessCrashMidMutation: a process SIGKILLs itself half-way
// through writing an entry while holding the lock (the crash hook). The next
// process to take the lock repairs the tables; nothing hangs.
func TestMultiProcessCrashMidMutation(t *testing.T) {
	cases := []struct {
		crashAt  string   // the hook's value
		machines []string // registered by the crasher when it starts
		trigger  string   // command that crashes it ("": crashes while opening)
		// after the repair and the death are seen:
		unknown []string // Lookup gives ErrUnknownMachine
		died    []string // Lookup gives ErrProcessDied
	}{
		{crashAt: "join"},
		{crashAt: "register:3", machines: []string{"a", "b"}, trigger: "reg c", unknown: []string{"c"}, died: []string{"a", "b"}},
		{crashAt: "delete", machines: []string{"a", "b"}, trigger: "unreg a", unknown: []string{"a"}, died: []string{"b"}},
		{crashAt: "address", machines: []string{"a"}, trigger: "addr /tmp/x.sock", died: []string{"a"}},
		{crashAt: "leave", machines: []string{"a"}, trigger: "exit", unknown: []string{"a"}},
	}
	for _, c := range cases {
		t.Run(c.crashAt, func(t *testing.T) {
			o := testOpts(t)
			o.ProcessName = "bystander"
			by := startChild(t, o, []string{"bystander-m"}, true)
			o.ProcessName = "crasher"
			cr := startChild(t, o, c.machines, c.trigger != "", crashAtEnv+"="+c.crashAt)
			if c.trigger != "" {
				cr.send(c.trigger)
			}
			require.True(t, killedBySIGKILL(cr.wait(60*time.Second)), "the crasher killed itself: %s", cr.stderr.String())
			d, err := InspectFile(segPath(o))
			require.NoError(t, err)
			// The crash left the mutation mark, unless the bystander, which
			// saw the death at once, is repairing or has repaired.
			assert.True(t, d.MutatingPID == cr.pid || d.MutatingPID == by.pid || d.Repairs >= 1,
				"mutating pid %d, repairs %d", d.MutatingPID, d.Repairs)

			o.ProcessName = "test"
			s := open(t, o) // takes the lock: repairs
			eventually(t, 20*time.Second, "the crasher's death is handled", func() bool {
				d, err := s.Dump()
				if err != nil {
					return false
				}
				for _, p := range d.Processes {
					if p.Name == "crasher" && p.Status == ProcessActive {
						return false
					}
				}
				return d.MutatingPID == 0 && d.ProcessCount == 2 // the reclaim is over
			})
			d, err = s.Dump()
			require.NoError(t, err)
			assert.GreaterOrEqual(t, d.Repairs, uint64(1))
			assert.Zero(t, d.MutatingPID)
			assert.Empty(t, d.Problems)
			assert.Equal(t, 2, d.ProcessCount, "bystander and test")
			used := 0
			for _, m := range d.Machines {
				used++
				if m.ID == "bystander-m" {
					assert.Equal(t, MachineActive, m.Status)
				} else {
					assert.Equal(t, MachineOrphaned, m.Status, m.ID)
				}
			}
			assert.Equal(t, used, d.MachineCount)
			assertNoOddSequences(t, s)

			for _, id := range c.unknown {
				_, err := s.Lookup(id)
				assert.ErrorIs(t, err, ErrUnknownMachine, id)
			}
			for _, id := range c.died {
				_, err := s.Lookup(id)
				assert.ErrorIs(t, err, ErrProcessDied, id)
			}
			assert.Equal(t, "OK "+strconv.Itoa(by.pid), by.do("lookup bystander-m"))
			// The table is usable: the crasher's IDs can be registered again.
			for _, id := range append(append([]string{"fresh"}, c.unknown...), c.died...) {
				require.NoError(t, s.Register(id, id), id)
			}
			assert.Equal(t, "OK "+strconv.Itoa(os.Getpid()), by.do("lookup fresh"))
		})
	}
}

// TestMultiProcessCrashMidReclaim: the process reclaiming a dead peer dies
// half-way (in the process entry, then in a machine entry).
func TestMultiProcessCrashMidReclaim(t *testing.T) {
	for _, point := range []string{"reclaim", "orphan"} {
		t.Run(point, func(t *testing.T) {
			o := testOpts(t)
			o.ProcessName = "first-victim"
			a := startChild(t, o, []string{"a1", "a2"}, true)
			o.ProcessName = "reclaimer"
			r := startChild(t, o, []string{"r1"}, true, crashAtEnv+"="+point)
			require.Equal(t, "OK true", r.do(fmt.Sprintf("await-peer %d %d", a.slot, a.gen)))
			a.kill()
			require.True(t, killedBySIGKILL(r.wait(60*time.Second)), "the reclaimer crashed in %s: %s", point, r.stderr.String())
			d, err := InspectFile(segPath(o))
			require.NoError(t, err)
			assert.Equal(t, r.pid, d.MutatingPID)

			o.ProcessName = "test"
			s := open(t, o)
			eventually(t, 20*time.Second, "both deaths handled", func() bool {
				d, err := s.Dump()
				return err == nil && d.ProcessCount == 1 && d.MutatingPID == 0
			})
			d, err = s.Dump()
			require.NoError(t, err)
			assert.GreaterOrEqual(t, d.Repairs, uint64(1))
			assert.Empty(t, d.Problems)
			assertNoOddSequences(t, s)
			_, err = s.Lookup("r1")
			assert.ErrorIs(t, err, ErrProcessDied)
			// The machine entry being written when the reclaimer died is
			// dropped by the repair; every other one is orphaned.
			lost := 0
			for _, id := range []string{"a1", "a2"} {
				_, err := s.Lookup(id)
				if errors.Is(err, ErrUnknownMachine) {
					lost++
				} else {
					assert.ErrorIs(t, err, ErrProcessDied, id)
				}
			}
			if point == "reclaim" {
				assert.Zero(t, lost)
			} else {
				assert.Equal(t, 1, lost)
			}
			for _, id := range []string{"a1", "a2", "r1"} {
				require.NoError(t, s.Register(id, id))
			}
		})
	}
}

func assertNoOddSequences(t *testing.T, s *Shm) {
	t.Helper()
	for slot := 0; slot < int(s.h.MaxProcesses); slot++ {
		assert.Zero(t, atomic.LoadUint64(u64(s.procEntry(slot), pSeq))&1, "process slot %d", slot)
	}
	for i := 0; i < int(s.h.MachineSlots); i++ {
		assert.Zero(t, atomic.LoadUint64(u64(s.machEntry(i), mSeq))&1, "machine entry %d", i)
	}
}

// TestIdleCPU logs the CPU time an idle joined process uses (with a peer to
// watch), with pidfd and with polling. It fails only on a busy loop.
func TestIdleCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for seconds")
	}
	for _, mode := range []string{"pidfd", "poll"} {
		t.Run(mode, func(t *testing.T) {
			o := testOpts(t)
			o.HeartbeatInterval = DefaultHeartbeatInterval
			o.HeartbeatTimeout = 0
			o.DisablePidfd = mode == "poll"
			peer := startChild(t, o, []string{"p"}, true)
			idle := startChild(t, o, []string{"i"}, true)
			_ = peer
			const secs = 3
			ans := idle.do(fmt.Sprintf("idle %d", secs))
			require.True(t, strings.HasPrefix(ans, "OK "), ans)
			ns, err := strconv.ParseInt(strings.TrimPrefix(ans, "OK "), 10, 64)
			require.NoError(t, err)
			cpu := time.Duration(ns)
			t.Logf("%s: idle joined process used %v CPU in %ds = %.3f%% of a core (heartbeat %v)%s",
				mode, cpu, secs, 100*cpu.Seconds()/secs, o.HeartbeatInterval, raceBuild)
			assert.Less(t, cpu, time.Duration(secs)*time.Second/2, "an idle process must not spin")
		})
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615"
	st, start, err := parseStat([]byte(line))
	require.NoError(t, err)
	assert.Equal(t, byte('S'), st)
	assert.Equal(t, uint64(987654), start)
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 nan"} {
		_, _, err := parseStat([]byte(bad))
		assert.Error(t, err, bad)
	}
	_, self, err := statPID(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, self, selfStartTime())
	assert.Equal(t, pidAlive, checkPID(os.Getpid(), self))
	assert.Equal(t, pidReused, checkPID(os.Getpid(), self+1))
	assert.Equal(t, pidGone, checkPID(1<<22+1, 0))
}

func TestMonotonicClockMatchesKernel(t *testing.T) {
	// monoNow derives CLOCK_MONOTONIC from Go's clock; a wrong offset would
	// be off by the process's age or more, not by microseconds.
	diff := time.Duration(monoNow() - clockMonotonic())
	assert.Less(t, diff.Abs(), time.Second, "offset %v", diff)
}

// TestMultiProcessTakeoverBeforeDetection: registering an ID whose owner
// died checks the owner there and then, without waiting for the detector.
func TestMultiProcessTakeoverBeforeDetection(t *testing.T) {
	o := testOpts(t)
	v := startChild(t, o, []string{"x"}, true)
	// This process detects nothing by itself: no pidfd, no polling, no ticks.
	o.DisablePidfd = true
	o.HeartbeatInterval, o.HeartbeatTimeout, o.PollInterval = time.Hour, 2*time.Hour, time.Hour
	s := open(t, o)
	eventually(t, 20*time.Second, "the first scan (which checks pids) is over", func() bool { return s.scans.Load() > 0 })
	v.kill()
	require.True(t, killedBySIGKILL(v.wait(30*time.Second)))

	m, err := s.Lookup("x")
	require.NoError(t, err, "nobody has noticed the death yet")
	require.Equal(t, v.pid, m.Owner.PID)
	require.NoError(t, s.Register("x", "mine"))
	m, err = s.Lookup("x")
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), m.Owner.PID)
	d, err := s.Dump()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), d.Reclaims)
	assert.Equal(t, uint64(1), d.Takeovers)
	p, err := s.Process(v.slot)
	require.NoError(t, err)
	assert.Equal(t, ProcessCrashed, p.Status)
}
