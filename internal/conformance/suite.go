// Package conformance is the test suite every xorc transport must pass, so
// that the transports cannot drift apart: the same cases run against the
// in-process transport, shared memory and named pipes, through the facade,
// with real OS processes for the cross-process cases (each a child that
// re-executes the test binary and runs Node).
//
// A transport's test file calls Run with its Target, and routes its helper
// test to Node:
//
//	func TestHelperNode(t *testing.T) {
//		if !conformance.IsNode() {
//			t.Skip("a child process of the conformance suite")
//		}
//		os.Exit(conformance.Node())
//	}
//
// The nodes spawn "counter" machines (context.n counts HIT events) and
// "relay" machines (count PING, send HIT to another machine with
// xorc.send), and obey commands (send, request, future, watch, stop,
// stats...) from the parent, answering each on one line.
package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc"
)

// Target is a transport under test.
type Target struct {
	// Name names the transport in test names ("inproc", "shm", "pipe").
	Name string
	// Config returns the configuration of every process of one system;
	// name is unique to the test.
	Config func(name string) xorc.Config
	// MultiProcess: the transport reaches other processes (the
	// cross-process cases run; the in-process transport runs the others).
	MultiProcess bool
	// Inject writes payload as one raw inbound unit (a ring record, a
	// frame) carrying an encoded batch into the inbox of the process at
	// address, bypassing the sender's routing core; nil skips the bad-input
	// cases.
	Inject func(t *testing.T, cfg xorc.Config, address string, payload []byte) error
	// MaxMessage is a payload size in bytes that the transport must refuse
	// with xorc.ErrMessageTooLarge (0 skips that case).
	MaxMessage int
	// Cleanup removes what a system leaves behind (a segment, a socket
	// directory), after the test.
	Cleanup func(name string)
	// StaleAddress is the address an earlier process at the same place as
	// address had ("" if there is none); nil: StaleGeneration.
	StaleAddress func(address string) string
}

// Run runs the whole suite against target.
func Run(t *testing.T, target Target) {
	t.Run("LocalMachines", func(t *testing.T) { testLocal(t, target) })
	if !target.MultiProcess {
		return
	}
	t.Run("EventsAndRequests", func(t *testing.T) { testEventsAndRequests(t, target) })
	t.Run("Watch", func(t *testing.T) { testWatch(t, target) })
	t.Run("Kill", func(t *testing.T) { testKill(t, target) })
	if target.MaxMessage > 0 {
		t.Run("TooLarge", func(t *testing.T) { testTooLarge(t, target) })
	}
	if target.Inject != nil {
		t.Run("BadInput", func(t *testing.T) { testBadInput(t, target) })
	}
}

var seq struct {
	sync.Mutex
	n int
}

// systemName is a name unique to this test run.
func systemName(t *testing.T, target Target) string {
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	name := fmt.Sprintf("conf-%s-%d-%d", target.Name, os.Getpid(), n)
	if target.Cleanup != nil {
		t.Cleanup(func() { target.Cleanup(name) })
	}
	return name
}

// nodeProc is a running child node.
type nodeProc struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	stdin   *bufio.Writer
	lines   chan string
	stderr  *syncBuffer
	addr    string
	pid     int
	stopped bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// replyTimeout bounds the wait for one answer of a node (it bounds its own
// commands at 15 s; -race on a loaded machine is slow).
const replyTimeout = 30 * time.Second

// startNode starts a child node with cfg and waits for it to be ready.
func startNode(t *testing.T, nodeName string, cfg xorc.Config) *nodeProc {
	t.Helper()
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNode$", "-test.count=1")
	cmd.Env = append(os.Environ(), EnvNode+"="+nodeName, EnvConfig+"="+string(js))
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	n := &nodeProc{t: t, name: nodeName, cmd: cmd, stdin: bufio.NewWriter(in), lines: make(chan string, 64), stderr: &syncBuffer{}}
	cmd.Stderr = n.stderr
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<16), 1<<24)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "@") {
				n.lines <- line[1:]
			}
		}
		close(n.lines)
	}()
	t.Cleanup(func() {
		if !n.stopped {
			_ = n.cmd.Process.Kill()
			_ = n.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("node %s stderr:\n%s", n.name, n.stderr.String())
		}
	})
	line := n.next()
	f := strings.Fields(line)
	require.True(t, len(f) == 3 && f[0] == "READY", "node %s did not start: %q\nstderr:\n%s", nodeName, line, n.stderr.String())
	n.addr = f[1]
	_, _ = fmt.Sscan(f[2], &n.pid)
	return n
}

func (n *nodeProc) next() string {
	select {
	case line, ok := <-n.lines:
		if !ok {
			n.t.Fatalf("node %s exited\nstderr:\n%s", n.name, n.stderr.String())
		}
		return line
	case <-time.After(replyTimeout):
		n.t.Fatalf("node %s did not answer within %v\nstderr:\n%s", n.name, replyTimeout, n.stderr.String())
	}
	return ""
}

// do sends one command and returns its answer: ok with the result, or the
// error's kind and message.
func (n *nodeProc) do(format string, args ...any) (res string, errKind string, errMsg string) {
	n.t.Helper()
	cmd := fmt.Sprintf(format, args...)
	_, err := n.stdin.WriteString(cmd + "\n")
	if err == nil {
		err = n.stdin.Flush()
	}
	require.NoError(n.t, err, "node %s: %s", n.name, cmd)
	line := n.next()
	if rest, ok := strings.CutPrefix(line, "OK"); ok {
		return strings.TrimSpace(rest), "", ""
	}
	rest, ok := strings.CutPrefix(line, "ERR ")
	require.True(n.t, ok, "node %s: %s: answer %q", n.name, cmd, line)
	k, msg, _ := strings.Cut(rest, " ")
	return "", k, msg
}

// ok runs a command that must succeed.
func (n *nodeProc) ok(format string, args ...any) string {
	n.t.Helper()
	res, k, msg := n.do(format, args...)
	require.Empty(n.t, k, "node %s: %s: %s", n.name, fmt.Sprintf(format, args...), msg)
	return res
}

// fails runs a command that must fail with an error of kind want.
func (n *nodeProc) fails(want string, format string, args ...any) string {
	n.t.Helper()
	res, k, msg := n.do(format, args...)
	require.Equal(n.t, want, k, "node %s: %s: result %q, error %q", n.name, fmt.Sprintf(format, args...), res, msg)
	return msg
}

// stats reads the node's transport counters.
func (n *nodeProc) stats() nodeStats {
	n.t.Helper()
	var s nodeStats
	require.NoError(n.t, json.Unmarshal([]byte(n.ok("stats")), &s))
	return s
}

type nodeStats struct {
	xorc.TransportStats
	DeadLetters uint64 `json:"dead_letters_seen"`
}

// kill sends SIGKILL and reaps the process.
func (n *nodeProc) kill() {
	n.t.Helper()
	require.NoError(n.t, n.cmd.Process.Signal(syscall.SIGKILL))
	_ = n.cmd.Wait()
	n.stopped = true
}

// exit asks the node to close its orchestrator and exit.
func (n *nodeProc) exit() {
	n.t.Helper()
	n.ok("exit")
	require.NoError(n.t, n.cmd.Wait())
	n.stopped = true
}

// eventually retries fn until it returns true or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, fn func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf(msg, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
