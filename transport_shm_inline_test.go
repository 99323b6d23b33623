//go:build linux

package xorc

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_shm"
)

// The shared-memory reader runs a machine that a request from another
// process woke on its own goroutine (remote_shm.Options.Inline). These tests
// check, with a real second process, that a machine whose action blocks does
// not stall the deliveries to the other machines of its process, and that an
// action that makes a request to another process (whose reply comes through
// the blocked reader's own inbox) gets its answer.

const envInlineHelper = "XORC_TEST_SHM_INLINE"

// blockerChart: WAIT blocks in the action "wait" until the machine "fast"
// got GO; ASK makes a request to the machine "echo" of the other process.
const blockerChart = `{"id": "blocker", "initial": "idle", "states": {
  "idle": {"on": {"WAIT": {"target": "waited", "actions": ["wait"]}}},
  "waited": {"on": {"ASK": {"target": "asked", "actions": ["ask"]}}},
  "asked": {}}}`

const fastChart = `{"id": "fast", "initial": "ready", "states": {
  "ready": {"on": {"GO": {"target": "went", "actions": ["release"]}}},
  "went": {}}}`

const echoChart = `{"id": "echo", "initial": "a", "states": {
  "a": {"on": {"T": "b"}}, "b": {"on": {"T": "a"}}}}`

// TestHelperShmInline is not a test: it is the second process of the tests
// below (it runs when envInlineHelper names the system).
func TestHelperShmInline(t *testing.T) {
	name := os.Getenv(envInlineHelper)
	if name == "" {
		t.Skip("helper process only")
	}
	if err := serveInlineHelper(name); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveInlineHelper(name string) error {
	var orc *Orchestrator
	released := make(chan struct{})
	var once sync.Once
	impl := &actor.Implementations{Actions: map[string]actor.ActionFunc{
		"wait": func(*actor.ActionArgs) error {
			fmt.Println("BLOCKED") // the parent sends GO once it reads this
			select {
			case <-released:
				return nil
			case <-time.After(20 * time.Second):
				return fmt.Errorf("never released")
			}
		},
		"ask": func(*actor.ActionArgs) error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := orc.Request(ctx, "echo", actor.Event{Type: "T"})
			return err
		},
		"release": func(*actor.ActionArgs) error {
			once.Do(func() { close(released) })
			return nil
		},
	}}
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	var err error
	orc, err = New(system, inlineConfig(name))
	if err != nil {
		return err
	}
	defer orc.Close()
	ctx := context.Background()
	for id, chart := range map[string]string{"blocker": blockerChart, "fast": fastChart} {
		m, err := actor.LoadJSON([]byte(chart), impl)
		if err != nil {
			return err
		}
		if _, err := orc.Spawn(ctx, id, m); err != nil {
			return err
		}
		if _, err := orc.Snapshot(ctx, id); err != nil {
			return err
		}
	}
	// Let the machines' mailboxes go idle after their start: the blocker's
	// WAIT must find it idle (a mailbox still running takes WAIT on its
	// worker, not on the inbox's reader, and no hand-on is needed then).
	time.Sleep(50 * time.Millisecond)
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	return nil
}

func inlineConfig(name string) Config {
	return Config{Transport: SharedMemory, Name: name, RequestTimeout: Duration(20 * time.Second),
		Shm: ShmConfig{MaxProcesses: 4, MaxMachines: 16, InboxBytes: 64 << 10}}
}

func TestSharedMemoryInlineMachineBlocks(t *testing.T) {
	name := fmt.Sprintf("inline-%d", os.Getpid())
	t.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	o := newOrc(t, inlineConfig(name))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := o.Spawn(ctx, "echo", load(t, echoChart, nil))
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperShmInline$", "-test.count=1")
	cmd.Env = append(os.Environ(), envInlineHelper+"="+name)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		_ = stdin.Close()
		assert.NoError(t, cmd.Wait(), stderr.String())
	}()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	require.NoError(t, err, stderr.String())
	require.Equal(t, "READY\n", line)

	reg, err := registry.OpenShm(registry.ShmOptions{Name: name})
	require.NoError(t, err)
	defer reg.Close()
	m, err := reg.Lookup("fast")
	require.NoError(t, err)
	helper := func() remote_shm.Stats {
		region, err := reg.InboxRegion(m.Owner.Slot)
		require.NoError(t, err)
		st, err := remote_shm.ReadInbox(region)
		require.NoError(t, err)
		return st
	}

	// The blocker's action blocks until fast gets GO: GO must get through
	// the same inbox while the blocker's run is still blocked. GO is sent
	// once the action says it blocks, so that it is not in the same batch
	// as WAIT (the reader would run the blocker and leave fast to a worker,
	// which may release the blocker before it blocks: no hand-on needed).
	require.NoError(t, o.Send(ctx, "blocker", actor.Event{Type: "WAIT"}))
	line, err = out.ReadString('\n')
	require.NoError(t, err, stderr.String())
	require.Equal(t, "BLOCKED\n", line)
	s, err := o.Request(ctx, "fast", actor.Event{Type: "GO"})
	require.NoError(t, err, "a blocked machine must not stall deliveries to the others")
	assert.Equal(t, "went", s.Value)
	s, err = o.Request(ctx, "blocker", actor.Event{Type: "ASK"})
	require.NoError(t, err)
	assert.Equal(t, "asked", s.Value, "the blocked action ended, then the nested request got its reply")
	assert.Equal(t, actor.StatusActive, s.Status)
	es, err := o.Snapshot(ctx, "echo")
	require.NoError(t, err)
	assert.Equal(t, "b", es.Value, "the helper's request reached echo once")

	// The helper's reader ran the blocker itself and handed its reading on.
	require.Eventually(t, func() bool { return helper().HandOns >= 1 }, 10*time.Second, 10*time.Millisecond,
		"the helper's published counters show a hand-on")
}
