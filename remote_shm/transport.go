//go:build unix

package remote_shm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
)

// Options configures New. Only Name is required.
type Options struct {
	// Name names the system: the segment /dev/shm/xorc.<Name> that every
	// process of the system maps (letters, digits, '.', '_', '-').
	Name string
	// Dir overrides the segment directory (default /dev/shm; tests).
	Dir string
	// Mode is the segment file's permission bits when this process creates
	// it (default 0600: only this user's processes can join).
	Mode os.FileMode
	// ProcessName names this process in the process table (default: the
	// executable's name).
	ProcessName string

	// Capacities, used when this process creates the segment (a process
	// joining an existing one uses the capacities in its header).
	MaxProcesses int // process table entries (default 16)
	MaxMachines  int // machine table capacity (default 256)
	InboxBytes   int // each process's inbox ring, a power of two (default 1 MiB)

	// Spin is how long the reader polls its inbox before it sleeps on the
	// futex (see Spin in the ring's documentation): 0 takes DefaultSpinBudget,
	// a negative value disables spinning (lowest CPU, highest latency).
	Spin time.Duration
	// SendTimeout is the deadline of a send whose caller gives none
	// (proto.actor sends, a context without deadline): a full inbox makes
	// the sender wait until then and fail with ErrFull. Default 5 s.
	SendTimeout time.Duration
	// MaxQueueBytes bounds the encoded messages queued for one peer and not
	// yet written into its inbox (default 1 MiB, at least an eighth of the
	// inbox): a send that finds the queue full waits for room until its
	// deadline, then fails with ErrFull.
	MaxQueueBytes int

	// Liveness (see registry.ShmOptions): heartbeat period (default 1 s),
	// the heartbeat age after which a peer is declared dead (default 5
	// periods), the pid poll period when pidfd is unavailable (50 ms).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	PollInterval      time.Duration

	// Inline, if set, lets the reader run a mailbox that a batch of records
	// made runnable itself instead of waking a worker goroutine for it (see
	// actor.PoolDispatcher.Offer, which implements it): after a request from
	// another process the machine runs and answers on the reader, and no
	// goroutine or thread of this process is woken. A run that outlasts
	// InlineBudget (a blocking action) hands the reading to a new goroutine.
	Inline Inliner

	// Logger (default: the actor system's).
	Logger *slog.Logger
}

// Inliner is Options.Inline: Offer opens an offer for the next scheduled
// mailbox run (false: none opened), Take closes it and returns the run left
// in it, or nil; the caller must run it.
type Inliner interface {
	Offer() bool
	Take() func()
}

// DefaultSpinBudget is the reader's spin before it sleeps, unless
// Options.Spin says otherwise. Measured with `xorc bench --transport shm
// --spin`: see the README.
const DefaultSpinBudget = 10 * time.Microsecond

// Scheme starts every shared-memory address: shm://<name>/<slot>.<generation>.
const Scheme = "shm://"

// RecordBatch is the ring record type of an encoded proto.Batch, the only
// type the transport writes.
const RecordBatch int32 = 1

// Transport is this process's membership of a shared-memory system: its slot
// in the registry, its inbox ring, its reader, and the routing core that
// turns proto.actor messages into ring records and back.
type Transport struct {
	opts   Options
	reg    *registry.Shm
	self   registry.Process
	addr   string
	prefix string // Scheme + name + "/"
	lay    registry.Layout

	ring   *Ring
	shared *remote.Counters                // published copy of the core's counters, in our inbox block
	sinbox *[numInboxCounters]uint64       // published copy of inbox, in our inbox block
	inbox  [numInboxCounters]atomic.Uint64 // bad records, read errors, unblocked

	ringsMu sync.Mutex
	rings   []*Ring // producer handles on other slots' rings, by slot

	core    *remote.Core
	log     *slog.Logger
	spin    Spin
	started atomic.Bool
	// replyExpected: a request went out since the reader last began to
	// wait: it spins ReplySpin rather than spin. requestSeen: one came in:
	// it spins RequestSpin.
	replyExpected atomic.Bool
	requestSeen   atomic.Bool
	// Inline runs (see runInline): the current run's token, or 0.
	inline    Inliner
	role      atomic.Uint64
	inlineSeq atomic.Uint64
	watchdog  *time.Timer
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the reader and the sweeper
	stopDown  func()

	// live guards the mapping: everything that may touch shared memory from
	// another goroutine than the reader (link writes, death callbacks,
	// Stats) read-holds it; Close write-holds it before unmapping.
	live     sync.RWMutex
	closing  atomic.Bool // link writes fail fast, full-inbox waits end
	closed   bool        // guarded by live: the mapping is gone
	final    Stats       // the counters at Close
	closeMu  sync.Mutex
	closeErr error
}

// New joins (or creates) the system's segment, takes a process slot, formats
// this process's inbox ring there and publishes its address. Start attaches
// it to an actor system.
func New(opts Options) (*Transport, error) {
	if opts.InboxBytes == 0 {
		opts.InboxBytes = registry.DefaultInboxBytes
	}
	maxProcs := opts.MaxProcesses
	if maxProcs == 0 {
		maxProcs = registry.DefaultMaxProcesses
	}
	size, err := RingSize(opts.InboxBytes, maxProcs)
	if err != nil {
		return nil, fmt.Errorf("shm transport: %w", err)
	}
	ringData := max(MinCapacity, opts.InboxBytes)
	reg, err := registry.OpenShm(registry.ShmOptions{
		Name:              opts.Name,
		Dir:               opts.Dir,
		Mode:              opts.Mode,
		ProcessName:       opts.ProcessName,
		MaxProcesses:      opts.MaxProcesses,
		MaxMachines:       opts.MaxMachines,
		InboxBytes:        opts.InboxBytes,
		InboxHeaderBytes:  blockBytes + size - ringData,
		HeartbeatInterval: opts.HeartbeatInterval,
		HeartbeatTimeout:  opts.HeartbeatTimeout,
		PollInterval:      opts.PollInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("shm transport: %w", err)
	}
	t, err := newTransport(opts, reg)
	if err != nil {
		_ = reg.Close()
		return nil, fmt.Errorf("shm transport %s: %w", opts.Name, err)
	}
	return t, nil
}

func newTransport(opts Options, reg *registry.Shm) (*Transport, error) {
	t := &Transport{
		opts:   opts,
		reg:    reg,
		self:   reg.Self(),
		prefix: Scheme + opts.Name + "/",
		lay:    reg.Layout(),
		log:    opts.Logger,
	}
	switch {
	case opts.Spin < 0:
		t.spin = Spin{}
	case opts.Spin == 0:
		t.spin = Spin{Duration: DefaultSpinBudget}
	default:
		t.spin = Spin{Duration: opts.Spin}
	}
	t.addr = t.addressOf(t.self.Slot, t.self.Generation)
	if len(t.addr) > registry.MaxAddressLen {
		return nil, fmt.Errorf("address %q is longer than %d bytes: use a shorter name", t.addr, registry.MaxAddressLen)
	}
	region, err := reg.InboxRegion(t.self.Slot)
	if err != nil {
		return nil, err
	}
	if len(region) < blockBytes {
		return nil, fmt.Errorf("inbox region of %d bytes: %w", len(region), ErrBadRegion)
	}
	// The registry zeroed the region when it gave us the slot: only the
	// ring's header needs writing, its data pages stay unallocated until used.
	ring, err := FormatZeroedRing(region[blockBytes:], t.lay.MaxProcesses)
	if err != nil {
		return nil, fmt.Errorf("inbox of slot %d: %w", t.self.Slot, err)
	}
	t.ring = ring
	t.shared = (*remote.Counters)(unsafe.Pointer(&region[offBlockCounters]))
	t.sinbox = (*[numInboxCounters]uint64)(unsafe.Pointer(&region[offInboxCounters]))
	atomic.StoreUint32(u32at(region, 4), blockVersion)
	atomic.StoreUint32(u32at(region, 0), blockMagic)
	t.rings = make([]*Ring, t.lay.MaxProcesses)
	// A slot is handed on only after its previous process died: an intent
	// that process left in another inbox is not ours. Clear our producer
	// line everywhere before we write anywhere.
	for slot := range t.rings {
		if slot == t.self.Slot {
			continue
		}
		if r, err := t.attach(slot); err == nil {
			_ = r.ResetProducer(t.self.Slot)
			t.rings[slot] = r
		}
	}
	if err := reg.SetAddress(t.addr); err != nil {
		return nil, err
	}
	return t, nil
}

// attach opens a producer handle on slot's ring, if it is formatted.
func (t *Transport) attach(slot int) (*Ring, error) {
	region, err := t.reg.InboxRegion(slot)
	if err != nil {
		return nil, err
	}
	if len(region) < blockBytes {
		return nil, fmt.Errorf("inbox region of %d bytes: %w", len(region), ErrBadRegion)
	}
	return AttachRing(region[blockBytes:])
}

// Address is this process's transport address (shm://<name>/<slot>.<gen>).
func (t *Transport) Address() string { return t.addr }

// Registry is the shared-memory registry this transport joined.
func (t *Transport) Registry() *registry.Shm { return t.reg }

// Self is this process's registry entry.
func (t *Transport) Self() registry.Process { return t.self }

func (t *Transport) addressOf(slot int, gen uint32) string {
	return t.prefix + strconv.Itoa(slot) + "." + strconv.FormatUint(uint64(gen), 10)
}

// ParseAddress splits a shared-memory address into the system name, the
// process slot and its generation.
func ParseAddress(address string) (name string, slot int, gen uint32, err error) {
	rest, ok := strings.CutPrefix(address, Scheme)
	if !ok {
		return "", 0, 0, fmt.Errorf("%w: %q does not start with %s", remote.ErrNotRemote, address, Scheme)
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return "", 0, 0, fmt.Errorf("%w: %q: want %s<name>/<slot>.<generation>", remote.ErrNotRemote, address, Scheme)
	}
	name = rest[:i]
	s, g, ok := strings.Cut(rest[i+1:], ".")
	sl, err1 := strconv.ParseUint(s, 10, 31)
	gn, err2 := strconv.ParseUint(g, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return "", 0, 0, fmt.Errorf("%w: %q: want %s<name>/<slot>.<generation>", remote.ErrNotRemote, address, Scheme)
	}
	return name, int(sl), uint32(gn), nil
}

func (t *Transport) match(address string) bool { return strings.HasPrefix(address, t.prefix) }

func (t *Transport) sendTimeout() time.Duration {
	if t.opts.SendTimeout > 0 {
		return t.opts.SendTimeout
	}
	return remote.DefaultSendTimeout
}

// Start attaches the transport to system: it sets the system's address,
// registers the address resolver for the other processes' PIDs and starts
// the reader. Call it once, before spawning actors on system.
func (t *Transport) Start(system *pactor.ActorSystem) error {
	if t.started.Swap(true) {
		return errors.New("shm transport: already started")
	}
	if t.log == nil {
		t.log = system.Logger()
	}
	system.ProcessRegistry.Address = t.addr
	core, err := remote.New(remote.Config{
		System:        system,
		Address:       t.addr,
		Match:         t.match,
		Dial:          t.dial,
		SendTimeout:   t.opts.SendTimeout,
		MaxQueueBytes: t.opts.MaxQueueBytes,
		Logger:        t.log,
		AwaitReply:    t.awaitReply,
		OnRequest:     t.onRequest,
	})
	if err != nil {
		return err
	}
	t.core = core
	system.ProcessRegistry.RegisterAddressResolver(core.Resolve)
	t.stopDown = t.reg.OnProcessDown(t.onDown)
	if t.opts.Inline != nil {
		t.inline = t.opts.Inline
		t.watchdog = time.AfterFunc(time.Hour, t.handOn)
		t.watchdog.Stop()
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.wg.Add(2)
	go t.read()
	go t.sweep()
	return nil
}

// ReplySpin is how long the reader spins for a reply after a request went
// out (a message with a sender), instead of Options.Spin: a round trip
// usually takes longer than the idle spin budget, and a reply that finds
// the reader asleep pays a futex wake-up (tens of microseconds on a busy
// VM).
const ReplySpin = 200 * time.Microsecond

// awaitReply runs after a request was written: the reader should spin for
// the reply; if it sleeps, wake it now, while the peer works, rather than
// when the reply comes.
func (t *Transport) awaitReply() {
	if t.ring.pollers.Load() > 0 {
		return // the requester reads (PollRequest)
	}
	t.replyExpected.Store(true)
	t.ring.wakeIfSleeping()
}

// RequestSpin is how long the reader spins after a request came in (unless
// spinning is off, Options.Spin < 0): in a request/reply loop the
// requester's next request follows the reply within one round trip, and a
// sleeping reader would pay a futex wake-up for it. Shorter than ReplySpin:
// the next request is a guess, the reply to our own request is not, and a
// process that serves sparse requests spins this long after each.
const RequestSpin = 50 * time.Microsecond

// onRequest runs on the reader when a request from another process arrived.
func (t *Transport) onRequest() {
	if t.spin.Duration > 0 {
		t.requestSeen.Store(true)
	}
}

// sweepEvery is how often the transport checks the peers it talks to for
// deaths the registry did not report (the registry reports only processes
// its monitor saw alive: one that joined and died between two of its scans
// is found dead by the next scan but not reported), and publishes its
// counters for `xorc inspect`. Rare enough not to matter for an idle
// process's CPU.
const sweepEvery = 250 * time.Millisecond

func (t *Transport) sweep() {
	defer t.wg.Done()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		t.publish()
		t.core.CheckPeers(t.gone)
	}
}

// Deliver sends msg to target, a PID of another process of the system (see
// remote.Core.Deliver): a one-way message returns once queued for the
// process's writer, a request once written into the target's inbox. It fails
// when the queue stays full past ctx's deadline (ErrFull), the process is
// dead (registry.ErrProcessDied), the message has no wire form or is too
// large, or messages accepted earlier for that process were not delivered
// (ErrUndelivered, once; they are also dead letters and counted).
func (t *Transport) Deliver(ctx context.Context, target, sender *pactor.PID, msg any) error {
	if t.core == nil {
		return fmt.Errorf("shm transport: deliver before Start: %w", remote.ErrClosed)
	}
	return t.core.Deliver(ctx, target, sender, msg)
}

// AwaitReply returns a reply PID resolved by the routing core (see
// remote.Core.AwaitReply); false before Start or when its table is full.
func (t *Transport) AwaitReply(proc pactor.Process) (*remote.Await, bool) {
	if t.core == nil {
		return nil, false
	}
	return t.core.AwaitReply(proc)
}

// Route returns a handle for repeated one-way sends of frozen messages to
// target (see remote.Core.Route), or nil when there is none yet (send with
// Deliver first).
func (t *Transport) Route(target *pactor.PID) *remote.Route {
	if t.core == nil {
		return nil
	}
	return t.core.Route(target)
}

// Errors of the transport (besides the registry's and the ring's).
var (
	// ErrFull: the peer's inbox stayed full until the send's deadline.
	ErrFull = remote.ErrFull
	// ErrMessageTooLarge: an encoded message is larger than an inbox accepts
	// (an eighth of the inbox size, minus a record header).
	ErrMessageTooLarge = remote.ErrTooLarge
	// ErrUndelivered: messages accepted earlier for the same process were
	// not delivered (their write failed); it wraps the cause.
	ErrUndelivered = remote.ErrUndelivered
)

// onDown runs for every peer the registry finds dead or departed.
func (t *Transport) onDown(p registry.Process) {
	t.core.PeerDown(t.addressOf(p.Slot, p.Generation), downErr(p))
	if p.Address != "" && p.Address != t.addressOf(p.Slot, p.Generation) {
		t.core.PeerDown(p.Address, downErr(p))
	}
	t.live.RLock()
	defer t.live.RUnlock()
	if t.closed {
		return
	}
	if n := t.ring.Unblock(t.deadProducer); n > 0 {
		t.inbox[inboxUnblocked].Add(uint64(n))
	}
}

func downErr(p registry.Process) error { return remote.ProcessDown(p) }

// gone says why the peer at addr is gone (for the sweep), or nil.
func (t *Transport) gone(addr string) error {
	_, slot, gen, err := ParseAddress(addr)
	if err != nil || t.reg.IsAlive(slot, gen) {
		return nil
	}
	return remote.PeerGone(t.reg, addr, slot, gen)
}

// deadProducer reports whether the process using producer id p (its slot) is
// known to be gone: Unblock skips an unfinished record only then.
func (t *Transport) deadProducer(p int) bool {
	if p == t.self.Slot {
		return false // we never write to our own inbox
	}
	proc, err := t.reg.Process(p)
	return err == nil && proc.Status != registry.ProcessActive
}

// Close stops the transport: everything queued for other processes is
// reported (ErrClosed), local watchers of remote actors get Terminated, the
// reader stops, and the process leaves the registry (its peers see it
// depart). Messages still in this process's inbox are not delivered. Stats
// keeps answering (with the counters at Close).
func (t *Transport) Close() error {
	t.closeMu.Lock()
	defer t.closeMu.Unlock()
	if t.closing.Swap(true) {
		return t.closeErr
	}
	var errs []error
	if t.stopDown != nil {
		t.stopDown()
	}
	if t.core != nil {
		errs = append(errs, t.core.Close())
	}
	if t.cancel != nil {
		t.cancel()
		t.wg.Wait()
	}
	t.live.Lock() // no write, callback or Stats touches the segment any more
	t.final = t.stats()
	t.publish()
	t.closed = true
	t.live.Unlock()
	errs = append(errs, t.reg.Close())
	t.closeErr = errors.Join(errs...)
	return t.closeErr
}

// publish copies the counters into this process's inbox block, where
// `xorc inspect` reads them (the sweeper does it every sweepEvery).
func (t *Transport) publish() {
	if t.core != nil {
		t.core.CopyCounters(t.shared)
	}
	for i := range t.inbox {
		atomic.StoreUint64(&t.sinbox[i], t.inbox[i].Load())
	}
}

// Stats reads this process's counters.
func (t *Transport) Stats() Stats {
	t.live.RLock()
	defer t.live.RUnlock()
	if t.closed {
		return t.final
	}
	return t.stats()
}

func (t *Transport) stats() Stats {
	st := Stats{
		BadRecords: t.inbox[inboxBadRecords].Load(),
		ReadErrors: t.inbox[inboxReadErrors].Load(),
		Unblocked:  t.inbox[inboxUnblocked].Load(),
		HandOns:    t.inbox[inboxHandOns].Load(),
		Polled:     t.inbox[inboxPolled].Load(),
		PollMisses: t.inbox[inboxPollMisses].Load(),
		Inbox:      t.ring.Stats(),
	}
	if t.core != nil {
		st.Stats = t.core.Stats()
	}
	return st
}

// WriteRaw writes one record of type msgType into the inbox of the process
// at address, as this process's producer, bypassing the routing core: a
// diagnostic for tests of bad input (garbage records, stale envelopes). It
// needs no Start.
func (t *Transport) WriteRaw(ctx context.Context, address string, msgType int32, payload []byte) error {
	_, slot, gen, err := ParseAddress(address)
	if err != nil {
		return err
	}
	t.live.RLock()
	defer t.live.RUnlock()
	if t.closed {
		return remote.ErrClosed
	}
	if slot >= t.lay.MaxProcesses || !t.reg.IsAlive(slot, gen) {
		return fmt.Errorf("%w: no live process at %s", registry.ErrProcessDied, address)
	}
	r, err := t.producerRing(slot)
	if err != nil {
		return err
	}
	return r.Write(ctx, t.self.Slot, msgType, payload)
}
