package actor

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Compile turns a Definition into indexed tables:
//   - states in document order (pre-order), so that "d is a descendant of s"
//     is s < d < end[s] and sets of states are bitsets;
//   - event types interned to int32 ids; per state a sorted table
//     event id -> candidate transitions (exact descriptor first, then the
//     matching wildcards, like XState's getCandidates);
//   - per transition its resolved targets and, when no history state is
//     involved, its domain, exit range and entry set (sorted), precomputed.

type stateKind uint8

const (
	kAtomic stateKind = iota
	kCompound
	kParallel
	kFinal
	kHistory
)

func (k stateKind) String() string {
	return [...]string{"atomic", "compound", "parallel", "final", "history"}[k]
}

type stateNode struct {
	key, id     string
	keyVal      any // key, boxed once: the state value of an atomic or final child of a compound state
	kind        stateKind
	parent      int32
	end         int32   // descendants are the indices in (self, end)
	children    []int32 // non-history children, document order
	allChildren []int32 // all children (including history), document order
	histKids    []int32 // history children
	initial     int32   // compound: the initial child; -1 otherwise
	deep        bool    // history: deep
	histOrd     int32   // history: ordinal in Machine.hist; -1 otherwise
	histDefault []int32 // history: default targets (no record yet)
	entry, exit []action
	evIDs       []int32 // sorted event ids with candidates
	evCands     [][]*transition
	star        []*transition // candidates of an event no descriptor names
	partial     bool          // has "foo.*" descriptors
	descs       []descList    // all descriptors in XState's Map order
	always      []*transition
	alwaysChain bool  // this state or an ancestor has `always`
	doneID      int32 // event id of xstate.done.state.<id>; -1 for atomic/final/history
	timerIDs    []string
	tags        []string
	meta        any
}

type descList struct {
	desc string
	ts   []*transition
	id   int32 // the descriptor's event id ("*": -1)
}

// transition is a compiled candidate transition.
type transition struct {
	source     int32
	desc       string // event descriptor ("" for always)
	targets    []int32
	histTarget bool // some target is a history state: domain and entry set are computed at run time
	guard      *guard
	actions    []action
	reenter    bool
	// swap: source and target are different atomic (non-final) children of
	// the same compound state, so the microstep exits exactly the source and
	// enters exactly the target (the interpreter's fast path).
	swap bool
	// Static data, valid when len(targets) > 0 && !histTarget.
	domain         int32 // -1: above the root (everything is exited)
	exitLo, exitHi int32 // the exit set is the active states in [exitLo, exitHi)
	entry          []int32
}

// Machine is a compiled statechart. It is immutable and safe for concurrent use.
type Machine struct {
	id         string
	def        *Definition
	states     []stateNode
	words      int
	ids        strTable // state id -> index
	evTable    strTable // event type -> event id
	evNames    []string
	ctx0       Context
	maxIter    int
	hasAlways  bool
	histStates []int32                   // history ordinal -> state index
	initEntry  []int32                   // states entered by the initial microstep (root first, document order)
	partial    bool                      // some state has a partial wildcard ("foo.*")
	steps      atomic.Pointer[stepCache] // nil until an interpreter turns it on (stepcache.go)
}

// ID is the machine definition's root id (not the runtime machine ID).
func (m *Machine) ID() string { return m.id }

// Definition returns the definition m was compiled from.
func (m *Machine) Definition() *Definition { return m.def }

// NumStates is the number of state nodes (history states included).
func (m *Machine) NumStates() int { return len(m.states) }

// LoadJSON is ParseJSON followed by Compile.
func LoadJSON(data []byte, impl *Implementations) (*Machine, error) {
	d, err := ParseJSON(data)
	if err != nil {
		return nil, err
	}
	return Compile(d, impl)
}

type compiler struct {
	m       *Machine
	impl    *Implementations
	defs    []*stateDef
	scratch bitset
	pathIDs []string     // machineId.path of each state
	tslab   []transition // transitions are carved from chunks
	islab   []int32      // and their target and entry lists
	pslab   []*transition
	dslab   []descList
	cslab   [][]*transition
}

func (c *compiler) descN(n int) []descList {
	return carve(&c.dslab, n, 256, 32)
}

func (c *compiler) candN(n int) [][]*transition {
	return carve(&c.cslab, n, 256, 32)
}

// ints returns n int32s from the compiler's slab (exact capacity).
func (c *compiler) ints(n int) []int32 {
	return carve(&c.islab, n, 1024, 64)
}

// ptrs returns n transition pointers from the compiler's slab.
func (c *compiler) ptrs(n int) []*transition {
	return carve(&c.pslab, n, 512, 32)
}

func countStates(d *stateDef) int {
	n := 1
	for _, c := range d.states {
		n += countStates(c)
	}
	return n
}

const defaultMaxIterations = 1000

// Compile checks every reference against impl (nil: built-ins only) and builds
// the indexed tables the interpreter runs on.
func Compile(def *Definition, impl *Implementations) (*Machine, error) {
	return compileIn(def, impl, nil)
}

// compileIn is Compile with the slabs taken from a (nil: new ones).
func compileIn(def *Definition, impl *Implementations, a *loadArena) (*Machine, error) {
	if a == nil {
		a = &loadArena{}
	}
	m, err := compile(def, impl, a)
	if err != nil && def != nil && def.lazyPaths {
		// A parsed definition has no JSON paths (they cost more than the
		// rest of the parse): compile a copy that has them, for the message.
		if _, err2 := compile(def.withPaths(), impl, &loadArena{}); err2 != nil {
			err = err2
		}
	}
	return m, err
}

func compile(def *Definition, impl *Implementations, a *loadArena) (*Machine, error) {
	if def == nil || def.root == nil {
		return nil, defErr("", nil, "nil definition")
	}
	if impl == nil {
		impl = &Implementations{}
	}
	for name := range impl.Actions {
		if strings.HasPrefix(name, "xorc.") {
			return nil, &DefinitionError{Msg: fmt.Sprintf("action %s: names starting with \"xorc.\" are reserved for built-ins", jsStringify(name)), Kind: ErrReservedName}
		}
	}
	for name := range impl.Guards {
		if strings.HasPrefix(name, "xorc.") {
			return nil, &DefinitionError{Msg: fmt.Sprintf("guard %s: names starting with \"xorc.\" are reserved for built-ins", jsStringify(name)), Kind: ErrReservedName}
		}
	}
	n := countStates(def.root)
	m := &Machine{id: def.id, def: def, ids: newStrTable(n), evTable: newStrTable(n)}
	m.evNames = take(a.evNames, 2*n)
	c := &compiler{m: m, impl: impl}
	defer func() {
		// The slabs as the compile left them, for RunCase's next case.
		a.nodes, a.defs, a.pathIDs, a.evNames = m.states, c.defs, c.pathIDs, m.evNames
		a.tslab, a.islab, a.pslab, a.dslab, a.cslab = c.tslab, c.islab, c.pslab, c.dslab, c.cslab
	}()
	// Slabs of the right size: count the transitions and descriptors.
	nt, nd := 0, 0
	var count func(d *stateDef)
	count = func(d *stateDef) {
		nd += len(d.on) + len(d.after)
		if d.hasOnDone {
			nd++
		}
		for i := range d.on {
			nt += len(d.on[i].trans)
		}
		for i := range d.after {
			nt += len(d.after[i].trans)
		}
		nt += len(d.always) + len(d.onDone)
		for _, k := range d.states {
			count(k)
		}
	}
	count(def.root)
	c.tslab = take(a.tslab, nt)
	c.pslab = take(a.pslab, nt)
	c.dslab = take(a.dslab, nd)
	c.cslab = take(a.cslab, nd)
	c.islab = take(a.islab, 3*nt+4*n)
	m.maxIter = defaultMaxIterations
	if def.hasMaxIter {
		m.maxIter = def.maxIterations
	}
	if impl.MaxIterations > 0 {
		m.maxIter = impl.MaxIterations
	}
	if def.context != nil {
		m.ctx0 = def.context
	} else {
		m.ctx0 = Context{}
	}
	m.states = take(a.nodes, n)
	c.defs = take(a.defs, n)
	c.scratch = newBitset(n)
	c.pathIDs = take(a.pathIDs, n)[:n]
	c.index(def.root, -1)
	c.makePathIDs()
	m.words = (len(m.states) + 63) / 64
	if err := c.structure(); err != nil {
		return nil, err
	}
	if err := c.histories(); err != nil {
		return nil, err
	}
	for i := range m.states {
		if err := c.stateTables(int32(i)); err != nil {
			return nil, err
		}
	}
	for i := range m.states {
		c.candidateTables(int32(i))
	}
	for i := range m.states {
		s := &m.states[i]
		if (s.kind == kAtomic || s.kind == kFinal) && s.parent >= 0 && m.states[s.parent].kind == kCompound {
			s.keyVal = s.key
		}
		s.alwaysChain = len(s.always) > 0 || (s.parent >= 0 && m.states[s.parent].alwaysChain)
		if len(s.always) > 0 {
			m.hasAlways = true
		}
	}
	m.initEntry = m.initialEntry()
	return m, nil
}

// index numbers the states in pre-order (XState's `order`).
func (c *compiler) index(d *stateDef, parent int32) int32 {
	m := c.m
	idx := int32(len(m.states))
	m.states = append(m.states, stateNode{key: d.key, parent: parent, initial: -1, histOrd: -1, doneID: -1})
	c.defs = append(c.defs, d)
	var kids []int32
	if len(d.states) > 0 {
		kids = c.ints(len(d.states))
	}
	for i, cd := range d.states {
		kids[i] = c.index(cd, idx)
	}
	m.states[idx].allChildren = kids
	m.states[idx].end = int32(len(m.states))
	return idx
}

// structure sets kinds, ids and initial states.
func (c *compiler) structure() error {
	m := c.m
	for i := range m.states {
		s := &m.states[i]
		d := c.defs[i]
		path := d.path
		switch {
		case d.typ != "":
			switch d.typ {
			case "atomic":
				s.kind = kAtomic
			case "compound":
				s.kind = kCompound
			case "parallel":
				s.kind = kParallel
			case "final":
				s.kind = kFinal
			case "history":
				s.kind = kHistory
			}
		case len(d.states) > 0:
			s.kind = kCompound
		case d.hasHistory:
			s.kind = kHistory
		default:
			s.kind = kAtomic
		}
		switch s.kind {
		case kCompound:
			if len(d.states) == 0 {
				return defErr(joinPath(path, "type"), nil, "a compound state needs child states")
			}
		case kAtomic, kFinal, kHistory:
			if len(d.states) > 0 {
				return defErr(joinPath(path, "states"), nil, fmt.Sprintf("a %s state cannot have child states", s.kind))
			}
		}
		if s.kind != kHistory {
			if d.hasHistory {
				return defErr(joinPath(path, "history"), nil, `"history" is only valid on a history state`)
			}
			if d.histTarget != nil {
				return defErr(joinPath(path, "target"), nil, `"target" is only valid on a history state (transitions take "target" inside "on")`)
			}
		} else {
			if i == 0 {
				return defErr("type", nil, "the root cannot be a history state")
			}
			if len(d.on)+len(d.always)+len(d.after)+len(d.onDone)+len(d.entry)+len(d.exit) > 0 {
				return defErr(path, nil, "a history state cannot have transitions or entry/exit actions")
			}
			s.deep = d.history == "deep"
		}
		// ids: the explicit id, else machineId.path.to.state (pathIDs)
		s.id = c.pathIDs[i]
		if i > 0 && d.id != "" {
			s.id = d.id
		}
		if prev := m.ids.add(s.id, int32(i)); prev >= 0 {
			return defErr(joinPath(path, "id"), ErrDuplicateID, fmt.Sprintf("duplicate state id %s (also used by %s)", jsStringify(s.id), describePath(c.defs[prev].path)))
		}
		s.tags = d.tags
		s.meta = d.meta
	}
	for i := range m.states {
		s := &m.states[i]
		nh := 0
		for _, k := range s.allChildren {
			if m.states[k].kind == kHistory {
				nh++
			}
		}
		if nh == 0 {
			s.children = s.allChildren
		} else {
			s.histKids = c.ints(nh)[:0]
			s.children = c.ints(len(s.allChildren) - nh)[:0]
			for _, k := range s.allChildren {
				if m.states[k].kind == kHistory {
					s.histKids = append(s.histKids, k)
				} else {
					s.children = append(s.children, k)
				}
			}
		}
		d := c.defs[i]
		if s.kind == kCompound {
			if !d.hasInitial || d.initial == "" {
				first := ""
				if len(d.states) > 0 {
					first = d.states[0].key
				}
				return defErr(d.path, ErrMissingInitial, fmt.Sprintf("compound state %s has no initial state (try \"initial\": %s)", jsStringify("#"+s.id), jsStringify(first)))
			}
			init := m.childByKey(int32(i), d.initial)
			if init < 0 {
				return defErr(joinPath(d.path, "initial"), ErrUnknownTarget, fmt.Sprintf("initial state %s is not a child of %s", jsStringify(d.initial), jsStringify("#"+s.id)))
			}
			if m.states[init].kind == kHistory {
				return defErr(joinPath(d.path, "initial"), ErrUnsupported, "the initial state cannot be a history state")
			}
			s.initial = init
		}
	}
	c.internDoneEvents()
	return nil
}

func describePath(p string) string {
	if p == "" {
		return "the root"
	}
	return p
}

// histories resolves the default targets of history states.
func (c *compiler) histories() error {
	m := c.m
	for i := range m.states {
		s := &m.states[i]
		if s.kind != kHistory {
			continue
		}
		s.histOrd = int32(len(m.histStates))
		m.histStates = append(m.histStates, int32(i))
		d := c.defs[i]
		p := s.parent
		if len(d.histTarget) > 0 {
			for _, t := range d.histTarget {
				idx, msg := m.byPath(p, t)
				if idx < 0 {
					return defErr(joinPath(d.path, "target"), ErrUnknownTarget, fmt.Sprintf("unknown history target %s: %s", jsStringify(t), msg))
				}
				if m.states[idx].kind == kHistory {
					return defErr(joinPath(d.path, "target"), ErrUnsupported, "a history default target cannot be a history state")
				}
				if !m.isDesc(idx, p) {
					return defErr(joinPath(d.path, "target"), ErrUnknownTarget, fmt.Sprintf("history target %s is not inside the history's parent", jsStringify(t)))
				}
				s.histDefault = append(s.histDefault, idx)
			}
		} else if m.states[p].kind == kParallel {
			s.histDefault = []int32{p}
		} else {
			s.histDefault = []int32{m.states[p].initial}
		}
	}
	return nil
}

func (c *compiler) intern(ev string) int32 {
	id := int32(len(c.m.evNames))
	if prev := c.m.evTable.add(ev, id); prev >= 0 {
		return prev
	}
	c.m.evNames = append(c.m.evNames, ev)
	return id
}

// makePathIDs sets c.pathIDs: machineId.path.to.state for every state (built
// from the parent's path id, even when the parent has an explicit id), all
// in one string.
func (c *compiler) makePathIDs() {
	m := c.m
	off := make([]int32, 2*len(m.states))
	buf := make([]byte, 0, 24*len(m.states))
	for i := range m.states {
		start := len(buf)
		if i == 0 {
			buf = append(buf, m.id...)
		} else {
			p := m.states[i].parent
			buf = append(buf, buf[off[2*p]:off[2*p+1]]...)
			buf = append(buf, '.')
			buf = append(buf, m.states[i].key...)
		}
		off[2*i], off[2*i+1] = int32(start), int32(len(buf))
	}
	all := string(buf)
	for i := range m.states {
		c.pathIDs[i] = all[off[2*i]:off[2*i+1]]
	}
}

// internDoneEvents interns xstate.done.state.<id> of every compound and
// parallel state (the names share one string).
func (c *compiler) internDoneEvents() {
	m := c.m
	const prefix = "xstate.done.state."
	var off []int32
	var buf []byte
	for i := range m.states {
		if k := m.states[i].kind; k == kCompound || k == kParallel {
			if buf == nil {
				buf = make([]byte, 0, 32*len(m.states))
				off = c.ints(2 * len(m.states))
			}
			off[2*i] = int32(len(buf))
			buf = append(buf, prefix...)
			buf = append(buf, m.states[i].id...)
			off[2*i+1] = int32(len(buf))
		}
	}
	all := string(buf)
	for i := range m.states {
		if k := m.states[i].kind; k == kCompound || k == kParallel {
			m.states[i].doneID = c.intern(all[off[2*i]:off[2*i+1]])
		}
	}
}

// stateTables compiles a state's actions, transitions and timers.
func (c *compiler) stateTables(i int32) error {
	m := c.m
	s := &m.states[i]
	d := c.defs[i]
	var err error
	for _, r := range d.entry {
		a, err := c.compileAction(r)
		if err != nil {
			return err
		}
		s.entry = append(s.entry, a)
	}
	for _, r := range d.exit {
		a, err := c.compileAction(r)
		if err != nil {
			return err
		}
		s.exit = append(s.exit, a)
	}
	nd := len(d.on) + len(d.after)
	if d.hasOnDone {
		nd++
	}
	descs := c.descN(nd)[:0]
	find := func(desc string) int {
		for j := range descs {
			if descs[j].desc == desc {
				return j
			}
		}
		return -1
	}
	for _, ed := range d.on {
		ts, err := c.compileTransitions(i, ed.key, ed.trans)
		if err != nil {
			return err
		}
		descs = append(descs, descList{desc: ed.key, ts: ts})
	}
	if d.hasOnDone {
		desc := "xstate.done.state." + s.id
		ts, err := c.compileTransitions(i, desc, d.onDone)
		if err != nil {
			return err
		}
		if j := find(desc); j >= 0 {
			descs[j].ts = ts // Map.set replaces the value and keeps the position
		} else {
			descs = append(descs, descList{desc: desc, ts: ts})
		}
	}
	seenAfter := map[string]string{}
	for _, ad := range d.after {
		var evType string
		var delay time.Duration
		if n, ok := jsToNumber(ad.key); ok {
			if math.IsInf(n, 0) || n < 0 {
				return defErr(ad.path, ErrUnsupported, fmt.Sprintf("delay %s must be a finite number of ms >= 0", jsStringify(ad.key)))
			}
			delay = msToDuration(n)
			evType = "xstate.after." + jsNumberString(n) + "." + s.id
		} else {
			dd, ok := c.impl.Delays[ad.key]
			if !ok {
				return defErr(ad.path, ErrUnknownDelay, fmt.Sprintf("unknown delay %s (numeric keys are ms; named delays come from the implementations)", jsStringify(ad.key)))
			}
			if dd < 0 {
				return defErr(ad.path, ErrUnsupported, fmt.Sprintf("delay %s is negative", jsStringify(ad.key)))
			}
			delay = dd
			evType = "xstate.after." + ad.key + "." + s.id
		}
		if prev, dup := seenAfter[evType]; dup {
			return defErr(ad.path, nil, fmt.Sprintf("delays %s and %s are the same", jsStringify(prev), jsStringify(ad.key)))
		}
		seenAfter[evType] = ad.key
		s.timerIDs = append(s.timerIDs, evType)
		id := c.intern(evType)
		// XState appends one raise (entry) and one cancel (exit) per delay.
		s.entry = append(s.entry, action{kind: aStartTimer, name: "xstate.after", ev: Event{Type: evType}, evID: id, timerID: evType, delay: delay})
		s.exit = append(s.exit, action{kind: aCancelTimer, name: "xstate.after", timerID: evType})
		ts, err := c.compileTransitions(i, evType, ad.trans)
		if err != nil {
			return err
		}
		if j := find(evType); j >= 0 {
			descs[j].ts = append(descs[j].ts[:len(descs[j].ts):len(descs[j].ts)], ts...)
		} else {
			descs = append(descs, descList{desc: evType, ts: ts})
		}
	}
	s.descs = descs
	for i, dl := range descs {
		descs[i].id = -1
		if dl.desc != "*" {
			descs[i].id = c.intern(dl.desc)
		}
		if strings.HasSuffix(dl.desc, ".*") {
			s.partial = true
			m.partial = true
		}
	}
	if len(d.always) > 0 {
		s.always, err = c.compileTransitions(i, "", d.always)
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) compileTransitions(src int32, desc string, tds []transDef) ([]*transition, error) {
	out := c.ptrs(len(tds))
	for i := range tds {
		t, err := c.compileTransition(src, desc, &tds[i])
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

func (c *compiler) compileTransition(src int32, desc string, td *transDef) (*transition, error) {
	m := c.m
	if len(c.tslab) == cap(c.tslab) {
		c.tslab = make([]transition, 0, min(max(16, 2*cap(c.tslab)), 256))
	}
	c.tslab = append(c.tslab, transition{source: src, desc: desc, reenter: td.reenter, domain: -1})
	t := &c.tslab[len(c.tslab)-1]
	if len(td.targets) > 0 {
		t.targets = c.ints(len(td.targets))[:0]
	}
	for _, target := range td.targets {
		idx, err := c.resolveTarget(src, target, td.targetPath)
		if err != nil {
			return nil, err
		}
		if m.states[idx].kind == kHistory {
			t.histTarget = true
		}
		dup := false
		for _, x := range t.targets {
			dup = dup || x == idx
		}
		if !dup {
			t.targets = append(t.targets, idx)
		}
	}
	if td.guard != nil {
		g, err := c.compileGuard(*td.guard)
		if err != nil {
			return nil, err
		}
		t.guard = g
	}
	for _, r := range td.actions {
		a, err := c.compileAction(r)
		if err != nil {
			return nil, err
		}
		t.actions = append(t.actions, a)
	}
	if len(t.targets) > 0 && !t.histTarget {
		t.domain = m.domainOf(t, t.targets)
		t.exitLo, t.exitHi = m.exitRange(t, t.domain)
		c.scratch.clear()
		ec := entryCalc{m: m, set: c.scratch}
		ec.addTransition(t, t.domain)
		t.entry = c.ints(ec.set.count())[:0]
		for i := ec.set.next(0); i >= 0; i = ec.set.next(i + 1) {
			t.entry = append(t.entry, i)
		}
		if len(t.targets) == 1 {
			tg := t.targets[0]
			p := m.states[src].parent
			t.swap = tg != src && p >= 0 && m.states[p].kind == kCompound && m.states[tg].parent == p &&
				m.states[src].kind == kAtomic && m.states[tg].kind == kAtomic &&
				t.domain == p && len(t.entry) == 1 && t.entry[0] == tg
		}
	}
	return t, nil
}

// resolveTarget resolves a transition target like XState's resolveTarget.
func (c *compiler) resolveTarget(src int32, target, path string) (int32, error) {
	m := c.m
	// Fast paths: a sibling key, or ".child" (no ids, dots or escapes).
	if src > 0 {
		if plainKey(target) {
			if idx := m.childByKey(m.states[src].parent, target); idx >= 0 {
				return idx, nil
			}
		} else if len(target) > 1 && target[0] == '.' && plainKey(target[1:]) && plainKey(m.states[src].key) {
			if idx := m.childByKey(src, target[1:]); idx >= 0 {
				return idx, nil
			}
		}
	}
	if strings.HasPrefix(target, "#") {
		idx, msg := m.byID(target)
		if idx < 0 {
			return -1, defErr(path, ErrUnknownTarget, fmt.Sprintf("unknown target %s: %s", jsStringify(target), msg))
		}
		return idx, nil
	}
	internal := strings.HasPrefix(target, ".")
	if src == 0 {
		if !internal {
			return -1, defErr(path, ErrUnknownTarget, fmt.Sprintf("invalid target %s from the root: a bare key names a sibling, and the root has none. Did you mean %s?", jsStringify(target), jsStringify("."+target)))
		}
		idx, msg := m.byPath(0, target[1:])
		if idx < 0 {
			return -1, defErr(path, ErrUnknownTarget, fmt.Sprintf("unknown target %s: %s", jsStringify(target), msg))
		}
		return idx, nil
	}
	resolved := target
	if internal {
		resolved = m.states[src].key + target
	}
	idx, msg := m.byPath(m.states[src].parent, resolved)
	if idx < 0 {
		return -1, defErr(path, ErrUnknownTarget, fmt.Sprintf("unknown target %s: %s", jsStringify(target), msg))
	}
	return idx, nil
}

// plainKey reports whether a target is one state key: non-empty, without
// the characters of ids, paths and escapes.
func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '#' || c == '\\' {
			return false
		}
	}
	return true
}

// toStatePath splits a state path at dots; a backslash escapes the next
// character (XState's toStatePath).
func toStatePath(s string) []string {
	var out []string
	var seg strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				seg.WriteByte(s[i+1])
			}
			i++
		case '.':
			out = append(out, seg.String())
			seg.Reset()
		default:
			seg.WriteByte(s[i])
		}
	}
	return append(out, seg.String())
}

func (m *Machine) childByKey(p int32, key string) int32 {
	for _, k := range m.states[p].allChildren {
		if m.states[k].key == key {
			return k
		}
	}
	return -1
}

// stateByID returns the index of the state with this id.
func (m *Machine) stateByID(id string) (int32, bool) {
	idx := m.ids.lookup(id)
	return idx, idx >= 0
}

// byID resolves "#id" or "#id.path" (XState's getStateNodeById). It returns
// -1 and a reason when there is no such state.
func (m *Machine) byID(ref string) (int32, string) {
	if strings.IndexByte(ref, '\\') >= 0 {
		parts := toStatePath(ref)
		idx, ok := m.stateByID(strings.TrimPrefix(parts[0], "#"))
		if !ok {
			return -1, fmt.Sprintf("no state has id %s", jsStringify(strings.TrimPrefix(parts[0], "#")))
		}
		return m.walk(idx, parts[1:])
	}
	first, rest, more := strings.Cut(ref, ".")
	id := strings.TrimPrefix(first, "#")
	idx, ok := m.stateByID(id)
	if !ok {
		return -1, fmt.Sprintf("no state has id %s", jsStringify(id))
	}
	if !more {
		return idx, ""
	}
	return m.walkString(idx, rest)
}

// byPath resolves a relative path from node p (XState's getStateNodeByPath).
func (m *Machine) byPath(p int32, path string) (int32, string) {
	if strings.HasPrefix(path, "#") {
		if idx, msg := m.byID(path); idx >= 0 {
			return idx, msg
		}
	}
	if strings.IndexByte(path, '\\') >= 0 {
		return m.walk(p, toStatePath(path))
	}
	return m.walkString(p, path)
}

// walkString is walk over the segments of a dotted path without escapes.
func (m *Machine) walkString(node int32, path string) (int32, string) {
	for {
		k, rest, more := strings.Cut(path, ".")
		if k == "" {
			return node, ""
		}
		next, msg := m.step(node, k)
		if next < 0 {
			return -1, msg
		}
		node = next
		if !more {
			return node, ""
		}
		path = rest
	}
}

func (m *Machine) walk(node int32, keys []string) (int32, string) {
	for _, k := range keys {
		if k == "" {
			break
		}
		next, msg := m.step(node, k)
		if next < 0 {
			return -1, msg
		}
		node = next
	}
	return node, ""
}

// step resolves one path segment: a child key, or "#id".
func (m *Machine) step(node int32, k string) (int32, string) {
	if strings.HasPrefix(k, "#") {
		return m.byID(k)
	}
	next := m.childByKey(node, k)
	if next < 0 {
		if len(m.states[node].allChildren) == 0 {
			return -1, fmt.Sprintf("state %s has no child states", jsStringify("#"+m.states[node].id))
		}
		return -1, fmt.Sprintf("state %s has no child %s", jsStringify("#"+m.states[node].id), jsStringify(k))
	}
	return next, ""
}

// candidateTables builds the event id -> candidates table of a state.
func (c *compiler) candidateTables(i int32) {
	m := c.m
	s := &m.states[i]
	if len(s.descs) == 0 {
		return
	}
	for _, dl := range s.descs {
		if dl.desc == "*" {
			s.star = dl.ts
		}
	}
	add := func(id int32) {
		for _, x := range s.evIDs {
			if x == id {
				return
			}
		}
		ts := candidatesFor(s.descs, m.evNames[id])
		if len(ts) == 0 {
			return
		}
		// insert, keeping evIDs sorted
		j := len(s.evIDs)
		s.evIDs = append(s.evIDs, id)
		s.evCands = append(s.evCands, ts)
		for ; j > 0 && s.evIDs[j-1] > id; j-- {
			s.evIDs[j], s.evCands[j] = s.evIDs[j-1], s.evCands[j-1]
		}
		s.evIDs[j], s.evCands[j] = id, ts
	}
	if s.partial {
		for id := range m.evNames {
			add(int32(id))
		}
	} else {
		// One entry per descriptor (they are unique), the exact ones only:
		// with a "*" the candidates are the descriptor's, then the star's.
		s.evIDs = c.ints(len(s.descs))[:0]
		s.evCands = c.candN(len(s.descs))[:0]
		for _, dl := range s.descs {
			if dl.desc == "*" {
				continue
			}
			ts := dl.ts
			if s.star != nil {
				ts = candidatesFor(s.descs, dl.desc)
			}
			if len(ts) == 0 {
				continue
			}
			j := len(s.evIDs)
			s.evIDs = append(s.evIDs, dl.id)
			s.evCands = append(s.evCands, ts)
			for ; j > 0 && s.evIDs[j-1] > dl.id; j-- {
				s.evIDs[j], s.evCands[j] = s.evIDs[j-1], s.evCands[j-1]
			}
			s.evIDs[j], s.evCands[j] = dl.id, ts
		}
	}
}

// candidatesFor is XState's getCandidates: the exact descriptor's candidates,
// then those of every matching wildcard descriptor, longest first.
func candidatesFor(descs []descList, evType string) []*transition {
	wildcards := false
	for _, dl := range descs {
		wildcards = wildcards || dl.desc == "*" || strings.HasSuffix(dl.desc, ".*")
	}
	if !wildcards {
		for _, dl := range descs {
			if dl.desc == evType {
				return dl.ts
			}
		}
		return nil
	}
	var out []*transition
	for _, dl := range descs {
		if dl.desc == evType {
			out = append(out, dl.ts...)
		}
	}
	var wild []descList
	for _, dl := range descs {
		if dl.desc != evType && matchesDescriptor(evType, dl.desc) {
			wild = append(wild, dl)
		}
	}
	sort.SliceStable(wild, func(a, b int) bool { return len(wild[a].desc) > len(wild[b].desc) })
	for _, dl := range wild {
		out = append(out, dl.ts...)
	}
	return out
}

// matchesDescriptor is XState's matchesEventDescriptor.
func matchesDescriptor(evType, desc string) bool {
	if desc == evType || desc == "*" {
		return true
	}
	if !strings.HasSuffix(desc, ".*") {
		return false
	}
	pt := strings.Split(desc, ".")
	et := strings.Split(evType, ".")
	for i, tok := range pt {
		if tok == "*" {
			return i == len(pt)-1
		}
		if i >= len(et) || tok != et[i] {
			return false
		}
	}
	return true
}

// isDesc reports whether d is a strict descendant of a; a == -1 (above the
// root) has every state as a descendant.
func (m *Machine) isDesc(d, a int32) bool {
	if a < 0 {
		return true
	}
	return d > a && d < m.states[a].end
}

// domainOf is XState's getTransitionDomain for the effective targets eff,
// except that a target restored from a history state is never "inside" the
// source when it is the source itself (see doc.go, history).
func (m *Machine) domainOf(t *transition, eff []int32) int32 {
	src := t.source
	if !t.reenter {
		inside := true
		for _, e := range eff {
			if !(m.isDesc(e, src) || (e == src && !t.histTarget)) {
				inside = false
				break
			}
		}
		if inside {
			return src
		}
	}
	for anc := m.states[eff[0]].parent; anc >= 0; anc = m.states[anc].parent {
		ok := m.isDesc(src, anc)
		for _, e := range eff[1:] {
			if !ok {
				break
			}
			ok = m.isDesc(e, anc)
		}
		if ok {
			return anc
		}
	}
	if t.reenter {
		return -1
	}
	return 0
}

// exitRange is the index range whose active states a transition with this
// domain exits.
func (m *Machine) exitRange(t *transition, domain int32) (int32, int32) {
	if domain < 0 {
		return 0, int32(len(m.states))
	}
	lo := domain + 1
	if t.reenter && t.source == domain {
		lo = domain
	}
	return lo, m.states[domain].end
}

// initialEntry is the entry set of XState's initial microstep: the root and
// every initial state below it.
func (m *Machine) initialEntry() []int32 {
	ec := entryCalc{m: m, set: newBitset(len(m.states))}
	ec.set.set(0)
	ec.addDescendants(0)
	var out []int32
	for i := ec.set.next(0); i >= 0; i = ec.set.next(i + 1) {
		out = append(out, i)
	}
	return out
}

// entryCalc computes entry sets (XState's computeEntrySet) into a bitset.
// hist returns the recorded states of a history state (nil: none recorded).
type entryCalc struct {
	m    *Machine
	set  bitset
	hist func(h int32) []int32
}

func (e *entryCalc) record(h int32) []int32 {
	if e.hist == nil {
		return nil
	}
	return e.hist(h)
}

func (e *entryCalc) addTransition(t *transition, domain int32) {
	m := e.m
	for _, s := range t.targets {
		if m.states[s].kind == kHistory {
			e.addHistory(s)
			continue
		}
		if t.source != s || t.source != domain || t.reenter {
			e.set.set(s)
		}
		e.addDescendants(s)
	}
	reentrancy := domain
	if t.source == 0 && t.reenter {
		reentrancy = -1
	}
	for _, s := range t.targets {
		if m.states[s].kind != kHistory {
			e.addTargetAncestors(s, domain, reentrancy)
			continue
		}
		eff := e.record(s)
		if eff == nil {
			eff = m.states[s].histDefault
		}
		for _, r := range eff {
			e.addTargetAncestors(r, domain, reentrancy)
		}
	}
}

func (e *entryCalc) addTargetAncestors(s, domain, reentrancy int32) {
	m := e.m
	if s != domain {
		for anc := m.states[s].parent; anc >= 0 && anc != domain; anc = m.states[anc].parent {
			e.addAncestor(anc, reentrancy)
		}
	}
	if domain >= 0 && m.states[domain].kind == kParallel {
		e.addAncestor(domain, reentrancy)
	}
}

func (e *entryCalc) addAncestor(anc, reentrancy int32) {
	m := e.m
	if reentrancy < 0 || m.isDesc(anc, reentrancy) {
		e.set.set(anc)
	}
	if m.states[anc].kind == kParallel {
		e.addMissingRegions(anc)
	}
}

func (e *entryCalc) addMissingRegions(p int32) {
	m := e.m
	for _, ch := range m.states[p].children {
		if !e.set.anyIn(ch+1, m.states[ch].end) {
			e.set.set(ch)
			e.addDescendants(ch)
		}
	}
}

func (e *entryCalc) addDescendants(s int32) {
	m := e.m
	switch m.states[s].kind {
	case kHistory:
		e.addHistory(s)
	case kCompound:
		init := m.states[s].initial
		e.set.set(init)
		e.addDescendants(init)
	case kParallel:
		e.addMissingRegions(s)
	}
}

func (e *entryCalc) addHistory(h int32) {
	m := e.m
	p := m.states[h].parent
	targets := e.record(h)
	if targets == nil {
		targets = m.states[h].histDefault
	}
	for _, r := range targets {
		e.set.set(r)
		e.addDescendants(r)
	}
	for _, r := range targets {
		if r == p {
			continue
		}
		for anc := m.states[r].parent; anc >= 0 && anc != p; anc = m.states[anc].parent {
			e.addAncestor(anc, -1)
		}
	}
}
