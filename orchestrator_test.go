package xorc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
)

const toggleChart = `{"id": "toggle", "initial": "a", "context": {"count": 0}, "states": {
  "a": {"on": {"T": {"target": "b", "actions": [{"type": "xorc.increment"}]}}},
  "b": {"on": {"T": {"target": "a", "actions": [{"type": "xorc.increment"}]}}}}}`

func quietLogger(*pactor.ActorSystem) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newSystem(t *testing.T) *pactor.ActorSystem {
	t.Helper()
	s := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	t.Cleanup(s.Shutdown)
	return s
}

func newOrc(t *testing.T, cfg Config, opts ...Option) *Orchestrator {
	t.Helper()
	o, err := New(newSystem(t), cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.Close() })
	return o
}

func load(t *testing.T, chart string, impl *actor.Implementations) *actor.Machine {
	t.Helper()
	m, err := actor.LoadJSON([]byte(chart), impl)
	require.NoError(t, err)
	return m
}

func TestNewTransportUnavailable(t *testing.T) {
	for _, k := range []TransportKind{Redis, Hybrid} {
		t.Run(k.String(), func(t *testing.T) {
			_, err := New(newSystem(t), Config{Transport: k})
			require.ErrorIs(t, err, ErrTransportUnavailable)
			var tu *TransportUnavailableError
			require.ErrorAs(t, err, &tu)
			assert.Equal(t, k, tu.Transport)
			assert.Equal(t, "transport "+k.String()+" is not built yet", err.Error())
		})
	}
	_, err := New(newSystem(t), Config{Transport: 77})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = New(nil, Config{})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = New(newSystem(t), Config{Name: "a/b"})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestNewDefaults(t *testing.T) {
	o := newOrc(t, Config{})
	assert.Equal(t, InProcess, o.Config().Transport)
	assert.Equal(t, DefaultName, o.Config().Name)
	assert.Equal(t, Duration(DefaultRequestTimeout), o.Config().RequestTimeout)
	assert.NotNil(t, o.System())
}

func TestSpawnErrors(t *testing.T) {
	o := newOrc(t, Config{})
	m := load(t, toggleChart, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		id   string
		m    *actor.Machine
		ctx  context.Context
		want error
	}{
		{"empty ID", "", m, ctx, ErrInvalidMachineID},
		{"65-byte ID", strings.Repeat("x", 65), m, ctx, ErrInvalidMachineID},
		{"non-UTF-8 ID", "bad\xff", m, ctx, ErrInvalidMachineID},
		{"nil machine", "x", nil, ctx, ErrNilMachine},
		{"cancelled", "x", m, cancelled(), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := o.Spawn(tt.ctx, tt.id, tt.m)
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := o.Spawn(ctx, strings.Repeat("x", 64), m)
	require.NoError(t, err, "64 bytes is the limit, not over it")
	_, err = o.Spawn(ctx, "dup", m)
	require.NoError(t, err)
	_, err = o.Spawn(ctx, "dup", m)
	require.ErrorIs(t, err, ErrMachineExists)
	assert.Contains(t, err.Error(), `"dup"`)
	assert.Empty(t, o.Stats().Panics)
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestSpawnSendRequestLookupStop(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	pid, err := o.Spawn(ctx, "t1", load(t, toggleChart, nil))
	require.NoError(t, err)

	got, err := o.Lookup("t1")
	require.NoError(t, err)
	assert.True(t, pid.Equal(got))
	assert.Equal(t, []string{"t1"}, o.Machines())

	require.NoError(t, o.Send(ctx, "t1", actor.Event{Type: "T"}))
	s, err := o.Request(ctx, "t1", actor.Event{Type: "T"})
	require.NoError(t, err)
	assert.Equal(t, "t1", s.MachineID)
	assert.Equal(t, "a", s.Value, "two toggles: back to a")
	assert.True(t, s.Matches("a"))
	assert.False(t, s.Matches("b"))
	assert.EqualValues(t, 2, s.Context["count"])
	assert.Equal(t, actor.StatusActive, s.Status)
	assert.False(t, s.Done())

	s, err = o.Snapshot(ctx, "t1")
	require.NoError(t, err)
	assert.EqualValues(t, 2, s.Context["count"], "Snapshot sends no event")
	assert.Equal(t, uint64(2), o.Stats().Events)

	require.NoError(t, o.Stop(ctx, "t1"))
	assert.Equal(t, uint64(2), o.Stats().Events, "a stopped machine's counters are kept")
	_, err = o.Lookup("t1")
	require.ErrorIs(t, err, ErrUnknownMachine)
	require.ErrorIs(t, o.Send(ctx, "t1", actor.Event{Type: "T"}), ErrUnknownMachine)
	_, err = o.Request(ctx, "t1", actor.Event{Type: "T"})
	require.ErrorIs(t, err, ErrUnknownMachine)
	require.ErrorIs(t, o.Stop(ctx, "t1"), ErrUnknownMachine)
	assert.Empty(t, o.Machines())

	_, err = o.Spawn(ctx, "t1", load(t, toggleChart, nil))
	require.NoError(t, err, "a stopped ID can be spawned again")
	s, err = o.Snapshot(ctx, "t1")
	require.NoError(t, err)
	assert.EqualValues(t, 0, s.Context["count"], "a fresh machine")
}

func TestEventAndIDErrors(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	_, err := o.Spawn(ctx, "m", load(t, toggleChart, nil))
	require.NoError(t, err)

	require.ErrorIs(t, o.Send(ctx, "m", actor.Event{}), ErrEmptyEventType)
	_, err = o.Request(ctx, "m", actor.Event{})
	require.ErrorIs(t, err, ErrEmptyEventType)

	for _, id := range []string{"nope", ""} {
		want := ErrUnknownMachine
		if id == "" {
			want = ErrInvalidMachineID
		}
		require.ErrorIs(t, o.Send(ctx, id, actor.Event{Type: "T"}), want)
		_, err = o.Request(ctx, id, actor.Event{Type: "T"})
		require.ErrorIs(t, err, want)
		_, err = o.Snapshot(ctx, id)
		require.ErrorIs(t, err, want)
		_, err = o.Lookup(id)
		require.ErrorIs(t, err, want)
		require.ErrorIs(t, o.Stop(ctx, id), want)
	}
	err = o.Send(ctx, "nope", actor.Event{Type: "T"})
	assert.Contains(t, err.Error(), `"nope"`, "the error names the machine")
}

// slowChart's SLOW event runs an action that blocks until released.
const slowChart = `{"id": "slow", "initial": "idle", "states": {
  "idle": {"on": {"SLOW": {"actions": ["block"]}, "FAST": {}}}}}`

// slowImpl's block action says when it starts and waits for release.
func slowImpl(started chan<- struct{}, release <-chan struct{}) *actor.Implementations {
	return &actor.Implementations{Actions: map[string]actor.ActionFunc{
		"block": func(*actor.ActionArgs) error {
			select {
			case started <- struct{}{}:
			default:
			}
			<-release
			return nil
		},
	}}
}

func TestRequestDeadlines(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 1)
	o := newOrc(t, Config{RequestTimeout: Duration(30 * time.Millisecond)})
	bg := context.Background()
	_, err := o.Spawn(bg, "slow", load(t, slowChart, slowImpl(started, release)))
	require.NoError(t, err)
	defer close(release)
	require.NoError(t, o.Send(bg, "slow", actor.Event{Type: "SLOW"})) // the machine is now busy

	ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	defer cancel()
	_, err = o.Request(ctx, "slow", actor.Event{Type: "FAST"})
	require.ErrorIs(t, err, context.DeadlineExceeded, "ctx's deadline")

	_, err = o.Request(bg, "slow", actor.Event{Type: "FAST"})
	require.ErrorIs(t, err, context.DeadlineExceeded, "Config.RequestTimeout when ctx has none")
	assert.Contains(t, err.Error(), "30ms")

	// Cancellation without a deadline, on an orchestrator whose own timeout
	// cannot win the race.
	o2 := newOrc(t, Config{RequestTimeout: Duration(time.Minute)})
	_, err = o2.Spawn(bg, "slow", load(t, slowChart, slowImpl(started, release)))
	require.NoError(t, err)
	require.NoError(t, o2.Send(bg, "slow", actor.Event{Type: "SLOW"}))
	ctx, cancel = context.WithCancel(bg)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	_, err = o2.Snapshot(ctx, "slow")
	require.ErrorIs(t, err, context.Canceled, "cancellation without a deadline")
}

func TestClose(t *testing.T) {
	system := newSystem(t)
	o, err := New(system, Config{})
	require.NoError(t, err)
	ctx := context.Background()
	pid, err := o.Spawn(ctx, "m", load(t, toggleChart, nil))
	require.NoError(t, err)
	require.NoError(t, o.Close())
	require.NoError(t, o.Close(), "idempotent")

	_, ok := system.ProcessRegistry.GetLocal(pid.Id)
	assert.False(t, ok, "the machine's actor was stopped")
	_, err = o.Spawn(ctx, "n", load(t, toggleChart, nil))
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, o.Send(ctx, "m", actor.Event{Type: "T"}), ErrClosed)
	_, err = o.Request(ctx, "m", actor.Event{Type: "T"})
	require.ErrorIs(t, err, ErrClosed)
	_, err = o.Lookup("m")
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, o.Stop(ctx, "m"), ErrClosed)
	assert.Empty(t, o.Machines())
}

func TestStopHonoursContext(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 1)
	o := newOrc(t, Config{})
	bg := context.Background()
	_, err := o.Spawn(bg, "slow", load(t, slowChart, slowImpl(started, release)))
	require.NoError(t, err)
	require.NoError(t, o.Send(bg, "slow", actor.Event{Type: "SLOW"}))
	<-started // the action now blocks the machine

	ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	defer cancel()
	err = o.Stop(ctx, "slow")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the actor cannot stop while its action blocks")
	close(release)
	_, err = o.Lookup("slow")
	require.ErrorIs(t, err, ErrUnknownMachine, "unregistered all the same")
}

func TestStateChangedOnEventStream(t *testing.T) {
	o := newOrc(t, Config{})
	var mu sync.Mutex
	var seen []string
	sub := o.System().EventStream.Subscribe(func(evt any) {
		if sc, ok := evt.(*actor.StateChanged); ok {
			mu.Lock()
			seen = append(seen, sc.MachineID+":"+sc.Event.Type+"->"+sc.Snapshot.Value().(string))
			mu.Unlock()
		}
	})
	defer o.System().EventStream.Unsubscribe(sub)
	ctx := context.Background()
	_, err := o.Spawn(ctx, "t", load(t, toggleChart, nil))
	require.NoError(t, err)
	_, err = o.Request(ctx, "t", actor.Event{Type: "T"})
	require.NoError(t, err)
	_, err = o.Request(ctx, "t", actor.Event{Type: "NOPE"})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"t:xstate.init->a", "t:T->b", "t:NOPE->b"}, seen)
}

const panicChart = `{"id": "p", "initial": "ok", "context": {"n": 1}, "states": {
  "ok": {"on": {"BOOM": {"target": "broken", "actions": ["explode"]}, "INC": {"actions": ["xorc.increment"]}}},
  "broken": {}}}`

func TestPanickingActionPutsMachineInError(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	impl := &actor.Implementations{Actions: map[string]actor.ActionFunc{
		"explode": func(*actor.ActionArgs) error { panic("kaboom") },
	}}
	_, err := o.Spawn(ctx, "p", load(t, panicChart, impl))
	require.NoError(t, err)
	s, err := o.Request(ctx, "p", actor.Event{Type: "BOOM"})
	require.NoError(t, err, "the request is answered, the process is fine")
	assert.Equal(t, actor.StatusError, s.Status)
	assert.Contains(t, s.Error, "kaboom")
	assert.Equal(t, "ok", s.Value, "the snapshot from before the event")

	s, err = o.Request(ctx, "p", actor.Event{Type: "INC"})
	require.NoError(t, err)
	assert.Equal(t, actor.StatusError, s.Status, "a machine in error ignores events")
	assert.EqualValues(t, 1, s.Context["n"])
}

// TestRequestFromPlainActor: plain proto.actor code can request a machine by
// PID and gets a *actor.Reply.
func TestRequestFromPlainActor(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	_, err := o.Spawn(ctx, "t", load(t, toggleChart, nil))
	require.NoError(t, err)
	pid, err := o.Lookup("t")
	require.NoError(t, err)

	got := make(chan any, 1)
	asker := o.System().Root.Spawn(pactor.PropsFromFunc(func(c pactor.Context) {
		switch m := c.Message().(type) {
		case string:
			c.Request(pid, actor.Event{Type: m})
		case *actor.Reply:
			got <- m
		}
	}))
	o.System().Root.Send(asker, "T")
	select {
	case m := <-got:
		r := m.(*actor.Reply)
		assert.Equal(t, "t", r.MachineID)
		assert.Equal(t, "b", r.Snapshot.Value())
	case <-time.After(5 * time.Second):
		t.Fatal("no reply")
	}
}

func TestRouterErrorsAreCounted(t *testing.T) {
	o := newOrc(t, Config{})
	ctx := context.Background()
	chart := `{"id": "s", "initial": "a", "states": {"a": {"on": {"GO": {"actions": [
	  {"type": "xorc.send", "params": {"to": "ghost", "event": "HELLO"}}]}}}}}`
	_, err := o.Spawn(ctx, "s", load(t, chart, nil))
	require.NoError(t, err)
	_, err = o.Request(ctx, "s", actor.Event{Type: "GO"})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), o.Stats().SendErrors, "a send to an unknown machine is counted")
}

func TestErrorsIdentity(t *testing.T) {
	assert.True(t, errors.Is(ErrInvalidMachineID, ErrInvalidMachineID))
	err := &TransportUnavailableError{Transport: Redis, Reason: "not built yet"}
	assert.ErrorIs(t, err, ErrTransportUnavailable)
	assert.NotErrorIs(t, err, ErrInvalidConfig)
}
