package xorc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	gproto "google.golang.org/protobuf/proto"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/proto"
	"github.com/xorc-dev/xorc/registry"
)

// Option configures New.
type Option func(*options)

type options struct {
	transport Transport
	logger    *slog.Logger
}

// WithTransport makes New use t instead of the transport Config.Transport
// names (for transports built outside this module, and for tests).
func WithTransport(t Transport) Option { return func(o *options) { o.transport = t } }

// WithLogger sets the logger of the orchestrator and its machines (default:
// the actor system's).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Orchestrator spawns statechart machines as proto.actor actors and routes
// events to them by machine ID, in this process and, through its transport,
// in others. It is safe for concurrent use.
type Orchestrator struct {
	system    *pactor.ActorSystem
	root      *pactor.RootContext
	cfg       Config
	transport Transport
	reg       registry.Registry
	gen       generationer  // reg, when it counts its mutations (routes to other processes are then cached)
	routes    routeMaker    // transport, when it makes Routes
	poller    requestPoller // transport, when its requesters read their replies themselves
	awaiter   replyAwaiter  // transport, when its core takes reply PIDs
	log       *slog.Logger
	retired   Stats // counters of machines already stopped (under mu)
	router    router

	mu     sync.Mutex // serialises Spawn, Stop and Close
	local  sync.Map   // machine ID -> *localMachine, machines of this process (read lock-free on the hot path)
	closed atomic.Bool
	seq    atomic.Uint64

	touchStop, touchDone chan struct{} // the last-activity loop, for registries that record it

	rmu    sync.RWMutex
	rcache map[string]*remoteRoute // machine ID -> PID in another process, while the registry's generation holds

	// Direct-mapped caches in front of local and rcache for Send (see
	// routeSlot): a send to a machine sent to recently costs an atomic load
	// and a comparison instead of a map lookup (and, for another process's
	// machine, a miss in local plus a locked one in rcache).
	localSlots  [routeSlots]atomic.Pointer[localMachine]
	remoteSlots [routeSlots]atomic.Pointer[remoteRoute]

	bare [64]atomic.Pointer[bareEvent] // shared messages of events without data sent to other processes (see wireMessage)
}

// localMachine is a machine of this process. Each has its own counters, so
// that machines on different cores do not contend on one cache line.
type localMachine struct {
	id    string
	gone  atomic.Bool // set before it leaves local (Stop, Close): a cached lookup of it then misses
	pid   *pactor.PID
	msgs  *actor.EventMessages // the messages of its events without data, made once
	stats actor.MachineStats
}

// actorIDPrefix prefixes a machine's actor id (PID.Id) in its process, so
// that machine IDs never collide with proto.actor's own names. The registry
// records the machine ID itself as the actor ID (it stores an actor ID equal
// to the machine ID as a flag, so 64-byte machine IDs fit); machinePID adds
// the prefix back.
const actorIDPrefix = "xorc/"

// machinePID is the PID of the actor registered under actorID at address.
func machinePID(address, actorID string) *pactor.PID {
	return pactor.NewPID(address, actorIDPrefix+actorID)
}

// New attaches an orchestrator to system with the transport cfg chooses. Call
// it before spawning actors on system: the transport may set the system's
// address. A transport that is not built yet fails with a
// *TransportUnavailableError (errors.Is ErrTransportUnavailable).
func New(system *pactor.ActorSystem, cfg Config, opts ...Option) (*Orchestrator, error) {
	if system == nil {
		return nil, fmt.Errorf("%w: nil actor system", ErrInvalidConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	t := o.transport
	if t == nil {
		if t, err = newTransport(cfg); err != nil {
			return nil, err
		}
	}
	if err := t.Start(system); err != nil {
		return nil, fmt.Errorf("start transport %s: %w", t.Kind(), err)
	}
	log := o.logger
	if log == nil {
		log = system.Logger()
	}
	orc := &Orchestrator{
		system:    system,
		root:      system.Root,
		cfg:       cfg,
		transport: t,
		reg:       t.Registry(),
		log:       log.With(slog.String("xorc", cfg.Name)),
	}
	orc.router = router{orc}
	orc.gen, _ = orc.reg.(generationer)
	orc.routes, _ = t.(routeMaker)
	orc.poller, _ = t.(requestPoller)
	orc.awaiter, _ = t.(replyAwaiter)
	if tr, ok := orc.reg.(toucher); ok {
		orc.touchStop = make(chan struct{})
		orc.touchDone = make(chan struct{})
		go orc.touchLoop(tr)
	}
	return orc, nil
}

// toucher is a registry that records machines' last activity (the
// shared-memory one: `xorc inspect` shows it).
type toucher interface{ Touch(machineID string) error }

// touchEvery is how often the orchestrator records which of its machines
// processed events since the last look (rather than a registry write per
// event).
const touchEvery = time.Second

func (o *Orchestrator) touchLoop(r toucher) {
	defer close(o.touchDone)
	seen := map[string]uint64{}
	tick := time.NewTicker(touchEvery)
	defer tick.Stop()
	for {
		select {
		case <-o.touchStop:
			return
		case <-tick.C:
		}
		o.local.Range(func(k, v any) bool {
			id, n := k.(string), v.(*localMachine).stats.Events.Load()
			if seen[id] != n {
				seen[id] = n
				_ = r.Touch(id)
			}
			return true
		})
	}
}

// System is the actor system the orchestrator runs on.
func (o *Orchestrator) System() *pactor.ActorSystem { return o.system }

// Config is the configuration in force (defaults filled in).
func (o *Orchestrator) Config() Config { return o.cfg }

// Spawn starts m as the machine machineID in this process and registers it.
// The machine's start macrostep runs asynchronously; its sends go to machines
// registered by then. opts are passed to actor.MachineProps (the router, the
// logger and the stats are the orchestrator's).
func (o *Orchestrator) Spawn(ctx context.Context, machineID string, m *actor.Machine, opts ...actor.MachineOption) (*pactor.PID, error) {
	if err := registry.ValidateID(machineID); err != nil {
		return nil, fmt.Errorf("spawn: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("spawn %q: %w", machineID, ErrNilMachine)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("spawn %q: %w", machineID, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed.Load() {
		return nil, fmt.Errorf("spawn %q: %w", machineID, ErrClosed)
	}
	if _, ok := o.local.Load(machineID); ok {
		return nil, fmt.Errorf("spawn: %w: %q already runs in this process", ErrMachineExists, machineID)
	}
	actorID := actorIDPrefix + machineID
	if err := o.reg.Register(machineID, machineID); err != nil {
		return nil, fmt.Errorf("spawn: %w", err)
	}
	lm := &localMachine{id: machineID, msgs: actor.NewEventMessages(m)}
	all := make([]actor.MachineOption, 0, len(opts)+3)
	all = append(all, opts...)
	all = append(all, actor.WithRouter(o.router), actor.WithLogger(o.log), actor.WithStats(&lm.stats))
	pid, err := o.root.SpawnNamed(actor.MachineProps(machineID, m, all...), actorID)
	if err != nil {
		_ = o.reg.Unregister(machineID)
		return nil, fmt.Errorf("spawn %q: %w", machineID, err)
	}
	lm.pid = pid
	o.local.Store(machineID, lm)
	return pid, nil
}

// Send delivers ev to the machine machineID without waiting for it to be
// processed. A machine of this process gets it at once (no encoding); one of
// another process through the transport, which may block up to ctx's
// deadline and reports failure.
func (o *Orchestrator) Send(ctx context.Context, to string, ev actor.Event) error {
	if ev.Type == "" {
		return fmt.Errorf("send to %q: %w", to, ErrEmptyEventType)
	}
	slot := routeSlot(to)
	lm := o.localSlots[slot].Load()
	if lm == nil || lm.id != to || lm.gone.Load() {
		lm = nil
		if o.closed.Load() {
			return fmt.Errorf("send %q to %q: %w", ev.Type, to, ErrClosed)
		}
		// Another process's machine, cached for the registry's current
		// generation: no local machine has this ID (it would have
		// registered, a new generation).
		if r := o.remoteSlots[slot].Load(); r != nil && r.id == to && o.gen != nil && r.gen == o.gen.Generation() {
			return o.sendRemote(ctx, r, ev)
		}
		if p, ok := o.local.Load(to); ok {
			lm = p.(*localMachine)
			o.localSlots[slot].Store(lm)
		}
	}
	if lm != nil {
		o.root.Send(lm.pid, lm.msgs.Message(ev))
		return nil
	}
	pid, err := o.remote(to)
	if err != nil {
		return fmt.Errorf("send %q: %w", ev.Type, err)
	}
	return o.deliverEvent(ctx, to, pid, ev)
}

// sendRemote sends ev to the machine of r, in another process: through r's
// transport Route for an event without data once the transport made one (a
// first send dials the process), else as any message.
func (o *Orchestrator) sendRemote(ctx context.Context, r *remoteRoute, ev actor.Event) error {
	if ev.Data != nil {
		return o.deliverEvent(ctx, r.id, r.pid, ev)
	}
	if rt := r.route.Load(); rt != nil {
		t := ev.Type // not empty (Send checked)
		slot := &r.events[(uint32(len(t))^uint32(t[0])<<3^uint32(t[len(t)-1]))%uint32(len(r.events))]
		re := slot.Load()
		if re == nil || re.typ != t {
			msg := o.bareMessage(ev)
			re = &routedEvent{typ: t, msg: msg, env: rt.Envelope(msg)}
			slot.Store(re)
		}
		if err := rt.SendEnvelope(ctx, re.msg, re.env); err != nil {
			return fmt.Errorf("send %q to %q: %w", ev.Type, r.id, err)
		}
		return nil
	}
	err := o.deliverEvent(ctx, r.id, r.pid, ev)
	if err == nil && o.routes != nil && !r.routed.Load() && r.routed.CompareAndSwap(false, true) {
		r.route.Store(o.routes.Route(r.pid)) // nil: Deliver stays the way
	}
	return err
}

// requestPoller is a transport whose requester reads its reply from the
// inbox itself for a while after sending the request (shm: see
// remote_shm.Transport.PollRequest). got: the reply, from replies; else
// the requester waits on replies as usual.
type requestPoller interface {
	PollRequest(ctx context.Context, target, sender *pactor.PID, msg any, replies <-chan any) (reply any, got bool, err error)
}

// replyAwaiter is a transport whose routing core gives out reply PIDs that
// it resolves itself (see remote.Core.AwaitReply).
type replyAwaiter interface {
	AwaitReply(proc pactor.Process) (*remote.Await, bool)
}

// routeMaker is a transport that makes remote.Routes (shm, pipe): handles
// for repeated one-way sends to one actor of another process.
type routeMaker interface {
	Route(target *pactor.PID) *remote.Route
}

// deliverEvent sends ev to pid, the actor of the machine to: in this process
// (not in local: being stopped, or another orchestrator's) or in another one.
func (o *Orchestrator) deliverEvent(ctx context.Context, to string, pid *pactor.PID, ev actor.Event) error {
	if o.isLocal(pid) {
		o.root.Send(pid, ev)
		return nil
	}
	if err := o.transport.Deliver(ctx, pid, nil, o.wireMessage(ev)); err != nil {
		return fmt.Errorf("send %q to %q: %w", ev.Type, to, err)
	}
	return nil
}

// wireMessage is the message that carries ev to another process: for an
// event without data, a *bareEvent shared by every send of its type (the
// transport encodes it before Deliver returns, and nobody writes it), so that
// a one-way send does not allocate to box ev in an interface, and the
// transport may reuse the envelope it encoded for the same target.
func (o *Orchestrator) wireMessage(ev actor.Event) any {
	if ev.Data != nil {
		return ev
	}
	return o.bareMessage(ev)
}

// bareMessage is wireMessage for an event without data.
func (o *Orchestrator) bareMessage(ev actor.Event) *bareEvent {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(ev.Type); i++ {
		h = (h ^ uint32(ev.Type[i])) * 16777619
	}
	slot := &o.bare[h&63]
	if p := slot.Load(); p != nil && p.ev.Type == ev.Type {
		return p
	}
	p := &bareEvent{ev: actor.Event{Type: ev.Type}}
	slot.Store(p)
	return p
}

// bareEvent carries an event without data to another process. It is never
// written after it is made (proto.Frozen): a transport may keep the bytes it
// encoded from it and reuse them for the next send of the same value.
type bareEvent struct{ ev actor.Event }

var _ interface {
	proto.Frozen
	proto.EventWirer
} = (*bareEvent)(nil)

// WireMessage implements proto.Wirer.
func (b *bareEvent) WireMessage() (gproto.Message, error) { return b.ev.WireMessage() }

// WireEvent implements proto.EventWirer.
func (b *bareEvent) WireEvent() (string, []byte, error) { return b.ev.WireEvent() }

// Frozen implements proto.Frozen.
func (*bareEvent) Frozen() {}

// Request delivers ev to the machine machineID and returns its snapshot once
// the event is processed and its effects applied. The wait ends at ctx's
// deadline, or after Config.RequestTimeout when ctx has none.
func (o *Orchestrator) Request(ctx context.Context, to string, ev actor.Event) (*Snapshot, error) {
	if ev.Type == "" {
		return nil, fmt.Errorf("request to %q: %w", to, ErrEmptyEventType)
	}
	s, err := o.request(ctx, to, ev)
	if err != nil {
		return nil, fmt.Errorf("request %q: %w", ev.Type, err)
	}
	return s, nil
}

// Snapshot returns the machine's current snapshot without sending it an event.
func (o *Orchestrator) Snapshot(ctx context.Context, machineID string) (*Snapshot, error) {
	s, err := o.request(ctx, machineID, &proto.GetSnapshot{})
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return s, nil
}

func (o *Orchestrator) request(ctx context.Context, to string, msg any) (*Snapshot, error) {
	var pid *pactor.PID
	local := false
	if p, ok := o.local.Load(to); ok {
		pid, local = p.(*localMachine).pid, true
	} else {
		if o.closed.Load() {
			return nil, fmt.Errorf("to %q: %w", to, ErrClosed)
		}
		var err error
		if pid, err = o.remote(to); err != nil {
			return nil, err
		}
		local = o.isLocal(pid)
	}
	var r *reply
	if o.awaiter != nil && !local {
		// A reply from another process comes through the transport's core,
		// which hands it over without the actor system's registry.
		r = &reply{ch: make(chan any, 1)}
		if aw, ok := o.awaiter.AwaitReply((*replyProcess)(r)); ok {
			defer aw.Release()
			r.pid = aw.PID()
		} else {
			r = nil
		}
	}
	if r == nil {
		r = o.newReply()
		defer o.system.ProcessRegistry.Remove(r.pid)
	}
	switch {
	case local:
		o.root.Send(pid, &pactor.MessageEnvelope{Message: msg, Sender: r.pid})
	case o.poller != nil:
		m, got, err := o.poller.PollRequest(ctx, pid, r.pid, msg, r.ch)
		if err != nil {
			return nil, fmt.Errorf("to %q: %w", to, err)
		}
		if got {
			return replyToSnapshot(to, m)
		}
	default:
		if err := o.transport.Deliver(ctx, pid, r.pid, msg); err != nil {
			return nil, fmt.Errorf("to %q: %w", to, err)
		}
	}
	m, err := o.wait(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("to %q: %w", to, err)
	}
	return replyToSnapshot(to, m)
}

func replyToSnapshot(to string, m any) (*Snapshot, error) {
	switch r := m.(type) {
	case *actor.Reply:
		return snapshotFromLocal(r), nil
	case *proto.Snapshot:
		return snapshotFromWire(r)
	case *proto.Error:
		switch r.Code {
		case proto.ErrorCode_ERROR_CODE_BAD_EVENT:
			return nil, fmt.Errorf("%w: %s", ErrBadEvent, r.Message)
		case proto.ErrorCode_ERROR_CODE_UNKNOWN_MACHINE:
			return nil, fmt.Errorf("%w: %s", ErrUnknownMachine, r.Message)
		}
		return nil, fmt.Errorf("machine %q: %s", to, r.Message)
	case *pactor.DeadLetterResponse:
		return nil, fmt.Errorf("%w: %q stopped before answering", ErrUnknownMachine, to)
	}
	return nil, fmt.Errorf("machine %q: unexpected reply %T", to, m)
}

// Stop stops a machine of this process, cancels its timers and unregisters
// it; the ID can be spawned again once Stop returns. A machine owned by
// another process fails with ErrNotOwner.
func (o *Orchestrator) Stop(ctx context.Context, machineID string) error {
	if err := registry.ValidateID(machineID); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.local.Load(machineID)
	if !ok {
		if o.closed.Load() {
			return fmt.Errorf("stop %q: %w", machineID, ErrClosed)
		}
		m, err := o.reg.Lookup(machineID)
		if err != nil {
			return fmt.Errorf("stop: %w", err)
		}
		return fmt.Errorf("stop %q: %w: owned by process %d (%s)", machineID, ErrNotOwner, m.Owner.PID, m.Owner.Name)
	}
	lm := p.(*localMachine)
	lm.gone.Store(true)
	o.local.Delete(machineID)
	uerr := o.reg.Unregister(machineID)
	err := o.stopActors(ctx, []*pactor.PID{lm.pid})
	o.retired.add(&lm.stats)
	if err != nil {
		return fmt.Errorf("stop %q: %w", machineID, err)
	}
	if uerr != nil {
		return fmt.Errorf("stop %q: %w", machineID, uerr)
	}
	return nil
}

// stopActors stops pids and waits for all of them to terminate or ctx to end.
func (o *Orchestrator) stopActors(ctx context.Context, pids []*pactor.PID) error {
	replies := make([]*reply, 0, len(pids))
	defer func() {
		for _, r := range replies {
			o.system.ProcessRegistry.Remove(r.pid)
		}
	}()
	for _, pid := range pids {
		proc, ok := o.system.ProcessRegistry.Get(pid)
		if !ok {
			continue // already gone
		}
		r := o.newReply()
		replies = append(replies, r)
		proc.SendSystemMessage(pid, &pactor.Watch{Watcher: r.pid})
		o.root.Stop(pid)
	}
	for _, r := range replies {
		if _, err := o.wait(ctx, r); err != nil {
			return fmt.Errorf("waiting for machines to stop: %w", err)
		}
	}
	return nil
}

// Lookup returns the PID of the machine machineID, in this process or another.
func (o *Orchestrator) Lookup(machineID string) (*pactor.PID, error) {
	if p, ok := o.local.Load(machineID); ok {
		return p.(*localMachine).pid, nil
	}
	if o.closed.Load() {
		return nil, fmt.Errorf("lookup %q: %w", machineID, ErrClosed)
	}
	return o.remote(machineID)
}

// generationer is a registry with a mutation counter (the shared-memory
// one): lookups can be cached until it changes.
type generationer interface{ Generation() uint64 }

// remoteCacheMax bounds the cache of remote machines' PIDs.
const remoteCacheMax = 4096

type remoteRoute struct {
	id  string
	pid *pactor.PID
	gen uint64

	routed atomic.Bool                  // the transport was asked for a Route
	route  atomic.Pointer[remote.Route] // its answer (nil: none)
	// The messages of events without data sent through route and their
	// envelopes, by event type (direct-mapped: a collision costs an
	// encoding, never a wrong envelope).
	events [8]atomic.Pointer[routedEvent]
}

type routedEvent struct {
	typ string
	msg *bareEvent
	env []byte // route.Envelope(msg); nil: none
}

// routeSlots is the size of the orchestrator's direct-mapped route caches.
const routeSlots = 256

// routeSlot is the slot of machineID in the route caches (a collision costs
// a miss, never a wrong route).
func routeSlot(machineID string) uint32 {
	h := remote.QuickHash(machineID)
	return (h ^ h>>16) % routeSlots
}

// remote resolves a machine that is not (or no longer) in this process.
// With a registry that counts its mutations, the PID is cached until the
// next registration, unregistration or death anywhere in the system (a
// lookup in shared memory, and the clock read it needs, cost more than the
// send itself).
func (o *Orchestrator) remote(machineID string) (*pactor.PID, error) {
	cacheable := o.gen != nil
	var gen uint64
	if cacheable {
		gen = o.gen.Generation()
		o.rmu.RLock()
		c, ok := o.rcache[machineID]
		o.rmu.RUnlock()
		if ok && c.gen == gen && gen != 0 {
			o.cacheRoute(c)
			return c.pid, nil
		}
	}
	pid, err := o.lookupRemote(machineID)
	if err == nil && cacheable && gen != 0 {
		c := &remoteRoute{id: machineID, pid: pid, gen: gen}
		o.rmu.Lock()
		if o.rcache == nil || len(o.rcache) >= remoteCacheMax {
			o.rcache = map[string]*remoteRoute{}
		}
		o.rcache[machineID] = c
		o.rmu.Unlock()
		o.cacheRoute(c)
	}
	return pid, err
}

// cacheRoute puts c in Send's route cache, unless its machine is in this
// process (registered here but not in local: Send must look in local again).
func (o *Orchestrator) cacheRoute(c *remoteRoute) {
	if !o.isLocal(c.pid) {
		o.remoteSlots[routeSlot(c.id)].Store(c)
	}
}

func (o *Orchestrator) lookupRemote(machineID string) (*pactor.PID, error) {
	m, err := o.reg.Lookup(machineID)
	if err != nil {
		return nil, err
	}
	if m.Owner.Address == o.system.Address() {
		// Registered by this process but not in the local table: it is
		// being stopped (or was spawned by another orchestrator on the same
		// system); deliver like any local actor.
		return machinePID(o.system.Address(), m.ActorID), nil
	}
	return machinePID(m.Owner.Address, m.ActorID), nil
}

// isLocal reports whether pid belongs to this process.
func (o *Orchestrator) isLocal(pid *pactor.PID) bool {
	return pid.Address == o.system.Address()
}

// Machines lists the IDs of every registered machine (all processes), sorted.
func (o *Orchestrator) Machines() []string {
	if o.closed.Load() {
		return nil
	}
	ms := o.reg.Machines()
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	sort.Strings(ids)
	return ids
}

// Stats are counters summed over the orchestrator's machines.
type Stats struct {
	Events      uint64 // events processed
	SendErrors  uint64 // machine-to-machine sends that failed (each also logged)
	TimersFired uint64 // after/delayed timers that fired
	StaleTimers uint64 // timer firings ignored because the timer was cancelled
	BadEvents   uint64 // events refused (no type, undecodable payload)
	Panics      uint64 // panics recovered into StatusError
}

// Stats returns the counters of every machine this orchestrator spawned,
// stopped ones included.
func (o *Orchestrator) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	total := o.retired
	o.local.Range(func(_, v any) bool {
		total.add(&v.(*localMachine).stats)
		return true
	})
	return total
}

func (s *Stats) add(m *actor.MachineStats) {
	s.Events += m.Events.Load()
	s.SendErrors += m.SendErrors.Load()
	s.TimersFired += m.TimersFired.Load()
	s.StaleTimers += m.StaleTimers.Load()
	s.BadEvents += m.BadEvents.Load()
	s.Panics += m.Panics.Load()
}

// closeTimeout bounds how long Close waits for its machines to stop.
const closeTimeout = 10 * time.Second

// Close stops every machine of this process, unregisters them and closes the
// transport. The actor system itself is the caller's. Later calls to the
// orchestrator fail with ErrClosed; Close is idempotent.
func (o *Orchestrator) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed.Swap(true) {
		return nil
	}
	if o.touchStop != nil {
		close(o.touchStop)
		<-o.touchDone
	}
	var pids []*pactor.PID
	var errs []error
	var retiring []*localMachine
	o.local.Range(func(k, v any) bool {
		lm := v.(*localMachine)
		lm.gone.Store(true)
		retiring = append(retiring, lm)
		pids = append(pids, lm.pid)
		if err := o.reg.Unregister(k.(string)); err != nil {
			errs = append(errs, err)
		}
		o.local.Delete(k)
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := o.stopActors(ctx, pids); err != nil {
		errs = append(errs, err)
	}
	for _, lm := range retiring {
		o.retired.add(&lm.stats)
	}
	if err := o.transport.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close transport %s: %w", o.transport.Kind(), err))
	}
	return errors.Join(errs...)
}

// router implements actor.Router for the orchestrator's machines.
type router struct{ o *Orchestrator }

func (r router) Send(ctx context.Context, from, to string, ev actor.Event) error {
	if err := r.o.Send(ctx, to, ev); err != nil {
		return fmt.Errorf("from %q: %w", from, err)
	}
	return nil
}

// reply is a one-shot proto.actor process that receives the answer to one
// request (or the Terminated of a stopped actor). It is registered in the
// process registry under a unique id, so its PID works as a reply address
// from other processes too.
type reply struct {
	pid *pactor.PID
	ch  chan any
}

func (o *Orchestrator) newReply() *reply {
	r := &reply{ch: make(chan any, 1)}
	id := "xorc-reply$" + strconv.FormatUint(o.seq.Add(1), 36)
	r.pid, _ = o.system.ProcessRegistry.Add((*replyProcess)(r), id)
	return r
}

type replyProcess reply

func (r *replyProcess) SendUserMessage(_ *pactor.PID, m any) {
	select {
	case r.ch <- pactor.UnwrapEnvelopeMessage(m):
	default: // a second answer to a one-shot request: nobody waits for it
	}
}

func (r *replyProcess) SendSystemMessage(_ *pactor.PID, m any) {
	if t, ok := m.(*pactor.Terminated); ok {
		select {
		case r.ch <- t:
		default:
		}
	}
}

func (r *replyProcess) Stop(*pactor.PID) {}

var timerPool sync.Pool

// wait returns the reply, or fails at ctx's end or after the default request
// timeout when ctx has no deadline.
func (o *Orchestrator) wait(ctx context.Context, r *reply) (any, error) {
	select { // fast path: already answered
	case m := <-r.ch:
		return m, nil
	default:
	}
	var timeout <-chan time.Time
	if _, ok := ctx.Deadline(); !ok {
		// Pooled: a request without a deadline is the common case and a
		// fresh timer per request is measurable. (Since Go 1.23 a stopped
		// timer's channel holds no stale value, so reuse is safe.)
		t, _ := timerPool.Get().(*time.Timer)
		if t == nil {
			t = time.NewTimer(time.Duration(o.cfg.RequestTimeout))
		} else {
			t.Reset(time.Duration(o.cfg.RequestTimeout))
		}
		defer func() { t.Stop(); timerPool.Put(t) }()
		timeout = t.C
	}
	select {
	case m := <-r.ch:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timeout:
		return nil, fmt.Errorf("no reply within %v: %w", time.Duration(o.cfg.RequestTimeout), context.DeadlineExceeded)
	}
}
