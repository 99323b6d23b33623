//go:build linux || darwin

package remote_pipe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
)

// Transport is this process's membership of a named-pipe system: its entry
// in the shared-memory registry, its listening socket (a Node), and the
// routing core that turns proto.actor messages into frames and back.
type Transport struct {
	opts TransportOptions
	reg  *registry.Shm
	self registry.Process
	node *Node
	addr string
	log  *slog.Logger

	core    atomic.Pointer[remote.Core] // set by Start
	early   atomic.Uint64               // frames that arrived before Start
	started atomic.Bool
	closing atomic.Bool // links are flushed by the node, not closed by the core

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the sweeper
	stopDown func()

	closeMu  sync.Mutex
	closed   bool
	closeErr error
	final    TransportStats
}

// TransportStats are a transport's counters: the routing core's (messages,
// batches, errors, dead letters, peers down, undelivered and unconfirmed)
// and the socket node's.
type TransportStats struct {
	remote.Stats
	Node Stats `json:"node"`
	// EarlyFrames: frames that arrived before Start (dropped, logged).
	EarlyFrames uint64 `json:"early_frames,omitempty"`
}

// New joins (or creates) the system's registry, takes a process slot,
// listens on this process's socket and records its path as the process's
// address. Start attaches it to an actor system.
func New(opts TransportOptions) (*Transport, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	reg, err := registry.OpenShm(registry.ShmOptions{
		Name:              opts.Name,
		Dir:               opts.RegistryDir,
		Mode:              opts.RegistryMode,
		ProcessName:       opts.ProcessName,
		MaxProcesses:      opts.MaxProcesses,
		MaxMachines:       opts.MaxMachines,
		InboxBytes:        registry.MinInboxBytes, // no rings: the smallest inbox a segment we create can have
		HeartbeatInterval: opts.HeartbeatInterval,
		HeartbeatTimeout:  opts.HeartbeatTimeout,
		PollInterval:      opts.PollInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("pipe transport: %w", err)
	}
	t := &Transport{opts: opts, reg: reg, self: reg.Self(), log: log}
	node, err := Listen(Options{
		Name:          opts.Name,
		Dir:           opts.Dir,
		DirMode:       opts.DirMode,
		SocketMode:    opts.SocketMode,
		Slot:          t.self.Slot,
		Generation:    t.self.Generation,
		MaxFrame:      opts.MaxFrame,
		AllowUIDs:     opts.AllowUIDs,
		QueueBytes:    opts.QueueBytes,
		SendTimeout:   opts.sendTimeout(),
		OnUndelivered: t.onUndelivered,
		Logger:        log,
	}, t.onFrame)
	if err != nil {
		_ = reg.Close()
		return nil, fmt.Errorf("pipe transport %s: %w", opts.Name, err)
	}
	t.node = node
	t.addr = node.Path()
	if err := reg.SetAddress(t.addr); err != nil {
		_ = node.Close()
		_ = reg.Close()
		return nil, fmt.Errorf("pipe transport %s: %w", opts.Name, err)
	}
	return t, nil
}

// Address is this process's address: its socket's path.
func (t *Transport) Address() string { return t.addr }

// Registry is the shared-memory registry this transport joined.
func (t *Transport) Registry() *registry.Shm { return t.reg }

// Self is this process's registry entry.
func (t *Transport) Self() registry.Process { return t.self }

// Node is the transport's socket node.
func (t *Transport) Node() *Node { return t.node }

// match: the core answers for what looks like a pipe address: an absolute
// path of a socket (its own address is excluded by the core). It runs on
// every send, so it only looks at the ends; dial parses the address.
func (t *Transport) match(address string) bool {
	return len(address) > len(sockSuffix) && address[0] == '/' && strings.HasSuffix(address, sockSuffix)
}

// Start attaches the transport to system: it sets the system's address,
// registers the address resolver for the other processes' PIDs and starts
// watching peers. Call it once, before spawning actors on system.
func (t *Transport) Start(system *pactor.ActorSystem) error {
	if t.started.Swap(true) {
		return errors.New("pipe transport: already started")
	}
	if t.closing.Load() {
		return fmt.Errorf("pipe transport: start: %w", remote.ErrClosed)
	}
	log := t.opts.Logger
	if log == nil {
		log = system.Logger()
	}
	system.ProcessRegistry.Address = t.addr
	core, err := remote.New(remote.Config{
		System:        system,
		Address:       t.addr,
		Match:         t.match,
		Dial:          t.dial,
		SendTimeout:   t.opts.SendTimeout,
		MaxQueueBytes: t.opts.MaxQueueBytes,
		Logger:        log,
		AwaitReply:    func() { t.node.ExpectTraffic(ReplySpin) },
		OnRequest:     func() { t.node.ExpectTraffic(RequestSpin) },
	})
	if err != nil {
		return err
	}
	t.core.Store(core)
	system.ProcessRegistry.RegisterAddressResolver(core.Resolve)
	t.stopDown = t.reg.OnProcessDown(t.onDown)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.wg.Add(1)
	go t.sweep(core)
	return nil
}

// onFrame is the node's handler: every data frame is one encoded batch.
func (t *Transport) onFrame(from PeerInfo, payload []byte) {
	core := t.core.Load()
	if core == nil {
		t.early.Add(1)
		t.log.Warn("pipe transport: frame before Start, dropped", "peer", from, "bytes", len(payload))
		return
	}
	_ = core.Receive(payload) // counted and dead-lettered by the core
}

// onUndelivered runs when a connection ended with frames the link had
// accepted but not delivered: their envelopes go to dead letters, frames
// written but unacknowledged are counted. A peer that is gone makes the
// cause the registry's "process died".
func (t *Transport) onUndelivered(to Target, u Undelivered) {
	cause := u.Err
	if to.Generation != 0 && !t.reg.IsAlive(to.Slot, to.Generation) {
		cause = fmt.Errorf("%w (%w)", remote.PeerGone(t.reg, to.Path, to.Slot, to.Generation), u.Err)
	}
	core := t.core.Load()
	if core == nil {
		return // no Start, no links: cannot happen
	}
	for _, p := range u.Payloads {
		core.Undelivered(to.Path, p, cause)
	}
	core.Unconfirmed(to.Path, u.Unconfirmed, cause)
}

// onDown runs for every peer the registry finds dead or departed.
func (t *Transport) onDown(p registry.Process) {
	core := t.core.Load()
	if core == nil || p.Address == "" || p.Address == t.addr {
		return // it never published an address: no PID of it exists
	}
	core.PeerDown(p.Address, remote.ProcessDown(p))
}

// sweepEvery is how often the transport checks the peers it talks to for
// deaths the registry did not report.
const sweepEvery = 250 * time.Millisecond

func (t *Transport) sweep(core *remote.Core) {
	defer t.wg.Done()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		core.CheckPeers(t.gone)
	}
}

// gone says why the peer at address is gone, or nil while it lives.
func (t *Transport) gone(address string) error {
	_, slot, gen, err := ParseAddress(address)
	if err != nil || t.reg.IsAlive(slot, gen) {
		return nil
	}
	return remote.PeerGone(t.reg, address, slot, gen)
}

// dial is the core's Dial: a link to the process at address, if the
// registry shows it alive there. The link connects on its first send.
func (t *Transport) dial(address string) (remote.Link, error) {
	_, slot, gen, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if !t.reg.IsAlive(slot, gen) {
		return nil, remote.PeerGone(t.reg, address, slot, gen)
	}
	// A PID's address comes from a peer (a reply address): dial only the
	// socket the registry records for that process.
	p, err := t.reg.Process(slot)
	if err != nil {
		return nil, err
	}
	if p.Generation != gen || p.Address != address {
		if !t.reg.IsAlive(slot, gen) {
			return nil, remote.PeerGone(t.reg, address, slot, gen)
		}
		return nil, fmt.Errorf("%w: %s is not the address process slot %d records (%q)", remote.ErrNotRemote, address, slot, p.Address)
	}
	l, err := t.node.Link(TargetFor(p))
	if err != nil {
		return nil, err
	}
	return &pipeLink{t: t, l: l, addr: address, slot: slot, gen: gen}, nil
}

// Deliver sends msg to target, a PID of another process of the system, and
// reports the outcome (see remote.Core.Deliver): for a one-way message nil
// once it is queued for the peer (the connection is made first), for a
// request nil once it is written to the peer's socket or queued on a live
// connection to it. Errors: a peer that does not read, so that no room
// came before ctx's deadline (remote.ErrFull), a dead process
// (registry.ErrProcessDied), a peer that cannot be connected to
// (ErrUnreachable), a message without a wire form or larger than the
// peer's frame limit (remote.ErrTooLarge), earlier accepted messages that
// were not delivered (remote.ErrUndelivered), a closed transport
// (remote.ErrClosed).
func (t *Transport) Deliver(ctx context.Context, target, sender *pactor.PID, msg any) error {
	core := t.core.Load()
	if core == nil {
		return fmt.Errorf("pipe transport: deliver before Start: %w", remote.ErrClosed)
	}
	return core.Deliver(ctx, target, sender, msg)
}

// AwaitReply returns a reply PID resolved by the routing core (see
// remote.Core.AwaitReply); false before Start or when its table is full.
func (t *Transport) AwaitReply(proc pactor.Process) (*remote.Await, bool) {
	core := t.core.Load()
	if core == nil {
		return nil, false
	}
	return core.AwaitReply(proc)
}

// Route returns a handle for repeated one-way sends of frozen messages to
// target (see remote.Core.Route), or nil when there is none yet (send with
// Deliver first).
func (t *Transport) Route(target *pactor.PID) *remote.Route {
	core := t.core.Load()
	if core == nil {
		return nil
	}
	return core.Route(target)
}

// Close stops the transport: later sends fail (remote.ErrClosed), the
// routing core hands what it accepted to the links (up to a second; what
// it cannot is reported as undelivered), local watchers of remote actors
// get Terminated, every link flushes what it accepted and says goodbye (up
// to a second), the
// socket is removed, and the process leaves the registry (its peers see it
// depart). Stats keeps answering (with the counters at Close).
func (t *Transport) Close() error {
	t.closeMu.Lock()
	defer t.closeMu.Unlock()
	if t.closed {
		return t.closeErr
	}
	t.closed = true
	t.closing.Store(true)
	var errs []error
	if t.stopDown != nil {
		t.stopDown()
	}
	core := t.core.Load()
	if core != nil {
		errs = append(errs, core.Close())
	}
	if t.cancel != nil {
		t.cancel()
		t.wg.Wait()
	}
	errs = append(errs, t.node.Close())
	t.final = t.stats()
	errs = append(errs, t.reg.Close())
	t.closeErr = errors.Join(errs...)
	return t.closeErr
}

// Stats reads the transport's counters.
func (t *Transport) Stats() TransportStats {
	t.closeMu.Lock()
	closed, final := t.closed, t.final
	t.closeMu.Unlock()
	if closed {
		return final
	}
	return t.stats()
}

func (t *Transport) stats() TransportStats {
	st := TransportStats{Node: t.node.Stats(), EarlyFrames: t.early.Load()}
	if core := t.core.Load(); core != nil {
		st.Stats = core.Stats()
	}
	return st
}

// pipeLink adapts a socket Link to the routing core's Link.
type pipeLink struct {
	t    *Transport
	l    *Link
	addr string
	slot int
	gen  uint32
	down atomic.Bool
	// quietUntil (unix nanoseconds): after a grace wait that found the peer
	// still alive, the next failures do not wait again until then (Connect
	// runs in every sender, Send in the core's writer).
	quietUntil atomic.Int64
}

var _ remote.Connector = (*pipeLink)(nil)

// MaxBatch is the largest batch the peer takes: our frame limit, or the
// connected peer's if it announced a smaller one. The core connects first
// (Connect), so a message too large for the peer fails its send with
// remote.ErrTooLarge; a batch over the limit of a peer connected later
// (a reconnection) is split by Send.
func (pl *pipeLink) MaxBatch() int { return pl.l.MaxFrame() }

// Connect connects the link if it is not (the core calls it before it
// accepts a message): a peer that cannot be reached fails that send with
// ErrUnreachable, a dead one with registry.ErrProcessDied.
func (pl *pipeLink) Connect(deadline time.Time) error {
	err := pl.l.Connect(deadline)
	if err == nil {
		return nil
	}
	return pl.failed(deadline, err)
}

// Close closes the link at once when its peer is down; frames it still
// holds are reported through onUndelivered. While the transport closes,
// the node flushes and closes every link instead.
func (pl *pipeLink) Close() error {
	if !pl.t.closing.Load() {
		pl.l.Close(nil)
	}
	return nil
}

// Send hands one batch to the socket link: written, or queued on a live
// connection (what happens to it then is reported by onUndelivered).
func (pl *pipeLink) Send(deadline time.Time, batch []byte) error {
	err := pl.l.SendDeadline(deadline, batch)
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, ErrFrameTooLarge):
		if limit := pl.l.MaxFrame(); len(batch) > limit {
			return pl.sendSplit(deadline, batch, limit, err)
		}
		return fmt.Errorf("%w: %s: %w", remote.ErrTooLarge, pl.addr, err)
	case errors.Is(err, ErrQueueFull):
		return fmt.Errorf("%w: %s: %w", remote.ErrFull, pl.addr, err)
	}
	return pl.failed(deadline, err)
}

// failed maps a failure of the socket link to the core's errors.
func (pl *pipeLink) failed(deadline time.Time, err error) error {
	if errors.Is(err, ErrClosed) && pl.t.closing.Load() {
		return fmt.Errorf("%w: sending to %s: %w", remote.ErrClosed, pl.addr, err)
	}
	// Unreachable, connection lost, closed because the peer is down: if
	// the peer is gone, say so (and tell the core, so that its watchers
	// hear of it even if the registry's callback never names it).
	if gone := pl.deadPeer(deadline); gone != nil {
		if !pl.down.Swap(true) {
			go pl.t.core.Load().PeerDown(pl.addr, gone)
		}
		return fmt.Errorf("%w (%w)", gone, err)
	}
	return err
}

// deathGrace bounds how long a failed send waits for the registry to
// confirm a death: a killed process's socket refuses connections at once,
// its registry entry follows within milliseconds (pidfd) or a poll
// interval.
const deathGrace = 200 * time.Millisecond

// deadPeer reports the peer's death: at once if the registry knows it,
// else after waiting up to deathGrace (not past deadline) for it to.
func (pl *pipeLink) deadPeer(deadline time.Time) error {
	reg := pl.t.reg
	if !reg.IsAlive(pl.slot, pl.gen) {
		return remote.PeerGone(reg, pl.addr, pl.slot, pl.gen)
	}
	now := time.Now()
	if now.UnixNano() < pl.quietUntil.Load() {
		return nil
	}
	until := now.Add(deathGrace)
	if !deadline.IsZero() && deadline.Before(until) {
		until = deadline
	}
	for time.Now().Before(until) {
		time.Sleep(5 * time.Millisecond)
		if !reg.IsAlive(pl.slot, pl.gen) {
			return remote.PeerGone(reg, pl.addr, pl.slot, pl.gen)
		}
	}
	pl.quietUntil.Store(time.Now().Add(time.Second).UnixNano())
	return nil
}

// sendSplit sends a batch larger than the peer accepts (it announced a
// smaller frame limit than ours) as several batches, at envelope
// boundaries. An envelope larger than the limit fails with
// remote.ErrTooLarge; envelopes before it were sent.
func (pl *pipeLink) sendSplit(deadline time.Time, batch []byte, limit int, cause error) error {
	for len(batch) > 0 {
		n := 0
		for n < len(batch) {
			k := envelopeFieldLen(batch[n:])
			if k <= 0 {
				return fmt.Errorf("%w: %s: batch does not split: %w", remote.ErrTooLarge, pl.addr, cause)
			}
			if n+k > limit {
				break
			}
			n += k
		}
		if n == 0 {
			return fmt.Errorf("%w: %s: an envelope of the batch exceeds the peer's limit of %d bytes: %w", remote.ErrTooLarge, pl.addr, limit, cause)
		}
		if err := pl.Send(deadline, batch[:n]); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// envelopeFieldLen is the length of the batch field at the start of b (an
// envelope, as the core concatenates them), or -1.
func envelopeFieldLen(b []byte) int {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return -1
	}
	m := protowire.ConsumeFieldValue(num, typ, b[n:])
	if m < 0 {
		return -1
	}
	return n + m
}

// Supported is nil: the named-pipe transport runs on this platform.
func Supported() error { return nil }
