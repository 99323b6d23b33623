package actor

// The machine actor: a compiled Machine run as a proto.actor actor. This file
// (and machine_actor_*.go) is the only part of package actor that knows about
// proto.actor; the interpreter stays pure.

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/xorc-dev/xorc/proto"
)

// Router delivers an event from one machine to another by machine ID
// (xorc.send, ActionArgs.Send). The facade (package xorc) implements it, so
// that this package never imports a transport. ctx carries no deadline: the
// router applies its own default when the target's transport can block.
type Router interface {
	Send(ctx context.Context, from, to string, ev Event) error
}

// StateChanged is published on the actor system's EventStream after every
// macrostep of a machine actor: the start (Event.Type "xstate.init") and each
// event it processes, including events that change nothing. (While nothing but
// proto.actor itself subscribes to the EventStream, nothing is published.) It is published
// before the effects of that macrostep are applied, so the publications of
// machines that react to each other come out in causal order.
type StateChanged struct {
	MachineID string
	Event     Event
	Snapshot  Snapshot
}

// Reply is a machine actor's answer to a request (a message that came with a
// sender, e.g. from RequestFuture): its snapshot after processing the event.
// Across processes it travels as a *proto.Snapshot.
type Reply struct {
	MachineID string
	Snapshot  Snapshot
}

// MachineStats counts what a machine actor did. One MachineStats may be shared
// by many actors (the facade shares one per orchestrator). Safe for concurrent use.
type MachineStats struct {
	Events      atomic.Uint64 // events processed (macrosteps after start)
	SendErrors  atomic.Uint64 // EffectSend the router refused (each also logged)
	TimersFired atomic.Uint64 // timers that fired and were fed back
	StaleTimers atomic.Uint64 // timer and delayed-send firings ignored (cancelled or superseded)
	BadEvents   atomic.Uint64 // undecodable or typeless events refused
	Panics      atomic.Uint64 // panics recovered; the machine went to StatusError
}

// MachineOption configures MachineProps.
type MachineOption func(*machineConfig)

type machineConfig struct {
	router     Router
	logger     *slog.Logger
	stats      *MachineStats
	dispatcher pactor.Dispatcher
	mailbox    pactor.MailboxProducer
}

// WithRouter sets the router for the machine's sends. Without one, sends to
// other machines fail (logged and counted); sends to itself still work.
func WithRouter(r Router) MachineOption { return func(c *machineConfig) { c.router = r } }

// WithLogger sets the logger (default: the actor system's).
func WithLogger(l *slog.Logger) MachineOption { return func(c *machineConfig) { c.logger = l } }

// WithStats makes the actor count into s.
func WithStats(s *MachineStats) MachineOption { return func(c *machineConfig) { c.stats = s } }

// WithDispatcher sets the proto.actor dispatcher of the machine's mailbox
// (default: a PoolDispatcher shared by all machine actors).
func WithDispatcher(d pactor.Dispatcher) MachineOption {
	return func(c *machineConfig) { c.dispatcher = d }
}

// WithMailbox sets the proto.actor mailbox of the machine (default:
// BatchMailbox).
func WithMailbox(p pactor.MailboxProducer) MachineOption {
	return func(c *machineConfig) { c.mailbox = p }
}

// MachineProps returns the Props of an actor that runs m as the machine
// machineID. The actor accepts Event, *Event and *proto.Event (from the wire)
// and *proto.GetSnapshot; a message with a sender (a request) is answered with
// a *Reply once the event is processed and its effects applied, an
// undecodable one with a *proto.Error.
func MachineProps(machineID string, m *Machine, opts ...MachineOption) *pactor.Props {
	cfg := machineConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	return machineProps(machineID, func() stepper { return m.NewInterpreter() }, cfg)
}

// stepper is the pure core the actor drives: an *Interpreter (tests use a
// scripted one to exercise the effect handling on its own).
type stepper interface {
	Start() (Snapshot, []Effect)
	Step(s Snapshot, ev Event) (Snapshot, []Effect)
}

// inPlaceStepper is the actor's fast path into an *Interpreter: the
// snapshot is stepped where the actor keeps it, and the event type's id is
// looked up only when the type changes.
type inPlaceStepper interface {
	stepInPlace(s *Snapshot, ev Event, id int32) []Effect
	eventID(t string) int32
}

var _ inPlaceStepper = (*Interpreter)(nil)

func machineProps(machineID string, newStepper func() stepper, cfg machineConfig) *pactor.Props {
	if cfg.stats == nil {
		cfg.stats = &MachineStats{}
	}
	if cfg.dispatcher == nil {
		cfg.dispatcher = defaultDispatcher
	}
	if cfg.mailbox == nil {
		cfg.mailbox = machineMailbox
	}
	return pactor.PropsFromProducer(func() pactor.Actor {
		return &machineActor{id: machineID, newStepper: newStepper, cfg: cfg}
	}, pactor.WithDispatcher(cfg.dispatcher), pactor.WithMailbox(cfg.mailbox))
}

type machineActor struct {
	id         string
	newStepper func() stepper
	cfg        machineConfig

	it   stepper
	fast inPlaceStepper // it, when it has the fast path
	snap Snapshot
	// The id (fast.eventID) of the type of the last event.
	lastType string
	lastID   int32
	system   *pactor.ActorSystem
	self     *pactor.PID
	log      *slog.Logger
	sched    *scheduler.TimerScheduler
	sendCtx  context.Context
	stop     context.CancelFunc

	// Timers by TimerID. gen tells a live firing from a stale one: a timer
	// cancelled (or restarted) after its message was queued must not fire.
	timers map[string]maTimer
	gen    uint64
	// Delayed sends waiting for their time, by sequence number.
	sends map[uint64]scheduler.CancelFunc

	// The EventStream check (listened): the machine's mailbox, once it
	// announced itself, the mailbox batch the check was made in and its result.
	mb        *batchMailbox
	checked   uint64
	listening bool
}

type maTimer struct {
	gen    uint64
	cancel scheduler.CancelFunc
}

// maTimerFired is the scheduler's message for an EffectStartTimer.
type maTimerFired struct {
	id  string
	gen uint64
	ev  Event
}

// maDelayedSend is the scheduler's message for an EffectSend with a Delay.
type maDelayedSend struct {
	seq uint64
	to  string
	ev  Event
}

// Receive implements pactor.Actor.
func (a *machineActor) Receive(ctx pactor.Context) {
	switch msg := ctx.Message().(type) {
	case Event:
		a.handle(ctx, msg)
	case *Event:
		a.handle(ctx, *msg)
	case *proto.Event:
		ev, err := EventFromWire(msg)
		if err != nil {
			a.badEvent(ctx, err)
			return
		}
		a.handle(ctx, ev)
	case *eventRun:
		a.handleRun(ctx, msg)
	case *maTimerFired:
		t, ok := a.timers[msg.id]
		if !ok || t.gen != msg.gen {
			a.cfg.stats.StaleTimers.Add(1)
			return
		}
		delete(a.timers, msg.id)
		a.cfg.stats.TimersFired.Add(1)
		a.handle(ctx, msg.ev)
	case *maDelayedSend:
		if _, ok := a.sends[msg.seq]; !ok {
			a.cfg.stats.StaleTimers.Add(1)
			return
		}
		delete(a.sends, msg.seq)
		a.route(msg.to, msg.ev)
	case *proto.GetSnapshot:
		a.respond(ctx)
	case *mailboxAnnounce:
		a.mb = msg.mb
	case *pactor.Started:
		a.start(ctx)
	case *pactor.Stopping:
		a.shutdown()
	}
}

func (a *machineActor) start(ctx pactor.Context) {
	a.system = ctx.ActorSystem()
	a.self = ctx.Self()
	a.log = a.cfg.logger
	if a.log == nil {
		a.log = a.system.Logger()
	}
	a.log = a.log.With(slog.String("machine", a.id))
	a.sched = scheduler.NewTimerScheduler(a.system.Root)
	a.sendCtx, a.stop = context.WithCancel(context.Background())
	a.timers = make(map[string]maTimer)
	a.sends = make(map[uint64]scheduler.CancelFunc)
	a.it = a.newStepper()
	a.fast, _ = a.it.(inPlaceStepper)

	init := Event{Type: "xstate.init"}
	effects := a.step(&init, true)
	if a.listened() {
		a.publish(init)
	}
	a.apply(effects)
}

// handle runs one macrostep for ev, publishes the new snapshot, applies the
// effects and answers a request.
func (a *machineActor) handle(ctx pactor.Context, ev Event) {
	if ev.Type == "" {
		a.badEvent(ctx, fmt.Errorf("machine %q: event without type", a.id))
		return
	}
	a.cfg.stats.Events.Add(1)
	effects := a.step(&ev, false)
	if a.listened() {
		a.publish(ev)
	}
	if len(effects) > 0 {
		a.apply(effects)
	}
	if ctx.Sender() != nil {
		a.respond(ctx)
	}
}

// handleRun handles the events of r, one macrostep each, as if each had
// been its own message (they have no sender: a run holds only one-way
// events). A system message posted meanwhile waits for the end of the run,
// as it waits for the end of one message; the run is at most one decoded
// batch's stretch of the same event.
func (a *machineActor) handleRun(ctx pactor.Context, r *eventRun) {
	ev, err := EventFromWire(r.ev)
	for range r.n {
		if err != nil {
			a.badEvent(ctx, err)
			continue
		}
		a.handle(ctx, ev)
	}
}

// step runs the interpreter's start (start) or a macrostep for ev. A panic
// becomes StatusError, keeping the snapshot from before the event (the
// interpreter already does so for actions; this is the backstop for anything
// else): a.snap is only assigned when the interpreter returns.
func (a *machineActor) step(ev *Event, start bool) []Effect {
	defer a.recoverStep(ev)
	var effects []Effect
	switch {
	case start:
		a.snap, effects = a.it.Start()
	case a.fast != nil:
		if ev.Type != a.lastType {
			a.lastType, a.lastID = ev.Type, a.fast.eventID(ev.Type)
		}
		effects = a.fast.stepInPlace(&a.snap, *ev, a.lastID)
	default:
		a.snap, effects = a.it.Step(a.snap, *ev)
	}
	return effects
}

// recoverStep is step's deferred backstop.
func (a *machineActor) recoverStep(ev *Event) {
	if r := recover(); r != nil {
		a.cfg.stats.Panics.Add(1)
		a.snap.Status = StatusError
		a.snap.Error = fmt.Sprintf("machine %q: panic while processing %q: %v", a.id, ev.Type, r)
		a.log.Error("machine panicked", slog.String("event", ev.Type), slog.Any("panic", r))
	}
}

// internalSubscribers is how many EventStream subscriptions proto.actor makes
// for itself in NewActorSystem (supervision and dead-letter logging); see
// TestInternalSubscribers, which pins it for the proto.actor version we use.
const internalSubscribers = 3

// publish publishes the macrostep's StateChanged on the EventStream.
func (a *machineActor) publish(ev Event) {
	a.system.EventStream.Publish(&StateChanged{MachineID: a.id, Event: ev, Snapshot: a.snap})
}

// listened reports whether anyone but proto.actor itself subscribes to the
// EventStream. Publishing to nobody is unobservable, and the event costs an
// allocation and two locks per macrostep, so it is skipped then.
//
// Reading the subscriber count takes the EventStream's lock, shared by every
// actor of the system; with the machine's own mailbox (a.mb) it is read once
// per batch of messages the mailbox takes, not once per event. That is
// enough: a subscription that happened before an event was sent happened
// before the batch holding that event was taken.
func (a *machineActor) listened() bool {
	if a.mb != nil {
		if a.mb.batches == a.checked {
			return a.listening
		}
		a.checked = a.mb.batches
	}
	a.listening = a.system.EventStream.Length() > internalSubscribers
	return a.listening
}

func (a *machineActor) respond(ctx pactor.Context) {
	if ctx.Sender() == nil {
		return
	}
	ctx.Respond(&Reply{MachineID: a.id, Snapshot: a.snap})
}

func (a *machineActor) badEvent(ctx pactor.Context, err error) {
	a.cfg.stats.BadEvents.Add(1)
	a.log.Warn("event refused", slog.Any("error", err))
	if ctx.Sender() != nil {
		ctx.Respond(&proto.Error{MachineId: a.id, Code: proto.ErrorCode_ERROR_CODE_BAD_EVENT, Message: err.Error()})
	}
}

// apply carries out effects in the order the interpreter produced them.
func (a *machineActor) apply(effects []Effect) {
	for i := range effects {
		e := &effects[i]
		switch e.Kind {
		case EffectSend:
			if e.Delay > 0 {
				a.gen++
				seq := a.gen
				a.sends[seq] = a.sched.SendOnce(e.Delay, a.self, &maDelayedSend{seq: seq, to: e.To, ev: e.Event})
				continue
			}
			a.route(e.To, e.Event)
		case EffectStartTimer:
			if old, ok := a.timers[e.TimerID]; ok {
				old.cancel()
			}
			a.gen++
			a.timers[e.TimerID] = maTimer{
				gen:    a.gen,
				cancel: a.sched.SendOnce(nonNegative(e.Delay), a.self, &maTimerFired{id: e.TimerID, gen: a.gen, ev: e.Event}),
			}
		case EffectCancelTimer:
			if t, ok := a.timers[e.TimerID]; ok {
				t.cancel()
				delete(a.timers, e.TimerID)
			}
		case EffectLog:
			a.log.Info(e.Message)
		}
	}
}

func nonNegative(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// route sends ev to machine to through the router. Failures are logged and
// counted, never dropped silently.
func (a *machineActor) route(to string, ev Event) {
	var err error
	if a.cfg.router == nil {
		if to == a.id {
			a.system.Root.Send(a.self, ev)
			return
		}
		err = fmt.Errorf("machine %q has no router", a.id)
	} else {
		err = a.cfg.router.Send(a.sendCtx, a.id, to, ev)
	}
	if err != nil {
		a.cfg.stats.SendErrors.Add(1)
		a.log.Error("send failed", slog.String("to", to), slog.String("event", ev.Type), slog.Any("error", err))
	}
}

// shutdown cancels every pending timer and delayed send.
func (a *machineActor) shutdown() {
	for id, t := range a.timers {
		t.cancel()
		delete(a.timers, id)
	}
	for seq, cancel := range a.sends {
		cancel()
		delete(a.sends, seq)
	}
	if a.stop != nil {
		a.stop()
	}
}
