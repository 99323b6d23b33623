package actor

import (
	"strings"
	"sync"
	"sync/atomic"
)

// The step cache: most macrosteps of most machines depend on nothing but the
// configuration and the event type. When no guard (other than xorc.in) is
// evaluated and no action touches the context, logs or calls user code, the
// macrostep from a configuration for an event type always gives the same
// next configuration, status and effects (timer starts and cancels, sends
// and raises are constants of the definition). A Machine that has run enough
// steps interns its configurations and remembers those macrosteps, per
// (configuration, event id), so that Step becomes a table lookup.
//
// Exactness: the first operation of a macrostep that could depend on
// anything else (a context or event read, user code, a log of the event)
// marks the macrostep impure, and an impure (configuration, event) pair is
// never cached. Everything before that first operation is a function of the
// configuration and the event type, so whether a pair is impure is itself
// such a function: the mark is permanent. Steps that fail (status error) are
// never cached; neither are xstate.stop and xstate.error.actor.* events,
// whose handling reads the status or the event payload.
//
// Concurrency: a Machine is shared by the interpreters of many actors. The
// table of interned configurations is read without locks (atomic slots,
// replaced by a bigger table when it grows) and written under a mutex; a
// configuration's cached steps are atomic pointers, written by whichever
// interpreter computed the step first (every interpreter computes the same).
//
// Memory: the number of interned configurations is bounded (stepCacheBudget
// bytes per machine, roughly); past the bound new configurations are not
// interned and steps from them run the interpreter, as without the cache.

// config is an interned configuration of a machine: the active states in
// insertion order (XState's _nodes) and the recorded history per history
// ordinal, with the macrosteps cached from it. The snapshots of a machine
// whose cache is on point to one (Snapshot.c); it never changes once made,
// except for its cached steps.
type config struct {
	active []int32
	hist   [][]int32 // nil: nothing recorded
	hash   uint64
	next   []atomic.Pointer[stepResult] // by event id (unknownSlot: the others): the cached macrostep, or impureStep
}

// stepResult is a cached macrostep.
type stepResult struct {
	to      *config // nil: impure, run the interpreter
	status  Status  // StatusActive or StatusDone
	effects []Effect
}

// impureStep marks a (configuration, event) pair that cannot be cached.
var impureStep = &stepResult{}

// stepCacheAfter is the number of slow (uncached) steps an interpreter runs
// before it turns the step cache of its machine on: machines that only live
// for a few events (RunCase) do not pay for interning. Negative: never (an
// interpreter that ignores the cache entirely, for tests).
var stepCacheAfter = 64

// stepCacheBudget bounds the memory of a machine's step cache, in bytes
// (approximately: the configurations, their step tables and results).
const stepCacheBudget = 2 << 20

type stepCache struct {
	tab   atomic.Pointer[cfgTable]
	mu    sync.Mutex // serializes inserts
	n     int        // interned configurations
	limit int
	nev   int    // event ids
	evOK  []bool // by event id: a macrostep for this event type may be cached
}

type cfgTable struct {
	mask  uint64
	slots []atomic.Pointer[config]
}

func newCfgTable(size int) *cfgTable {
	return &cfgTable{mask: uint64(size - 1), slots: make([]atomic.Pointer[config], size)}
}

// stepCache returns the machine's step cache, creating it.
func (m *Machine) stepCache() *stepCache {
	if sc := m.steps.Load(); sc != nil {
		return sc
	}
	// One slot per event id, and one for all the event types the machine
	// does not name (unknownSlot).
	nev := len(m.evNames) + 1
	sc := &stepCache{nev: nev, evOK: make([]bool, nev)}
	for id, name := range m.evNames {
		sc.evOK[id] = cacheableType(name)
	}
	sc.evOK[nev-1] = true
	// A configuration costs its step table, its lists and, at worst, one
	// result (with its effects) per event.
	per := (8+96)*nev + 4*len(m.states) + 4*len(m.histStates) + 160
	sc.limit = min(max(stepCacheBudget/per, 4), 1<<16)
	sc.tab.Store(newCfgTable(64))
	if !m.steps.CompareAndSwap(nil, sc) {
		return m.steps.Load()
	}
	return sc
}

// cacheableType reports whether a macrostep for this event type may be
// cached: xstate.stop and unhandled xstate.error.actor.* events read the
// status or the payload (and xstate.init runs no transition selection).
func cacheableType(t string) bool {
	return t != stopEventType && t != initEventType && !strings.HasPrefix(t, errorEventPfx)
}

// unknownSlot is the step-cache slot of an event type the machine does not
// name: such events only match the "*" wildcards, all in the same way,
// unless some state has a partial wildcard ("foo.*"), which tells them
// apart. -1: not cacheable.
func (m *Machine) unknownSlot(t string) int32 {
	if m.partial || !cacheableType(t) {
		return -1
	}
	return int32(len(m.evNames))
}

// cfgHash hashes a configuration (FNV-1a over the state indices, with the
// history ordinals and record lengths mixed in).
func cfgHash(active []int32, hist [][]int32) uint64 {
	const prime = 0x100000001b3
	h := uint64(0xcbf29ce484222325) ^ uint64(len(active))
	for _, x := range active {
		h = (h ^ uint64(uint32(x))) * prime
	}
	for ord, rec := range hist {
		if rec == nil {
			continue
		}
		h = (h ^ (uint64(ord+1)<<32 | uint64(len(rec)))) * prime
		for _, x := range rec {
			h = (h ^ uint64(uint32(x))) * prime
		}
	}
	return h ^ h>>31
}

func histAt(hist [][]int32, ord int) []int32 {
	if ord < len(hist) {
		return hist[ord]
	}
	return nil
}

func (c *config) equal(active []int32, hist [][]int32) bool {
	if !equalInt32s(c.active, active) {
		return false
	}
	for ord := 0; ord < max(len(c.hist), len(hist)); ord++ {
		a, b := histAt(c.hist, ord), histAt(hist, ord)
		if (a == nil) != (b == nil) || !equalInt32s(a, b) {
			return false
		}
	}
	return true
}

func (t *cfgTable) find(h uint64, active []int32, hist [][]int32) *config {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		c := t.slots[i].Load()
		if c == nil {
			return nil
		}
		if c.hash == h && c.equal(active, hist) {
			return c
		}
	}
}

func (t *cfgTable) insert(c *config) {
	for i := c.hash & t.mask; ; i = (i + 1) & t.mask {
		if t.slots[i].Load() == nil {
			t.slots[i].Store(c)
			return
		}
	}
}

// intern returns the interned configuration equal to (active, hist), making
// it (with copies of the lists) when it is new, or nil when the cache is full.
func (sc *stepCache) intern(active []int32, hist [][]int32) *config {
	h := cfgHash(active, hist)
	if c := sc.tab.Load().find(h, active, hist); c != nil {
		return c
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	t := sc.tab.Load()
	if c := t.find(h, active, hist); c != nil {
		return c
	}
	if sc.n >= sc.limit {
		return nil
	}
	c := &config{hash: h, next: make([]atomic.Pointer[stepResult], sc.nev)}
	// One allocation for the active list and the history records.
	n, last := len(active), -1
	for ord, rec := range hist {
		if rec != nil {
			n += len(rec)
			last = ord
		}
	}
	buf := make([]int32, n)
	c.active = buf[:copy(buf, active):len(active)]
	buf = buf[len(active):]
	if last >= 0 {
		c.hist = make([][]int32, last+1)
		for ord, rec := range hist[:last+1] {
			if rec != nil {
				c.hist[ord] = buf[:copy(buf, rec):len(rec)]
				buf = buf[len(rec):]
			}
		}
	}
	if 2*(sc.n+1) > len(t.slots) {
		nt := newCfgTable(2 * len(t.slots))
		for i := range t.slots {
			if old := t.slots[i].Load(); old != nil {
				nt.insert(old)
			}
		}
		sc.tab.Store(nt)
		t = nt
	}
	t.insert(c)
	sc.n++
	return c
}

// cache returns the step cache the interpreter uses, or nil.
func (it *Interpreter) cache() *stepCache {
	if it.cacheAfter < 0 {
		return nil
	}
	if sc := it.m.steps.Load(); sc != nil {
		return sc
	}
	if it.slow < it.cacheAfter { // it.slow counts the steps before this one
		return nil
	}
	return it.m.stepCache()
}

// remember caches the macrostep from `from` for event id, which gave `to`.
func (it *Interpreter) remember(from *config, id int32, to *config, status Status) {
	sc := it.m.steps.Load()
	if sc == nil || it.cacheAfter < 0 || id < 0 || !sc.evOK[id] {
		return
	}
	slot := &from.next[id]
	if it.impure {
		if slot.Load() == nil {
			slot.Store(impureStep)
		}
		return
	}
	if to == nil || (status != StatusActive && status != StatusDone) {
		return
	}
	r := &stepResult{to: to, status: status}
	if len(it.effects) > 0 {
		r.effects = append([]Effect(nil), it.effects...)
	}
	slot.Store(r)
}
