package remote

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

// recMailbox records how messages are posted to it (it never runs its
// actor): "sys", "user <type>", or "run <n>: <types>" for PostUserMessages.
type recMailbox struct {
	mu    sync.Mutex
	calls []string
	msgs  []string // every user message, in order
	runs  bool     // implement PostUserMessages (see runMailbox)
}

func msgName(m any) string {
	switch m := m.(type) {
	case *proto.Event:
		return m.Type
	case *pactor.MessageEnvelope:
		return "env:" + msgName(m.Message)
	}
	return fmt.Sprintf("%T", m)
}

func (r *recMailbox) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recMailbox) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *recMailbox) PostUserMessage(m any) {
	r.add("user " + msgName(m))
	r.mu.Lock()
	r.msgs = append(r.msgs, msgName(m))
	r.mu.Unlock()
}

func (r *recMailbox) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

func (r *recMailbox) PostSystemMessage(m any)                                   { r.add("sys " + msgName(m)) }
func (r *recMailbox) RegisterHandlers(pactor.MessageInvoker, pactor.Dispatcher) {}
func (r *recMailbox) Start()                                                    {}
func (r *recMailbox) UserMessageCount() int                                     { return 0 }

// runMailbox is a recMailbox that takes runs.
type runMailbox struct{ *recMailbox }

func (r runMailbox) PostUserMessages(msgs []any) {
	s := fmt.Sprintf("run %d:", len(msgs))
	for _, m := range msgs {
		s += " " + msgName(m)
	}
	r.add(s)
	r.mu.Lock()
	for _, m := range msgs {
		r.msgs = append(r.msgs, msgName(m))
	}
	r.mu.Unlock()
}

func (r runMailbox) PostUserMessageRepeated(msg any, n int) {
	r.add(fmt.Sprintf("repeat %d: %s", n, msgName(msg)))
	r.mu.Lock()
	for range n {
		r.msgs = append(r.msgs, msgName(msg))
	}
	r.mu.Unlock()
}

func spawnRec(t *testing.T, n *node, id string, runs bool) *recMailbox {
	t.Helper()
	r := &recMailbox{runs: runs}
	props := pactor.PropsFromFunc(func(pactor.Context) {}, pactor.WithMailbox(func() pactor.Mailbox {
		if runs {
			return runMailbox{r}
		}
		return r
	}))
	_, err := n.sys.Root.SpawnNamed(props, id)
	require.NoError(t, err)
	require.Equal(t, []string{"sys *actor.Started"}, r.got())
	r.calls, r.msgs = nil, nil
	return r
}

// The layout check that lets the core reach a local actor's mailbox holds
// for the pinned proto.actor version: without it runs are posted one by one.
func TestActorProcessMailboxLayout(t *testing.T) {
	require.True(t, actorProcessMailbox)
	net := newNet()
	b := newNode(t, net, "b")
	_, plain := spawnEcho(t, b, "plain", 0)
	batched, err := b.sys.Root.SpawnNamed(pactor.PropsFromFunc(func(pactor.Context) {}, pactor.WithMailbox(actor.BatchMailbox())), "batched")
	require.NoError(t, err)
	proc := func(pid *pactor.PID) pactor.Process {
		p, ok := b.sys.ProcessRegistry.GetLocal(pid.Id)
		require.True(t, ok)
		return p
	}
	assert.NotNil(t, runPoster(proc(batched)), "a BatchMailbox takes runs")
	assert.Nil(t, runPoster(proc(plain)), "proto.actor's default mailbox does not")
	assert.Nil(t, runPoster(b.sys.DeadLetter), "nor the dead-letter process")
	assert.Nil(t, runPoster(funcProcess(func(any) {})))
}

// TestReceiveRuns: the common envelopes of a batch reach a mailbox that
// takes runs as runs of consecutive envelopes for it (at most runLen),
// anything else (another target, a system message, an undecodable
// envelope) ending the run before it; a mailbox without runs gets each
// message; the order per target is the batch's; counters as before.
func TestReceiveRuns(t *testing.T) {
	net := newNet()
	b := newNode(t, net, "b")
	runs := spawnRec(t, b, "runs", true)
	plain := spawnRec(t, b, "plain", false)

	var envs []*proto.Envelope
	add := func(id string, n int, typ string) {
		for i := range n {
			env, err := proto.Encode(pactor.NewPID(b.addr, id), nil, &proto.Event{Type: fmt.Sprintf("%s%d", typ, i)})
			require.NoError(t, err)
			envs = append(envs, env)
		}
	}
	add("runs", runLen+3, "a")
	add("plain", 2, "p")
	add("runs", 2, "b")
	watch, err := proto.Encode(pactor.NewPID(b.addr, "runs"), nil, &pactor.Watch{Watcher: pactor.NewPID(b.addr, "plain")})
	require.NoError(t, err)
	envs = append(envs, watch)
	add("runs", 1, "c")
	add("runs", 1, "d")
	req, err := proto.Encode(pactor.NewPID(b.addr, "runs"), pactor.NewPID(b.addr, "plain"), &proto.Event{Type: "req"})
	require.NoError(t, err)
	envs = append(envs, req)
	envs = append(envs, &proto.Envelope{Target: &proto.PID{Address: b.addr, Id: "runs"}, TypeName: "xorc.v1.Event", Payload: []byte{0xff}})
	add("runs", 2, "e")
	add("nobody", 2, "n")
	add("runs", 1, "f")
	same := func(id, typ string, n int) { // identical envelopes
		for range n {
			env, err := proto.Encode(pactor.NewPID(b.addr, id), nil, &proto.Event{Type: typ})
			require.NoError(t, err)
			envs = append(envs, env)
		}
	}
	same("runs", "z", 5)
	same("plain", "y", 3)
	data, err := proto.AppendBatch(nil, envs)
	require.NoError(t, err)

	before := b.core.Stats()
	err = b.core.Receive(data)
	require.ErrorIs(t, err, proto.ErrMalformed, "the undecodable envelope")

	var first, rest string
	for i := range runLen {
		first += fmt.Sprintf(" a%d", i)
	}
	for i := runLen; i < runLen+3; i++ {
		rest += fmt.Sprintf(" a%d", i)
	}
	assert.Equal(t, []string{
		fmt.Sprintf("run %d:%s", runLen, first), // full: delivered, the next run starts
		"run 3:" + rest,
		"run 2: b0 b1",
		"sys *actor.Watch", // after the user messages before it
		"run 3: c0 d0 env:req",
		"run 2: e0 e1",
		"run 3: f0 z z", // identical envelopes: the second one makes the decoder note the repeat,
		"repeat 3: z",   // the others are one repeated delivery
	}, runs.got())
	assert.Equal(t, []string{"user p0", "user p1", "user y", "user y", "user y"}, plain.got(), "no repeats without a mailbox that takes them")
	after := b.core.Stats()
	assert.Equal(t, uint64(runLen+3+2+2+1+3+2+2+1+5+3), after.Received-before.Received, "every delivered envelope, dead letters included")
	assert.Equal(t, uint64(1), after.DecodeErrors-before.DecodeErrors)
}

// TestReceiveRunsToMachine: a machine actor (BatchMailbox) gets long runs of
// events and takes them all, in order; so does an actor with proto.actor's
// mailbox next to it in the same batches.
func TestReceiveRunsToMachine(t *testing.T) {
	net := newNet()
	b := newNode(t, net, "b")
	// In order, A and B alternate: each one finds the guard true and counts
	// itself in "ok"; one out of order counts in "bad".
	m, err := actor.LoadJSON([]byte(`{"id": "c", "initial": "s", "context": {"n": 0, "ok": 0, "bad": 0}, "states": {"s": {"on": {
		"A": [{"guard": {"type": "xorc.eq", "params": {"key": "n", "value": 0}}, "actions": [{"type": "xorc.assign", "params": {"n": 1}}, {"type": "xorc.increment", "params": {"key": "ok"}}]},
		      {"actions": {"type": "xorc.increment", "params": {"key": "bad"}}}],
		"B": [{"guard": {"type": "xorc.eq", "params": {"key": "n", "value": 1}}, "actions": [{"type": "xorc.assign", "params": {"n": 0}}, {"type": "xorc.increment", "params": {"key": "ok"}}]},
		      {"actions": {"type": "xorc.increment", "params": {"key": "bad"}}}]}}}}`), nil)
	require.NoError(t, err)
	stats := &actor.MachineStats{}
	pid, err := b.sys.Root.SpawnNamed(actor.MachineProps("c", m, actor.WithStats(stats)), "c")
	require.NoError(t, err)
	e, _ := spawnEcho(t, b, "echo", 0)
	const batches, per = 20, 700
	for range batches {
		var data []byte
		for i := range per {
			typ := "A"
			if i%2 == 1 {
				typ = "B"
			}
			data, err = appendEnvelope(data, pid, nil, &proto.Event{Type: typ})
			require.NoError(t, err)
			if i%100 == 99 {
				data, err = appendEnvelope(data, pactor.NewPID(b.addr, "echo"), nil, &proto.Event{Type: "x"})
				require.NoError(t, err)
			}
		}
		require.NoError(t, b.core.Receive(data))
	}
	require.Eventually(t, func() bool { return stats.Events.Load() == batches*per && e.n.Load() == batches*per/100 },
		10*time.Second, time.Millisecond)
	res, err := b.sys.Root.RequestFuture(pid, &proto.GetSnapshot{}, 5*time.Second).Result()
	require.NoError(t, err)
	snap := res.(*actor.Reply).Snapshot
	assert.Equal(t, map[string]any{"n": float64(0), "ok": float64(batches * per), "bad": float64(0)}, map[string]any(snap.Context),
		"A and B arrived in order: each guard held")
	assert.Zero(t, stats.BadEvents.Load())
}

// TestReceiveRepeatedEnvelopes: runs of the envelope the decoder last
// recognised (Receive matches them without parsing) deliver exactly what
// parsing each one would, in order, whatever comes between them, in
// batches of random mixes; and the batch limit counts them like any other.
func TestReceiveRepeatedEnvelopes(t *testing.T) {
	net := newNet()
	b := newNode(t, net, "b")
	runs := spawnRec(t, b, "runs", true)
	plain := spawnRec(t, b, "plain", false)
	type kind struct {
		data   []byte
		target *recMailbox
		name   string
	}
	field := func(target, typ string, payload []byte, sender *pactor.PID) []byte {
		env, err := proto.Encode(pactor.NewPID(b.addr, target), sender, &proto.Event{Type: typ, Payload: payload})
		require.NoError(t, err)
		data, err := proto.AppendBatch(nil, []*proto.Envelope{env})
		require.NoError(t, err)
		return data
	}
	kinds := []kind{
		{field("runs", "A", nil, nil), runs, "A"},
		{field("runs", "B", nil, nil), runs, "B"},
		{field("plain", "A", nil, nil), plain, "A"},
		{field("runs", "A", []byte(`{"x":1}`), nil), runs, "A"},
		{field("runs", "A", nil, pactor.NewPID(b.addr, "plain")), runs, "env:A"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var wantRuns, wantPlain []string
	for range 200 {
		var data []byte
		for range rng.IntN(600) {
			k := kinds[0] // mostly the repeated one, in runs of any length
			if rng.IntN(10) == 0 {
				k = kinds[rng.IntN(len(kinds))]
			}
			data = append(data, k.data...)
			if k.target == runs {
				wantRuns = append(wantRuns, k.name)
			} else {
				wantPlain = append(wantPlain, k.name)
			}
		}
		require.NoError(t, b.core.Receive(data))
	}
	assert.Equal(t, wantRuns, runs.messages())
	assert.Equal(t, wantPlain, plain.messages())
	require.NotNil(t, b.core.fast.lastEnv.Load(), "the repeated envelope was recognised")

	t.Run("batch limit", func(t *testing.T) {
		c := newNode(t, net, "c", func(c *Config) { c.MaxEnvelopes = 5 })
		r := spawnRec(t, c, "runs", true)
		env, err := proto.Encode(pactor.NewPID(c.addr, "runs"), nil, &proto.Event{Type: "A"})
		require.NoError(t, err)
		for _, tc := range []struct {
			n, delivered int
			fail         bool
		}{{5, 5, false}, {6, 5, true}, {4, 4, false}, {12, 5, true}, {5, 5, false}} {
			envs := make([]*proto.Envelope, tc.n)
			for i := range envs {
				envs[i] = env
			}
			data, err := proto.AppendBatch(nil, envs)
			require.NoError(t, err)
			before := c.core.Stats()
			got0 := len(r.messages())
			err = c.core.Receive(data)
			if tc.fail {
				require.ErrorIs(t, err, proto.ErrTooLarge, "%d envelopes", tc.n)
			} else {
				require.NoError(t, err, "%d envelopes", tc.n)
			}
			assert.Equal(t, tc.delivered, len(r.messages())-got0, "%d envelopes", tc.n)
			assert.Equal(t, uint64(tc.delivered), c.core.Stats().Received-before.Received)
		}
		require.NotNil(t, c.core.fast.lastEnv.Load(), "the limit was reached on the repeated-envelope path")
	})
}

// Long runs of one envelope are matched a block of blockFields envelopes at
// a time once a run that long was seen: every envelope is delivered once,
// in repeated deliveries, and the batch limit (MaxEnvelopes) still holds
// to the envelope: what lies beyond it is refused, not delivered.
func TestReceiveLongRunsInBlocks(t *testing.T) {
	net := newNet()
	const limit = 2*blockFields + 5
	b := newNode(t, net, "b", func(c *Config) { c.MaxEnvelopes = limit })
	runs := spawnRec(t, b, "runs", true)
	env, err := proto.Encode(pactor.NewPID(b.addr, "runs"), nil, &proto.Event{Type: "z"})
	require.NoError(t, err)
	batch := func(n int) []byte {
		envs := make([]*proto.Envelope, n)
		for i := range envs {
			envs[i] = env
		}
		data, err := proto.AppendBatch(nil, envs)
		require.NoError(t, err)
		return data
	}
	delivered := func() int { return len(runs.messages()) }

	require.NoError(t, b.core.Receive(batch(blockFields+2))) // long enough: the block is made
	require.Equal(t, blockFields+2, delivered())
	le := b.core.fast.lastEnv.Load()
	require.NotNil(t, le)
	require.NotNil(t, le.block.Load())
	require.NoError(t, b.core.Receive(batch(limit)))
	require.Equal(t, blockFields+2+limit, delivered())
	for _, n := range []int{1, 2, blockFields - 1, blockFields, blockFields + 1, 2*blockFields + 3, limit} {
		before := delivered()
		require.NoError(t, b.core.Receive(batch(n)))
		require.Equal(t, before+n, delivered(), "a run of %d", n)
	}
	before, st := delivered(), b.core.Stats()
	err = b.core.Receive(batch(limit + blockFields))
	require.ErrorIs(t, err, proto.ErrTooLarge)
	assert.Equal(t, before+limit, delivered(), "the envelopes within the limit only")
	assert.Equal(t, st.DecodeErrors+1, b.core.Stats().DecodeErrors)
	for _, m := range runs.messages() {
		require.Equal(t, "z", m)
	}
}
