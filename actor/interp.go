package actor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The interpreter: XState 5.33.3's macrostep / microstep algorithm over the
// compiled tables, with effects as data. See doc.go for the semantics.

const (
	initEventType = "xstate.init"
	stopEventType = "xstate.stop"
	errorEventPfx = "xstate.error.actor"
)

// errInfiniteLoop is XState's message, word for word.
func errInfiniteLoop(max int) error {
	return errors.New("Infinite loop detected: the machine has processed more than " + strconv.Itoa(max) +
		" microsteps without reaching a stable state. This usually happens when there's a cycle of transitions (e.g., eventless transitions or raised events causing state A -> B -> C -> A).")
}

// ievent is an event with its interned id (-1 when the type is not interned).
type ievent struct {
	ev Event
	id int32
}

// arenaChunk is the size of the int32 chunks that snapshot configurations
// and history records are carved from: snapshots are immutable, so a chunk is
// only appended to, and a new one is allocated when it is full. This keeps a
// transition on a flat machine at (amortized) zero allocations.
const arenaChunk = 512

// NewInterpreter returns an interpreter for m. An Interpreter holds scratch
// space and is not safe for concurrent use: give each actor its own.
func (m *Machine) NewInterpreter() *Interpreter {
	n := len(m.states)
	w := (n + 63) / 64
	bits := make(bitset, 4*w) // in, exitB, enterB, doneB
	ints := make([]int32, n+16)
	it := &Interpreter{
		m:          m,
		in:         bits[:w:w],
		exitB:      bits[w : 2*w : 2*w],
		enterB:     bits[2*w : 3*w : 3*w],
		doneB:      bits[3*w:],
		child:      ints[:n:n],
		exits:      ints[n : n : n+8],
		newEntries: ints[n+8 : n+8],
		sel:        make([]*transition, 0, 8),
		queue:      make([]ievent, 0, 4),
		cacheAfter: stepCacheAfter,
	}
	it.aargs.it = it
	it.gargs.it = it
	return it
}

// Interpreter runs macrosteps. It does no I/O, starts no goroutine and reads no
// clock: time enters only as events (timer events from EffectStartTimer).
type Interpreter struct {
	m *Machine

	// Working state of the current macrostep.
	in          bitset  // active states
	child       []int32 // the active child of each active compound state (-1: none)
	list        []int32 // active states in insertion order (XState's _nodes); never written in place
	listChanged bool    // list is new (an arena slice) and becomes the snapshot's
	hist        [][]int32
	histOwned   bool // hist is a scratch copy, not the snapshot's
	histChanged bool
	ctx         Context
	ctxOwned    bool
	status      Status
	errMsg      string
	assigned    bool   // an assign-type action ran in this microstep
	cur         ievent // the event being processed (a field, so that pointers to it do not escape)
	queue       []ievent
	qhead       int
	effects     []Effect

	// Scratch.
	sel, filt   []*transition
	doms        []int32
	drop        []int
	exits       []int32 // exit set of the microstep, reverse document order
	entries     []int32 // entry set (general path), document order
	newEntries  []int32 // entered states that were not active
	completed   []int32 // parallel states whose done event was queued
	exitB       bitset  // marks the exit set during a microstep (clean otherwise)
	enterB      bitset  // entry set of the general path (clean otherwise)
	doneB       bitset
	eff         []int32
	cands       []*transition
	histScratch [][]int32
	aargs       ActionArgs
	gargs       GuardArgs
	arena       []int32
	harena      [][]int32
	cacheList   []int32 // the committed list whose membership `in` and `child` hold
	slow        int     // steps run without the step cache
	cacheAfter  int     // slow steps before the machine's step cache is turned on (<0: never)
	impure      bool    // the macrostep did something the step cache cannot replay
}

// Machine returns the machine the interpreter runs.
func (it *Interpreter) Machine() *Machine { return it.m }

// Start runs the initial macrostep (event xstate.init).
// The returned effects are valid until the next call on it.
func (it *Interpreter) Start() (Snapshot, []Effect) {
	m := it.m
	it.effects = it.effects[:0]
	it.in.clear()
	it.exitB.clear()
	it.enterB.clear()
	for i := range it.child {
		it.child[i] = -1
	}
	it.in.set(0)
	it.list, it.listChanged = []int32{0}, true
	it.hist, it.histOwned, it.histChanged = nil, false, false
	it.ctx, it.ctxOwned = m.ctx0, false
	it.status, it.errMsg = StatusActive, ""
	it.queue, it.qhead = it.queue[:0], 0
	it.cacheList = nil

	it.cur = ievent{ev: Event{Type: initEventType}, id: -1}
	it.newEntries = it.newEntries[:0]
	it.exits = it.exits[:0] // updateList counts them (a previous macrostep's)
	err := it.safeStart()
	it.cur = ievent{}
	if err != nil {
		// XState keeps the pre-initial snapshot: initial context, and the
		// value of the initial configuration. Nothing ran for the driver.
		it.effects = it.effects[:0]
		it.cacheList = nil
		it.exitB.clear()
		it.enterB.clear()
		return Snapshot{Status: StatusError, Error: err.Error(), Context: m.ctx0, m: m, active: m.initEntry}, it.effects
	}
	return it.commit(&Snapshot{m: m}), it.effects
}

func (it *Interpreter) safeStart() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("xorc: internal error in the interpreter: %v", r)
		}
	}()
	if err := it.enterStates(it.m.initEntry, &it.cur); err != nil {
		return err
	}
	it.updateList(true)
	return it.loop()
}

// Step processes one external event (a macrostep). Events sent to a machine
// that is done, stopped or in error change nothing.
func (it *Interpreter) Step(s Snapshot, ev Event) (Snapshot, []Effect) {
	it.effects = it.effects[:0]
	if s.m != it.m {
		return it.foreign(s), it.effects
	}
	if s.Status != StatusActive {
		return s, it.effects
	}
	id := it.m.evTable.lookup(ev.Type)
	if r := it.cachedStep(&s, id, ev.Type); r != nil {
		to := r.to
		return Snapshot{Status: r.status, Context: s.Context, Error: s.Error, m: s.m, active: to.active, hist: to.hist, c: to}, it.effects
	}
	return it.uncachedStep(s, ev, id), it.effects
}

// cachedStep is the step cache's (stepcache.go) macrostep for event id (of
// type evType) from the active snapshot s of its machine, its effects
// appended to it.effects; nil when the cache does not have it.
func (it *Interpreter) cachedStep(s *Snapshot, id int32, evType string) *stepResult {
	if s.c == nil || s.Context == nil {
		return nil
	}
	slot := id
	if id < 0 {
		slot = it.m.unknownSlot(evType)
	}
	if slot < 0 {
		return nil
	}
	r := s.c.next[slot].Load()
	if r == nil || r.to == nil {
		return nil
	}
	if len(r.effects) > 0 {
		it.effects = append(it.effects, r.effects...)
	}
	return r
}

// stepInPlace is Step(*s, ev) for the machine actor, with the event's id
// (eventID) already known: *s becomes the snapshot Step returns (only once
// the macrostep is done), without copying it in and out, and only the
// fields that change are written on a step cache hit.
func (it *Interpreter) stepInPlace(s *Snapshot, ev Event, id int32) []Effect {
	it.effects = it.effects[:0]
	if s.m == it.m && s.Status == StatusActive {
		if r := it.cachedStep(s, id, ev.Type); r != nil {
			to := r.to
			s.Status, s.active, s.hist, s.c = r.status, to.active, to.hist, to
			return it.effects
		}
		*s = it.uncachedStep(*s, ev, id)
		return it.effects
	}
	var effects []Effect
	*s, effects = it.Step(*s, ev)
	return effects
}

// uncachedStep is Step of event ev (id: its id) from the active snapshot s
// of its machine, without the step cache.
func (it *Interpreter) uncachedStep(s Snapshot, ev Event, id int32) Snapshot {
	it.load(&s)
	it.cur.ev, it.cur.id = ev, id
	it.impure = false
	if err := it.safeMacrostep(); err != nil {
		it.slow++
		return it.fail(s, err)
	}
	out := it.commit(&s)
	it.slow++
	if s.c != nil && s.Context != nil {
		slot := id
		if id < 0 {
			slot = it.m.unknownSlot(ev.Type)
		}
		if slot >= 0 {
			it.remember(s.c, slot, out.c, out.Status)
		}
	}
	return out
}

// foreign is Step's answer for a snapshot of another machine or a zero one.
func (it *Interpreter) foreign(s Snapshot) Snapshot {
	switch {
	case s.m == nil && s.Status == StatusActive:
		s.Status, s.Error = StatusError, "xorc: Step on a snapshot that was not started (call Start first)"
	case s.m != nil && s.m != it.m:
		s.Status, s.Error = StatusError, "xorc: Step on a snapshot of another machine ("+s.m.id+")"
	}
	return s
}

// safeMacrostep runs the macrostep; a panic (a bug: user code panics are
// caught where it runs) becomes an error, so that the process never crashes.
func (it *Interpreter) safeMacrostep() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("xorc: internal error in the interpreter: %v", r)
		}
	}()
	return it.macrostep()
}

// eventID is the id of an event type in the machine (-1: none).
func (it *Interpreter) eventID(t string) int32 { return it.m.evTable.lookup(t) }

func sameSlice(a, b []int32) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

func (it *Interpreter) load(s *Snapshot) {
	it.list, it.listChanged = s.active, false
	if !sameSlice(s.active, it.cacheList) {
		it.in.clear()
		for i := range it.child {
			it.child[i] = -1
		}
		for _, x := range s.active {
			it.in.set(x)
			if p := it.m.states[x].parent; p >= 0 {
				it.child[p] = x
			}
		}
		it.cacheList = s.active
	}
	it.hist, it.histOwned, it.histChanged = s.hist, false, false
	it.ctx, it.ctxOwned = s.Context, false
	if it.ctx == nil {
		it.ctx = Context{}
		it.ctxOwned = true
	}
	it.status, it.errMsg = s.Status, s.Error
	it.queue, it.qhead = it.queue[:0], 0
}

// commit turns the working state into a new snapshot; base provides the
// unchanged parts.
func (it *Interpreter) commit(base *Snapshot) Snapshot {
	out := Snapshot{Status: it.status, Context: it.ctx, Error: it.errMsg, m: it.m, active: base.active, hist: base.hist, c: base.c}
	if it.listChanged || it.histChanged {
		if it.listChanged {
			out.active = it.list // an exact-size arena slice (updateList)
		}
		var c *config
		if sc := it.cache(); sc != nil {
			hist := out.hist
			if it.histChanged {
				hist = it.hist
			}
			c = sc.intern(out.active, hist)
		}
		if c != nil {
			out.active, out.hist, out.c = c.active, c.hist, c
		} else {
			out.c = nil
			if it.histChanged {
				if len(it.harena)+len(it.hist) > cap(it.harena) {
					it.harena = make([][]int32, 0, max(min(2*cap(it.harena), 256), 4*len(it.hist)))
				}
				n := len(it.harena)
				it.harena = append(it.harena, it.hist...)
				out.hist = it.harena[n : n+len(it.hist) : n+len(it.hist)]
			}
		}
	}
	it.cacheList = out.active
	return out
}

// alloc returns n int32s from the arena.
func (it *Interpreter) alloc(n int) []int32 {
	// Chunks grow from 64 to arenaChunk so short runs stay small.
	return carve(&it.arena, n, arenaChunk, 64)
}

// fail returns the pre-event snapshot in status error. Logs that already
// happened stay; sends and timer starts of the failed macrostep are dropped
// and every timer of the active states is cancelled.
func (it *Interpreter) fail(s Snapshot, err error) Snapshot {
	keep := it.effects[:0]
	for _, e := range it.effects {
		if e.Kind == EffectLog {
			keep = append(keep, e)
		}
	}
	it.effects = keep
	it.cancelTimers(s.active)
	it.cacheList = nil
	it.exitB.clear()
	it.enterB.clear()
	s.Status, s.Error = StatusError, err.Error()
	return s
}

// cancelTimers emits a cancel for every `after` timer of the given states.
func (it *Interpreter) cancelTimers(active []int32) {
	it.doneB.clear()
	for _, x := range active {
		it.doneB.set(x)
	}
	for x := it.doneB.prev(int32(len(it.m.states) - 1)); x >= 0; x = it.doneB.prev(x - 1) {
		for _, id := range it.m.states[x].timerIDs {
			it.effects = append(it.effects, Effect{Kind: EffectCancelTimer, TimerID: id})
		}
	}
}

func (it *Interpreter) macrostep() error {
	ie := &it.cur
	switch {
	case ie.ev.Type == stopEventType:
		it.status = StatusStopped
		it.cancelTimers(it.list)
		return nil
	case ie.ev.Type != initEventType:
		if err := it.selectEvent(ie); err != nil {
			return err
		}
		if len(it.sel) == 0 && strings.HasPrefix(ie.ev.Type, errorEventPfx) {
			it.status = StatusError
			it.errMsg = errorMessage(ie.ev.Data["error"])
			it.cancelTimers(it.list)
			return nil
		}
		if _, err := it.microstep(it.sel, ie); err != nil {
			return err
		}
	}
	return it.loop()
}

// errorMessage renders an error payload like the oracle's errMsg.
func errorMessage(v any) string {
	switch x := v.(type) {
	case nil:
		return "undefined"
	case string:
		return x
	case map[string]any:
		if msg, ok := x["message"]; ok {
			if s, ok := msg.(string); ok {
				return s
			}
			return jsStringify(msg)
		}
		return "[object Object]"
	}
	return jsStringify(v)
}

// loop is the eventless / internal-queue part of XState's macrostep.
func (it *Interpreter) loop() error {
	m := it.m
	if !m.hasAlways && it.qhead == len(it.queue) && m.maxIter >= 1 {
		return nil // the first round would find nothing to do
	}
	shouldSelect := true
	for iter := 1; it.status == StatusActive; iter++ {
		if iter > m.maxIter {
			return errInfiniteLoop(m.maxIter)
		}
		it.sel = it.sel[:0]
		if shouldSelect && m.hasAlways {
			if err := it.selectEventless(&it.cur); err != nil {
				return err
			}
		}
		fromQueue := false
		if len(it.sel) == 0 {
			if it.qhead == len(it.queue) {
				break
			}
			it.cur = it.queue[it.qhead]
			it.queue[it.qhead] = ievent{}
			it.qhead++
			fromQueue = true
			if err := it.selectEvent(&it.cur); err != nil {
				return err
			}
		}
		changed, err := it.microstep(it.sel, &it.cur)
		if err != nil {
			return err
		}
		shouldSelect = fromQueue || changed
	}
	return nil
}

// selectEvent collects the enabled transitions for an event by walking the
// active tree (XState's transitionNode).
func (it *Interpreter) selectEvent(ev *ievent) error {
	it.sel = it.sel[:0]
	_, err := it.selectNode(0, ev)
	return err
}

func (it *Interpreter) selectNode(s int32, ev *ievent) (bool, error) {
	states := it.m.states
	// Descend the chain of active compound states, then try the states from
	// the bottom up: the innermost enabled transition wins.
	leaf := s
	for states[leaf].kind == kCompound {
		ch := it.child[leaf]
		if ch < 0 {
			break
		}
		leaf = ch
	}
	var found bool
	var err error
	if states[leaf].kind == kParallel {
		found, err = it.selectParallel(leaf, ev)
	} else {
		found, err = it.tryState(leaf, ev)
	}
	for n := leaf; !found && err == nil && n != s; {
		n = states[n].parent
		found, err = it.tryState(n, ev)
	}
	return found, err
}

// selectParallel searches every region; the parallel state's own
// transitions count only when no region selected one.
func (it *Interpreter) selectParallel(p int32, ev *ievent) (bool, error) {
	any := false
	for _, ch := range it.m.states[p].children {
		if !it.in.has(ch) {
			continue
		}
		found, err := it.selectNode(ch, ev)
		if err != nil {
			return false, err
		}
		any = any || found
	}
	if any {
		return true, nil
	}
	return it.tryState(p, ev)
}

// candidates returns a state's candidate transitions for an event.
func (it *Interpreter) candidates(st *stateNode, ev *ievent) []*transition {
	if ev.id >= 0 {
		ids := st.evIDs
		if len(ids) <= 8 {
			for i, id := range ids {
				if id == ev.id {
					return st.evCands[i]
				}
			}
		} else {
			lo, hi := 0, len(ids)
			for lo < hi {
				mid := (lo + hi) / 2
				if ids[mid] < ev.id {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			if lo < len(ids) && ids[lo] == ev.id {
				return st.evCands[lo]
			}
		}
		return st.star
	}
	if st.partial {
		it.cands = append(it.cands[:0], candidatesFor(st.descs, ev.ev.Type)...)
		return it.cands
	}
	return st.star
}

func (it *Interpreter) tryState(s int32, ev *ievent) (bool, error) {
	st := &it.m.states[s]
	if len(st.descs) == 0 {
		return false, nil
	}
	for _, t := range it.candidates(st, ev) {
		if t.guard != nil {
			ok, err := it.evalGuard(t.guard, ev)
			if err != nil {
				return false, fmt.Errorf("Unable to evaluate guard '%s' in transition for event '%s' in state node '%s':\n%w", t.guard.name, ev.ev.Type, st.id, err)
			}
			if !ok {
				continue
			}
		}
		it.sel = append(it.sel, t)
		return true, nil
	}
	return false, nil
}

// selectEventless collects enabled eventless transitions, walking the atomic
// states in insertion order (pitfall 9).
func (it *Interpreter) selectEventless(ev *ievent) error {
	m := it.m
	for _, s := range it.list {
		st := &m.states[s]
		if !st.alwaysChain || (st.kind != kAtomic && st.kind != kFinal) {
			continue
		}
	walk:
		for a := s; a >= 0; a = m.states[a].parent {
			for _, t := range m.states[a].always {
				if t.guard != nil {
					ok, err := it.evalGuard(t.guard, ev)
					if err != nil {
						return err
					}
					if !ok {
						continue
					}
				}
				dup := false
				for _, x := range it.sel {
					dup = dup || x == t
				}
				if !dup {
					it.sel = append(it.sel, t)
				}
				break walk
			}
		}
	}
	return nil
}

// exitRangeOf returns the index range of t's exit set (empty for targetless
// transitions), computing the domain with the current history for history
// targets.
func (it *Interpreter) exitRangeOf(t *transition) (lo, hi, domain int32) {
	if len(t.targets) == 0 {
		return 0, 0, -1
	}
	if !t.histTarget {
		return t.exitLo, t.exitHi, t.domain
	}
	d := it.m.domainOf(t, it.effTargets(t))
	lo, hi = it.m.exitRange(t, d)
	return lo, hi, d
}

// effTargets resolves history targets with the current history record.
func (it *Interpreter) effTargets(t *transition) []int32 {
	it.eff = it.eff[:0]
	add := func(x int32) {
		for _, y := range it.eff {
			if y == x {
				return
			}
		}
		it.eff = append(it.eff, x)
	}
	for _, s := range t.targets {
		if it.m.states[s].kind != kHistory {
			add(s)
			continue
		}
		rec := it.histOf(s)
		if rec == nil {
			rec = it.m.states[s].histDefault
		}
		for _, r := range rec {
			add(r)
		}
	}
	return it.eff
}

func (it *Interpreter) histOf(h int32) []int32 {
	ord := it.m.states[h].histOrd
	if int(ord) >= len(it.hist) {
		return nil
	}
	return it.hist[ord]
}

// removeConflicts is XState's removeConflictingTransitions: a transition
// whose exit set intersects that of an earlier one is dropped, unless its
// source is a descendant of the earlier one's source, which it then replaces.
func (it *Interpreter) removeConflicts(trans []*transition) []*transition {
	m := it.m
	filt := it.filt[:0]
	for _, t1 := range trans {
		lo1, hi1, _ := it.exitRangeOf(t1)
		preempted := false
		it.drop = it.drop[:0]
		for i, t2 := range filt {
			lo2, hi2, _ := it.exitRangeOf(t2)
			if !it.in.anyIn(max(lo1, lo2), min(hi1, hi2)) {
				continue
			}
			if !m.isDesc(t1.source, t2.source) {
				preempted = true
				break
			}
			it.drop = append(it.drop, i)
		}
		if preempted {
			continue
		}
		if len(it.drop) > 0 {
			kept, d := filt[:0], 0
			for i, t := range filt {
				if d < len(it.drop) && it.drop[d] == i {
					d++
					continue
				}
				kept = append(kept, t)
			}
			filt = kept
		}
		filt = append(filt, t1)
	}
	it.filt = filt
	return filt
}

// microstep takes one set of transitions (XState's microstep). It reports
// whether the snapshot changed in XState's sense (pitfall 8).
func (it *Interpreter) microstep(trans []*transition, ev *ievent) (bool, error) {
	if len(trans) == 0 {
		return false, nil
	}
	m := it.m
	it.assigned = false
	if trans[0].swap {
		if len(trans) == 1 {
			return it.swap(trans[0], ev)
		}
		allSwap := true
		for _, t := range trans[1:] {
			allSwap = allSwap && t.swap
		}
		if allSwap {
			// Swaps never conflict: each exits only its own source, an
			// atomic state, and no two selected transitions share one.
			return it.multiSwap(trans, ev)
		}
	}
	filt := trans
	if len(trans) > 1 {
		filt = it.removeConflicts(trans)
	}
	statusBefore := it.status

	// The exit set, from the configuration before the step, in reverse
	// document order (children first, later regions first).
	exits := it.exits[:0]
	targeted := false
	simple := len(filt) == 1 && !filt[0].histTarget
	if simple {
		// Fast path: one transition with a static domain.
		if t := filt[0]; len(t.targets) > 0 {
			targeted = true
			for _, s := range it.list {
				if s >= t.exitLo && s < t.exitHi {
					exits = append(exits, s)
					it.exitB.set(s)
				}
			}
		}
	} else {
		it.doms = it.doms[:0]
		for _, t := range filt {
			lo, hi, d := it.exitRangeOf(t)
			it.doms = append(it.doms, d)
			if len(t.targets) == 0 {
				continue
			}
			targeted = true
			for _, s := range it.list {
				if s >= lo && s < hi && !it.exitB.has(s) {
					exits = append(exits, s)
					it.exitB.set(s)
				}
			}
		}
	}
	for i := 1; i < len(exits); i++ { // insertion sort, descending
		for j := i; j > 0 && exits[j] > exits[j-1]; j-- {
			exits[j], exits[j-1] = exits[j-1], exits[j]
		}
	}
	it.exits = exits

	// Exit: record history first (from the full configuration), then run
	// the exit actions.
	histChanged := false
	if len(m.histStates) > 0 {
		for _, s := range exits {
			if len(m.states[s].histKids) > 0 {
				it.recordHistory(s)
				histChanged = true
			}
		}
	}
	for _, s := range exits {
		st := &m.states[s]
		if len(st.exit) > 0 {
			if err := it.runActions(st.exit, ev); err != nil {
				return false, err
			}
		}
		it.in.unset(s)
		if p := st.parent; p >= 0 && it.child[p] == s {
			it.child[p] = -1
		}
	}

	// Transition actions, in selection order.
	for _, t := range filt {
		if len(t.actions) > 0 {
			if err := it.runActions(t.actions, ev); err != nil {
				return false, err
			}
		}
	}

	// Entry.
	it.newEntries = it.newEntries[:0]
	if targeted {
		entries := filt[0].entry
		if !simple {
			dynamic := false
			for i, t := range filt {
				if len(t.targets) == 0 {
					continue
				}
				if !t.histTarget {
					for _, e := range t.entry {
						it.enterB.set(e)
					}
					continue
				}
				dynamic = true
				ec := entryCalc{m: m, set: it.enterB, hist: it.histOf}
				ec.addTransition(t, it.doms[i])
			}
			if dynamic {
				// A state that stays active is never entered again
				// (doc.go, history): drop active states from the set.
				for i := range it.enterB {
					it.enterB[i] &^= it.in[i]
				}
			}
			entries = it.entries[:0]
			for s := it.enterB.next(0); s >= 0; s = it.enterB.next(s + 1) {
				entries = append(entries, s)
				it.enterB.unset(s)
			}
			it.entries = entries
		}
		if err := it.enterStates(entries, ev); err != nil {
			return false, err
		}
	}

	// The set changed unless exactly the exited states were entered again.
	setChanged := len(exits) != len(it.newEntries)
	if !setChanged {
		for _, s := range it.newEntries {
			if !it.exitB.has(s) {
				setChanged = true
				break
			}
		}
	}
	if histChanged {
		it.histChanged = true
	}
	if setChanged || histChanged || it.status == StatusDone {
		it.updateList(setChanged || histChanged)
	}
	for _, s := range exits {
		it.exitB.unset(s)
	}
	return setChanged || histChanged || it.assigned || it.status != statusBefore, nil
}

// swap is the microstep of a transition between two atomic siblings of a
// compound state (compile.go, transition.swap): the source is exited, the
// target entered, and the list loses the source and gains the target.
func (it *Interpreter) swap(t *transition, ev *ievent) (bool, error) {
	m := it.m
	src, tg := t.source, t.targets[0]
	p := m.states[src].parent
	if acts := m.states[src].exit; len(acts) > 0 {
		if err := it.runActions(acts, ev); err != nil {
			return false, err
		}
	}
	it.in.unset(src)
	it.child[p] = -1
	if len(t.actions) > 0 {
		if err := it.runActions(t.actions, ev); err != nil {
			return false, err
		}
	}
	it.in.set(tg)
	it.child[p] = tg
	if acts := m.states[tg].entry; len(acts) > 0 {
		if err := it.runActions(acts, ev); err != nil {
			return false, err
		}
	}
	out := it.alloc(len(it.list))
	i := 0
	for _, s := range it.list {
		if s != src {
			out[i] = s
			i++
		}
	}
	out[i] = tg
	it.list, it.listChanged = out, true
	return true, nil
}

// multiSwap is swap for several transitions in one microstep (parallel
// regions): exits in reverse document order, transition actions in selection
// order, entries in document order.
func (it *Interpreter) multiSwap(trans []*transition, ev *ievent) (bool, error) {
	m := it.m
	exits := it.exits[:0]
	entries := it.entries[:0]
	for _, t := range trans {
		exits = append(exits, t.source)
		entries = append(entries, t.targets[0])
	}
	for i := 1; i < len(exits); i++ {
		for j := i; j > 0 && exits[j] > exits[j-1]; j-- {
			exits[j], exits[j-1] = exits[j-1], exits[j]
		}
		for j := i; j > 0 && entries[j] < entries[j-1]; j-- {
			entries[j], entries[j-1] = entries[j-1], entries[j]
		}
	}
	it.exits, it.entries = exits, entries
	for _, s := range exits {
		if acts := m.states[s].exit; len(acts) > 0 {
			if err := it.runActions(acts, ev); err != nil {
				return false, err
			}
		}
		it.in.unset(s)
		it.child[m.states[s].parent] = -1
	}
	for _, t := range trans {
		if len(t.actions) > 0 {
			if err := it.runActions(t.actions, ev); err != nil {
				return false, err
			}
		}
	}
	for _, s := range entries {
		it.in.set(s)
		it.child[m.states[s].parent] = s
		if acts := m.states[s].entry; len(acts) > 0 {
			if err := it.runActions(acts, ev); err != nil {
				return false, err
			}
		}
	}
	out := it.alloc(len(it.list))
	i := 0
	for _, s := range it.list {
		if !containsInt32(exits, s) {
			out[i] = s
			i++
		}
	}
	copy(out[i:], entries)
	it.list, it.listChanged = out, true
	return true, nil
}

// updateList applies the step to the insertion-ordered list: exited states
// are removed, entered ones appended in entry order; in a done snapshot the
// list is sorted in reverse document order (as XState sorts it in place).
func (it *Interpreter) updateList(changed bool) {
	n := len(it.list)
	if changed {
		n += len(it.newEntries) - len(it.exits)
	}
	// The new list goes straight into the arena: it becomes the snapshot's.
	kept := it.alloc(n)[:0]
	if it.status == StatusDone {
		for s := it.in.prev(int32(len(it.m.states) - 1)); s >= 0; s = it.in.prev(s - 1) {
			kept = append(kept, s)
		}
	} else {
		for _, s := range it.list {
			if !changed || !it.exitB.has(s) {
				kept = append(kept, s)
			}
		}
		if changed {
			kept = append(kept, it.newEntries...)
		}
	}
	it.list, it.listChanged = kept, true
}

// enterStates enters the given states (document order) like XState's
// enterStates, queueing done events and detecting machine completion.
func (it *Interpreter) enterStates(entries []int32, ev *ievent) error {
	m := it.m
	it.completed = it.completed[:0]
	for _, s := range entries {
		st := &m.states[s]
		if !it.in.has(s) {
			it.in.set(s)
			it.newEntries = append(it.newEntries, s)
			if p := st.parent; p >= 0 {
				it.child[p] = s
			}
		}
		if len(st.entry) > 0 {
			if err := it.runActions(st.entry, ev); err != nil {
				return err
			}
		}
		if st.kind != kFinal {
			continue
		}
		parent := st.parent
		marker := int32(-1)
		if parent >= 0 {
			if m.states[parent].kind == kParallel {
				marker = parent
			} else {
				marker = m.states[parent].parent
			}
			if m.states[parent].kind == kCompound {
				it.queue = append(it.queue, ievent{ev: Event{Type: m.evNames[m.states[parent].doneID]}, id: m.states[parent].doneID})
			}
		}
		for marker >= 0 && m.states[marker].kind == kParallel && !containsInt32(it.completed, marker) && it.inFinal(marker) {
			it.completed = append(it.completed, marker)
			it.queue = append(it.queue, ievent{ev: Event{Type: m.evNames[m.states[marker].doneID]}, id: m.states[marker].doneID})
			marker = m.states[marker].parent
		}
		if marker >= 0 {
			continue
		}
		it.status = StatusDone
	}
	if it.status == StatusDone {
		// XState runs the exit actions of every active state, deepest
		// first, in the same microstep; the states stay in the snapshot.
		for s := it.in.prev(int32(len(m.states) - 1)); s >= 0; s = it.in.prev(s - 1) {
			if err := it.runActions(m.states[s].exit, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

func containsInt32(xs []int32, x int32) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// inFinal is XState's isInFinalState on the working configuration.
func (it *Interpreter) inFinal(s int32) bool {
	st := &it.m.states[s]
	switch st.kind {
	case kCompound:
		ch := it.child[s]
		return ch >= 0 && it.m.states[ch].kind == kFinal
	case kParallel:
		for _, ch := range st.children {
			if !it.inFinal(ch) {
				return false
			}
		}
		return true
	}
	return st.kind == kFinal
}

// recordHistory records the history children of s, which is being exited.
func (it *Interpreter) recordHistory(s int32) {
	m := it.m
	st := &m.states[s]
	if !it.histOwned {
		it.histScratch = append(it.histScratch[:0], it.hist...)
		for len(it.histScratch) < len(m.histStates) {
			it.histScratch = append(it.histScratch, nil)
		}
		it.hist = it.histScratch
		it.histOwned = true
	}
	for _, h := range st.histKids {
		it.eff = it.eff[:0]
		if m.states[h].deep {
			for x := it.in.next(s + 1); x >= 0 && x < st.end; x = it.in.next(x + 1) {
				if k := m.states[x].kind; k == kAtomic || k == kFinal {
					it.eff = append(it.eff, x)
				}
			}
		} else {
			for _, ch := range st.children {
				if it.in.has(ch) {
					it.eff = append(it.eff, ch)
				}
			}
		}
		ord := m.states[h].histOrd
		old := it.hist[ord]
		if !equalInt32s(old, it.eff) || old == nil {
			rec := it.alloc(len(it.eff))
			copy(rec, it.eff)
			if len(rec) == 0 {
				rec = []int32{}
			}
			it.hist[ord] = rec
		}
	}
}

func equalInt32s(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
