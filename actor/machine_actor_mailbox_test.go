package actor

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/proto"
)

// recInvoker is a MessageInvoker that records what the mailbox delivers and
// can be told to panic on a message or to block.
type recInvoker struct {
	mu        sync.Mutex
	user      []any
	sys       []any
	log       []any // user and system messages in delivery order
	escalated []any
	panicOn   any
	onUser    func(msg any) // called (outside mu) before recording
}

func (r *recInvoker) InvokeSystemMessage(m any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sys = append(r.sys, m)
	r.log = append(r.log, m)
}

func (r *recInvoker) InvokeUserMessage(m any) {
	if r.onUser != nil {
		r.onUser(m)
	}
	r.mu.Lock()
	p := r.panicOn
	r.user = append(r.user, m)
	r.log = append(r.log, m)
	r.mu.Unlock()
	if p != nil && m == p {
		panic(fmt.Sprintf("boom on %v", m))
	}
}

func (r *recInvoker) EscalateFailure(reason, m any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.escalated = append(r.escalated, reason, m)
}

func (r *recInvoker) users() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.user...)
}

func (r *recInvoker) systems() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.sys...)
}

func newTestMailbox(t *testing.T, inv pactor.MessageInvoker, throughput int) *batchMailbox {
	t.Helper()
	m := BatchMailbox()().(*batchMailbox)
	m.RegisterHandlers(inv, pactor.NewDefaultDispatcher(throughput))
	m.Start()
	return m
}

func waitUsers(t *testing.T, inv *recInvoker, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(inv.users()) >= n }, 10*time.Second, time.Millisecond,
		"want %d user messages delivered", n)
}

// TestBatchMailboxFIFOManyProducers: every message arrives exactly once, and
// each producer's messages in the order it posted them, across many segments
// and with the actor going idle and being woken in between.
func TestBatchMailboxFIFOManyProducers(t *testing.T) {
	tests := []struct {
		name                  string
		producers, perProduct int
		throughput            int
		pause                 bool // producers pause now and then, so the mailbox goes idle
	}{
		{"one producer, many segments", 1, 5 * segmentSize, 300, false},
		{"four producers", 4, 3000, 300, false},
		{"four producers, tiny throughput", 4, 1000, 1, false},
		{"idle in between", 3, 400, 300, true},
	}
	type msg struct{ p, i int }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &recInvoker{}
			m := newTestMailbox(t, inv, tc.throughput)
			var wg sync.WaitGroup
			for p := range tc.producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range tc.perProduct {
						m.PostUserMessage(msg{p, i})
						if tc.pause && i%50 == 0 {
							time.Sleep(200 * time.Microsecond)
						}
					}
				}()
			}
			wg.Wait()
			total := tc.producers * tc.perProduct
			waitUsers(t, inv, total)
			got := inv.users()
			require.Len(t, got, total, "nothing delivered twice")
			next := make([]int, tc.producers)
			for _, g := range got {
				mm := g.(msg)
				require.Equal(t, next[mm.p], mm.i, "producer %d out of order", mm.p)
				next[mm.p]++
			}
			require.Eventually(t, func() bool {
				m.mu.Lock()
				defer m.mu.Unlock()
				return !m.scheduled
			}, 5*time.Second, time.Millisecond, "the mailbox goes idle when empty")
			assert.Equal(t, 0, m.UserMessageCount())
			m.mu.Lock()
			assert.LessOrEqual(t, m.nfree, maxFreeSegments, "drained segments kept for reuse are bounded")
			m.mu.Unlock()
		})
	}
}

// TestBatchMailboxSystemFirst: a system message posted while user messages
// wait is delivered before the remaining user messages.
func TestBatchMailboxSystemFirst(t *testing.T) {
	block, taken := make(chan struct{}), make(chan struct{})
	inv := &recInvoker{}
	inv.onUser = func(m any) {
		if m == "u0" {
			close(taken)
			<-block
		}
	}
	m := newTestMailbox(t, inv, 300)
	m.PostUserMessage("u0")
	<-taken // u0 is being processed
	for i := 1; i <= 3; i++ {
		m.PostUserMessage(fmt.Sprintf("u%d", i))
	}
	sys := &pactor.Watch{}
	m.PostSystemMessage(sys)
	close(block)
	waitUsers(t, inv, 4)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	assert.Equal(t, []any{"u0", sys, "u1", "u2", "u3"}, inv.log)
}

// TestBatchMailboxSuspendResume: user messages wait while the mailbox is
// suspended; system messages still go through; ResumeMailbox delivers the
// waiting ones.
func TestBatchMailboxSuspendResume(t *testing.T) {
	inv := &recInvoker{}
	m := newTestMailbox(t, inv, 300)
	m.PostUserMessage("a")
	waitUsers(t, inv, 1)
	m.PostSystemMessage(&pactor.SuspendMailbox{})
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return !m.scheduled
	}, 5*time.Second, time.Millisecond)
	m.PostUserMessage("b")
	m.PostUserMessage("c")
	stop := &pactor.Stop{}
	m.PostSystemMessage(stop)
	require.Eventually(t, func() bool { return len(inv.systems()) == 1 }, 5*time.Second, time.Millisecond,
		"system messages go through a suspended mailbox")
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, []any{"a"}, inv.users(), "no user message while suspended")
	assert.Equal(t, 2, m.UserMessageCount())
	m.PostSystemMessage(&pactor.ResumeMailbox{})
	waitUsers(t, inv, 3)
	assert.Equal(t, []any{"a", "b", "c"}, inv.users())
	assert.Equal(t, []any{stop}, inv.systems(), "suspend and resume are the mailbox's own")
}

// TestBatchMailboxPanicEscalatedRestKept: a panic that escapes the invoker
// is escalated with the message, and the messages after it still arrive.
func TestBatchMailboxPanicEscalatedRestKept(t *testing.T) {
	inv := &recInvoker{panicOn: "bad"}
	m := newTestMailbox(t, inv, 300)
	block := make(chan struct{})
	var once sync.Once
	inv.onUser = func(any) { once.Do(func() { <-block }) }
	for _, s := range []string{"a", "bad", "c", "d"} {
		m.PostUserMessage(s) // one batch: the first message blocks until all are queued
	}
	close(block)
	waitUsers(t, inv, 4)
	assert.Equal(t, []any{"a", "bad", "c", "d"}, inv.users())
	inv.mu.Lock()
	defer inv.mu.Unlock()
	require.Len(t, inv.escalated, 2)
	assert.Equal(t, "boom on bad", inv.escalated[0])
	assert.Equal(t, "bad", inv.escalated[1])
}

// batchOf is a pactor.MessageBatch.
type batchOf []any

func (b batchOf) GetMessages() []any { return b }

// TestBatchMailboxMessageBatch: like proto.actor's mailbox, a MessageBatch
// (bare or in an envelope) is unpacked, and the batch itself follows.
func TestBatchMailboxMessageBatch(t *testing.T) {
	inv := &recInvoker{}
	m := newTestMailbox(t, inv, 300)
	b := batchOf{"x", "y"}
	m.PostUserMessage(b)
	env := &pactor.MessageEnvelope{Message: batchOf{"z"}}
	m.PostUserMessage(env)
	waitUsers(t, inv, 5)
	got := inv.users()
	assert.Equal(t, "x", got[0])
	assert.Equal(t, "y", got[1])
	assert.Equal(t, b, got[2])
	assert.Equal(t, "z", got[3])
	assert.Same(t, env, got[4])
}

// TestBatchMailboxYieldsWithoutLosingWork: with throughput 1 the mailbox still
// delivers everything (it yields after each message).
func TestBatchMailboxYieldsWithoutLosingWork(t *testing.T) {
	inv := &recInvoker{}
	m := newTestMailbox(t, inv, 1)
	var n atomic.Int32
	inv.onUser = func(any) { n.Add(1) }
	for i := range 1000 {
		m.PostUserMessage(i)
	}
	waitUsers(t, inv, 1000)
	assert.Equal(t, int32(1000), n.Load())
}

// TestMachineActorPublishesToMidStreamSubscriber: a subscriber that arrives
// while the machine works through a backlog gets every event sent after it
// subscribed (the machine checks for listeners once per mailbox batch).
func TestMachineActorPublishesToMidStreamSubscriber(t *testing.T) {
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quiet))
	defer system.Shutdown()
	release := make(chan struct{})
	var once sync.Once
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		if ev.Type == "hold" {
			once.Do(func() { <-release })
		}
		return s, nil
	}}
	pid := system.Root.Spawn(machineProps("m1", func() stepper { return sc }, machineConfig{}))
	_, err := system.Root.RequestFuture(pid, Event{Type: "warm"}, 5*time.Second).Result()
	require.NoError(t, err)

	system.Root.Send(pid, Event{Type: "hold"}) // the machine blocks in it, mid-stream
	require.Eventually(t, func() bool { return len(sc.seen()) == 2 }, 5*time.Second, time.Millisecond)
	for range 10 {
		system.Root.Send(pid, Event{Type: "before"})
	}
	var mu sync.Mutex
	var got []string
	sub := system.EventStream.Subscribe(func(evt any) {
		if c, ok := evt.(*StateChanged); ok {
			mu.Lock()
			got = append(got, c.Event.Type)
			mu.Unlock()
		}
	})
	defer system.EventStream.Unsubscribe(sub)
	for i := range 500 {
		system.Root.Send(pid, Event{Type: fmt.Sprintf("after%d", i)})
	}
	close(release)
	_, err = system.Root.RequestFuture(pid, Event{Type: "last"}, 5*time.Second).Result()
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	var after []string
	for _, g := range got {
		if g != "before" && g != "hold" {
			after = append(after, g)
		}
	}
	want := make([]string, 0, 501)
	for i := range 500 {
		want = append(want, fmt.Sprintf("after%d", i))
	}
	want = append(want, "last")
	assert.Equal(t, want, after)
}

// TestBatchMailboxPostUserMessages: a run posted at once arrives in order,
// after what was posted before and before what is posted after, across
// segment boundaries (a partly filled tail, runs longer than a segment),
// from several producers mixing runs and single posts; a MessageBatch in a
// run is unpacked where it stands, as PostUserMessage does.
func TestBatchMailboxPostUserMessages(t *testing.T) {
	type msg struct{ p, i int }
	run := func(p, from, n int) []any {
		out := make([]any, n)
		for k := range out {
			out[k] = msg{p, from + k}
		}
		return out
	}
	t.Run("segment boundaries", func(t *testing.T) {
		inv := &recInvoker{}
		m := newTestMailbox(t, inv, 300)
		block := make(chan struct{})
		var once sync.Once
		inv.onUser = func(any) { once.Do(func() { <-block }) } // everything below queues behind the first
		i := 0
		m.PostUserMessage(msg{0, i})
		i++
		for _, n := range []int{segmentSize - 3, 5, 0, 1, 2*segmentSize + 7, segmentSize} {
			m.PostUserMessages(run(0, i, n))
			i += n
			m.PostUserMessage(msg{0, i})
			i++
		}
		assert.Equal(t, i, m.UserMessageCount())
		close(block)
		waitUsers(t, inv, i)
		got := inv.users()
		require.Len(t, got, i, "nothing lost or delivered twice")
		for k, g := range got {
			require.Equal(t, msg{0, k}, g)
		}
	})
	t.Run("producers mixing runs and single posts", func(t *testing.T) {
		inv := &recInvoker{}
		m := newTestMailbox(t, inv, 300)
		const producers, per = 4, 3000
		var wg sync.WaitGroup
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; {
					n := min(1+(i*7+p)%300, per-i)
					if n%3 == 0 {
						m.PostUserMessage(msg{p, i})
						n = 1
					} else {
						m.PostUserMessages(run(p, i, n))
					}
					i += n
				}
			}()
		}
		wg.Wait()
		waitUsers(t, inv, producers*per)
		got := inv.users()
		require.Len(t, got, producers*per)
		next := make([]int, producers)
		for _, g := range got {
			mm := g.(msg)
			require.Equal(t, next[mm.p], mm.i, "producer %d out of order", mm.p)
			next[mm.p]++
		}
	})
	t.Run("message batch in a run", func(t *testing.T) {
		inv := &recInvoker{}
		m := newTestMailbox(t, inv, 300)
		b := batchOf{"x", "y"}
		env := &pactor.MessageEnvelope{Message: batchOf{"z"}}
		m.PostUserMessages([]any{"a", b, "c", env, "d"})
		waitUsers(t, inv, 8)
		assert.Equal(t, []any{"a", "x", "y", b, "c", "z", env, "d"}, inv.users())
	})
}

// TestBatchMailboxPostUserMessagesSuspended: a run posted to a suspended
// mailbox waits like single messages do, and is delivered in order, after
// the system messages, once the mailbox is resumed.
func TestBatchMailboxPostUserMessagesSuspended(t *testing.T) {
	inv := &recInvoker{}
	m := newTestMailbox(t, inv, 300)
	m.PostSystemMessage(&pactor.SuspendMailbox{})
	m.PostUserMessages([]any{"a", "b"})
	stop := &pactor.Stop{}
	m.PostSystemMessage(stop)
	require.Eventually(t, func() bool { return len(inv.systems()) == 1 }, 5*time.Second, time.Millisecond,
		"system messages go through a suspended mailbox")
	time.Sleep(20 * time.Millisecond)
	assert.Empty(t, inv.users(), "no user message while suspended")
	assert.Equal(t, 2, m.UserMessageCount())
	m.PostUserMessages([]any{"c"})
	m.PostSystemMessage(&pactor.ResumeMailbox{})
	waitUsers(t, inv, 3)
	assert.Equal(t, []any{"a", "b", "c"}, inv.users())
	inv.mu.Lock()
	defer inv.mu.Unlock()
	assert.Equal(t, []any{stop, "a", "b", "c"}, inv.log)
}

// TestPostUserMessageRepeated: n deliveries of one message, in their place
// between the messages posted before and after; in a machine's own mailbox
// an event message's deliveries are one eventRun, anything else (and in
// the general BatchMailbox everything) n messages.
func TestPostUserMessageRepeated(t *testing.T) {
	e := &proto.Event{Type: "A"}
	post := func(m *batchMailbox) {
		m.PostUserMessage("before")
		m.PostUserMessageRepeated(e, 3)
		m.PostUserMessageRepeated("x", 2)
		m.PostUserMessageRepeated(e, 1)
		m.PostUserMessageRepeated(e, 0)
		m.PostUserMessage("after")
	}
	inv := &recInvoker{}
	m := machineMailbox().(*batchMailbox)
	m.RegisterHandlers(inv, pactor.NewDefaultDispatcher(300))
	post(m)
	waitUsers(t, inv, 6)
	assert.Equal(t, []any{"before", &eventRun{ev: e, n: 3}, "x", "x", e, "after"}, inv.users())
	assert.Same(t, e, inv.users()[1].(*eventRun).ev)

	inv = &recInvoker{}
	post(newTestMailbox(t, inv, 300))
	waitUsers(t, inv, 8)
	assert.Equal(t, []any{"before", e, e, e, "x", "x", e, "after"}, inv.users(), "BatchMailbox, for any actor")
}
