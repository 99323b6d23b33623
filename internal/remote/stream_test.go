package remote

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/proto"
)

// Sender flushing: a writer that wrote a lot in one wake-up lets the senders
// write the next queues; a sender that finds senderFlushBytes queued writes
// them itself; a tail that no sender flushes reaches the peer through the
// tail timer; a request ends streaming and is written at once. Every event
// arrives, in order.
func TestSendersFlushWhileStreaming(t *testing.T) {
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, echoPID := spawnEcho(t, b, "echo", 4096)
	ctx := context.Background()
	pad := strings.Repeat("x", 200)
	sent := 0
	send := func(n int) {
		t.Helper()
		for range n {
			require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: fmt.Sprintf("%d%s", sent, pad)}))
			sent++
		}
	}
	received := 0
	expect := func(what string) {
		t.Helper()
		for ; received < sent; received++ {
			got := e.next()
			require.Equal(t, fmt.Sprintf("%d%s", received, pad), got, "%s: event %d", what, received)
		}
	}
	p := func() *peer { pp, ok := a.core.peers.Load(b.addr); require.True(t, ok); return pp }
	streaming := func() bool { pp := p(); pp.mu.Lock(); defer pp.mu.Unlock(); return pp.streaming }
	stream := func() { t.Helper(); streamWhenParked(t, p()) }

	// The writer is held at the gate while 20 KiB queue behind its first
	// write; it then writes them in the same wake-up, and streaming begins.
	net.closeGate()
	send(1)
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
	send(100)
	net.openGate()
	expect("before streaming")
	require.Eventually(t, streaming, 5*time.Second, time.Millisecond, "a writer that wrote a lot leaves the next queues to the senders")

	// Senders flush: no writer wake-up until a sender finds a full queue
	// (the tail timer, which would end streaming when the flushes stop, is
	// run by hand below).
	old := tailAfter.Swap(int64(time.Hour))
	t.Cleanup(func() { tailAfter.Store(old) })
	flushes := a.core.Stats().SenderFlushes
	for a.core.Stats().SenderFlushes == flushes {
		send(1)
	}
	assert.Positive(t, sent-received)
	expect("flushed by a sender")

	// A tail below the threshold: the tail timer (twice: there was a flush
	// since it was armed) ends streaming and gives it to the writer.
	send(3)
	pp := p()
	pp.tailDue()
	assert.True(t, streaming(), "a flush since the last look: streaming goes on")
	pp.tailDue()
	assert.False(t, streaming(), "no flush since: streaming ends")
	expect("the tail")

	// A request ends streaming at once: its reply comes, after what was
	// queued before it.
	stream()
	send(5)
	fut := a.sys.Root.RequestFuture(echoPID, &proto.Event{Type: "ask"}, 10*time.Second)
	expect("before the request")
	assert.Equal(t, "ask", e.next())
	res, err := fut.Result()
	require.NoError(t, err)
	assert.Equal(t, "re:ask", res.(*proto.Event).Type)

	// A link without room: a sender does not flush into it (it would wait
	// for the reader); streaming ends and the writer goroutine waits at
	// the link instead. The sends return at once.
	stream()
	net.closeGate()
	flushes = a.core.Stats().SenderFlushes
	for streaming() {
		send(1)
	}
	assert.Equal(t, flushes, a.core.Stats().SenderFlushes)
	require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond, "the writer waits at the link")
	net.openGate()
	expect("written by the writer")

	// Close flushes what streaming senders left queued.
	stream()
	send(4)
	require.NoError(t, a.core.Close())
	expect("flushed by Close")
}

// What is queued while a sender flushes is not left behind: a request
// queued meanwhile ends streaming and the flushing sender hands it to the
// writer when its write ends; so does a closing core's flush. (The tail
// timer, which would also pick them up, is held off here.)
func TestQueuedDuringSenderFlush(t *testing.T) {
	old := tailAfter.Swap(int64(time.Hour))
	t.Cleanup(func() { tailAfter.Store(old) })
	net := newNet()
	a, b := newNode(t, net, "a"), newNode(t, net, "b")
	e, echoPID := spawnEcho(t, b, "echo", 4096)
	ctx := context.Background()
	require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "dial"}))
	require.Equal(t, "dial", e.next())
	pp, ok := a.core.peers.Load(b.addr)
	require.True(t, ok)
	pad := strings.Repeat("x", 1000)

	for _, closing := range []bool{false, true} {
		streamWhenParked(t, pp)
		net.mu.Lock()
		net.room = true // a link that says it has room, then holds the write at the gate
		net.mu.Unlock()
		net.closeGate()
		flushing := make(chan error, 1)
		flushes := a.core.Stats().SenderFlushes
		go func() { // sends until its own flush (held at the gate) is done
			for i := 0; ; i++ {
				err := a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: fmt.Sprintf("s%d%s", i, pad)})
				if err != nil || a.core.Stats().SenderFlushes > flushes {
					flushing <- err
					return
				}
			}
		}()
		require.Eventually(t, func() bool { return net.inGate.Load() == 1 }, 5*time.Second, time.Millisecond)
		var fut *pactor.Future
		if !closing {
			fut = a.sys.Root.RequestFuture(echoPID, &proto.Event{Type: "ask"}, 10*time.Second)
		} else {
			require.NoError(t, a.core.Deliver(ctx, echoPID, nil, &proto.Event{Type: "last"}))
		}
		net.mu.Lock()
		net.room = false
		net.mu.Unlock()
		closed := make(chan error, 1)
		if closing {
			go func() { closed <- a.core.Close() }()
		}
		net.openGate()
		require.NoError(t, <-flushing)
		want := "ask"
		if closing {
			want = "last"
		}
		for {
			got := e.next()
			require.NotEqual(t, nothingArrived, got, "%s never came", want)
			if got == want {
				break
			}
		}
		if !closing {
			res, err := fut.Result()
			require.NoError(t, err)
			assert.Equal(t, "re:ask", res.(*proto.Event).Type)
		} else {
			require.NoError(t, <-closed)
			assert.Zero(t, a.core.Stats().Undelivered, "Close wrote everything")
		}
	}
}

// streamWhenParked puts p in streaming mode once its writer is parked and
// its queue empty (a writer still draining would take what the test's
// senders queue next).
func streamWhenParked(t *testing.T, p *peer) {
	t.Helper()
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.awake || p.writing || len(p.q) > 0 {
			return false
		}
		p.streaming = true
		return true
	}, 5*time.Second, time.Millisecond, "the writer parks")
}
