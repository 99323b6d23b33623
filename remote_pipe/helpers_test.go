//go:build linux || darwin

package remote_pipe

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// shortDir is a fresh directory with a short path (socket paths are limited
// to about 100 bytes; t.TempDir's can be longer), removed after the test.
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("/tmp", "xp")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// logBuf collects a node's log lines so tests can check what was logged
// (and keeps goroutines from logging into a finished test).
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// inbox records the frames a node receives.
type inbox struct {
	mu     sync.Mutex
	frames [][]byte
	from   []PeerInfo
	gate   chan struct{} // if not nil, the handler waits for it to be closed
	notify chan struct{}
}

func newInbox() *inbox { return &inbox{notify: make(chan struct{}, 1)} }

// block makes the handler wait until the returned release is called (at
// the latest when the test ends, so a failed test does not hang).
func (in *inbox) block(t testing.TB) (release func()) {
	in.gate = make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(in.gate) }) }
	t.Cleanup(release)
	return release
}

func (in *inbox) handler(from PeerInfo, p []byte) {
	if in.gate != nil {
		<-in.gate
	}
	in.mu.Lock()
	in.frames = append(in.frames, bytes.Clone(p))
	in.from = append(in.from, from)
	in.mu.Unlock()
	select {
	case in.notify <- struct{}{}:
	default:
	}
}

func (in *inbox) len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.frames)
}

func (in *inbox) snapshot() ([][]byte, []PeerInfo) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([][]byte(nil), in.frames...), append([]PeerInfo(nil), in.from...)
}

// waitLen waits until the inbox holds n frames.
func (in *inbox) waitLen(t testing.TB, n int) {
	t.Helper()
	eventually(t, 20*time.Second, func() bool { return in.len() >= n }, "%d frames (have %d)", n, in.len())
	require.Equal(t, n, in.len(), "more frames than sent")
}

// eventually polls cond until it holds or the generous deadline passes
// (-race on a loaded 2-core machine).
func eventually(t testing.TB, d time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for "+format, append([]any{d}, args...)...)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type testNode struct {
	*Node
	in  *inbox
	log *logBuf
}

// listen starts a node in dir with slot as its slot (generation 1).
func listen(t testing.TB, dir string, slot int, mod ...func(*Options)) *testNode {
	t.Helper()
	tn := &testNode{in: newInbox(), log: &logBuf{}}
	o := Options{Dir: dir, Slot: slot, Generation: 1, Logger: tn.log.logger()}
	for _, m := range mod {
		m(&o)
	}
	n, err := Listen(o, tn.in.handler)
	require.NoError(t, err)
	tn.Node = n
	t.Cleanup(func() { _ = n.Close() })
	return tn
}

func (tn *testNode) target() Target {
	return Target{Path: tn.Path(), Slot: tn.opts.Slot, Generation: tn.opts.Generation}
}

func (tn *testNode) link(t testing.TB, to *testNode) *Link {
	t.Helper()
	l, err := tn.Link(to.target())
	require.NoError(t, err)
	return l
}

func seqFrame(i uint64, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, i)
	return b
}

func seqOf(p []byte) uint64 { return binary.BigEndian.Uint64(p) }

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
