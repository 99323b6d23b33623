package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/proto"
)

// Errors of the core, matched with errors.Is. Returned errors wrap them with
// the target and the reason. A dead peer's errors wrap
// registry.ErrProcessDied (the transport's Dial and PeerDown supply them).
var (
	// ErrFull: the peer did not take the message before the deadline (its
	// inbox stayed full, or too much was already queued for it).
	ErrFull = errors.New("peer not accepting messages")
	// ErrTooLarge: the encoded message is larger than the link's largest batch.
	ErrTooLarge = errors.New("message too large for the transport")
	// ErrClosed: the transport was closed.
	ErrClosed = errors.New("transport closed")
	// ErrNotRemote: the address does not belong to this transport.
	ErrNotRemote = errors.New("not an address of this transport")
	// ErrUndelivered: messages that an earlier Deliver (or proto.actor send)
	// to the same peer had accepted were not delivered; the error also wraps
	// the cause (e.g. ErrFull, ErrClosed). The Deliver that returns it did
	// not send its own message.
	ErrUndelivered = errors.New("earlier messages not delivered")
)

// Link carries encoded batches to one peer process: the transport-specific
// part of a peer. The core calls Send from one goroutine at a time per link.
type Link interface {
	// Send hands one encoded proto.Batch (at most MaxBatch bytes) to the
	// peer; batch is not retained after Send returns. When the peer cannot
	// take it yet, Send waits until deadline, or when deadline is zero for
	// the transport's send timeout from when it starts waiting (reading the
	// clock only then: it is slow on some VMs), then fails with an error
	// wrapping ErrFull; a peer found dead fails with an error wrapping
	// registry.ErrProcessDied. The error should name the peer.
	Send(deadline time.Time, batch []byte) error
	// MaxBatch is the largest batch Send accepts.
	MaxBatch() int
	// Close releases the link. The core calls it once, when the peer is down
	// or the core closes; a Send still in flight may then fail.
	Close() error
}

// Connector is a Link that connects lazily (a socket link dials on first
// use and redials after its connection breaks). The core calls Connect
// before it accepts a message for the peer, from any sending goroutine, so
// that a peer that cannot be reached fails that send at once (rather than
// the messages queued behind it, later), and so that MaxBatch is the
// connected peer's limit when the message is checked against it (a peer
// may accept smaller batches than we do).
type Connector interface {
	// Connect returns nil once the link is connected (at once when it is
	// already: it runs on every send), or the reason it cannot connect,
	// waiting for a connection in progress until deadline (zero: the
	// transport's send timeout). A peer found dead fails with an error
	// wrapping registry.ErrProcessDied; the error should name the peer.
	Connect(deadline time.Time) error
}

// Defaults of Config.
const (
	DefaultSendTimeout   = 5 * time.Second
	DefaultMaxQueueBytes = 1 << 20
	DefaultMaxEnvelopes  = 1 << 16
	DefaultBatchBytes    = 256 << 10
	DefaultCloseTimeout  = time.Second
)

// Config configures a Core. System, Address, Match and Dial are required.
type Config struct {
	// System is the actor system whose local processes receive messages.
	System *pactor.ActorSystem
	// Address is this process's transport address (system.ProcessRegistry.Address).
	Address string
	// Match reports whether an address belongs to this transport (Resolve
	// answers only for those).
	Match func(address string) bool
	// Dial returns the link to the process at address. It fails (wrapping
	// registry.ErrProcessDied) only when that process can never be reached
	// again: it is gone, or the address is malformed. A transport whose
	// connections may recover connects lazily, in the link.
	Dial func(address string) (Link, error)
	// SendTimeout bounds the waits of a send whose caller gives no deadline
	// (proto.actor sends, Deliver without a context deadline): for room in
	// the peer's queue here; links apply their own (the transport's) to a
	// zero deadline. Default DefaultSendTimeout.
	SendTimeout time.Duration
	// MaxQueueBytes bounds the encoded envelopes queued for one peer; a send
	// beyond it waits for room until its deadline (default
	// DefaultMaxQueueBytes), raised to one link write the writer aims at
	// (the smaller of the link's MaxBatch and BatchBytes). A message larger
	// than the bound (up to MaxBatch) waits until the queue is empty and is
	// then queued alone. (It used to be raised to MaxBatch: with the pipe's
	// 16 MiB frames a fast sender then grew two 16 MiB buffers.)
	MaxQueueBytes int
	// MaxEnvelopes bounds the envelopes of one batch: a received batch
	// with more is refused whole (counted, dead-lettered), and the writer
	// never sends more in one (so cores that talk must use the same
	// limit; default DefaultMaxEnvelopes).
	MaxEnvelopes int
	// BatchBytes is the size of the link writes the writer aims at: it
	// splits a long queue into batches of at most this many bytes (an
	// envelope larger than that goes alone, up to the link's MaxBatch).
	// Batches that stay in the caches and in reused buffers at both ends
	// cost less than a few huge ones. Default DefaultBatchBytes.
	BatchBytes int
	// CloseTimeout bounds how long Close lets the writers flush what was
	// accepted (default DefaultCloseTimeout).
	CloseTimeout time.Duration
	// Logger (default: the actor system's).
	Logger *slog.Logger
	// AwaitReply, if set, is called after a write that may bring a reply
	// soon (a request's envelope carries its sender): the transport can get
	// its reader ready (e.g. spinning rather than asleep in the kernel).
	AwaitReply func()
	// OnRequest, if set, is called by Receive for a request (an envelope
	// with a reply address) from another process: its requester, waiting
	// for the reply, often sends the next request soon after it (the
	// transport can keep its reader ready for it).
	OnRequest func()
}

// Core is the routing core of one transport in one process.
type Core struct {
	cfg  Config
	sys  *pactor.ActorSystem
	addr string
	ctr  *Counters
	log  *slog.Logger
	fast fastIn // the inbound hot path's caches

	senderFlushes atomic.Uint64 // queues written by their senders (see unlockQueued); not in Counters (no free word)

	awaits   [awaitSlots]atomic.Pointer[Await] // reply PIDs known to the core only (see AwaitReply)
	awaitSeq atomic.Uint64

	peers peerMap // address -> *peer: live peers (read on every send)

	mu     sync.Mutex
	down   map[string]downMark // addresses found down recently (closes the Dial/PeerDown race)
	closed bool
	wg     sync.WaitGroup // writer goroutines
}

type downMark struct {
	err error
	at  time.Time
}

// downMemory is how long PeerDown remembers an address. It only has to cover
// a Dial that was in flight when the peer died; a later Dial asks the
// transport, which knows the peer is gone.
const downMemory = 30 * time.Second

// New creates a core. Register c.Resolve with the actor system
// (ProcessRegistry.RegisterAddressResolver) after setting its Address.
func New(cfg Config) (*Core, error) {
	switch {
	case cfg.System == nil:
		return nil, errors.New("remote: nil actor system")
	case cfg.Address == "":
		return nil, errors.New("remote: empty address")
	case cfg.Match == nil || cfg.Dial == nil:
		return nil, errors.New("remote: Match and Dial are required")
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if cfg.MaxEnvelopes <= 0 {
		cfg.MaxEnvelopes = DefaultMaxEnvelopes
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	c := &Core{cfg: cfg, sys: cfg.System, addr: cfg.Address, ctr: &Counters{}, down: map[string]downMark{}}
	c.log = cfg.Logger
	if c.log == nil {
		c.log = cfg.System.Logger()
	}
	return c, nil
}

// Address is this process's address.
func (c *Core) Address() string { return c.addr }

// Stats reads the counters.
func (c *Core) Stats() Stats {
	st := c.ctr.Stats()
	st.SenderFlushes = c.senderFlushes.Load()
	return st
}

// CopyCounters copies the counters into dst (e.g. a block in shared memory
// that other processes read), word by word with atomic stores.
func (c *Core) CopyCounters(dst *Counters) {
	for i := range c.ctr {
		atomic.StoreUint64(&dst[i], atomic.LoadUint64(&c.ctr[i]))
	}
}

// Resolve is the proto.actor AddressResolver of the transport: the Process of
// the peer that owns pid, for addresses Match accepts. A peer that is gone
// gets a Process that reports every message as a dead letter (and answers a
// Watch with Terminated).
func (c *Core) Resolve(pid *pactor.PID) (pactor.Process, bool) {
	if pid == nil || pid.Address == c.addr || !c.cfg.Match(pid.Address) {
		return nil, false
	}
	return c.peer(pid.Address), true
}

// Deliver sends msg to target, a PID of another process, with sender as the
// reply address (nil for a one-way message), and reports the outcome.
//
// A one-way message is accepted once it is encoded into the peer's queue:
// Deliver returns nil then, without waiting for the write (the peer's writer
// sends the queue in batches). A request (sender not nil) returns the outcome
// of its write, nil meaning it is in the peer's inbox: the caller writes it
// at once when the peer is idle, otherwise it goes with the queue and the
// write it is in gives up at the request's deadline (a request still queued
// then is taken out). A full queue (the peer's inbox stays full) makes
// Deliver wait for room up to ctx's deadline (SendTimeout when ctx has none),
// then fail with ErrFull.
//
// A message that was accepted and then not delivered (its write failed, or
// the peer went down with it queued) is reported: it goes to dead letters,
// the Undelivered counter counts it, and the next Deliver to that peer fails
// with an error wrapping ErrUndelivered and the cause (a dead peer's
// registry.ErrProcessDied instead, for that and every later Deliver).
//
// Errors wrap ErrFull, ErrTooLarge, ErrClosed, ErrNotRemote, ErrUndelivered,
// proto.ErrUnknownType, or the peer's death (registry.ErrProcessDied), and
// name the target. A Deliver that fails did not send msg.
func (c *Core) Deliver(ctx context.Context, target, sender *pactor.PID, msg any) error {
	if target == nil {
		return fmt.Errorf("deliver: %w: nil target", proto.ErrMalformed)
	}
	p, ok := c.peers.Load(target.Address) // a live peer's address is one of ours, and not this process's
	if !ok && (target.Address == c.addr || !c.cfg.Match(target.Address)) {
		return fmt.Errorf("deliver to %s/%s: %w", target.Address, target.Id, ErrNotRemote)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deliver to %s/%s: %w", target.Address, target.Id, err)
	}
	deadline, _ := ctx.Deadline() // zero: the send timeout, from when a wait starts
	if !ok {
		p = c.peer(target.Address)
	}
	urgent := sender != nil || p.takeReply()
	if err := p.send(target, sender, msg, deadline, urgent, true); err != nil {
		c.ctr.add(CSendErrors, 1)
		return fmt.Errorf("deliver to %s/%s: %w", target.Address, target.Id, err)
	}
	return nil
}

// owe notes that an envelope with a reply address arrived from the process at
// address: the next message to it is probably the reply, which is then
// written at once rather than queued for the writer.
func (c *Core) owe(address string) {
	if p, ok := c.peers.Load(address); ok {
		p.owe()
	}
	if c.cfg.OnRequest != nil {
		c.cfg.OnRequest()
	}
}

// peer returns the live peer at address, dialing it if needed, or a dead
// stand-in when it is gone.
func (c *Core) peer(address string) *peer {
	if p, ok := c.peers.Load(address); ok {
		return p
	}
	c.mu.Lock()
	if p, ok := c.peers.Load(address); ok {
		c.mu.Unlock()
		return p
	}
	if err := c.goneLocked(address); err != nil {
		c.mu.Unlock()
		return c.deadPeer(address, err)
	}
	c.mu.Unlock()

	link, err := c.cfg.Dial(address) // outside the lock: it may take a while

	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.peers.Load(address); ok { // dialed meanwhile by another sender
		if link != nil {
			_ = link.Close()
		}
		return p
	}
	if gerr := c.goneLocked(address); gerr != nil || err != nil {
		if link != nil {
			_ = link.Close()
		}
		if err == nil {
			err = gerr
		}
		return c.deadPeer(address, err)
	}
	p := newPeer(c, address, link)
	c.peers.Store(address, p)
	c.wg.Add(1)
	go p.run()
	return p
}

// goneLocked says why address cannot be dialed now (c.mu held), or nil.
func (c *Core) goneLocked(address string) error {
	if c.closed {
		return ErrClosed
	}
	if d, ok := c.down[address]; ok {
		return d.err
	}
	return nil
}

// deadPeer is a stand-in Process for an address that is gone: it reports
// every message as a dead letter and answers Watch with Terminated.
func (c *Core) deadPeer(address string, err error) *peer {
	return &peer{c: c, addr: address, err: err}
}

// Peers lists the addresses of the live peers (dialed and not down), for a
// transport that sweeps them for deaths its registry did not report.
func (c *Core) Peers() []string {
	var out []string
	c.peers.Range(func(addr string, _ *peer) bool {
		out = append(out, addr)
		return true
	})
	return out
}

// PeerDown tells the core that the process at address is dead or departed
// (cause should wrap registry.ErrProcessDied and name the process). Its
// queued messages are reported (errors to Deliver callers, dead letters for
// proto.actor sends), later sends fail with cause, and local watchers of its
// actors get Terminated with reason AddressTerminated.
func (c *Core) PeerDown(address string, cause error) {
	now := time.Now()
	c.mu.Lock()
	for a, d := range c.down {
		if now.Sub(d.at) > downMemory {
			delete(c.down, a)
		}
	}
	c.down[address] = downMark{err: cause, at: now}
	p, ok := c.peers.LoadAndDelete(address)
	c.mu.Unlock()
	if ok {
		c.ctr.add(CPeersDown, 1)
		p.shutdown(cause)
	}
}

// Close stops taking messages (later sends fail with ErrClosed), lets every
// peer's writer write what was accepted, up to CloseTimeout (a write does
// not wait for room past it), then reports what is still queued (dead
// letters, Undelivered: as any accepted message that was not delivered),
// sends Terminated to the local watchers of remote actors, waits for the
// writers to finish the write they are in (a write taken before Close is
// bounded by its own deadline, the link's send timeout) and closes the
// links.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	peers := c.peers.Clear()
	c.mu.Unlock()
	cause := fmt.Errorf("%w: %s", ErrClosed, c.addr)
	deadline := time.Now().Add(c.cfg.CloseTimeout)
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() { p.flush(cause, deadline) })
	}
	wg.Wait()
	for _, p := range peers {
		p.shutdown(cause)
	}
	c.wg.Wait()
	return nil
}

// deadLetterOut reports an outbound message that could not be sent: it goes
// to proto.actor's dead letters (a request's sender gets a
// DeadLetterResponse at once) and is counted.
func (c *Core) deadLetterOut(target *pactor.PID, msg any, system bool, cause error) {
	c.ctr.add(CDeadLettersOut, 1)
	if w, ok := msg.(*pactor.Watch); ok && system {
		// A watch that cannot reach the peer: the watcher learns at once
		// (and only now: the peer forgets it, not to tell it again when it
		// goes down).
		if p, ok := c.peers.Load(target.Address); ok && w.Watcher != nil {
			p.unwatched(target, w.Watcher)
		}
		c.terminated(target, w.Watcher)
		return
	}
	c.log.Debug("remote: undeliverable message", slog.Any("target", target), slog.String("type", fmt.Sprintf("%T", pactor.UnwrapEnvelopeMessage(msg))), slog.Any("error", cause))
	if system {
		c.sys.DeadLetter.SendSystemMessage(target, msg)
	} else {
		c.sys.DeadLetter.SendUserMessage(target, msg)
	}
}

// terminated tells a local watcher that watchee's process is gone.
func (c *Core) terminated(watchee, watcher *pactor.PID) {
	if watcher == nil {
		return
	}
	c.ctr.add(CWatchTerminated, 1)
	t := &pactor.Terminated{Who: watchee, Why: pactor.TerminatedReason_AddressTerminated}
	proc, _ := c.sys.ProcessRegistry.Get(watcher)
	proc.SendSystemMessage(watcher, t)
}

// peerMap maps addresses to live peers. Every send reads it and few things
// write it (a first dial, a death, Close), so a read is an atomic load and a
// lookup in a plain map, and a write copies the map (a few entries: one per
// process of the system).
type peerMap struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[string]*peer]
}

// Load returns the peer at addr.
func (pm *peerMap) Load(addr string) (*peer, bool) {
	if m := pm.m.Load(); m != nil {
		p, ok := (*m)[addr]
		return p, ok
	}
	return nil, false
}

// update replaces the map with a copy that f changed.
func (pm *peerMap) update(f func(m map[string]*peer)) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	m := map[string]*peer{}
	if old := pm.m.Load(); old != nil {
		maps.Copy(m, *old)
	}
	f(m)
	pm.m.Store(&m)
}

// Store sets the peer at addr.
func (pm *peerMap) Store(addr string, p *peer) { pm.update(func(m map[string]*peer) { m[addr] = p }) }

// LoadAndDelete removes the peer at addr and returns it.
func (pm *peerMap) LoadAndDelete(addr string) (p *peer, ok bool) {
	pm.update(func(m map[string]*peer) {
		if p, ok = m[addr]; ok {
			delete(m, addr)
		}
	})
	return p, ok
}

// Clear removes every peer and returns them.
func (pm *peerMap) Clear() []*peer {
	var out []*peer
	pm.update(func(m map[string]*peer) {
		for addr, p := range m {
			out = append(out, p)
			delete(m, addr)
		}
	})
	return out
}

// Range calls f for each peer until f returns false.
func (pm *peerMap) Range(f func(addr string, p *peer) bool) {
	if m := pm.m.Load(); m != nil {
		for addr, p := range *m {
			if !f(addr, p) {
				return
			}
		}
	}
}
