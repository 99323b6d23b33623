package actor

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
)

// Builder writes a machine definition in Go. It produces the same
// Definition as the equivalent JSON config (written with arrays for entry,
// exit and actions), with the same JSON paths in errors:
//
//	b := actor.NewBuilder("m").WithContext(actor.Context{"count": 0})
//	b.Initial("idle")
//	b.State("idle").On("GO", actor.To("busy").If(actor.Guard("xorc.event", actor.Params{"field": "job"})))
//	b.State("busy").Entry(actor.Action("xorc.increment", nil)).
//		After("100", actor.To("idle").Do(actor.Action("xorc.append", nil)))
//	def, err := b.Definition()
//
// Keys keep JavaScript property order like JSON configs: integer-like state,
// event and delay keys first (ascending), the others in call order. A
// Builder is not safe for concurrent use; Definition returns an independent
// copy, so a builder may be changed and built again.
type Builder struct {
	*StateBuilder
	ctx        Context
	maxIter    int
	hasMaxIter bool
}

// StateBuilder configures one state. Its methods return the same
// StateBuilder, for chaining; State returns a child's builder.
type StateBuilder struct {
	key      string
	id       string
	typ      string
	initial  string
	history  string
	histTgt  []string
	entry    []ActionRef
	exit     []ActionRef
	on       []builderEvent
	always   []*TransitionBuilder
	after    []builderEvent
	onDone   []*TransitionBuilder
	children []*StateBuilder
	tags     []string
	desc     string
	meta     any
}

type builderEvent struct {
	key string
	ts  []*TransitionBuilder
}

// TransitionBuilder is one candidate transition: To(targets...) then If, Do,
// Reenter.
type TransitionBuilder struct {
	targets []string
	guard   *GuardRef
	actions []ActionRef
	reenter bool
	desc    string
}

// Params are the params of an action or guard reference (JSON values; Go
// ints, []string, map[string]string and GuardRef values are accepted and
// converted).
type Params = map[string]any

// ActionRef references an action: a built-in (xorc.*) or a user action.
type ActionRef struct {
	Type   string
	Params Params // nil: no params
}

// GuardRef references a guard: a built-in (xorc.*) or a user guard.
type GuardRef struct {
	Type   string
	Params Params // nil: no params
}

// Action returns a reference to the named action.
func Action(name string, params Params) ActionRef { return ActionRef{Type: name, Params: params} }

// Guard returns a reference to the named guard.
func Guard(name string, params Params) GuardRef { return GuardRef{Type: name, Params: params} }

// Not is the xorc.not guard.
func Not(g GuardRef) GuardRef { return Guard("xorc.not", Params{"guard": g}) }

// And is the xorc.and guard.
func And(gs ...GuardRef) GuardRef { return Guard("xorc.and", Params{"guards": guardList(gs)}) }

// Or is the xorc.or guard.
func Or(gs ...GuardRef) GuardRef { return Guard("xorc.or", Params{"guards": guardList(gs)}) }

// In is the xorc.in guard ("#id", "#id.path" or a path from the root).
func In(state string) GuardRef { return Guard("xorc.in", Params{"state": state}) }

func guardList(gs []GuardRef) []any {
	out := make([]any, len(gs))
	for i, g := range gs {
		out[i] = g
	}
	return out
}

// NewBuilder starts a machine definition with the given root id.
func NewBuilder(id string) *Builder {
	return &Builder{StateBuilder: &StateBuilder{key: id, id: id}}
}

// WithContext sets the initial context.
func (b *Builder) WithContext(ctx Context) *Builder {
	b.ctx = ctx
	return b
}

// WithMaxIterations sets options.maxIterations.
func (b *Builder) WithMaxIterations(n int) *Builder {
	b.maxIter, b.hasMaxIter = n, true
	return b
}

// Compile is Definition followed by Compile.
func (b *Builder) Compile(impl *Implementations) (*Machine, error) {
	d, err := b.Definition()
	if err != nil {
		return nil, err
	}
	return Compile(d, impl)
}

// Definition returns the definition built so far (an independent copy).
func (b *Builder) Definition() (*Definition, error) {
	d := &Definition{id: b.id, maxIterations: b.maxIter, hasMaxIter: b.hasMaxIter}
	if d.id == "" {
		d.id = "(machine)"
	}
	if b.ctx != nil {
		c, err := normalizeJSON(map[string]any(b.ctx), "context")
		if err != nil {
			return nil, err
		}
		d.context = c.(map[string]any)
		if _, bad := d.context["__proto__"]; bad {
			return nil, defErr(`context["__proto__"]`, ErrBadParams, `context key "__proto__" is not allowed`)
		}
	}
	root, err := b.StateBuilder.build("", d.id, true)
	if err != nil {
		return nil, err
	}
	d.root = root
	return d, nil
}

// State returns the builder of child state key, creating it on first use.
func (s *StateBuilder) State(key string) *StateBuilder {
	for _, c := range s.children {
		if c.key == key {
			return c
		}
	}
	c := &StateBuilder{key: key}
	s.children = append(s.children, c)
	return c
}

// ID sets an explicit state id (for "#id" targets).
func (s *StateBuilder) ID(id string) *StateBuilder { s.id = id; return s }

// Initial sets the initial child of a compound state.
func (s *StateBuilder) Initial(key string) *StateBuilder { s.initial = key; return s }

// Parallel makes the state a parallel state.
func (s *StateBuilder) Parallel() *StateBuilder { s.typ = "parallel"; return s }

// Final makes the state a final state.
func (s *StateBuilder) Final() *StateBuilder { s.typ = "final"; return s }

// History makes the state a history state (deep or shallow) with optional
// default targets, relative to the history's parent.
func (s *StateBuilder) History(deep bool, target ...string) *StateBuilder {
	s.typ, s.history = "history", "shallow"
	if deep {
		s.history = "deep"
	}
	s.histTgt = target
	return s
}

// On adds candidate transitions for an event descriptor ("*" and "foo.*"
// are wildcards).
func (s *StateBuilder) On(event string, ts ...*TransitionBuilder) *StateBuilder {
	s.on = addEvent(s.on, event, ts)
	return s
}

// After adds delayed transitions: delay is a number of ms ("100") or the
// name of a delay of the Implementations.
func (s *StateBuilder) After(delay string, ts ...*TransitionBuilder) *StateBuilder {
	s.after = addEvent(s.after, delay, ts)
	return s
}

func addEvent(evs []builderEvent, key string, ts []*TransitionBuilder) []builderEvent {
	for i := range evs {
		if evs[i].key == key {
			evs[i].ts = append(evs[i].ts, ts...)
			return evs
		}
	}
	return append(evs, builderEvent{key: key, ts: ts})
}

// Always adds eventless transitions.
func (s *StateBuilder) Always(ts ...*TransitionBuilder) *StateBuilder {
	s.always = append(s.always, ts...)
	return s
}

// OnDone adds transitions taken when the state completes.
func (s *StateBuilder) OnDone(ts ...*TransitionBuilder) *StateBuilder {
	s.onDone = append(s.onDone, ts...)
	return s
}

// Entry adds entry actions.
func (s *StateBuilder) Entry(as ...ActionRef) *StateBuilder {
	s.entry = append(s.entry, as...)
	return s
}

// Exit adds exit actions.
func (s *StateBuilder) Exit(as ...ActionRef) *StateBuilder { s.exit = append(s.exit, as...); return s }

// Tags adds tags.
func (s *StateBuilder) Tags(tags ...string) *StateBuilder { s.tags = append(s.tags, tags...); return s }

// Description sets the description.
func (s *StateBuilder) Description(d string) *StateBuilder { s.desc = d; return s }

// Meta sets the meta data (a JSON value).
func (s *StateBuilder) Meta(v any) *StateBuilder { s.meta = v; return s }

// To starts a transition to the given targets (none: a targetless
// transition).
func To(targets ...string) *TransitionBuilder { return &TransitionBuilder{targets: targets} }

// If sets the guard.
func (t *TransitionBuilder) If(g GuardRef) *TransitionBuilder { t.guard = &g; return t }

// Do adds actions.
func (t *TransitionBuilder) Do(as ...ActionRef) *TransitionBuilder {
	t.actions = append(t.actions, as...)
	return t
}

// Reenter makes the transition re-entering (XState's reenter: true).
func (t *TransitionBuilder) Reenter() *TransitionBuilder { t.reenter = true; return t }

// Describe sets the description.
func (t *TransitionBuilder) Describe(d string) *TransitionBuilder { t.desc = d; return t }

func (s *StateBuilder) build(path, key string, isRoot bool) (*stateDef, error) {
	d := &stateDef{path: path, key: key, typ: s.typ, description: s.desc, tags: append([]string(nil), s.tags...)}
	if !isRoot {
		d.id = s.id
	}
	if s.initial != "" {
		d.initial, d.hasInitial = s.initial, true
	}
	if s.typ == "history" {
		d.history, d.hasHistory = s.history, true
		d.histTarget = append([]string(nil), s.histTgt...)
	}
	if s.meta != nil {
		m, err := normalizeJSON(s.meta, joinPath(path, "meta"))
		if err != nil {
			return nil, err
		}
		d.meta = m
	}
	var err error
	if d.entry, err = buildRefs(s.entry, joinPath(path, "entry")); err != nil {
		return nil, err
	}
	if d.exit, err = buildRefs(s.exit, joinPath(path, "exit")); err != nil {
		return nil, err
	}
	// The JSON shape the paths describe (see Definition.withPaths).
	d.entryArr, d.exitArr = d.entry != nil, d.exit != nil
	d.alwaysArr, d.onDoneArr = len(s.always) > 1, len(s.onDone) > 1
	for _, ev := range jsOrderEvents(s.on) {
		ep := joinPath(joinPath(path, "on"), ev.key)
		if ev.key == "" {
			return nil, defErr(ep, nil, `the empty event descriptor is not allowed; use Always for eventless transitions`)
		}
		ts, err := buildTransitions(ev.ts, ep)
		if err != nil {
			return nil, err
		}
		d.on = append(d.on, eventDef{key: ev.key, path: ep, trans: ts, arr: len(ts) > 1})
	}
	for _, ev := range jsOrderEvents(s.after) {
		ep := joinPath(joinPath(path, "after"), ev.key)
		ts, err := buildTransitions(ev.ts, ep)
		if err != nil {
			return nil, err
		}
		d.after = append(d.after, eventDef{key: ev.key, path: ep, trans: ts, arr: len(ts) > 1})
	}
	if len(s.always) > 0 {
		if d.always, err = buildTransitions(s.always, joinPath(path, "always")); err != nil {
			return nil, err
		}
	}
	if len(s.onDone) > 0 {
		if d.onDone, err = buildTransitions(s.onDone, joinPath(path, "onDone")); err != nil {
			return nil, err
		}
		d.hasOnDone = true
	}
	children := append([]*StateBuilder(nil), s.children...)
	sortJSKeys(children, func(c *StateBuilder) string { return c.key })
	for _, c := range children {
		cd, err := c.build(joinPath(joinPath(path, "states"), c.key), c.key, false)
		if err != nil {
			return nil, err
		}
		d.states = append(d.states, cd)
	}
	return d, nil
}

// jsOrderEvents returns evs in JS property order.
func jsOrderEvents(evs []builderEvent) []builderEvent {
	out := append([]builderEvent(nil), evs...)
	sortJSKeys(out, func(e builderEvent) string { return e.key })
	return out
}

// sortJSKeys orders items by JS property order of their keys: array-index
// keys first, ascending, the rest stable.
func sortJSKeys[T any](items []T, key func(T) string) {
	sort.SliceStable(items, func(a, b int) bool {
		ka, kb := key(items[a]), key(items[b])
		ia, ib := isArrayIndex(ka), isArrayIndex(kb)
		if ia && ib {
			na, _ := strconv.ParseUint(ka, 10, 64)
			nb, _ := strconv.ParseUint(kb, 10, 64)
			return na < nb
		}
		return ia && !ib
	})
}

func buildTransitions(ts []*TransitionBuilder, path string) ([]transDef, error) {
	out := make([]transDef, 0, len(ts))
	for i, t := range ts {
		if t == nil {
			return nil, defErr(path, nil, "nil transition")
		}
		p := path
		if len(ts) > 1 {
			p = indexPath(path, i)
		}
		td := transDef{path: p, targetPath: joinPath(p, "target"), reenter: t.reenter, description: t.desc, targetKey: true}
		if len(t.targets) == 0 {
			td.targetPath, td.targetKey = p, false
		}
		for j, tg := range t.targets {
			if tg == "" {
				return nil, defErr(indexPath(td.targetPath, j), nil, "a target must be a non-empty string")
			}
		}
		if len(t.targets) > 0 {
			td.targets = append([]string(nil), t.targets...)
		}
		if t.guard != nil {
			g, err := buildRef(t.guard.Type, t.guard.Params, joinPath(p, "guard"))
			if err != nil {
				return nil, err
			}
			td.guard = &g
		}
		var err error
		if td.actions, err = buildRefs(t.actions, joinPath(p, "actions")); err != nil {
			return nil, err
		}
		td.actionsArr = td.actions != nil
		out = append(out, td)
	}
	return out, nil
}

func buildRefs(as []ActionRef, path string) ([]ref, error) {
	var out []ref
	for i, a := range as {
		r, err := buildRef(a.Type, a.Params, indexPath(path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func buildRef(name string, params Params, path string) (ref, error) {
	r := ref{path: path, name: name}
	if params != nil {
		p, err := normalizeJSON(map[string]any(params), joinPath(path, "params"))
		if err != nil {
			return r, err
		}
		r.params, r.hasParams = p.(map[string]any), true
	}
	return r, nil
}

// normalizeJSON converts Go values to the JSON value types (float64,
// []any, map[string]any, ...); guard references become their JSON form.
func normalizeJSON(v any, path string) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, float64:
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalizeJSON(e, joinPath(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalizeJSON(e, indexPath(path, i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, nil
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out, nil
	case GuardRef:
		m := map[string]any{"type": x.Type}
		if x.Params != nil {
			p, err := normalizeJSON(map[string]any(x.Params), joinPath(path, "params"))
			if err != nil {
				return nil, err
			}
			m["params"] = p
		}
		return m, nil
	case *GuardRef:
		if x == nil {
			return nil, defErr(path, ErrBadParams, "nil guard reference")
		}
		return normalizeJSON(*x, path)
	case []GuardRef:
		return normalizeJSON(guardList(x), path)
	}
	if f, ok := toFloat(v); ok {
		return f, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			n, err := normalizeJSON(rv.Index(i).Interface(), indexPath(path, i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	return nil, defErr(path, ErrBadParams, fmt.Sprintf("%T is not a JSON value", v))
}
