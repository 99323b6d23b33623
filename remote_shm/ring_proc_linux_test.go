//go:build linux

package remote_shm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Multi-process tests re-execute the test binary as TestHelperProcess with
// XORC_RING_HELPER naming the role. The ring lives in a file in /dev/shm
// mapped MAP_SHARED by every process.

const (
	envHelper   = "XORC_RING_HELPER"
	envPath     = "XORC_RING_PATH"
	envOffset   = "XORC_RING_OFFSET"  // the ring's offset in the file
	envOffset2  = "XORC_RING_OFFSET2" // echo: the ring to answer into
	envProducer = "XORC_RING_PRODUCER"
	envCount    = "XORC_RING_COUNT"
	envSize     = "XORC_RING_SIZE"
	envPoint    = "XORC_RING_CRASH"
	envSpin     = "XORC_RING_SPIN"
	envIdle     = "XORC_RING_IDLE"

	stopType int32 = 1 << 30 // echo: stop
)

// shmFile creates a file of size bytes in /dev/shm (or the test's temp dir)
// and maps it shared; it is unmapped and removed when the test ends.
func shmFile(t testing.TB, size int) (string, []byte) {
	t.Helper()
	dir := "/dev/shm"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = t.TempDir()
	}
	f, err := os.CreateTemp(dir, "xorc-ring-test-*")
	require.NoError(t, err)
	path := f.Name()
	t.Cleanup(func() { _ = os.Remove(path) })
	require.NoError(t, f.Truncate(int64(size)))
	region, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Munmap(region) })
	return path, region
}

func mapFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

type helper struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
}

func startHelper(t testing.TB, env ...string) *helper {
	t.Helper()
	h := &helper{cmd: exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")}
	h.cmd.Env = append(os.Environ(), env...)
	h.cmd.Stdout, h.cmd.Stderr = &h.stdout, &h.stderr
	require.NoError(t, h.cmd.Start())
	t.Cleanup(func() {
		if h.cmd.ProcessState == nil {
			_ = h.cmd.Process.Kill()
			_ = h.cmd.Wait()
		}
	})
	return h
}

func (h *helper) wait(t testing.TB) {
	t.Helper()
	err := h.cmd.Wait()
	require.NoError(t, err, "helper %v failed:\nstdout: %s\nstderr: %s", h.cmd.Env[len(h.cmd.Env)-1], h.stdout.String(), h.stderr.String())
}

func envInt(name string) int {
	v, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		panic(fmt.Sprintf("%s: %v", name, err))
	}
	return v
}

func helperRing(offsetEnv string) *Ring {
	region, err := mapFile(os.Getenv(envPath))
	if err != nil {
		panic(err)
	}
	r, err := AttachRing(region[envInt(offsetEnv):])
	if err != nil {
		panic(err)
	}
	return r
}

// TestHelperProcess is not a test: it is the body of the child processes.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		t.Skip("helper process for the multi-process tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := helperRing(envOffset)
	switch mode {
	case "produce":
		p, n, size := envInt(envProducer), envInt(envCount), envInt(envSize)
		for i := 0; i < n; i++ {
			if err := r.Write(ctx, p, int32(p), seqPayload(uint64(i), size)); err != nil {
				fmt.Fprintln(os.Stderr, "write:", err)
				os.Exit(2)
			}
		}
	case "die":
		p, point := envInt(envProducer), crashPoint(envInt(envPoint))
		testCrash = func(at crashPoint, id int) bool {
			if at == point && id == p {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				time.Sleep(time.Hour)
			}
			return false
		}
		err := r.Write(ctx, p, int32(p), make([]byte, envInt(envSize)))
		fmt.Fprintln(os.Stderr, "survived the crash point:", err)
		os.Exit(3)
	case "echo":
		out := helperRing(envOffset2)
		spin := Spin{Duration: time.Duration(envInt(envSpin))}
		for {
			stop := false
			n, err := r.Read(0, func(typ int32, _ int, b []byte) {
				if typ == stopType {
					stop = true
					return
				}
				if err := out.Write(ctx, 0, typ, b); err != nil {
					panic(err)
				}
			})
			if err != nil || stop {
				if err != nil {
					fmt.Fprintln(os.Stderr, "read:", err)
					os.Exit(2)
				}
				break
			}
			if n == 0 {
				if err := r.Wait(ctx, spin); err != nil {
					fmt.Fprintln(os.Stderr, "wait:", err)
					os.Exit(2)
				}
			}
		}
	case "idle":
		idle := time.Duration(envInt(envIdle))
		spin := Spin{Duration: time.Duration(envInt(envSpin))}
		var before, after unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_SELF, &before)
		wctx, wcancel := context.WithTimeout(ctx, idle)
		err := r.Wait(wctx, spin)
		wcancel()
		_ = unix.Getrusage(unix.RUSAGE_SELF, &after)
		cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
		fmt.Printf("idle-result cpu_ns=%d sleeps=%d err=%v\n", cpu.Nanoseconds(), r.Stats().Sleeps, err)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		os.Exit(2)
	}
	os.Exit(0)
}

func helperEnv(mode, path string, kv ...string) []string {
	return append([]string{envHelper + "=" + mode, envPath + "=" + path, envOffset + "=0"}, kv...)
}

// Three producer processes write a million small records into one ring; the
// consumer (this process) checks per-producer order and that none is lost.
func TestMultiProcessProducers(t *testing.T) {
	total := 1_000_000
	if testing.Short() {
		total = 60_000
	}
	const producers = 3
	size, err := RingSize(64<<10, 4)
	require.NoError(t, err)
	path, region := shmFile(t, size)
	r, err := FormatRing(region, 4)
	require.NoError(t, err)

	counts := []int{total - 2*(total/3), total / 3, total / 3}
	var hs []*helper
	for p := 0; p < producers; p++ {
		hs = append(hs, startHelper(t, helperEnv("produce", path,
			envProducer+"="+strconv.Itoa(p), envCount+"="+strconv.Itoa(counts[p]), envSize+"=16")...))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	next := consume(ctx, t, r, producers, uint64(total), DefaultSpin)
	elapsed := time.Since(start)
	for _, h := range hs {
		h.wait(t)
	}
	for p := 0; p < producers; p++ {
		assert.Equal(t, uint64(counts[p]), next[p], "producer %d", p)
	}
	s := r.Stats()
	assert.Equal(t, uint64(total), s.Written)
	assert.Equal(t, uint64(total), s.Read)
	assert.Zero(t, s.Lost)
	assert.Zero(t, s.Corrupt)
	assert.False(t, r.Pending())
	t.Logf("%d records from %d processes in %v (%.0f records/s incl. process start), full waits %d, sleeps %d, wakes %d",
		total, producers, elapsed, float64(total)/elapsed.Seconds(), s.FullWaits, s.Sleeps, s.Wakes)
}

// A producer process claims a record and SIGKILLs itself before committing;
// two other producer processes then write behind it. The consumer is stuck
// until it is told of the death, then skips exactly that record, counts the
// loss against the dead producer, and receives everything else in order.
func TestMultiProcessDeadProducer(t *testing.T) {
	tests := []struct {
		name  string
		point crashPoint
		wrap  bool
	}{
		{"died after writing the header", crashAfterHeader, false},
		{"died right after the CAS", crashAfterCAS, false},
		{"died after the CAS of a wrapping claim", crashAfterCAS, true},
		{"died after the padding of a wrapping claim", crashAfterPadding, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const dying = 1
			perWriter := 20_000
			if testing.Short() {
				perWriter = 3000
			}
			size, err := RingSize(4096, 4)
			require.NoError(t, err)
			path, region := shmFile(t, size)
			r, err := FormatRing(region, 4)
			require.NoError(t, err)
			if tt.wrap {
				advanceTo(t, r, 4096-24) // the dying 56-byte record pads 24 bytes and wraps
			}

			dier := startHelper(t, helperEnv("die", path, envProducer+"="+strconv.Itoa(dying),
				envPoint+"="+strconv.Itoa(int(tt.point)), envSize+"=40")...)
			err = dier.cmd.Wait()
			require.Error(t, err, "stderr: %s", dier.stderr.String())
			ws, ok := dier.cmd.ProcessState.Sys().(syscall.WaitStatus)
			require.True(t, ok)
			require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the producer killed itself: %v", err)
			require.True(t, r.Stuck(), "its claim blocks the ring")
			require.True(t, r.Stats().Producers[dying].InFlight)

			var writers []*helper
			for _, p := range []int{2, 3} {
				writers = append(writers, startHelper(t, helperEnv("produce", path,
					envProducer+"="+strconv.Itoa(p), envCount+"="+strconv.Itoa(perWriter), envSize+"=24")...))
			}
			// Until the death is known nothing moves, however long we try:
			// wait until the writers fill the ring behind the dead record.
			deadline := time.Now().Add(time.Minute)
			for r.Stats().Producers[2].FullWaits+r.Stats().Producers[3].FullWaits == 0 {
				require.True(t, time.Now().Before(deadline), "writers never filled the ring")
				n, err := r.Read(0, func(int32, int, []byte) { t.Fatal("read past the dead record") })
				require.NoError(t, err)
				require.Zero(t, n)
				require.Zero(t, r.Unblock(deadSet()), "nobody is known dead")
				time.Sleep(time.Millisecond)
			}

			dead := deadSet(dying) // what the registry would now report
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			next := make([]uint64, 4)
			var got, unblocked int
			for got < 2*perWriter {
				n, err := r.Read(0, func(typ int32, p int, b []byte) {
					if seq := checkSeqPayload(t, b); p == dying || seq != next[p] {
						require.Failf(t, "wrong record", "producer %d seq %d, want seq %d", p, seq, next[p])
					}
					next[p]++
				})
				require.NoError(t, err)
				got += n
				if n == 0 {
					if r.Stuck() {
						unblocked += r.Unblock(dead)
						continue
					}
					wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
					err := r.Wait(wctx, DefaultSpin)
					wcancel()
					if err != nil && ctx.Err() != nil {
						t.Fatalf("stalled after %d records: %v, stats %+v", got, err, r.Stats())
					}
				}
			}
			for _, w := range writers {
				w.wait(t)
			}
			assert.Equal(t, 1, unblocked)
			assert.Equal(t, uint64(perWriter), next[2])
			assert.Equal(t, uint64(perWriter), next[3])
			s := r.Stats()
			assert.Equal(t, uint64(1), s.Producers[dying].Lost)
			assert.Equal(t, uint64(1), s.Lost)
			assert.Zero(t, s.Producers[dying].Written)
			assert.Zero(t, s.Corrupt)
			assert.False(t, r.Pending())
		})
	}
}

// An idle consumer process sleeps in the kernel: over one second it enters
// FUTEX_WAIT about ten times (100 ms slices; fewer on a loaded machine). Its
// CPU time is logged, not asserted.
func TestMultiProcessIdleConsumer(t *testing.T) {
	size, err := RingSize(4096, 1)
	require.NoError(t, err)
	path, region := shmFile(t, size)
	_, err = FormatRing(region, 1)
	require.NoError(t, err)
	h := startHelper(t, helperEnv("idle", path, envIdle+"="+strconv.Itoa(int(time.Second)),
		envSpin+"="+strconv.Itoa(int(50*time.Microsecond)))...)
	h.wait(t)
	line := strings.TrimSpace(h.stdout.String())
	var cpuNs, sleeps int64
	_, err = fmt.Sscanf(line[strings.Index(line, "idle-result"):], "idle-result cpu_ns=%d sleeps=%d", &cpuNs, &sleeps)
	require.NoError(t, err, "output %q", line)
	assert.Contains(t, line, "deadline exceeded")
	assert.GreaterOrEqual(t, sleeps, int64(1))
	assert.LessOrEqual(t, sleeps, int64(30), "a polling consumer would enter the kernel far more often")
	t.Logf("idle consumer over 1s: %d FUTEX_WAITs, %v CPU (%.3f%% of a core)", sleeps, time.Duration(cpuNs), float64(cpuNs)/1e9*100)
}
