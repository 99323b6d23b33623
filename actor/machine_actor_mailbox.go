package actor

import (
	"runtime"
	"sync"
	"sync/atomic"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/proto"
)

// BatchMailbox returns a proto.actor MailboxProducer whose mailboxes hand
// messages to the actor in batches. Machine actors use it by default (with
// one addition: the mailbox tells its machine where batches start, see
// machineActor.listened); WithMailbox replaces it.
//
// Why: proto.actor's default mailbox pays, per message, a mutex on the push, a
// mutex on the pop, an atomic counter increment and decrement and a
// compare-and-swap of the scheduling flag, all on cache lines that the sender
// and the actor write from different cores. A machine actor's sender and the
// machine usually run on different cores, so each message moved those lines
// back and forth several times. Here a sender takes one (usually
// uncontended) lock to append to a chain of fixed-size segments and to learn
// whether the mailbox must be scheduled; the actor takes the whole chain at
// once under the same lock, then runs through it without touching shared
// memory. Under a steady stream the actor takes the lock once per batch
// instead of once per message, and a growing backlog is never copied.
//
// Semantics are those of proto.actor's unbounded mailbox: system messages go
// before user messages, SuspendMailbox/ResumeMailbox pause and resume user
// messages, after throughput messages the actor yields the processor
// (runtime.Gosched), a panic that escapes the actor is escalated to its
// supervisor with the remaining messages kept, and a MessageBatch is
// unpacked. It takes no MailboxMiddleware, and UserMessageCount (used only
// for metrics) is approximate while a batch is being processed.
func BatchMailbox() pactor.MailboxProducer {
	return func() pactor.Mailbox { return &batchMailbox{} }
}

// machineMailbox is the default mailbox of machine actors: a BatchMailbox
// that announces itself to its actor (see machineActor.listened).
var machineMailbox pactor.MailboxProducer = func() pactor.Mailbox { return &batchMailbox{announce: true} }

// mailboxAnnounce is the first user message of a machineMailbox: its actor
// keeps the mailbox to learn where batches start.
type mailboxAnnounce struct{ mb *batchMailbox }

// segmentSize is the number of messages of a mailbox segment (4 KiB).
const segmentSize = 256

// maxFreeSegments is how many drained segments a mailbox keeps for its own
// reuse: a steady stream reuses them without allocating. More go to
// segmentPool, shared by all mailboxes, so that a backlog reuses the segments
// of the last one and a burst does not pin its memory for the mailbox's life.
const maxFreeSegments = 2

// segmentPool holds drained segments (all slots nil, n = 0).
var segmentPool = sync.Pool{New: func() any { return new(segment) }}

// segment is a block of queued user messages. A mailbox's posted messages
// are a chain of segments: senders append to the tail, the actor takes the
// whole chain. Fixed-size blocks mean no copying while a backlog grows.
type segment struct {
	msgs [segmentSize]any
	n    int // messages written (under the mailbox's mu while the segment is in the chain)
	next *segment
}

type batchMailbox struct {
	mu         sync.Mutex
	head, tail *segment // posted user messages not yet taken (under mu)
	queued     int      // messages in head..tail (under mu)
	free       *segment // drained segments for reuse (under mu)
	nfree      int
	sys        []any // posted system messages not yet taken (under mu)
	scheduled  bool  // a run is scheduled or in progress (under mu)

	hasSys   atomic.Bool  // sys is not empty: read by the actor between messages
	inFlight atomic.Int32 // user messages taken by the actor and not yet processed, updated now and then (for UserMessageCount)

	// Owned by the run in progress.
	batch     *segment // the segment being processed (its successors follow)
	next      int      // index in batch of the next message
	drained   *segment // processed segments, handed back at the next refill
	left      int      // messages taken and not yet processed
	sysBatch  []any    // system messages taken from sys
	sysNext   int      // index in sysBatch of the next message
	suspended bool

	batches  uint64 // batches taken; read by the actor (same goroutine)
	announce bool   // post a mailboxAnnounce when started

	invoker    pactor.MessageInvoker
	dispatcher pactor.Dispatcher
	throughput int
	process    func() // m.processMessages, allocated once
}

var _ pactor.Mailbox = (*batchMailbox)(nil)

func (m *batchMailbox) RegisterHandlers(invoker pactor.MessageInvoker, dispatcher pactor.Dispatcher) {
	m.invoker = invoker
	m.dispatcher = dispatcher
	m.throughput = dispatcher.Throughput()
	if m.throughput <= 0 {
		m.throughput = 300
	}
	m.process = m.processMessages
}

func (m *batchMailbox) Start() {
	if m.announce {
		m.PostUserMessage(&mailboxAnnounce{mb: m})
	}
}

// PostUserMessage queues message. Like proto.actor's mailbox it also accepts
// a MessageBatch (and an envelope holding one): each message of the batch is
// queued, then the batch itself.
func (m *batchMailbox) PostUserMessage(message any) {
	switch b := message.(type) {
	case *Event, Event: // the common cases first: no interface assertion below
	case pactor.MessageBatch:
		for _, msg := range b.GetMessages() {
			m.PostUserMessage(msg)
		}
	case *pactor.MessageEnvelope:
		if batch, ok := b.Message.(pactor.MessageBatch); ok {
			for _, msg := range batch.GetMessages() {
				m.PostUserMessage(msg)
			}
		}
	}
	m.mu.Lock()
	t := m.tail
	if t == nil || t.n == segmentSize {
		t = m.newSegment()
	}
	t.msgs[t.n] = message
	t.n++
	m.queued++
	start := !m.scheduled
	m.scheduled = true
	m.mu.Unlock()
	if start {
		m.dispatcher.Schedule(m.process)
	}
}

// PostUserMessages queues msgs in order: what PostUserMessage of each would
// do, under one lock (the cross-process transports deliver a decoded batch's
// run of messages for one actor this way). msgs is not retained.
func (m *batchMailbox) PostUserMessages(msgs []any) {
	for i, msg := range msgs {
		if unpacked(msg) { // rare: PostUserMessage unpacks it
			m.PostUserMessages(msgs[:i])
			m.PostUserMessage(msg)
			m.PostUserMessages(msgs[i+1:])
			return
		}
	}
	if len(msgs) == 0 {
		return
	}
	m.mu.Lock()
	for len(msgs) > 0 {
		t := m.tail
		if t == nil || t.n == segmentSize {
			t = m.newSegment()
		}
		k := copy(t.msgs[t.n:], msgs)
		t.n += k
		m.queued += k
		msgs = msgs[k:]
	}
	start := !m.scheduled
	m.scheduled = true
	m.mu.Unlock()
	if start {
		m.dispatcher.Schedule(m.process)
	}
}

// PostUserMessageRepeated queues n deliveries of msg in a row: what n
// PostUserMessage calls would do (the cross-process transports deliver a
// decoded batch's run of identical envelopes this way). In a machine's own
// mailbox n deliveries of an event message are queued as one eventRun,
// which the machine takes in one proto.actor invocation (see
// machineActor.handleRun).
func (m *batchMailbox) PostUserMessageRepeated(msg any, n int) {
	if n <= 0 {
		return
	}
	ev, ok := msg.(*proto.Event)
	if !m.announce || !ok || n == 1 {
		for range n {
			m.PostUserMessage(msg)
		}
		return
	}
	m.PostUserMessage(&eventRun{ev: ev, n: n})
}

// eventRun is n deliveries in a row of one event message, queued as one
// message (see PostUserMessageRepeated).
type eventRun struct {
	ev *proto.Event
	n  int
}

// unpacked reports whether PostUserMessage queues the messages msg holds
// besides msg itself (a MessageBatch, or an envelope holding one).
func unpacked(msg any) bool {
	switch b := msg.(type) {
	case *proto.Event, *Event, Event:
		return false
	case pactor.MessageBatch:
		return true
	case *pactor.MessageEnvelope:
		_, ok := b.Message.(pactor.MessageBatch)
		return ok
	}
	return false
}

// newSegment appends an empty segment to the chain (under mu).
func (m *batchMailbox) newSegment() *segment {
	s := m.free
	if s != nil {
		m.free, s.next = s.next, nil
		m.nfree--
	} else {
		s = segmentPool.Get().(*segment)
	}
	if m.tail == nil {
		m.head = s
	} else {
		m.tail.next = s
	}
	m.tail = s
	return s
}

// PostSystemMessage queues a system message; it goes before user messages.
func (m *batchMailbox) PostSystemMessage(message any) {
	m.mu.Lock()
	m.sys = append(m.sys, message)
	m.hasSys.Store(true)
	start := !m.scheduled
	m.scheduled = true
	m.mu.Unlock()
	if start {
		m.dispatcher.Schedule(m.process)
	}
}

// UserMessageCount is about the number of user messages waiting (for
// metrics: the part taken by the actor is updated every throughput messages).
func (m *batchMailbox) UserMessageCount() int {
	m.mu.Lock()
	n := m.queued
	m.mu.Unlock()
	return n + int(m.inFlight.Load())
}

// processMessages runs until the mailbox is empty (or suspended with no
// system message waiting), then marks it idle.
func (m *batchMailbox) processMessages() {
	for !m.run() {
		// A panic escaped the actor and was escalated: go on with the rest.
	}
}

// run processes messages; it returns true once the mailbox went idle, false
// after escalating a panic.
func (m *batchMailbox) run() (idle bool) {
	var msg any
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
		}
	}()
	n := 0
	for {
		if m.sysNext < len(m.sysBatch) {
			msg = m.sysBatch[m.sysNext]
			m.sysBatch[m.sysNext] = nil
			m.sysNext++
			switch msg.(type) {
			case *pactor.SuspendMailbox:
				m.suspended = true
			case *pactor.ResumeMailbox:
				m.suspended = false
			default:
				m.invoker.InvokeSystemMessage(msg)
			}
			continue
		}
		if m.hasSys.Load() {
			m.takeSys()
			continue
		}
		if m.suspended {
			if m.goIdle() {
				return true
			}
			continue
		}
		b := m.batch
		if b == nil || m.next == b.n {
			if b != nil && b.next != nil {
				m.batch, b.next, m.drained = b.next, m.drained, b
				m.next = 0
				continue
			}
			if !m.refill() {
				return true
			}
			continue
		}
		msg = b.msgs[m.next]
		b.msgs[m.next] = nil
		m.next++
		m.left--
		m.invoker.InvokeUserMessage(msg)
		if n++; n >= m.throughput {
			n = 0
			m.inFlight.Store(int32(m.left))
			runtime.Gosched()
		}
	}
}

// takeSys moves the posted system messages to sysBatch.
func (m *batchMailbox) takeSys() {
	old := m.sysBatch[:0]
	m.mu.Lock()
	m.sysBatch, m.sys = m.sys, old
	m.hasSys.Store(false)
	m.mu.Unlock()
	m.sysNext = 0
}

// refill hands the drained segments back and takes the posted user
// messages as the next batch. When there are none (and no system message)
// it marks the mailbox idle and returns false.
func (m *batchMailbox) refill() bool {
	done := m.drained
	if m.batch != nil {
		m.batch.next, done = done, m.batch
	}
	m.batch, m.drained, m.next = nil, nil, 0
	// Up to maxFreeSegments drained segments are offered to this mailbox's
	// free list, the others go back to the pool.
	var keep *segment
	for i := 0; done != nil; i++ {
		s := done
		done, s.n = s.next, 0
		if i < maxFreeSegments {
			s.next, keep = keep, s
		} else {
			s.next = nil
			segmentPool.Put(s)
		}
	}
	m.mu.Lock()
	for keep != nil && m.nfree < maxFreeSegments {
		s := keep
		keep, s.next, m.free = s.next, m.free, s
		m.nfree++
	}
	more := true
	switch {
	case m.head != nil:
		m.batch, m.left = m.head, m.queued
		m.batches++
		m.head, m.tail, m.queued = nil, nil, 0
		m.inFlight.Store(int32(m.left))
	case len(m.sys) == 0:
		m.scheduled = false
		m.inFlight.Store(0)
		more = false
	default:
		// No user message, but system messages: the loop takes them.
	}
	m.mu.Unlock()
	for keep != nil {
		s := keep
		keep, s.next = s.next, nil
		segmentPool.Put(s)
	}
	return more
}

// goIdle marks a suspended mailbox idle unless system messages wait (a
// ResumeMailbox among them), in which case it returns false.
func (m *batchMailbox) goIdle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sys) > 0 {
		return false
	}
	m.scheduled = false
	return true
}
