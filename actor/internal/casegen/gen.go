package casegen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Case is one generated test case in the oracle's input format.
type Case struct {
	Name    string
	Machine Obj
	Events  []Obj
	Delays  Obj // nil when the machine uses no named delay
	// Features lists the generator features the case uses (sorted), for
	// coverage statistics. It is not part of the JSON.
	Features []string
	// ConfigError is set when a config error was injected on purpose: the
	// oracle must reject the case.
	ConfigError bool
}

// MarshalJSON encodes the case as the oracle's input object. The extra "name"
// field is ignored by the oracle.
func (c Case) MarshalJSON() ([]byte, error) {
	o := Obj{{"name", c.Name}, {"machine", c.Machine}, {"events", c.Events}}
	if c.Delays != nil {
		o = append(o, Field{"delays", c.Delays})
	}
	return AppendJSON(nil, o), nil
}

// Generate returns cases 0..n-1 of seed.
func Generate(seed uint64, n int) []Case {
	out := make([]Case, n)
	for i := range out {
		out[i] = One(seed, i)
	}
	return out
}

// One returns case i of seed. It depends on nothing but (seed, i).
func One(seed uint64, i int) Case {
	g := &gen{
		r:    rand.New(rand.NewPCG(seed, uint64(i)^0x9e3779b97f4a7c15)),
		feat: map[string]int{},
	}
	c := g.generate()
	c.Name = fmt.Sprintf("gen-%d-%d", seed, i)
	return c
}

// ---------------------------------------------------------------------------
// The statechart model the generator builds before rendering it as JSON.
// ---------------------------------------------------------------------------

type kind uint8

const (
	kAtomic kind = iota
	kCompound
	kParallel
	kFinal
	kHistory
)

type tform uint8

const (
	formString tform = iota // "target"
	formObject              // {target, guard, actions, reenter}
	formArray               // [candidate, ...]
)

type trans struct {
	target  *node // nil: targetless
	tstr    string
	guard   any
	actions []any
	reenter int8 // -1: absent, 0: false, 1: true
}

type tlist struct {
	ts   []*trans
	form tform
}

type keyed struct {
	key  string
	list tlist
}

type node struct {
	key     string
	parent  *node
	kids    []*node
	kind    kind
	id      string // explicit id, "" when none
	initial *node
	hist    string // "shallow", "deep" or "" (omitted)
	histTgt string // default target of a history state, relative to its parent
	idx     int    // document (pre)order
	depth   int

	entry, exit []any
	on          []keyed
	always      *tlist
	after       []keyed
	onDone      *tlist
	extra       []Field // description, tags, meta and injected config errors

	noInitial bool // injected config error
	shuffle   bool // render the state's fields in a random order
}

func (n *node) isAncestorOf(d *node) bool { // proper ancestor
	for p := d.parent; p != nil; p = p.parent {
		if p == n {
			return true
		}
	}
	return false
}

// relPath is the key path from a down to d (a must be an ancestor of d).
func relPath(a, d *node) string {
	var keys []string
	for n := d; n != a; n = n.parent {
		keys = append(keys, n.key)
	}
	slices.Reverse(keys)
	return strings.Join(keys, ".")
}

func (n *node) hasFinalKid() bool {
	for _, k := range n.kids {
		if k.kind == kFinal {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Vocabulary pools.
// ---------------------------------------------------------------------------

var (
	stateKeys   = []string{"a", "b", "c", "d", "e", "idle", "busy", "on", "off", "red", "green", "run", "wait", "x"}
	oddKeys     = []string{"wait-1", "été", "A_B", "x y", "Δ"} // not integer-like, no '.' or '#'
	finalKeys   = []string{"fin", "end", "done", "stop"}
	histKeys    = []string{"h", "hist", "past"}
	rootIDs     = []string{"m", "m", "m", "app", "ctl", "toggle-1"}
	events      = []string{"A", "B", "C", "D", "E", "GO"}
	raiseEvents = []string{"R1", "R2"}
	numDelays   = []string{"0", "10", "50", "100", "200", "1000", "20", "5"}
	namedDelays = map[string]int{"short": 20, "mid": 60, "long": 150, "tick": 15}
	delayNames  = []string{"short", "mid", "long", "tick"}
	eventFields = []string{"x", "flag", "v"}
	waitMs      = []int{0, 5, 10, 15, 20, 50, 60, 100, 150, 200, 500}
)

// ---------------------------------------------------------------------------
// The generator.
// ---------------------------------------------------------------------------

type fieldValue struct {
	field string
	value any
}

type gen struct {
	r    *rand.Rand
	feat map[string]int

	rootID     string
	root       *node
	nodes      []*node // document order
	maxDepth   int
	budget     int
	ids        int
	ctxTypes   map[string]string // context key -> "number", "array", "string", "any"
	errorProne bool              // the case may use actions that fail at run time

	alphabet    []string     // the event types this case uses
	handled     []string     // event types used as `on` keys
	eventGuards []fieldValue // (field, value) pairs tested by xorc.event guards
	delaysUsed  map[string]bool
	hasAfter    bool
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) intn(n int) int        { return g.r.IntN(n) }
func pick[T any](g *gen, xs []T) T   { return xs[g.r.IntN(len(xs))] }
func (g *gen) mark(f string)         { g.feat[f]++ }

func (g *gen) generate() Case {
	g.delaysUsed = map[string]bool{}
	g.rootID = pick(g, rootIDs)
	g.alphabet = slices.Clone(events)
	g.r.Shuffle(len(g.alphabet), func(i, j int) { g.alphabet[i], g.alphabet[j] = g.alphabet[j], g.alphabet[i] })
	g.alphabet = g.alphabet[:2+g.intn(3)]
	g.errorProne = g.chance(0.12)
	g.buildTree()
	g.buildContext()
	for _, n := range g.nodes {
		g.decorate(n)
	}
	g.fixZeroDelays()
	c := Case{}
	if g.chance(0.02) {
		g.injectConfigError()
		c.ConfigError = true
	}
	c.Events = g.events()
	c.Machine = g.renderRoot()
	if len(g.delaysUsed) > 0 {
		for _, d := range delayNames {
			if g.delaysUsed[d] {
				c.Delays = append(c.Delays, Field{d, namedDelays[d]})
			}
		}
	}
	for f := range g.feat {
		c.Features = append(c.Features, f)
	}
	slices.Sort(c.Features)
	return c
}

// ---------------------------------------------------------------------------
// Tree shape.
// ---------------------------------------------------------------------------

func (g *gen) buildTree() {
	g.root = &node{kind: kCompound}
	if g.chance(0.2) {
		g.root.kind = kParallel
		g.mark("parallel_root")
	}
	g.maxDepth = 1 + g.intn(4)
	g.budget = 2 + g.intn(10)
	if g.chance(0.2) {
		g.budget = 10 + g.intn(16)
		g.mark("big")
	}
	g.mark(fmt.Sprintf("depth_%d", g.maxDepth))
	g.fill(g.root)
	var walk func(n *node)
	walk = func(n *node) {
		n.idx = len(g.nodes)
		g.nodes = append(g.nodes, n)
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(g.root)
}

// childKind picks the kind of a regular (not final, not history) child at depth d.
func (g *gen) childKind(d int, region bool) kind {
	if d >= g.maxDepth || g.budget <= 0 {
		return kAtomic
	}
	x := g.r.Float64()
	switch {
	case region && x < 0.6, !region && x < 0.3:
		return kCompound
	case region && x < 0.7, !region && x < 0.45:
		return kParallel
	default:
		return kAtomic
	}
}

func (g *gen) fill(n *node) {
	keys := slices.Clone(stateKeys)
	if g.chance(0.05) {
		keys = append(keys, oddKeys...)
	}
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	next := 0
	add := func(k kind, key string) *node {
		c := &node{key: key, parent: n, kind: k, depth: n.depth + 1}
		if key == "" {
			c.key = keys[next]
			next++
			if slices.Contains(oddKeys, c.key) {
				g.mark("odd_state_key")
			}
		}
		n.kids = append(n.kids, c)
		g.budget--
		if k != kHistory && g.chance(0.12) {
			g.ids++
			c.id = fmt.Sprintf("i%d", g.ids)
			if g.chance(0.2) {
				c.id = fmt.Sprintf("id-%s%d", c.key, g.ids)
			}
			g.mark("explicit_id")
		}
		return c
	}
	d := n.depth + 1
	switch n.kind {
	case kCompound:
		k := 2 + g.intn(3)
		for i := 0; i < k; i++ {
			add(g.childKind(d, false), "")
		}
		if g.chance(0.35) {
			add(kFinal, pick(g, finalKeys))
			g.mark("final")
		}
	case kParallel:
		k := 2 + g.intn(2)
		for i := 0; i < k; i++ {
			add(g.childKind(d, true), "")
		}
	}
	// History states: never under the root (every transition to them would
	// come from inside their parent, an XState bug pattern).
	if n.parent != nil && g.chance(0.3) {
		nh := 1
		if g.chance(0.15) {
			nh = 2
		}
		for i := 0; i < nh; i++ {
			h := add(kHistory, histKeys[i])
			switch g.intn(3) {
			case 0:
				h.hist = "deep"
				g.mark("history_deep")
			case 1:
				h.hist = "shallow"
				g.mark("history_shallow")
			default:
				g.mark("history_omitted")
			}
			if n.kind == kParallel {
				g.mark("history_in_parallel")
			}
		}
	}
	// Shuffle so that final and history states are not always last.
	if g.chance(0.3) {
		g.r.Shuffle(len(n.kids), func(i, j int) { n.kids[i], n.kids[j] = n.kids[j], n.kids[i] })
	}
	if n.kind == kCompound {
		var cands []*node
		for _, c := range n.kids {
			if c.kind != kHistory && c.kind != kFinal {
				cands = append(cands, c)
			}
		}
		n.initial = pick(g, cands)
		if g.chance(0.03) {
			for _, c := range n.kids {
				if c.kind == kFinal {
					n.initial = c
					g.mark("initial_final")
				}
			}
		}
	}
	for _, c := range n.kids {
		switch c.kind {
		case kCompound, kParallel:
			g.fill(c)
		}
	}
	for _, c := range n.kids {
		if c.kind == kHistory && g.chance(0.5) {
			var cands []*node
			for _, s := range n.kids {
				if s.kind != kHistory {
					cands = append(cands, s)
				}
			}
			t := pick(g, cands)
			c.histTgt = t.key
			if c.hist == "deep" && len(t.kids) > 0 && t.kind == kCompound && g.chance(0.4) {
				if gk := pick(g, t.kids); gk.kind != kHistory {
					c.histTgt = t.key + "." + gk.key
				}
			}
			g.mark("history_default_target")
		}
	}
}

// ---------------------------------------------------------------------------
// Context.
// ---------------------------------------------------------------------------

var ctxChoices = []struct {
	key, typ string
	p        float64
	val      func(g *gen) any
}{
	{"count", "number", 0.85, func(g *gen) any { return pick(g, []any{0, 0, 0, 1, 3}) }},
	{"log", "array", 0.5, func(g *gen) any { return []any{} }},
	{"n", "number", 0.3, func(g *gen) any { return pick(g, []any{0, 2, -1, 0.5}) }},
	{"name", "string", 0.3, func(g *gen) any { return pick(g, []any{"n0", "", "abc"}) }},
	{"x", "any", 0.2, func(g *gen) any { return pick(g, []any{nil, 1, "a"}) }},
	{"flag", "any", 0.2, func(g *gen) any { return pick(g, []any{false, true}) }},
	{"items", "array", 0.15, func(g *gen) any { return []any{"a", Obj{{"k", 1}}} }},
}

func (g *gen) buildContext() {
	g.ctxTypes = map[string]string{}
	if g.chance(0.15) {
		g.mark("no_context")
		return
	}
	var ctx Obj
	for _, c := range ctxChoices {
		if g.chance(c.p) {
			ctx = append(ctx, Field{c.key, c.val(g)})
			g.ctxTypes[c.key] = c.typ
		}
	}
	if ctx == nil {
		ctx = Obj{}
	}
	g.root.extra = append(g.root.extra, Field{"context", ctx})
	if g.chance(0.03) {
		g.root.extra = append(g.root.extra, Field{"options", Obj{{"maxIterations", 5 + g.intn(40)}}})
		g.mark("max_iterations")
	}
}

// ---------------------------------------------------------------------------
// Guards and actions.
// ---------------------------------------------------------------------------

func ref(name string, params Obj) Obj {
	if params == nil {
		return Obj{{"type", name}}
	}
	return Obj{{"type", name}, {"params", params}}
}

var jsonValues = []func(g *gen) any{
	func(g *gen) any { return g.intn(4) },
	func(g *gen) any { return pick(g, []any{"a", "b", "", "0"}) },
	func(g *gen) any { return g.chance(0.5) },
	func(g *gen) any { return nil },
	func(g *gen) any { return []any{} },
	func(g *gen) any { return []any{1, "a"} },
	func(g *gen) any { return Obj{} },
	func(g *gen) any { return Obj{{"k", g.intn(3)}} },
	func(g *gen) any { return 1.5 },
}

func (g *gen) jsonValue() any { return pick(g, jsonValues)(g) }

func (g *gen) ctxKey(def string) (key string, explicit bool) {
	if g.chance(0.5) {
		return def, false
	}
	return pick(g, []string{"count", "n", "x", "name", "flag", "nope"}), true
}

func (g *gen) stateRef() string {
	var cands []*node
	for _, n := range g.nodes {
		if n.kind != kHistory {
			cands = append(cands, n)
		}
	}
	t := pick(g, cands)
	if t == g.root {
		g.mark("guard_in_root")
		return "#" + g.rootID
	}
	forms := []string{"#" + g.rootID + "." + relPath(g.root, t), relPath(g.root, t)}
	for a := t; a != nil; a = a.parent {
		if a.id != "" {
			if a == t {
				forms = append(forms, "#"+a.id)
			} else {
				forms = append(forms, "#"+a.id+"."+relPath(a, t))
			}
		}
	}
	s := pick(g, forms)
	switch {
	case !strings.HasPrefix(s, "#"):
		g.mark("guard_in_path")
	case strings.HasPrefix(s, "#"+g.rootID+"."):
		g.mark("guard_in_rootpath")
	default:
		g.mark("guard_in_id")
	}
	return s
}

func (g *gen) guard(depth int) any {
	if depth < 3 && g.chance(0.22) {
		if depth > 0 {
			g.mark("guard_nested")
		}
		switch g.intn(3) {
		case 0:
			g.mark("guard_not")
			return ref("xorc.not", Obj{{"guard", g.guard(depth + 1)}})
		default:
			name := pick(g, []string{"xorc.and", "xorc.or"})
			g.mark("guard_" + name[5:])
			n := g.intn(4)
			if n == 0 {
				g.mark("guard_" + name[5:] + "_empty")
			}
			gs := make([]any, n)
			for i := range gs {
				gs[i] = g.guard(depth + 1)
			}
			return ref(name, Obj{{"guards", gs}})
		}
	}
	switch x := g.intn(10); {
	case x < 2:
		name := pick(g, []string{"xorc.eq", "xorc.ne"})
		g.mark("guard_" + name[5:])
		var p Obj
		if k, ok := g.ctxKey("count"); ok {
			p = append(p, Field{"key", k})
		}
		p = append(p, Field{"value", pick(g, []any{0, 1, 2, 3, "a", "n0", ""})})
		return ref(name, p)
	case x < 5:
		name := pick(g, []string{"xorc.gt", "xorc.gte", "xorc.lt", "xorc.lte"})
		g.mark("guard_" + name[5:])
		var p Obj
		if k, ok := g.ctxKey("count"); ok {
			p = append(p, Field{"key", k})
		}
		p = append(p, Field{"value", pick(g, []any{0, 1, 2, 3, 5, 1.5, -1, "2"})})
		return ref(name, p)
	case x < 8:
		g.mark("guard_event")
		f := pick(g, []string{"x", "x", "flag", "v", "type", "missing", "x", "flag", "v", "toString"})
		p := Obj{{"field", f}}
		if g.chance(0.6) {
			v := g.jsonValue()
			if f == "type" {
				v = pick(g, events)
			}
			p = append(p, Field{"value", v})
			g.eventGuards = append(g.eventGuards, fieldValue{f, v})
			g.mark("guard_event_value")
		}
		return ref("xorc.event", p)
	default:
		g.mark("guard_in")
		return ref("xorc.in", Obj{{"state", g.stateRef()}})
	}
}

func (g *gen) action() any {
	if g.errorProne && g.chance(0.08) {
		g.mark("action_runtime_error")
		if g.chance(0.5) {
			// increment a non-number (a string, or an array)
			k := "name"
			if g.ctxTypes["name"] != "string" {
				k = "log"
			}
			return ref("xorc.increment", Obj{{"key", k}})
		}
		k := "count"
		if g.ctxTypes["count"] == "" {
			k = "name"
		}
		return ref("xorc.append", Obj{{"key", k}})
	}
	switch x := 20 * g.r.Float64(); {
	case x < 3:
		g.mark("action_assign")
		if g.chance(0.1) {
			return "xorc.assign"
		}
		var p Obj
		keys := []string{"x", "flag", "obj", "name", "count", "log"}
		used := map[string]bool{}
		for i := 0; i < 1+g.intn(2); i++ {
			k := pick(g, keys)
			if used[k] {
				continue
			}
			used[k] = true
			v := g.jsonValue()
			switch k {
			case "count": // keep count numeric most of the time
				if !g.errorProne || g.chance(0.5) {
					v = g.intn(3)
				}
			case "log":
				if !g.errorProne || g.chance(0.5) {
					v = []any{"reset"}
				}
			}
			p = append(p, Field{k, v})
		}
		return ref("xorc.assign", p)
	case x < 7:
		g.mark("action_increment")
		if g.chance(0.4) {
			return "xorc.increment"
		}
		var p Obj
		if g.chance(0.3) {
			p = append(p, Field{"key", pick(g, []string{"count", "n", "m"})})
		}
		if g.chance(0.6) {
			p = append(p, Field{"by", pick(g, []any{1, 2, 0.5, 10})})
		}
		if p == nil {
			p = Obj{}
		}
		return ref("xorc.increment", p)
	case x < 11:
		g.mark("action_append")
		if g.chance(0.4) {
			return "xorc.append"
		}
		var p Obj
		if g.chance(0.3) {
			p = append(p, Field{"key", pick(g, []string{"log", "trail"})})
		}
		if g.chance(0.5) {
			p = append(p, Field{"value", g.jsonValue()})
		}
		if p == nil {
			p = Obj{}
		}
		return ref("xorc.append", p)
	case x < 15:
		g.mark("action_copy")
		return ref("xorc.copy", Obj{{"key", pick(g, []string{"x", "last", "seen", "x", "last", "seen", "constructor"})}, {"field", pick(g, []string{"x", "flag", "v", "type", "missing", "x", "flag", "v", "type", "toString"})}})
	case x < 16:
		g.mark("action_raise")
		return ref("xorc.raise", Obj{{"event", pick(g, append(slices.Clone(raiseEvents), g.alphabet...))}})
	default:
		g.mark("action_log")
		if g.chance(0.5) {
			return "xorc.log"
		}
		return ref("xorc.log", Obj{{"message", "hello"}})
	}
}

// actions returns 1..most actions.
func (g *gen) actions(most int) []any {
	n := 1 + g.intn(most)
	out := make([]any, n)
	for i := range out {
		out[i] = g.action()
	}
	return out
}

// ---------------------------------------------------------------------------
// Transitions.
// ---------------------------------------------------------------------------

// allowed reports whether a transition from s to t is comparable with the
// oracle (see the README, "XState bugs that xorc does not copy").
func (g *gen) allowed(s, t *node) bool {
	if t.kind == kHistory {
		p := t.parent
		if p.isAncestorOf(s) || s == p && p.kind == kParallel {
			return false
		}
	}
	return true
}

func (g *gen) pickTarget(s *node) *node {
	if s.parent != nil && g.chance(0.4) {
		var sib []*node
		for _, k := range s.parent.kids {
			if g.allowed(s, k) && (k != s || g.chance(0.3)) {
				sib = append(sib, k)
			}
		}
		if len(sib) > 0 {
			return pick(g, sib)
		}
	}
	if g.chance(0.015) {
		g.mark("target_root")
		return g.root
	}
	var all []*node
	for _, n := range g.nodes[1:] {
		if g.allowed(s, n) {
			all = append(all, n)
		}
	}
	return pick(g, all)
}

// targetString writes the target t of a transition of s in one of the forms
// that XState resolves to t.
func (g *gen) targetString(s, t *node) string {
	type form struct{ name, s string }
	var forms []form
	if t == g.root {
		forms = append(forms, form{"id", "#" + g.rootID})
	} else {
		forms = append(forms, form{"id_path", "#" + g.rootID + "." + relPath(g.root, t)})
	}
	if s.parent != nil && t.parent == s.parent {
		forms = append(forms, form{"sibling", t.key}, form{"sibling", t.key})
	}
	if s.parent != nil && s.parent.isAncestorOf(t) && t.parent != s.parent {
		forms = append(forms, form{"sib_child", relPath(s.parent, t)}, form{"sib_child", relPath(s.parent, t)})
	}
	if s.isAncestorOf(t) {
		forms = append(forms, form{"dot_child", "." + relPath(s, t)}, form{"dot_child", "." + relPath(s, t)})
	}
	for a := t; a != nil; a = a.parent {
		if a.id == "" {
			continue
		}
		if a == t {
			forms = append(forms, form{"id", "#" + a.id}, form{"id", "#" + a.id})
		} else {
			forms = append(forms, form{"id_path", "#" + a.id + "." + relPath(a, t)})
		}
	}
	f := pick(g, forms)
	g.mark("target_" + f.name)
	return f.s
}

func (g *gen) newTrans(s, t *node, guardP, actP float64) *trans {
	tr := &trans{target: t, reenter: -1}
	if t != nil {
		tr.tstr = g.targetString(s, t)
		if t == s {
			g.mark("self_transition")
		}
		if t.kind == kHistory {
			g.mark("target_history")
		}
		if s != g.root {
			switch x := g.r.Float64(); {
			case x < 0.15:
				tr.reenter = 1
				g.mark("reenter_true")
			case x < 0.2:
				tr.reenter = 0
				g.mark("reenter_false")
			}
		}
	} else {
		g.mark("targetless")
	}
	if g.chance(guardP) {
		tr.guard = g.guard(0)
		g.mark("guarded")
	}
	if g.chance(actP) {
		tr.actions = g.actions(2)
	}
	return tr
}

// candidates makes a list of 1-3 guarded candidates for one event of s.
func (g *gen) candidates(s *node, targetP float64, noTarget bool) tlist {
	n := 1
	if x := g.r.Float64(); x < 0.07 {
		n = 3
	} else if x < 0.25 {
		n = 2
	}
	var l tlist
	for i := 0; i < n; i++ {
		var t *node
		if !noTarget && g.chance(targetP) {
			t = g.pickTarget(s)
		}
		gp := 0.25
		if i < n-1 {
			gp = 0.85
		}
		l.ts = append(l.ts, g.newTrans(s, t, gp, 0.4))
	}
	l.form = g.pickForm(l.ts)
	return l
}

func (g *gen) pickForm(ts []*trans) tform {
	if len(ts) > 1 {
		g.mark("on_array")
		return formArray
	}
	t := ts[0]
	pure := t.target != nil && t.guard == nil && len(t.actions) == 0 && t.reenter < 0
	switch x := g.r.Float64(); {
	case pure && x < 0.4:
		g.mark("on_string")
		return formString
	case x < 0.8:
		g.mark("on_object")
		return formObject
	default:
		g.mark("on_array")
		return formArray
	}
}

func (g *gen) decorate(n *node) {
	if n.kind == kHistory {
		return
	}
	if g.chance(0.25) {
		n.entry = g.actions(2)
		g.mark("entry")
	}
	if g.chance(0.2) {
		n.exit = g.actions(2)
		g.mark("exit")
	}
	if g.chance(0.05) {
		n.extra = append(n.extra, Field{"description", "state " + relPath(g.root, n)})
		g.mark("description")
	}
	if g.chance(0.03) {
		n.extra = append(n.extra, Field{"tags", []any{"t1"}})
	}
	if g.chance(0.03) {
		n.extra = append(n.extra, Field{"meta", Obj{{"note", n.key}}})
	}
	n.shuffle = g.chance(0.15)
	if n.kind == kFinal {
		return
	}
	// on
	k := 0
	switch x := g.r.Float64(); {
	case n.kind == kAtomic && x < 0.4, n.kind != kAtomic && x < 0.25:
		k = 1
	case n.kind == kAtomic && x < 0.85:
		k = 2
	case n.kind == kAtomic:
		k = 3
	}
	used := map[string]bool{}
	for i := 0; i < k; i++ {
		ev := pick(g, g.alphabet)
		switch x := g.r.Float64(); {
		case x < 0.045:
			ev = "*"
			g.mark("wildcard")
		case x < 0.2:
			ev = pick(g, raiseEvents)
		}
		if used[ev] {
			continue
		}
		used[ev] = true
		if ev != "*" {
			g.handled = append(g.handled, ev)
		}
		tp := 0.8
		if ev == "*" {
			tp = 0.5 // a targeted * handler re-enters on every raised event
		}
		n.on = append(n.on, keyed{ev, g.candidates(n, tp, false)})
	}
	if n.kind == kAtomic && len(n.on) > 0 {
		// no dead ends: the first handler of an atomic state moves
		l := &n.on[0].list
		if last := l.ts[len(l.ts)-1]; last.target == nil {
			t := g.newTrans(n, g.pickTarget(n), 0, 0.4)
			l.ts[len(l.ts)-1] = t
			l.form = g.pickForm(l.ts)
		}
	}
	g.decorateAlways(n)
	g.decorateAfter(n)
	g.decorateOnDone(n)
}

func (g *gen) decorateAlways(n *node) {
	p := 0.09
	if n.kind != kAtomic {
		p = 0.04
	}
	if !g.chance(p) {
		return
	}
	g.mark("always")
	var tr *trans
	switch x := g.r.Float64(); {
	case x < 0.35 || x < 0.8 && n.kind != kAtomic:
		// counter: repeats until its guard is false (pitfall 8)
		g.mark("always_counter")
		tr = &trans{reenter: -1, guard: ref("xorc.lt", Obj{{"value", 1 + g.intn(5)}}), actions: []any{"xorc.increment"}}
		if g.chance(0.4) {
			tr.actions = append(tr.actions, "xorc.append")
		}
	case x < 0.8:
		// forward in document order, mostly terminating
		var fwd []*node
		for _, t := range g.nodes[n.idx+1:] {
			if !n.isAncestorOf(t) && g.allowed(n, t) {
				fwd = append(fwd, t)
			}
		}
		if len(fwd) == 0 {
			return
		}
		g.mark("always_target")
		t := pick(g, fwd)
		tr = &trans{target: t, tstr: g.targetString(n, t), reenter: -1}
		if g.chance(0.75) {
			tr.guard = g.guard(0)
		}
		if g.chance(0.4) {
			tr.actions = g.actions(2)
		}
	case x < 0.975:
		// only xorc.log: fires once per macrostep (pitfall 8)
		g.mark("always_log_once")
		tr = &trans{reenter: -1, actions: []any{"xorc.log"}}
	default:
		// loops into maxIterations
		g.mark("always_loop")
		tr = &trans{reenter: -1, actions: []any{"xorc.increment"}}
		if g.chance(0.5) {
			tr.actions = []any{ref("xorc.raise", Obj{{"event", "TICK"}})}
		}
	}
	l := tlist{ts: []*trans{tr}, form: formObject}
	pure := tr.target != nil && tr.guard == nil && len(tr.actions) == 0
	switch {
	case pure && g.chance(0.3):
		l.form = formString
	case g.chance(0.25):
		// a guarded candidate in front (an array of always candidates)
		g.mark("always_array")
		first := &trans{reenter: -1, guard: g.guard(0), actions: []any{ref("xorc.append", Obj{{"value", "first"}})}}
		if n.kind == kAtomic && g.chance(0.5) {
			for _, t := range g.nodes[n.idx+1:] {
				if !n.isAncestorOf(t) && g.allowed(n, t) && g.chance(0.3) {
					first.target, first.tstr = t, g.targetString(n, t)
					break
				}
			}
		}
		l.ts = []*trans{first, tr}
		l.form = formArray
	case g.chance(0.2):
		l.form = formArray
	}
	n.always = &l
}

// stateID is the id XState gives n: its explicit id, otherwise
// <machine id>.<path>.
func (g *gen) stateID(n *node) string {
	if n.id != "" {
		return n.id
	}
	if n == g.root {
		return g.rootID
	}
	return g.rootID + "." + relPath(g.root, n)
}

// internalEventNames lists the done and after event types of the machine, to
// send some of them as external events (XState takes them like any event).
func (g *gen) internalEventNames() []string {
	var out []string
	for _, n := range g.nodes[1:] {
		if n.kind == kCompound || n.kind == kParallel {
			out = append(out, "xstate.done.state."+g.stateID(n))
		}
		for _, a := range n.after {
			out = append(out, "xstate.after."+a.key+"."+g.stateID(n))
		}
	}
	return out
}

func (g *gen) decorateAfter(n *node) {
	p := 0.15
	if n == g.root {
		p = 0.05
	}
	if !g.chance(p) {
		return
	}
	g.hasAfter = true
	k := 1
	if x := g.r.Float64(); x < 0.1 {
		k = 3
	} else if x < 0.3 {
		k = 2
	}
	used := map[string]bool{}
	for i := 0; i < k; i++ {
		var d string
		if g.chance(0.3) {
			d = pick(g, delayNames)
		} else {
			d = pick(g, numDelays)
		}
		if used[d] {
			continue
		}
		used[d] = true
		if _, named := namedDelays[d]; named {
			g.delaysUsed[d] = true
			g.mark("after_named")
		} else {
			g.mark("after_numeric")
		}
		// A 0 ms timer that re-enters states could fire forever within one
		// $wait; keep those targetless.
		n.after = append(n.after, keyed{d, g.candidates(n, 0.7, d == "0")})
	}
	if len(n.after) > 1 {
		g.mark("after_multi")
	}
}

func (g *gen) decorateOnDone(n *node) {
	if n == g.root {
		return
	}
	ok := false
	switch n.kind {
	case kCompound:
		ok = n.hasFinalKid() && g.chance(0.6)
	case kParallel:
		all := true
		for _, r := range n.kids {
			if r.kind != kHistory && !(r.kind == kCompound && r.hasFinalKid()) {
				all = false
			}
		}
		ok = all && g.chance(0.6) || g.chance(0.1)
	}
	if !ok {
		return
	}
	g.mark("onDone")
	l := g.candidates(n, 0.7, false)
	n.onDone = &l
}

// fixZeroDelays keeps 0 ms timers from firing forever within one $wait: a
// 0 ms timer that fires re-arms itself when its state is re-entered in the
// same macrostep (by a `*` handler that takes the timer event, a raised event,
// or an eventless transition). Zero delays stay only in machines without
// `*` handlers and `always`, with actions that do not raise.
func (g *gen) fixZeroDelays() {
	risky := false
	for _, n := range g.nodes {
		if n.always != nil {
			risky = true
		}
		for _, k := range n.on {
			if k.key == "*" {
				risky = true
			}
		}
	}
	for _, n := range g.nodes {
		for i := range n.after {
			k := &n.after[i]
			if k.key != "0" {
				continue
			}
			if risky {
				k.key = "7"
				continue
			}
			for _, t := range k.list.ts {
				for j, a := range t.actions {
					if o, ok := a.(Obj); ok {
						if ty, _ := o.Get("type"); ty == "xorc.raise" {
							t.actions[j] = "xorc.log"
						}
					}
				}
			}
			g.mark("after_zero")
		}
	}
}

// ---------------------------------------------------------------------------
// Events.
// ---------------------------------------------------------------------------

func (g *gen) events() []Obj {
	n := 3 + g.intn(13)
	out := make([]Obj, 0, n)
	for i := 0; i < n; i++ {
		if g.hasAfter && g.chance(0.25) || g.chance(0.04) {
			out = append(out, Obj{{"type", "$wait"}, {"ms", pick(g, waitMs)}})
			g.mark("wait")
			continue
		}
		var typ string
		if names := g.internalEventNames(); len(names) > 0 && g.chance(0.03) {
			typ = pick(g, names)
			g.mark("external_internal_event")
		} else if len(g.handled) > 0 && g.chance(0.8) {
			typ = pick(g, g.handled)
		} else {
			typ = pick(g, append(slices.Clone(g.alphabet), "Z", "R1"))
		}
		ev := Obj{{"type", typ}}
		if g.chance(0.4) {
			g.mark("payload")
			for j, k := 0, 1+g.intn(2); j < k; j++ {
				var fv fieldValue
				if len(g.eventGuards) > 0 && g.chance(0.5) {
					fv = pick(g, g.eventGuards)
				} else {
					fv = fieldValue{pick(g, eventFields), g.jsonValue()}
				}
				if fv.field == "type" || fv.field == "missing" || fv.field == "toString" {
					continue
				}
				if _, dup := ev.Get(fv.field); dup {
					continue
				}
				ev = append(ev, Field{fv.field, fv.value})
			}
		}
		out = append(out, ev)
	}
	return out
}

// ---------------------------------------------------------------------------
// Config errors (a few percent of the cases). Only errors XState rejects too:
// it accepts duplicate ids (the last one wins), which xorc refuses, so those
// live in the hand-written cases with an xorc override.
// ---------------------------------------------------------------------------

func (g *gen) injectConfigError() {
	var states []*node
	for _, n := range g.nodes[1:] {
		if n.kind != kHistory && n.kind != kFinal {
			states = append(states, n)
		}
	}
	s := pick(g, states)
	kinds := []string{"unknown_target", "unknown_action", "unknown_guard", "string_guard",
		"bad_param", "unknown_param", "missing_param", "in_missing", "root_bare_target", "missing_initial"}
	k := pick(g, kinds)
	g.mark("config_error_" + k)
	switch k {
	case "unknown_target":
		s.on = append(s.on, keyed{"A", tlist{ts: []*trans{{tstr: "nowhere", target: s, reenter: -1}}, form: formString}})
	case "unknown_action":
		s.entry = append(s.entry, "xorc.nope")
	case "unknown_guard":
		s.on = append(s.on, keyed{"B", tlist{ts: []*trans{{guard: ref("myGuard", nil), reenter: -1}}, form: formObject}})
	case "string_guard":
		s.on = append(s.on, keyed{"B", tlist{ts: []*trans{{guard: "xorc.eq", reenter: -1}}, form: formObject}})
	case "bad_param":
		s.exit = append(s.exit, ref("xorc.increment", Obj{{"by", "1"}}))
	case "unknown_param":
		s.entry = append(s.entry, ref("xorc.log", Obj{{"msg", "x"}}))
	case "missing_param":
		s.entry = append(s.entry, ref("xorc.copy", Obj{{"key", "x"}}))
	case "in_missing":
		s.on = append(s.on, keyed{"C", tlist{ts: []*trans{{guard: ref("xorc.in", Obj{{"state", "#nope"}}), reenter: -1}}, form: formObject}})
	case "root_bare_target":
		c := g.root.kids[0]
		g.root.on = append(g.root.on, keyed{"D", tlist{ts: []*trans{{tstr: c.key, target: c, reenter: -1}}, form: formString}})
	case "missing_initial":
		found := false
		for _, n := range g.nodes[1:] {
			if n.kind == kCompound {
				n.noInitial, found = true, true
				break
			}
		}
		if !found {
			s.entry = append(s.entry, "xorc.nope")
		}
	}
}

// ---------------------------------------------------------------------------
// Rendering.
// ---------------------------------------------------------------------------

func (g *gen) renderActions(as []any) any {
	if len(as) == 1 && g.chance(0.3) {
		return as[0]
	}
	return as
}

func (g *gen) renderTrans(t *trans) Obj {
	o := Obj{}
	if t.tstr != "" {
		o = append(o, Field{"target", t.tstr})
	}
	if t.guard != nil {
		o = append(o, Field{"guard", t.guard})
	}
	if len(t.actions) > 0 {
		o = append(o, Field{"actions", g.renderActions(t.actions)})
	}
	if t.reenter >= 0 {
		o = append(o, Field{"reenter", t.reenter == 1})
	}
	if len(o) > 1 && g.chance(0.1) {
		g.r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
	}
	return o
}

func (g *gen) renderList(l tlist) any {
	switch l.form {
	case formString:
		return l.ts[0].tstr
	case formObject:
		return g.renderTrans(l.ts[0])
	}
	out := make([]any, len(l.ts))
	for i, t := range l.ts {
		if t.target != nil && t.guard == nil && len(t.actions) == 0 && t.reenter < 0 && g.chance(0.3) {
			out[i] = t.tstr
		} else {
			out[i] = g.renderTrans(t)
		}
	}
	return out
}

func (g *gen) renderKeyed(ks []keyed) Obj {
	o := Obj{}
	for _, k := range ks {
		o = append(o, Field{k.key, g.renderList(k.list)})
	}
	return o
}

func (g *gen) renderRoot() Obj {
	o := g.renderState(g.root)
	return append(Obj{{"id", g.rootID}}, o...)
}

func (g *gen) renderState(n *node) Obj {
	var o Obj
	switch n.kind {
	case kParallel:
		o = append(o, Field{"type", "parallel"})
	case kFinal:
		o = append(o, Field{"type", "final"})
	case kHistory:
		o = append(o, Field{"type", "history"})
		if n.hist != "" {
			o = append(o, Field{"history", n.hist})
		}
		if n.histTgt != "" {
			o = append(o, Field{"target", n.histTgt})
		}
	}
	if n.id != "" {
		o = append(o, Field{"id", n.id})
	}
	if n.initial != nil && !n.noInitial {
		o = append(o, Field{"initial", n.initial.key})
	}
	o = append(o, n.extra...)
	if len(n.entry) > 0 {
		o = append(o, Field{"entry", g.renderActions(n.entry)})
	}
	if len(n.exit) > 0 {
		o = append(o, Field{"exit", g.renderActions(n.exit)})
	}
	if len(n.on) > 0 {
		o = append(o, Field{"on", g.renderKeyed(n.on)})
	}
	if n.always != nil {
		o = append(o, Field{"always", g.renderList(*n.always)})
	}
	if len(n.after) > 0 {
		o = append(o, Field{"after", g.renderKeyed(n.after)})
	}
	if n.onDone != nil {
		o = append(o, Field{"onDone", g.renderList(*n.onDone)})
	}
	if len(n.kids) > 0 {
		states := Obj{}
		for _, k := range n.kids {
			states = append(states, Field{k.key, g.renderState(k)})
		}
		o = append(o, Field{"states", states})
	}
	if n.shuffle && len(o) > 1 {
		g.r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
	}
	if o == nil {
		o = Obj{}
	}
	return o
}
