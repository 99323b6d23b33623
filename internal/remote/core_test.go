package remote

// The core between two actor systems of this test process joined by an
// in-memory Link (in the style of hashicorp/raft's InmemTransport). The
// real transports run the conformance suite across OS processes
// (internal/conformance); these tests pin down the core's own behaviour:
// batching, error reporting, watches, bad input.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xorc-dev/xorc/proto"
	"github.com/xorc-dev/xorc/registry"
)

const scheme = "mem://"

// memNet joins cores by address.
type memNet struct {
	mu       sync.Mutex
	cores    map[string]*Core
	gate     chan struct{} // when set, every Send waits for it (or its deadline)
	fail     error         // when set, every Send (past the gate) fails with it
	inGate   atomic.Int32  // Sends waiting at the gate
	maxBatch int
	batches  [][]byte
	room     bool // HasRoom says yes even while the gate is closed
}

func newNet() *memNet { return &memNet{cores: map[string]*Core{}, maxBatch: 64 << 10} }

type memLink struct {
	net  *memNet
	addr string
}

func (l *memLink) MaxBatch() int { return l.net.maxBatch }
func (l *memLink) Close() error  { return nil }

// HasRoom: unless the gate is closed (a link that does not take writes).
func (l *memLink) HasRoom(int) bool {
	l.net.mu.Lock()
	defer l.net.mu.Unlock()
	return l.net.gate == nil || l.net.room
}

func (l *memLink) Send(deadline time.Time, batch []byte) error {
	l.net.mu.Lock()
	gate := l.net.gate
	l.net.mu.Unlock()
	if gate != nil {
		if deadline.IsZero() { // the link's own send timeout
			deadline = time.Now().Add(5 * time.Second)
		}
		l.net.inGate.Add(1)
		select {
		case <-gate:
			l.net.inGate.Add(-1)
		case <-time.After(time.Until(deadline)):
			l.net.inGate.Add(-1)
			return fmt.Errorf("%w: %s: gate closed until the deadline", ErrFull, l.addr)
		}
	}
	l.net.mu.Lock()
	if err := l.net.fail; err != nil {
		l.net.mu.Unlock()
		return fmt.Errorf("%s: %w", l.addr, err)
	}
	dst := l.net.cores[l.addr]
	l.net.batches = append(l.net.batches, append([]byte(nil), batch...))
	l.net.mu.Unlock()
	if dst == nil {
		return fmt.Errorf("%w: %s", registry.ErrProcessDied, l.addr)
	}
	_ = dst.Receive(batch)
	return nil
}

func (n *memNet) closeGate() {
	n.mu.Lock()
	n.gate = make(chan struct{})
	n.mu.Unlock()
}

func (n *memNet) setFail(err error) {
	n.mu.Lock()
	n.fail = err
	n.mu.Unlock()
}

func (n *memNet) openGate() {
	n.mu.Lock()
	close(n.gate)
	n.gate = nil
	n.mu.Unlock()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// node is one "process": an actor system with a core at address.
type node struct {
	sys  *pactor.ActorSystem
	core *Core
	addr string
}

func newNode(t *testing.T, n *memNet, name string, tweak ...func(*Config)) *node {
	t.Helper()
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	t.Cleanup(sys.Shutdown)
	addr := scheme + name
	sys.ProcessRegistry.Address = addr
	cfg := Config{
		System:  sys,
		Address: addr,
		Match:   func(a string) bool { return strings.HasPrefix(a, scheme) },
		Dial: func(a string) (Link, error) {
			n.mu.Lock()
			defer n.mu.Unlock()
			if _, ok := n.cores[a]; !ok {
				return nil, fmt.Errorf("%w: no process at %s", registry.ErrProcessDied, a)
			}
			return &memLink{net: n, addr: a}, nil
		},
		SendTimeout: 5 * time.Second,
		Logger:      quiet,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	sys.ProcessRegistry.RegisterAddressResolver(c.Resolve)
	n.mu.Lock()
	n.cores[addr] = c
	n.mu.Unlock()
	return &node{sys: sys, core: c, addr: addr}
}

// echo answers every *proto.Event with the same event and counts them.
type echo struct {
	n   atomic.Int64
	got chan string
}

func (e *echo) Receive(c pactor.Context) {
	if ev, ok := c.Message().(*proto.Event); ok {
		e.n.Add(1)
		if e.got != nil {
			e.got <- ev.Type
		}
		if c.Sender() != nil {
			c.Respond(&proto.Event{Type: "re:" + ev.Type})
		}
	}
}

// nothingArrived is what next returns when no event came.
const nothingArrived = "(nothing within 5s)"

// next returns the type of the next event the echo got, waiting up to 5 s.
func (e *echo) next() string {
	select {
	case s := <-e.got:
		return s
	case <-time.After(5 * time.Second):
		return nothingArrived
	}
}

func spawnEcho(t *testing.T, n *node, id string, buffered int) (*echo, *pactor.PID) {
	t.Helper()
	e := &echo{}
	if buffered > 0 {
		e.got = make(chan string, buffered)
	}
	pid, err := n.sys.Root.SpawnNamed(pactor.PropsFromProducer(func() pactor.Actor { return e }), id)
	require.NoError(t, err)
	return e, pid
}

func TestPlainProtoactorAcrossCores(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 16)
	remotePID := pactor.NewPID(b.addr, "echo")

	a.sys.Root.Send(remotePID, &proto.Event{Type: "one-way"})
	assert.Equal(t, "one-way", <-e.got)
	res, err := a.sys.Root.RequestFuture(remotePID, &proto.Event{Type: "ask"}, 5*time.Second).Result()
	require.NoError(t, err)
	assert.Equal(t, "re:ask", res.(*proto.Event).Type, "the reply found the future of process a")
	<-e.got

	// Deliver with a sender: the reply goes to the sender.
	reply := make(chan any, 1)
	sender, _ := a.sys.ProcessRegistry.Add(funcProcess(func(m any) { reply <- m }), "replies")
	require.NoError(t, a.core.Deliver(context.Background(), remotePID, sender, &proto.Event{Type: "deliver"}))
	assert.Equal(t, "re:deliver", (<-reply).(*proto.Event).Type)
	<-e.got

	require.Eventually(t, func() bool { return a.core.Stats().Sent == 3 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, uint64(3), a.core.Stats().SentBatches, "sequential sends to an idle peer go out one batch each")
	assert.Equal(t, uint64(3), b.core.Stats().Received)
	// Two replies, counted once handed on (after the test saw them).
	require.Eventually(t, func() bool { return b.core.Stats().Sent == 2 && a.core.Stats().Received == 2 }, 5*time.Second, time.Millisecond)
}

// funcProcess is a pactor.Process that hands user messages to a func.
type funcProcess func(any)

func (f funcProcess) SendUserMessage(_ *pactor.PID, m any)   { f(pactor.UnwrapEnvelopeMessage(m)) }
func (f funcProcess) SendSystemMessage(_ *pactor.PID, m any) { f(m) }
func (f funcProcess) Stop(*pactor.PID)                       {}

type notWireable struct{ x int }

func TestDeliverErrors(t *testing.T) {
	net := newNet()
	net.maxBatch = 256
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	spawnEcho(t, b, "echo", 0)
	ctx := context.Background()
	echoPID := pactor.NewPID(b.addr, "echo")

	tests := []struct {
		name   string
		target *pactor.PID
		msg    any
		want   error
	}{
		{"no wire form", echoPID, notWireable{1}, proto.ErrUnknownType},
		{"too large", echoPID, &proto.Event{Type: "big", Payload: make([]byte, 300)}, ErrTooLarge},
		{"not this transport", pactor.NewPID("tcp://x", "y"), &proto.Event{Type: "x"}, ErrNotRemote},
		{"own address", pactor.NewPID(a.addr, "y"), &proto.Event{Type: "x"}, ErrNotRemote},
		{"no such process", pactor.NewPID(scheme+"gone", "y"), &proto.Event{Type: "x"}, registry.ErrProcessDied},
		{"nil target", nil, &proto.Event{Type: "x"}, proto.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.core.Deliver(ctx, tt.target, nil, tt.msg)
			require.ErrorIs(t, err, tt.want)
		})
	}
	// The link still works after every refusal.
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "fine"}))
	assert.GreaterOrEqual(t, a.core.Stats().EncodeErrors, uint64(2))

	t.Run("full", func(t *testing.T) {
		// A request to an idle peer is written by the caller: a full link
		// fails it at its deadline.
		net.closeGate()
		defer net.openGate()
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		sender := pactor.NewPID(a.addr, "asker")
		err := a.core.Deliver(ctx, echoPID, sender, &proto.Event{Type: "x"})
		require.ErrorIs(t, err, ErrFull)
		assert.Contains(t, err.Error(), b.addr, "the error names the target")
	})
	t.Run("peer down", func(t *testing.T) {
		a.core.PeerDown(b.addr, fmt.Errorf("%w: test", registry.ErrProcessDied))
		err := a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "x"})
		require.ErrorIs(t, err, registry.ErrProcessDied)
		assert.Equal(t, uint64(1), a.core.Stats().PeersDown)
	})
	t.Run("closed", func(t *testing.T) {
		require.NoError(t, a.core.Close())
		err := a.core.Deliver(ctx, pactor.NewPID(scheme+"c", "y"), nil, &proto.Event{Type: "x"})
		require.ErrorIs(t, err, ErrClosed)
	})
}

// One-way sends return once queued: a single sender's events go out in
// batches while the writer is busy, in order.
func TestOneWayBatchesFromOneSender(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	const n = 50
	e, _ := spawnEcho(t, b, "echo", n+1)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()

	net.closeGate()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "0"}), "accepted without waiting for the write")
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond, "the writer took it")
	for i := 1; i <= n; i++ {
		if i%2 == 0 {
			require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: fmt.Sprint(i)}))
		} else {
			a.sys.Root.Send(echoPID, &proto.Event{Type: fmt.Sprint(i)})
		}
	}
	assert.Equal(t, uint64(0), a.core.Stats().Sent, "nothing written yet")
	net.openGate()
	for i := 0; i <= n; i++ {
		assert.Equal(t, fmt.Sprint(i), <-e.got, "in order")
	}
	require.Eventually(t, func() bool { return a.core.Stats().Sent == n+1 }, 5*time.Second, time.Millisecond)
	st := a.core.Stats()
	assert.Equal(t, uint64(2), st.SentBatches, "the first alone, then everything queued meanwhile in one batch")
	assert.Equal(t, uint64(2), b.core.Stats().ReceivedBatches)
}

// A queue larger than a link write goes out in several writes, each at most
// MaxBatch, split at envelope boundaries.
func TestQueueSplitIntoBatches(t *testing.T) {
	net := newNet()
	net.maxBatch = 200
	a, b := newNode(t, net, "a", func(c *Config) { c.MaxQueueBytes = 10_000 }), newNode(t, net, "b")
	const n = 40
	queueBehindGate(t, net, a, b, n)
	require.Eventually(t, func() bool { return a.core.Stats().Sent == n+1 }, 5*time.Second, time.Millisecond)
	net.mu.Lock()
	defer net.mu.Unlock()
	require.Greater(t, len(net.batches), 3, "the queue was split")
	for i, bt := range net.batches {
		assert.LessOrEqual(t, len(bt), net.maxBatch, "batch %d", i)
	}
}

// The writer aims at batches of BatchBytes when the link takes more: a long
// queue is cut there, an envelope larger than that goes alone, no batch is
// empty, and everything arrives in order.
func TestQueueSplitAtBatchBytes(t *testing.T) {
	net := newNet() // links take 64 KiB batches
	const aim = 300
	a, b := newNode(t, net, "a", func(c *Config) { c.BatchBytes = aim }), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 100)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()
	net.closeGate()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "first"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	var want []string
	for i := range 41 {
		typ := fmt.Sprintf("event-%02d", i)
		if i == 0 || i == 20 || i == 21 {
			typ = strings.Repeat("big", 400) // 1200 bytes: larger than the aim (first in the queue, and twice in a row)
		}
		want = append(want, typ)
		require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: typ}))
	}
	net.openGate()
	for i, typ := range append([]string{"first"}, want...) {
		require.Equal(t, typ, e.next(), "event %d", i)
	}
	net.mu.Lock()
	defer net.mu.Unlock()
	require.Greater(t, len(net.batches), 4, "the queue was split")
	for i, bt := range net.batches {
		k := countEnvelopes(t, bt)
		require.Positive(t, k, "batch %d is empty", i)
		if len(bt) > aim {
			assert.Equal(t, 1, k, "batch %d of %d bytes: only a large envelope goes over the aim", i, len(bt))
		}
	}
}

// A queue of many small envelopes is also split so that no batch holds more
// envelopes than a receiving core decodes (MaxEnvelopes): the receiver
// would refuse the whole batch. Both cores use the same limit.
func TestQueueSplitByEnvelopeCount(t *testing.T) {
	net := newNet()
	const limit = 8
	small := func(c *Config) { c.MaxEnvelopes = limit }
	a, b := newNode(t, net, "a", small), newNode(t, net, "b", small)
	const n = 5*limit + 3
	queueBehindGate(t, net, a, b, n)
	assert.Zero(t, b.core.Stats().DecodeErrors)
	net.mu.Lock()
	defer net.mu.Unlock()
	var total int
	for i, bt := range net.batches {
		k := countEnvelopes(t, bt)
		assert.LessOrEqual(t, k, limit, "batch %d", i)
		total += k
	}
	assert.Equal(t, n+1, total)
	assert.GreaterOrEqual(t, len(net.batches), 1+(n+limit-1)/limit)
}

// Queue buffers that a burst grew beyond keepQueueBytes are released once
// the writer has been idle for shrinkAfter, and every envelope arrives.
func TestQueueBuffersReleasedWhenIdle(t *testing.T) {
	old := shrinkAfter
	shrinkAfter = 20 * time.Millisecond
	t.Cleanup(func() { shrinkAfter = old })
	net := newNet()
	net.maxBatch = 4 << 20
	a, b := newNode(t, net, "a", func(c *Config) { c.MaxQueueBytes = 8 << 20 }), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 2000)
	echoPID := pactor.NewPID(b.addr, "echo")
	net.closeGate()
	ctx := context.Background()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "first"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	payload := []byte(`{"x":"` + strings.Repeat("x", 1000) + `"}`)
	const n = 1500 // 1.5 MB queued behind the gate
	for range n {
		require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "E", Payload: payload}))
	}
	p, ok := a.core.peers.Load(b.addr)
	require.True(t, ok)
	p.mu.Lock()
	grown := cap(p.q)
	p.mu.Unlock()
	require.Greater(t, grown, keepQueueBytes, "the burst grew the queue")
	net.openGate()
	for i := range n + 1 {
		require.NotEqual(t, nothingArrived, e.next(), "event %d", i)
	}
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return cap(p.q) <= keepQueueBytes && cap(p.w) <= keepQueueBytes
	}, 5*time.Second, 5*time.Millisecond, "grown buffers released once idle")
}

// queueBehindGate sends "first" from a to an echo actor of b and holds its
// write at the gate, queues n more one-way events behind it, opens the gate
// and checks that the echo got all of them in order.
func queueBehindGate(t *testing.T, net *memNet, a, b *node, n int) {
	t.Helper()
	e, _ := spawnEcho(t, b, "echo", n+1)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()
	net.closeGate()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "first"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	for i := range n {
		require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: fmt.Sprintf("event-%02d", i)}))
	}
	net.openGate()
	require.Equal(t, "first", e.next())
	for i := range n {
		require.Equal(t, fmt.Sprintf("event-%02d", i), e.next())
	}
}

// countEnvelopes counts the envelope fields of an encoded Batch.
func countEnvelopes(t *testing.T, batch []byte) int {
	t.Helper()
	n := 0
	for len(batch) > 0 {
		_, typ, tl := protowire.ConsumeTag(batch)
		require.GreaterOrEqual(t, tl, 0)
		require.Equal(t, protowire.BytesType, typ)
		_, vl := protowire.ConsumeBytes(batch[tl:])
		require.GreaterOrEqual(t, vl, 0)
		batch = batch[tl+vl:]
		n++
	}
	return n
}

// Messages accepted and then lost (the write failed later) are reported:
// dead letters (a request fails at once), counters, and the next Deliver to
// the peer fails with the cause; the one after it is sent again.
func TestAcceptedThenLostReported(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 4)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()
	var deadLetters atomic.Int64
	a.sys.EventStream.Subscribe(func(evt any) {
		if _, ok := evt.(*pactor.DeadLetterEvent); ok {
			deadLetters.Add(1)
		}
	})

	net.closeGate()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "lost 1"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "lost 2"}))
	fut := a.sys.Root.RequestFuture(echoPID, &proto.Event{Type: "lost request"}, 10*time.Second) // queued behind
	waiting := make(chan error, 1)
	go func() {
		waiting <- a.core.Deliver(ctx, echoPID, pactor.NewPID(a.addr, "asker"), &proto.Event{Type: "waits"})
	}()
	require.Eventually(t, func() bool {
		p, _ := a.core.peers.Load(b.addr)
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.qWait) == 1
	}, 5*time.Second, time.Millisecond)
	net.setFail(fmt.Errorf("broken pipe: %w", ErrFull))
	net.openGate()
	err := <-waiting
	require.ErrorIs(t, err, ErrFull, "a queued request's Deliver gets the outcome of its write")
	assert.Contains(t, err.Error(), b.addr)

	t0 := time.Now()
	_, err = fut.Result()
	require.ErrorIs(t, err, pactor.ErrDeadLetter, "the queued request fails at once, not at its timeout")
	assert.Less(t, time.Since(t0), 5*time.Second)
	require.Eventually(t, func() bool { return a.core.Stats().Undelivered == 3 }, 5*time.Second, time.Millisecond, "the Deliver that got its error is not counted again")
	require.Eventually(t, func() bool { return deadLetters.Load() >= 2 }, 5*time.Second, time.Millisecond, "the one-way messages are dead letters")
	st := a.core.Stats()
	assert.Equal(t, uint64(3), st.DeadLettersOut)
	assert.Equal(t, uint64(4), st.SendErrors)
	assert.Equal(t, uint64(0), st.Sent)

	net.setFail(nil)
	err = a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "refused"})
	require.ErrorIs(t, err, ErrUndelivered)
	require.ErrorIs(t, err, ErrFull, "the cause is wrapped")
	assert.Contains(t, err.Error(), "3 earlier message(s)")
	assert.Contains(t, err.Error(), b.addr)
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "sent"}), "reported once")
	assert.Equal(t, "sent", <-e.got, "the refused message was not sent")
}

// A request queued behind a write that cannot complete fails at its own
// deadline: it is taken out of the queue, which keeps everything else in
// order and in parts of at most MaxBatch.
func TestQueuedRequestDeadline(t *testing.T) {
	net := newNet()
	net.maxBatch = 200
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 64)
	echoPID := pactor.NewPID(b.addr, "echo")
	bg := context.Background()
	net.closeGate()
	require.NoError(t, a.core.Deliver(bg, echoPID, nil, &proto.Event{Type: "first"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("before-%d", i))
		require.NoError(t, a.core.Deliver(bg, echoPID, nil, &proto.Event{Type: want[len(want)-1]}))
	}
	waiters := func() int {
		p, _ := a.core.peers.Load(b.addr)
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.qWait)
	}
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	gaveUp := make(chan error, 1)
	go func() {
		gaveUp <- a.core.Deliver(ctx, echoPID, pactor.NewPID(a.addr, "asker"), &proto.Event{Type: "request"})
	}()
	require.Eventually(t, func() bool { return waiters() == 1 }, 5*time.Second, time.Millisecond)
	other := make(chan error, 1)
	go func() { // a request without deadline, queued after the one that gives up
		other <- a.core.Deliver(bg, echoPID, pactor.NewPID(a.addr, "patient"), &proto.Event{Type: "patient"})
	}()
	require.Eventually(t, func() bool { return waiters() == 2 }, 5*time.Second, time.Millisecond)
	err := <-gaveUp
	require.ErrorIs(t, err, ErrFull)
	assert.Contains(t, err.Error(), b.addr)
	assert.Less(t, time.Since(t0), 4*time.Second, "not the link's 5 s send timeout")
	want = append(want, "patient")
	for i := range 10 {
		want = append(want, fmt.Sprintf("after-%d", i))
		require.NoError(t, a.core.Deliver(bg, echoPID, nil, &proto.Event{Type: want[len(want)-1]}))
	}
	net.openGate()
	require.NoError(t, <-other)
	assert.Equal(t, "first", <-e.got)
	for _, w := range want {
		assert.Equal(t, w, <-e.got, "the request that gave up was not sent")
	}
	require.Eventually(t, func() bool { return a.core.Stats().Sent == 22 }, 5*time.Second, time.Millisecond)
	net.mu.Lock()
	defer net.mu.Unlock()
	for i, bt := range net.batches {
		assert.LessOrEqual(t, len(bt), net.maxBatch, "batch %d", i)
		assert.NotEmpty(t, bt, "batch %d", i)
	}
}

// Messages queued for a peer that dies are reported: dead letters (and a
// fast DeadLetterResponse to requests), counters, and every later Deliver
// fails with the death.
func TestQueuedReportedWhenPeerDies(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	spawnEcho(t, b, "echo", 0)
	echoPID := pactor.NewPID(b.addr, "echo")
	ctx := context.Background()

	var deadLetters atomic.Int64
	a.sys.EventStream.Subscribe(func(evt any) {
		if _, ok := evt.(*pactor.DeadLetterEvent); ok {
			deadLetters.Add(1)
		}
	})
	net.closeGate()
	inFlight := make(chan error, 1)
	go func() {
		inFlight <- a.core.Deliver(ctx, echoPID, pactor.NewPID(a.addr, "asker"), &proto.Event{Type: "request in flight"})
	}()
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "queued"}))
	fut := a.sys.Root.RequestFuture(echoPID, &proto.Event{Type: "queued request"}, 10*time.Second)
	a.sys.Root.Send(echoPID, &proto.Event{Type: "queued one-way"})

	a.core.PeerDown(b.addr, fmt.Errorf("%w: killed", registry.ErrProcessDied))
	t0 := time.Now()
	_, err := fut.Result()
	require.ErrorIs(t, err, pactor.ErrDeadLetter, "the request fails at once, not at its timeout")
	assert.Less(t, time.Since(t0), 5*time.Second)
	require.Eventually(t, func() bool { return deadLetters.Load() >= 2 }, 5*time.Second, time.Millisecond)
	st := a.core.Stats()
	assert.Equal(t, uint64(3), st.DeadLettersOut)
	assert.Equal(t, uint64(3), st.Undelivered)
	assert.GreaterOrEqual(t, st.SendErrors, uint64(3))

	net.openGate() // the write in flight ends (delivered or not, its caller learns it)
	<-inFlight
	err = a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "after"})
	require.ErrorIs(t, err, registry.ErrProcessDied)
}

// A full queue (the writer is stuck behind a full link) makes senders wait
// until their deadline, then fail with ErrFull.
func TestQueueFull(t *testing.T) {
	net := newNet()
	net.maxBatch = 256
	a, b := newNode(t, net, "a", func(c *Config) { c.MaxQueueBytes = 1 }), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 64)
	echoPID := pactor.NewPID(b.addr, "echo")
	net.closeGate()
	require.NoError(t, a.core.Deliver(context.Background(), echoPID, nil, &proto.Event{Type: "in flight"}))
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	// The queue holds at least one link write (here MaxBatch, smaller than BatchBytes), whatever MaxQueueBytes says.
	queued := 0
	var err error
	for queued < 64 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		err = a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: fmt.Sprintf("q%02d", queued)})
		cancel()
		if err != nil {
			break
		}
		queued++
	}
	require.ErrorIs(t, err, ErrFull)
	assert.Contains(t, err.Error(), b.addr)
	assert.Greater(t, queued, 3)
	p, _ := a.core.peers.Load(b.addr)
	assert.LessOrEqual(t, p.queued(), 256)
	assert.Equal(t, uint64(1), a.core.Stats().QueueFull)

	// Room again once the link drains: the next send is accepted.
	net.openGate()
	require.NoError(t, a.core.Deliver(context.Background(), echoPID, nil, &proto.Event{Type: "after"}))
	assert.Equal(t, "in flight", <-e.got)
	for i := range queued {
		assert.Equal(t, fmt.Sprintf("q%02d", i), <-e.got)
	}
	assert.Equal(t, "after", <-e.got)
}

// A reply to a request from the peer is urgent: when the link is idle the
// responder writes it itself rather than waking the writer.
func TestReplyToPeerIsUrgent(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	release := make(chan struct{})
	pid, err := b.sys.Root.SpawnNamed(pactor.PropsFromFunc(func(c pactor.Context) {
		if _, ok := c.Message().(*proto.Event); ok {
			<-release
			c.Respond(&proto.Event{Type: "answer"})
		}
	}), "slow")
	require.NoError(t, err)
	_ = pid
	remotePID := pactor.NewPID(b.addr, "slow")
	// Dial b -> a first, so that b's core knows the peer the request comes from.
	b.sys.Root.Send(pactor.NewPID(a.addr, "nobody"), &proto.Event{Type: "hello"})
	require.Eventually(t, func() bool { return b.core.Stats().Sent == 1 }, 5*time.Second, time.Millisecond)

	fut := a.sys.Root.RequestFuture(remotePID, &proto.Event{Type: "ask"}, 5*time.Second)
	pb, ok := b.core.peers.Load(a.addr)
	require.True(t, ok)
	require.Eventually(t, func() bool { return pb.replies.Load() == 1 }, 5*time.Second, time.Millisecond, "b owes a a reply")
	close(release)
	res, err := fut.Result()
	require.NoError(t, err)
	assert.Equal(t, "answer", res.(*proto.Event).Type)
	assert.Equal(t, int32(0), pb.replies.Load(), "the reply took it")
	require.Eventually(t, func() bool { return b.core.Stats().Sent == 2 }, 5*time.Second, time.Millisecond)
}

// watcher records the Terminated messages it gets.
type watcher struct {
	got chan *pactor.Terminated
}

type watchIt struct{ pid *pactor.PID }
type unwatchIt struct{ pid *pactor.PID }

func (w *watcher) Receive(c pactor.Context) {
	switch m := c.Message().(type) {
	case *watchIt:
		c.Watch(m.pid)
		c.Respond(true)
	case *unwatchIt:
		c.Unwatch(m.pid)
		c.Respond(true)
	case *pactor.Terminated:
		w.got <- m
	}
}

func TestWatchAcrossCores(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	w := &watcher{got: make(chan *pactor.Terminated, 8)}
	wpid := a.sys.Root.Spawn(pactor.PropsFromProducer(func() pactor.Actor { return w }))
	ask := func(m any) {
		_, err := a.sys.Root.RequestFuture(wpid, m, 5*time.Second).Result()
		require.NoError(t, err)
	}
	_, t1 := spawnEcho(t, b, "t1", 0)
	_, _ = spawnEcho(t, b, "t2", 0)
	_, _ = spawnEcho(t, b, "t3", 0)
	r := func(id string) *pactor.PID { return pactor.NewPID(b.addr, id) }
	sync := func(id string) { // a round trip behind the system messages sent so far
		_, err := a.sys.Root.RequestFuture(r(id), &proto.Event{Type: "sync"}, 5*time.Second).Result()
		require.NoError(t, err)
	}

	// The remote actor stops: its process sends Terminated back.
	ask(&watchIt{r("t1")})
	sync("t1")
	b.sys.Root.Stop(t1)
	term := <-w.got
	assert.Equal(t, "t1", term.Who.Id)
	assert.Equal(t, b.addr, term.Who.Address)
	assert.Equal(t, pactor.TerminatedReason_Stopped, term.Why)

	// Unwatched: nothing when the peer dies. Watched: AddressTerminated.
	ask(&watchIt{r("t2")})
	ask(&watchIt{r("t3")})
	ask(&unwatchIt{r("t3")})
	sync("t2")
	a.core.PeerDown(b.addr, fmt.Errorf("%w: gone", registry.ErrProcessDied))
	term = <-w.got
	assert.Equal(t, "t2", term.Who.Id)
	assert.Equal(t, pactor.TerminatedReason_AddressTerminated, term.Why)
	select {
	case extra := <-w.got:
		t.Fatalf("unexpected Terminated %v (t1 was already reported, t3 unwatched)", extra)
	case <-time.After(50 * time.Millisecond):
	}

	// Watching an actor of a dead peer: Terminated at once.
	ask(&watchIt{r("t2")})
	term = <-w.got
	assert.Equal(t, pactor.TerminatedReason_AddressTerminated, term.Why)
	assert.Equal(t, uint64(2), a.core.Stats().WatchTerminated)
}

func TestReceiveBadInput(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, _ := spawnEcho(t, b, "echo", 16)
	var dead atomic.Int64
	b.sys.EventStream.Subscribe(func(evt any) {
		if d, ok := evt.(*pactor.DeadLetterEvent); ok {
			if _, ok := d.Message.(*Undeliverable); ok {
				dead.Add(1)
			}
		}
	})
	enc := func(addr string, msg any) *proto.Envelope {
		env, err := proto.Encode(pactor.NewPID(addr, "echo"), nil, msg)
		require.NoError(t, err)
		return env
	}
	encTo := func(addr, id string, msg any) *proto.Envelope {
		env, err := proto.Encode(pactor.NewPID(addr, id), nil, msg)
		require.NoError(t, err)
		return env
	}
	batch := func(envs ...*proto.Envelope) []byte {
		data, err := proto.AppendBatch(nil, envs)
		require.NoError(t, err)
		return data
	}
	unknown := enc(b.addr, &proto.Event{Type: "x"})
	unknown.TypeName = "no.Such"

	tests := []struct {
		name      string
		data      []byte
		delivered []string
		decode    uint64
		stale     uint64
	}{
		{"garbage", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, nil, 1, 0},
		{"truncated envelope", batch(enc(b.addr, &proto.Event{Type: "cut"}))[:5], nil, 1, 0},
		{"unknown type, then a good one", batch(unknown, enc(b.addr, &proto.Event{Type: "good"})), []string{"good"}, 1, 0},
		{"stale address", batch(enc(scheme+"b-before", &proto.Event{Type: "stale"}), enc(b.addr, &proto.Event{Type: "fresh"})), []string{"fresh"}, 0, 1},
		{"unknown field skipped", append([]byte{0x10, 0x07}, batch(enc(b.addr, &proto.Event{Type: "after field"}))...), []string{"after field"}, 0, 0},
		{"payload that does not decode", batch(&proto.Envelope{Target: &proto.PID{Address: b.addr, Id: "echo"}, TypeName: "xorc.v1.Event", Payload: []byte{0xff}}), nil, 1, 0},
		{"system flag on a user message", batch(&proto.Envelope{Target: &proto.PID{Address: b.addr, Id: "echo"}, TypeName: "xorc.v1.Event", System: true}), nil, 1, 0},
		{"empty batch", nil, nil, 0, 0},
		{"watch without watcher (to nobody: proto.actor's dead letters would send Terminated to nil)", batch(encTo(b.addr, "nobody", &pactor.Watch{})), nil, 1, 0},
		{"unwatch without watcher", batch(enc(b.addr, &pactor.Unwatch{})), nil, 1, 0},
		{"terminated without who, then a good one", batch(enc(b.addr, &pactor.Terminated{}), enc(b.addr, &proto.Event{Type: "after system"})), []string{"after system"}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.core.Stats()
			deadBefore := dead.Load()
			err := b.core.Receive(tt.data)
			if tt.decode+tt.stale > 0 {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			for _, want := range tt.delivered {
				assert.Equal(t, want, <-e.got)
			}
			after := b.core.Stats()
			assert.Equal(t, tt.decode, after.DecodeErrors-before.DecodeErrors, "decode errors")
			assert.Equal(t, tt.stale, after.Stale-before.Stale, "stale")
			assert.Equal(t, uint64(len(tt.delivered)), after.Received-before.Received)
			assert.Equal(t, tt.decode+tt.stale, after.DeadLettersIn-before.DeadLettersIn)
			require.Eventually(t, func() bool { return dead.Load()-deadBefore == int64(tt.decode+tt.stale) }, 5*time.Second, time.Millisecond,
				"each dropped envelope is published as a dead letter")
		})
	}

	// A stale request gets a DeadLetterResponse at once instead of timing out.
	reply := make(chan any, 1)
	sender, _ := a.sys.ProcessRegistry.Add(funcProcess(func(m any) { reply <- m }), "stale-replies")
	env := enc(scheme+"b-before", &proto.Event{Type: "stale request"})
	env.Sender = proto.FromPID(sender)
	require.Error(t, b.core.Receive(batch(env)))
	select {
	case m := <-reply:
		assert.IsType(t, &pactor.DeadLetterResponse{}, m)
	case <-time.After(5 * time.Second):
		t.Fatal("no DeadLetterResponse for the stale request")
	}

	t.Run("too many envelopes", func(t *testing.T) {
		c := newNode(t, net, "c", func(c *Config) { c.MaxEnvelopes = 2 })
		err := c.core.Receive(batch(enc(c.addr, &proto.Event{Type: "1"}), enc(c.addr, &proto.Event{Type: "2"}), enc(c.addr, &proto.Event{Type: "3"})))
		require.ErrorIs(t, err, proto.ErrTooLarge)
		st := c.core.Stats()
		assert.Equal(t, uint64(2), st.Received, "the first two were handed on (to c's dead letters: it has no echo)")
		assert.Equal(t, uint64(1), st.DecodeErrors, "then the batch was refused")
	})
}

func TestNewRequiresConfig(t *testing.T) {
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	defer sys.Shutdown()
	ok := Config{System: sys, Address: "x://a", Match: func(string) bool { return true }, Dial: func(string) (Link, error) { return nil, errors.New("no") }}
	for name, tweak := range map[string]func(*Config){
		"no system":  func(c *Config) { c.System = nil },
		"no address": func(c *Config) { c.Address = "" },
		"no dial":    func(c *Config) { c.Dial = nil },
		"no match":   func(c *Config) { c.Match = nil },
	} {
		cfg := ok
		tweak(&cfg)
		_, err := New(cfg)
		assert.Error(t, err, name)
	}
	c, err := New(ok)
	require.NoError(t, err)
	assert.Equal(t, DefaultSendTimeout, c.cfg.SendTimeout)
}
