package actor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/proto"
)

// These tests drive the machine actor with a scripted stepper, so that the
// effect handling (timers, sends, replies, publication, panics) is tested on
// its own; machine_actor_e2e_test.go runs real charts.

// scripted is a stepper whose Step is a test function; it records the events
// it was given.
type scripted struct {
	mu     sync.Mutex
	events []string
	start  []Effect
	step   func(s Snapshot, ev Event) (Snapshot, []Effect)
}

func (sc *scripted) Start() (Snapshot, []Effect) {
	return Snapshot{Status: StatusActive, Context: Context{"n": 0}}, sc.start
}

func (sc *scripted) Step(s Snapshot, ev Event) (Snapshot, []Effect) {
	sc.mu.Lock()
	sc.events = append(sc.events, ev.Type)
	sc.mu.Unlock()
	if sc.step != nil {
		return sc.step(s, ev)
	}
	n := s.Context["n"].(int)
	return Snapshot{Status: StatusActive, Context: Context{"n": n + 1, "last": ev.Type}}, nil
}

func (sc *scripted) seen() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return append([]string(nil), sc.events...)
}

// recRouter records sends; it fails those to "nowhere".
type recRouter struct {
	mu    sync.Mutex
	sends []string // "from>to:TYPE"
	at    []time.Time
}

var errNowhere = errors.New("no such machine")

func (r *recRouter) Send(_ context.Context, from, to string, ev Event) error {
	if to == "nowhere" {
		return errNowhere
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sends = append(r.sends, from+">"+to+":"+ev.Type)
	r.at = append(r.at, time.Now())
	return nil
}

func (r *recRouter) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sends...)
}

type harness struct {
	system *pactor.ActorSystem
	pid    *pactor.PID
	sc     *scripted
	router *recRouter
	stats  *MachineStats
	mu     sync.Mutex
	pubs   []*StateChanged
}

func quiet(*pactor.ActorSystem) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// syncBuffer is a bytes.Buffer safe for the actor's and the test's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t *testing.T, sc *scripted, withRouter bool) *harness {
	return newHarnessOpts(t, sc, withRouter, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func newHarnessWithLogger(t *testing.T, sc *scripted, l *slog.Logger) *harness {
	return newHarnessOpts(t, sc, true, l)
}

func newHarnessOpts(t *testing.T, sc *scripted, withRouter bool, logger *slog.Logger) *harness {
	t.Helper()
	h := &harness{system: pactor.NewActorSystem(pactor.WithLoggerFactory(quiet)), sc: sc, stats: &MachineStats{}}
	t.Cleanup(h.system.Shutdown)
	sub := h.system.EventStream.Subscribe(func(evt any) {
		if c, ok := evt.(*StateChanged); ok {
			h.mu.Lock()
			h.pubs = append(h.pubs, c)
			h.mu.Unlock()
		}
	})
	t.Cleanup(func() { h.system.EventStream.Unsubscribe(sub) })
	cfg := machineConfig{stats: h.stats, logger: logger}
	if withRouter {
		h.router = &recRouter{}
		cfg.router = h.router
	}
	h.pid = h.system.Root.Spawn(machineProps("m1", func() stepper { return sc }, cfg))
	return h
}

func (h *harness) request(t *testing.T, msg any) any {
	t.Helper()
	res, err := h.system.Root.RequestFuture(h.pid, msg, 5*time.Second).Result()
	require.NoError(t, err)
	return res
}

func (h *harness) published() []*StateChanged {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*StateChanged(nil), h.pubs...)
}

func TestMachineActorRequestAndPublication(t *testing.T) {
	h := newHarness(t, &scripted{}, true)

	h.system.Root.Send(h.pid, Event{Type: "A"})
	h.system.Root.Send(h.pid, &Event{Type: "B"})
	res := h.request(t, Event{Type: "C"})
	r, ok := res.(*Reply)
	require.True(t, ok, "a request is answered with *Reply, got %T", res)
	assert.Equal(t, "m1", r.MachineID)
	assert.Equal(t, 3, r.Snapshot.Context["n"], "the reply comes after the event is processed")
	assert.Equal(t, "C", r.Snapshot.Context["last"])
	assert.Equal(t, []string{"A", "B", "C"}, h.sc.seen())

	pubs := h.published()
	require.Len(t, pubs, 4, "start + 3 events")
	want := []string{"xstate.init", "A", "B", "C"}
	for i, p := range pubs {
		assert.Equal(t, "m1", p.MachineID)
		assert.Equal(t, want[i], p.Event.Type)
		assert.Equal(t, i, p.Snapshot.Context["n"])
	}
	assert.Equal(t, uint64(3), h.stats.Events.Load())

	// GetSnapshot answers without stepping.
	r2 := h.request(t, &proto.GetSnapshot{}).(*Reply)
	assert.Equal(t, 3, r2.Snapshot.Context["n"])
	assert.Len(t, h.sc.seen(), 3)
}

func TestMachineActorWireEvents(t *testing.T) {
	var got []Event
	var mu sync.Mutex
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		return s, nil
	}}
	h := newHarness(t, sc, true)

	_, ok := h.request(t, &proto.Event{Type: "GO", Payload: []byte(`{"job": 7, "tags": ["a"]}`)}).(*Reply)
	require.True(t, ok)
	mu.Lock()
	require.Len(t, got, 1)
	assert.Equal(t, "GO", got[0].Type)
	assert.Equal(t, map[string]any{"job": 7.0, "tags": []any{"a"}}, got[0].Data)
	mu.Unlock()

	for _, bad := range []*proto.Event{
		{Type: "GO", Payload: []byte(`[1,2]`)},
		{Type: "GO", Payload: []byte(`{"type": "X"}`)},
		{Type: "", Payload: nil},
	} {
		res := h.request(t, bad)
		e, ok := res.(*proto.Error)
		require.True(t, ok, "bad event %v answered with *proto.Error, got %T", bad, res)
		assert.Equal(t, proto.ErrorCode_ERROR_CODE_BAD_EVENT, e.Code)
		assert.Equal(t, "m1", e.MachineId)
	}
	res := h.request(t, Event{})
	_, ok = res.(*proto.Error)
	assert.True(t, ok, "a local event without type is refused too")
	assert.Equal(t, uint64(4), h.stats.BadEvents.Load())
	mu.Lock()
	assert.Len(t, got, 1, "refused events never reach the interpreter")
	mu.Unlock()
}

func TestMachineActorEffectsInOrderBeforeReply(t *testing.T) {
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		return s, []Effect{
			{Kind: EffectSend, To: "b", Event: Event{Type: "X"}},
			{Kind: EffectLog, Message: "hello"},
			{Kind: EffectSend, To: "nowhere", Event: Event{Type: "LOST"}},
			{Kind: EffectSend, To: "c", Event: Event{Type: "Y"}},
		}
	}}
	var logBuf syncBuffer
	h := newHarnessWithLogger(t, sc, slog.New(slog.NewTextHandler(&logBuf, nil)))
	h.request(t, Event{Type: "GO"})
	assert.Contains(t, logBuf.String(), "msg=hello machine=m1", "EffectLog goes to the logger, tagged with the machine")
	assert.Contains(t, logBuf.String(), "send failed", "a refused send is logged")
	// The reply comes after the effects were applied.
	assert.Equal(t, []string{"m1>b:X", "m1>c:Y"}, h.router.got())
	assert.Equal(t, uint64(1), h.stats.SendErrors.Load(), "a refused send is counted, not silent")
}

func TestMachineActorTimers(t *testing.T) {
	timerEv := Event{Type: "xstate.after.30.m.a"}
	sc := &scripted{}
	sc.start = []Effect{
		{Kind: EffectStartTimer, TimerID: "t1", Delay: 30 * time.Millisecond, Event: timerEv},
		{Kind: EffectStartTimer, TimerID: "t2", Delay: 30 * time.Millisecond, Event: Event{Type: "T2"}},
		{Kind: EffectStartTimer, TimerID: "t3", Delay: 10 * time.Millisecond, Event: Event{Type: "T3-old"}},
		// Restarting t3 supersedes the first one: only T3-new may fire.
		{Kind: EffectStartTimer, TimerID: "t3", Delay: 20 * time.Millisecond, Event: Event{Type: "T3-new"}},
		{Kind: EffectCancelTimer, TimerID: "t2"},
		{Kind: EffectCancelTimer, TimerID: "unknown"}, // harmless
	}
	h := newHarness(t, sc, true)
	require.Eventually(t, func() bool { return len(sc.seen()) == 2 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(60 * time.Millisecond) // give a wrongly live timer the chance to fire
	assert.ElementsMatch(t, []string{"T3-new", timerEv.Type}, sc.seen(), "timers feed their event back; cancelled ones never do")
	assert.Equal(t, uint64(2), h.stats.TimersFired.Load())
}

func TestMachineActorStaleTimerIgnored(t *testing.T) {
	// A firing already queued when its timer is cancelled must be ignored:
	// simulate the race by delivering the scheduler's message by hand.
	sc := &scripted{}
	sc.start = []Effect{{Kind: EffectStartTimer, TimerID: "t", Delay: time.Hour, Event: Event{Type: "LATE"}}}
	h := newHarness(t, sc, true)
	h.request(t, &proto.GetSnapshot{}) // started
	h.system.Root.Send(h.pid, &maTimerFired{id: "t", gen: 999, ev: Event{Type: "LATE"}})
	h.system.Root.Send(h.pid, &maTimerFired{id: "gone", gen: 1, ev: Event{Type: "LATE"}})
	h.system.Root.Send(h.pid, &maDelayedSend{seq: 12345, to: "b", ev: Event{Type: "LATE"}})
	h.request(t, &proto.GetSnapshot{})
	assert.Empty(t, sc.seen())
	assert.Empty(t, h.router.got())
	assert.Equal(t, uint64(3), h.stats.StaleTimers.Load())
}

func TestMachineActorDelayedSend(t *testing.T) {
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		if ev.Type != "GO" {
			return s, nil
		}
		return s, []Effect{
			{Kind: EffectSend, To: "b", Event: Event{Type: "LATER"}, Delay: 150 * time.Millisecond},
			{Kind: EffectSend, To: "b", Event: Event{Type: "NOW"}},
		}
	}}
	h := newHarness(t, sc, true)
	t0 := time.Now()
	h.request(t, Event{Type: "GO"})
	assert.Equal(t, []string{"m1>b:NOW"}, h.router.got(), "the delayed send waits")
	require.Eventually(t, func() bool { return len(h.router.got()) == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, "m1>b:LATER", h.router.got()[1])
	h.router.mu.Lock()
	assert.GreaterOrEqual(t, h.router.at[1].Sub(t0), 150*time.Millisecond)
	h.router.mu.Unlock()
}

func TestMachineActorStopCancelsTimersAndSends(t *testing.T) {
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		return s, []Effect{
			{Kind: EffectSend, To: "b", Event: Event{Type: "LATER"}, Delay: 200 * time.Millisecond},
			{Kind: EffectStartTimer, TimerID: "t", Delay: 200 * time.Millisecond, Event: Event{Type: "TICK"}},
		}
	}}
	h := newHarness(t, sc, true)
	h.request(t, Event{Type: "GO"})
	require.NoError(t, h.system.Root.StopFuture(h.pid).Wait())
	time.Sleep(300 * time.Millisecond)
	assert.Empty(t, h.router.got(), "no delayed send after stop")
	assert.Equal(t, []string{"GO"}, sc.seen(), "no timer after stop")
}

func TestMachineActorWithoutRouter(t *testing.T) {
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		if ev.Type == "GO" {
			return s, []Effect{
				{Kind: EffectSend, To: "m1", Event: Event{Type: "SELF"}},
				{Kind: EffectSend, To: "other", Event: Event{Type: "X"}},
			}
		}
		return s, nil
	}}
	h := newHarness(t, sc, false)
	h.request(t, Event{Type: "GO"})
	require.Eventually(t, func() bool { return len(sc.seen()) == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, []string{"GO", "SELF"}, sc.seen(), "a send to itself works without a router")
	assert.Equal(t, uint64(1), h.stats.SendErrors.Load())
}

func TestMachineActorPanicBecomesErrorStatus(t *testing.T) {
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		if ev.Type == "BOOM" {
			panic("kaboom")
		}
		n := s.Context["n"].(int)
		return Snapshot{Status: s.Status, Error: s.Error, Context: Context{"n": n + 1}}, nil
	}}
	h := newHarness(t, sc, true)
	h.request(t, Event{Type: "OK"})
	r := h.request(t, Event{Type: "BOOM"}).(*Reply)
	assert.Equal(t, StatusError, r.Snapshot.Status)
	assert.Contains(t, r.Snapshot.Error, "kaboom")
	assert.Contains(t, r.Snapshot.Error, "BOOM")
	assert.Equal(t, 1, r.Snapshot.Context["n"], "the snapshot from before the event is kept")
	assert.Equal(t, uint64(1), h.stats.Panics.Load())

	// The actor (and the process) is still there and answers.
	r = h.request(t, &proto.GetSnapshot{}).(*Reply)
	assert.Equal(t, StatusError, r.Snapshot.Status)
	pubs := h.published()
	assert.Equal(t, StatusError, pubs[len(pubs)-1].Snapshot.Status, "the error state is published")
}

func TestEventWireForm(t *testing.T) {
	tests := []struct {
		name    string
		ev      Event
		payload string
		wantErr bool
	}{
		{name: "no data", ev: Event{Type: "GO"}},
		{name: "data", ev: Event{Type: "GO", Data: map[string]any{"job": 7.0, "s": "<a&b>"}}, payload: `{"job":7,"s":"<a&b>"}`},
		{name: "empty type", ev: Event{}, wantErr: true},
		{name: "type key in data", ev: Event{Type: "GO", Data: map[string]any{"type": "X"}}, wantErr: true},
		{name: "unencodable", ev: Event{Type: "GO", Data: map[string]any{"f": func() {}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pm, err := tt.ev.WireMessage()
			if tt.wantErr {
				require.ErrorIs(t, err, ErrBadEvent)
				return
			}
			require.NoError(t, err)
			pe := pm.(*proto.Event)
			assert.Equal(t, tt.ev.Type, pe.Type)
			if tt.payload == "" {
				assert.Empty(t, pe.Payload)
			} else {
				assert.Equal(t, tt.payload, string(pe.Payload))
			}
			back, err := EventFromWire(pe)
			require.NoError(t, err)
			assert.Equal(t, tt.ev, back)
		})
	}
}

func TestEventFromWireErrors(t *testing.T) {
	for _, pe := range []*proto.Event{
		nil,
		{Type: ""},
		{Type: "A", Payload: []byte(`"str"`)},
		{Type: "A", Payload: []byte(`{`)},
		{Type: "A", Payload: []byte(`{"type":1}`)},
	} {
		_, err := EventFromWire(pe)
		require.ErrorIs(t, err, ErrBadEvent, "%v", pe)
	}
	ev, err := EventFromWire(&proto.Event{Type: "A", Payload: []byte(`null`)})
	require.NoError(t, err)
	assert.Nil(t, ev.Data)
	ev, err = EventFromWire(&proto.Event{Type: "A", Payload: []byte(`{}`)})
	require.NoError(t, err)
	assert.Nil(t, ev.Data, "an empty object is no data")
}

// TestInternalSubscribers pins how many EventStream subscriptions a fresh
// proto.actor system makes for itself: the machine actor skips publishing
// while there are no more than that. If a proto.actor upgrade changes the
// number, this fails instead of StateChanged events silently going missing.
func TestInternalSubscribers(t *testing.T) {
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quiet))
	defer system.Shutdown()
	assert.Equal(t, int32(internalSubscribers), system.EventStream.Length())
}

func TestMachineActorPublishesOnlyToListeners(t *testing.T) {
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quiet))
	defer system.Shutdown()
	pid := system.Root.Spawn(machineProps("m1", func() stepper { return &scripted{} }, machineConfig{}))
	_, err := system.Root.RequestFuture(pid, Event{Type: "A"}, 5*time.Second).Result()
	require.NoError(t, err)

	var mu sync.Mutex
	var got []string
	sub := system.EventStream.Subscribe(func(evt any) {
		if sc, ok := evt.(*StateChanged); ok {
			mu.Lock()
			got = append(got, sc.Event.Type)
			mu.Unlock()
		}
	})
	defer system.EventStream.Unsubscribe(sub)
	_, err = system.Root.RequestFuture(pid, Event{Type: "B"}, 5*time.Second).Result()
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"B"}, got, "a subscriber that arrives later gets every later change")
}

// TestMachineActorStepsLikeStep: the machine actor's fast path (the
// snapshot stepped in place, the event type's id kept while the type does
// not change) answers every request with the snapshot Interpreter.Step
// gives for the same events: types that repeat, alternate, are unknown to
// the machine, arrive as *proto.Event or Event, with data, and after the
// machine is done.
func TestMachineActorStepsLikeStep(t *testing.T) {
	m, err := LoadJSON([]byte(`{"id": "t", "initial": "a", "context": {"n": 0}, "states": {
		"a": {"on": {"T": "b", "N": {"actions": {"type": "xorc.increment", "params": {"key": "n"}}}}},
		"b": {"on": {"T": "a", "U": "c", "N": {"actions": {"type": "xorc.increment", "params": {"key": "n", "by": 10}}}}},
		"c": {"on": {"F": "done", "T": "a"}},
		"done": {"type": "final"}}}`), nil)
	require.NoError(t, err)
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quiet))
	defer system.Shutdown()
	pid := system.Root.Spawn(MachineProps("m1", m))
	ref := m.NewInterpreter()
	want, _ := ref.Start()

	// More than stepCacheAfter events first, so that the rest also runs
	// through the machine's step cache.
	var types []string
	warm := 2 * stepCacheAfter
	warm += (10 - warm%10) % 10 // whole pairs of rounds of five: back in a
	for i := range warm {
		types = append(types, []string{"T", "T", "X", "T", "N"}[i%5])
	}
	types = append(types, "T", "T", "N", "N", "T", "N", "X", "X", "T", "U", "N", "T", "U", "Y", "F", "T", "N")
	for i, typ := range types {
		var msg any = Event{Type: typ}
		switch i % 3 {
		case 1:
			msg = &proto.Event{Type: typ}
		case 2:
			msg = &proto.Event{Type: typ, Payload: []byte(`{"k": 1}`)}
		}
		ev, err := EventFromWire(&proto.Event{Type: typ})
		require.NoError(t, err)
		if i%3 == 2 {
			ev.Data = map[string]any{"k": 1.0}
		}
		want, _ = ref.Step(want, ev)
		res, err := system.Root.RequestFuture(pid, msg, 5*time.Second).Result()
		require.NoError(t, err)
		got := res.(*Reply).Snapshot
		require.Equal(t, want.Value(), got.Value(), "event %d (%s)", i, typ)
		require.Equal(t, want.Status, got.Status, "event %d (%s)", i, typ)
		require.Equal(t, want.Context, got.Context, "event %d (%s)", i, typ)
	}
	assert.Equal(t, StatusDone, want.Status, "the sequence reached the final state")
	assert.Positive(t, StepCacheStats(m), "the step cache was on")
}

// An eventRun is handled as its n events, one macrostep and one published
// StateChanged each; a run of an undecodable event counts n bad events.
func TestMachineActorEventRun(t *testing.T) {
	var got []string
	var mu sync.Mutex
	sc := &scripted{step: func(s Snapshot, ev Event) (Snapshot, []Effect) {
		mu.Lock()
		got = append(got, ev.Type)
		mu.Unlock()
		return s, nil
	}}
	h := newHarness(t, sc, true)
	h.system.Root.Send(h.pid, &eventRun{ev: &proto.Event{Type: "A"}, n: 5})
	h.system.Root.Send(h.pid, &proto.Event{Type: "B"})
	h.system.Root.Send(h.pid, &eventRun{ev: &proto.Event{Type: "A", Payload: []byte(`[1]`)}, n: 2})
	_, ok := h.request(t, &proto.GetSnapshot{}).(*Reply)
	require.True(t, ok)
	mu.Lock()
	assert.Equal(t, []string{"A", "A", "A", "A", "A", "B"}, got)
	mu.Unlock()
	assert.Equal(t, uint64(6), h.stats.Events.Load())
	assert.Equal(t, uint64(2), h.stats.BadEvents.Load())
	assert.Len(t, h.published(), 7, "init and one per event")
}
