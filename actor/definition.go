package actor

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Definition is a parsed statechart, not yet compiled: the result of ParseJSON
// or of a Builder. It only checks the shape of the config; Compile checks the
// references (targets, ids, actions, guards, delays) and builds the tables.
// A Definition is immutable once returned and may be compiled any number of
// times (with different Implementations).
type Definition struct {
	id            string // machine id; "(machine)" when the config has none
	root          *stateDef
	context       Context // nil when the config has no context
	maxIterations int
	hasMaxIter    bool
	// lazyPaths: the JSON paths of the parts are not filled in (ParseJSON):
	// Compile builds them (withPaths) only to report an error.
	lazyPaths bool
}

// ID is the machine's root id.
func (d *Definition) ID() string { return d.id }

// Context returns a copy of the initial context (an empty map when the config
// has none).
func (d *Definition) Context() Context {
	c := make(Context, len(d.context))
	for k, v := range d.context {
		c[k] = v
	}
	return c
}

// stateDef is one state node of a definition, in JS property order.
type stateDef struct {
	path        string // JSON path of the state object; "" for the root (see Definition.lazyPaths)
	key         string
	id          string // explicit id, "" when absent
	typ         string // "type" as written, "" when absent
	initial     string
	hasInitial  bool
	history     string // "shallow" or "deep" ("" = not given)
	hasHistory  bool   // the "history" key is present
	histTarget  []string
	entry, exit []ref
	on          []eventDef
	always      []transDef
	after       []eventDef
	onDone      []transDef
	hasOnDone   bool
	// The JSON shape, for paths: entry, exit, always and onDone were arrays.
	entryArr, exitArr, alwaysArr, onDoneArr bool
	states                                  []*stateDef
	tags                                    []string
	description                             string
	meta                                    any
}

// eventDef is one key of `on` (an event descriptor) or `after` (a delay) with
// its candidate transitions.
type eventDef struct {
	key   string
	path  string
	trans []transDef
	arr   bool // the transitions were an array
}

// transDef is one candidate transition.
type transDef struct {
	path        string
	targetPath  string
	targets     []string // empty: targetless
	guard       *ref
	actions     []ref
	reenter     bool
	description string
	targetKey   bool // an object with a "target" key (the targets' path)
	actionsArr  bool // actions was an array
}

// ref is an action or guard reference: "name" or {"type": name, "params": {...}}.
type ref struct {
	path      string
	name      string
	params    map[string]any
	hasParams bool
}

var unsupportedKeys = map[string]string{
	"invoke":                     "invoke (child actors) is not supported",
	"output":                     "output is not supported",
	"input":                      "input is not supported",
	"route":                      "route is not supported",
	"onError":                    "onError is not supported (no invoked actors)",
	"activities":                 "activities are XState v4 and not supported",
	"parallel":                   `"parallel: true" is XState v4; use "type": "parallel"`,
	"strict":                     "strict is XState v4 and not supported",
	"predictableActionArguments": "predictableActionArguments is XState v4 and not supported",
}

var transitionHints = map[string]string{
	"cond":     `"cond" is XState v4; use "guard"`,
	"internal": `"internal" is XState v4; use "reenter"`,
	"in":       `"in" is XState v4; use the xorc.in guard`,
}

// ParseJSON reads an XState v5 createMachine config. Errors name the JSON path.
func ParseJSON(data []byte) (*Definition, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, &DefinitionError{Msg: err.Error(), Kind: ErrJSONSyntax}
	}
	return definitionFromJSON(v)
}

func definitionFromJSON(v any) (*Definition, error) { return definitionIn(v, nil) }

// definitionIn is definitionFromJSON with the slabs taken from a (nil: new
// ones).
func definitionIn(v any, a *loadArena) (*Definition, error) {
	if a == nil {
		a = &loadArena{}
	}
	obj, ok := v.(*jsonObject)
	if !ok {
		return nil, defErr("", nil, "machine config must be a JSON object, got "+jsonKind(v))
	}
	d := &Definition{id: "(machine)", lazyPaths: true}
	if idv, ok := obj.get("id"); ok {
		s, ok := idv.(string)
		if !ok || s == "" {
			return nil, defErr("id", nil, "must be a non-empty string, got "+jsonShort(idv))
		}
		d.id = s
	}
	if cv, ok := obj.get("context"); ok {
		co, ok := cv.(*jsonObject)
		if !ok {
			return nil, defErr("context", nil, "context must be a JSON object, got "+jsonKind(cv))
		}
		if co.has("__proto__") {
			return nil, defErr(`context["__proto__"]`, ErrBadParams, `context key "__proto__" is not allowed`)
		}
		d.context = plainJSON(co).(map[string]any)
	}
	if ov, ok := obj.get("options"); ok {
		oo, ok := ov.(*jsonObject)
		if !ok {
			return nil, defErr("options", nil, "must be an object, got "+jsonKind(ov))
		}
		for i, k := range oo.keys {
			if k != "maxIterations" {
				return nil, defErr(joinPath("options", k), ErrUnsupported, fmt.Sprintf("unknown option %s", jsStringify(k)))
			}
			f, ok := oo.vals[i].(float64)
			if !ok || math.IsNaN(f) {
				return nil, defErr("options.maxIterations", nil, "must be a number, got "+jsonShort(oo.vals[i]))
			}
			d.maxIterations = clampIter(f)
			d.hasMaxIter = true
		}
	}
	if vv, ok := obj.get("version"); ok {
		if _, ok := vv.(string); !ok {
			return nil, defErr("version", nil, "must be a string")
		}
	}
	// Slabs of the right size: count the states, events and transitions.
	var cnt defCount
	cnt.state(obj)
	r := defReader{
		frames: take(a.frames, 16),
		states: take(a.states, cnt.states-1), // the root is d.root
		sptrs:  take(a.sptrs, cnt.states-1),
		evs:    take(a.evs, cnt.events),
		trans:  take(a.trans, cnt.trans),
		strs:   take(a.strs, cnt.trans+4),
		refs:   take(a.refs, 8),
	}
	d.root = &stateDef{}
	err := r.state(d.root, obj, -1, d.id, true)
	a.frames, a.states, a.sptrs, a.evs, a.trans, a.strs, a.refs = r.frames, r.states, r.sptrs, r.evs, r.trans, r.strs, r.refs
	if err != nil {
		return nil, err
	}
	return d, nil
}

// clampIter turns a maxIterations number into the int bound that gives the
// same result for "iterations > max".
func clampIter(f float64) int {
	f = math.Floor(f)
	if f > math.MaxInt32 {
		return math.MaxInt32
	}
	if f < -1 {
		return -1
	}
	return int(f)
}

// pathFrame is a step of the JSON path being read: the readers keep the
// path as a stack of frames (defReader.frames, -1: the root) and build its
// string only for an error message.
type pathFrame struct {
	parent int32
	idx    int32 // >= 0: an array index; -1: the member key
	key    string
}

func (r *defReader) child(at int32, key string) int32 {
	r.frames = append(r.frames, pathFrame{parent: at, idx: -1, key: key})
	return int32(len(r.frames) - 1)
}

func (r *defReader) index(at int32, i int) int32 {
	r.frames = append(r.frames, pathFrame{parent: at, idx: int32(i)})
	return int32(len(r.frames) - 1)
}

// pop drops frame f and the frames pushed after it.
func (r *defReader) pop(f int32) { r.frames = r.frames[:f] }

// path is frame f's path as joinPath and indexPath write it.
func (r *defReader) path(f int32) string { return string(r.appendPath(nil, f)) }

func (r *defReader) appendPath(b []byte, f int32) []byte {
	if f < 0 {
		return b
	}
	fr := &r.frames[f]
	b = r.appendPath(b, fr.parent)
	switch {
	case fr.idx >= 0:
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(fr.idx), 10)
		b = append(b, ']')
	case plainPathKey(fr.key):
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, fr.key...)
	default:
		b = append(b, '[')
		b = appendJSString(b, fr.key)
		b = append(b, ']')
	}
	return b
}

func (r *defReader) err(f int32, kind error, msg string) error { return defErr(r.path(f), kind, msg) }

// defCount counts the parts of a parsed config that the reader allocates
// from slabs (an estimate when the config is not well formed).
type defCount struct{ states, events, trans int }

func (c *defCount) state(obj *jsonObject) {
	c.states++
	for i, k := range obj.keys {
		switch k {
		case "states":
			if so, ok := obj.vals[i].(*jsonObject); ok {
				for _, v := range so.vals {
					if co, ok := v.(*jsonObject); ok {
						c.state(co)
					}
				}
			}
		case "on", "after":
			if oo, ok := obj.vals[i].(*jsonObject); ok {
				c.events += len(oo.vals)
				for _, v := range oo.vals {
					c.trans += transCount(v)
				}
			}
		case "always", "onDone":
			c.trans += transCount(obj.vals[i])
		}
	}
}

func transCount(v any) int {
	if a, ok := v.([]any); ok {
		return len(a)
	}
	return 1
}

// defReader turns a parsed config into a Definition. The parts of the
// definition are carved from slabs (a definition is read-only once made).
type defReader struct {
	frames []pathFrame
	states []stateDef
	sptrs  []*stateDef
	evs    []eventDef
	trans  []transDef
	strs   []string
	refs   []ref
}

func (r *defReader) stateN(n int) []stateDef {
	return carve(&r.states, n, 64, 8)
}

func (r *defReader) stateptrN(n int) []*stateDef {
	return carve(&r.sptrs, n, 256, 16)
}

func (r *defReader) evN(n int) []eventDef {
	return carve(&r.evs, n, 256, 16)
}

func (r *defReader) transN(n int) []transDef {
	return carve(&r.trans, n, 256, 8)
}

func (r *defReader) strN(n int) []string {
	return carve(&r.strs, n, 256, 16)
}

func (r *defReader) refN(n int) []ref {
	return carve(&r.refs, n, 128, 8)
}

func (r *defReader) state(s *stateDef, obj *jsonObject, at int32, key string, isRoot bool) error {
	s.key = key
	for i, k := range obj.keys {
		v := obj.vals[i]
		kf := r.child(at, k)
		var err error
		switch k {
		case "id":
			if isRoot {
				r.pop(kf)
				continue // the machine id, read by the caller
			}
			str, ok := v.(string)
			if !ok || str == "" {
				return r.err(kf, nil, "must be a non-empty string, got "+jsonShort(v))
			}
			s.id = str
		case "type":
			str, ok := v.(string)
			if !ok {
				return r.err(kf, nil, "must be a string, got "+jsonShort(v))
			}
			switch str {
			case "atomic", "compound", "parallel", "final", "history":
			default:
				return r.err(kf, nil, fmt.Sprintf("unknown state type %s (want atomic, compound, parallel, final or history)", jsStringify(str)))
			}
			s.typ = str
		case "initial":
			str, ok := v.(string)
			if !ok {
				if _, isObj := v.(*jsonObject); isObj {
					return r.err(kf, ErrUnsupported, "initial must be a state key; an initial transition object (with actions) is not supported")
				}
				return r.err(kf, nil, "must be a string, got "+jsonShort(v))
			}
			s.initial, s.hasInitial = str, true
		case "history":
			s.hasHistory = true
			switch x := v.(type) {
			case bool:
				s.history = "shallow"
			case string:
				if x != "shallow" && x != "deep" {
					return r.err(kf, nil, fmt.Sprintf("must be \"shallow\" or \"deep\", got %s", jsStringify(x)))
				}
				s.history = x
			default:
				return r.err(kf, nil, "must be \"shallow\" or \"deep\", got "+jsonShort(v))
			}
		case "target":
			s.histTarget, err = r.targets(v, kf)
		case "states":
			so, ok := v.(*jsonObject)
			if !ok {
				return r.err(kf, nil, "must be an object of states, got "+jsonKind(v))
			}
			kids := r.stateN(len(so.keys))
			s.states = r.stateptrN(len(so.keys))
			for j, ck := range so.keys {
				cf := r.child(kf, ck)
				co, ok := so.vals[j].(*jsonObject)
				if !ok {
					return r.err(cf, nil, "a state config must be an object, got "+jsonKind(so.vals[j]))
				}
				if err := r.state(&kids[j], co, cf, ck, false); err != nil {
					return err
				}
				r.pop(cf)
				s.states[j] = &kids[j]
			}
		case "on":
			oo, ok := v.(*jsonObject)
			if !ok {
				return r.err(kf, nil, "must be an object of event descriptors, got "+jsonKind(v))
			}
			s.on = r.evN(len(oo.keys))
			for j, ev := range oo.keys {
				ef := r.child(kf, ev)
				if ev == "" {
					return r.err(ef, nil, `the empty event descriptor is not allowed; use "always" for eventless transitions`)
				}
				ts, arr, err := r.transitions(oo.vals[j], ef)
				if err != nil {
					return err
				}
				r.pop(ef)
				s.on[j] = eventDef{key: ev, trans: ts, arr: arr}
			}
		case "after":
			oo, ok := v.(*jsonObject)
			if !ok {
				return r.err(kf, nil, "must be an object of delays, got "+jsonKind(v))
			}
			s.after = r.evN(len(oo.keys))
			for j, dk := range oo.keys {
				df := r.child(kf, dk)
				ts, arr, err := r.transitions(oo.vals[j], df)
				if err != nil {
					return err
				}
				if arr {
					// XState quirk (getDelayedTransitions spreads each array
					// element into an object): a target string inside an
					// `after` array becomes a targetless transition.
					for k, e := range oo.vals[j].([]any) {
						if _, isStr := e.(string); isStr {
							ts[k].targets = nil
						}
					}
				}
				r.pop(df)
				s.after[j] = eventDef{key: dk, trans: ts, arr: arr}
			}
		case "always":
			s.always, s.alwaysArr, err = r.transitions(v, kf)
		case "onDone":
			s.onDone, s.onDoneArr, err = r.transitions(v, kf)
			s.hasOnDone = true
		case "entry":
			s.entry, s.entryArr, err = r.refList(v, kf, "action")
		case "exit":
			s.exit, s.exitArr, err = r.refList(v, kf, "action")
		case "description":
			str, ok := v.(string)
			if !ok {
				return r.err(kf, nil, "must be a string, got "+jsonShort(v))
			}
			s.description = str
		case "tags":
			s.tags, err = r.strings(v, kf)
		case "meta":
			s.meta = plainJSON(v)
		case "context", "options", "version":
			if !isRoot {
				return r.err(kf, nil, fmt.Sprintf("%s is only allowed on the machine (root) config", jsStringify(k)))
			}
		default:
			if msg, bad := unsupportedKeys[k]; bad {
				return r.err(kf, ErrUnsupported, msg)
			}
			return r.err(kf, nil, fmt.Sprintf("unknown key %s in a state config", jsStringify(k)))
		}
		if err != nil {
			return err
		}
		r.pop(kf)
	}
	return nil
}

func (r *defReader) strings(v any, at int32) ([]string, error) {
	switch x := v.(type) {
	case string:
		out := r.strN(1)
		out[0] = x
		return out, nil
	case []any:
		out := r.strN(len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				f := r.index(at, i)
				return nil, r.err(f, nil, "must be a string, got "+jsonShort(e))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, r.err(at, nil, "must be a string or an array of strings, got "+jsonShort(v))
}

func (r *defReader) targets(v any, at int32) ([]string, error) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil, nil // XState: "" means targetless
		}
		out := r.strN(1)
		out[0] = x
		return out, nil
	case []any:
		out := r.strN(len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok || s == "" {
				f := r.index(at, i)
				return nil, r.err(f, nil, "a target must be a non-empty string, got "+jsonShort(e))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, r.err(at, nil, "a target must be a string or an array of strings, got "+jsonShort(v))
}

// transitions reads a transition config: a target string, a transition
// object, or an array of them (arr).
func (r *defReader) transitions(v any, at int32) (ts []transDef, arr bool, err error) {
	if a, ok := v.([]any); ok {
		out := r.transN(len(a))
		for i, e := range a {
			f := r.index(at, i)
			if err := r.transition(&out[i], e, f); err != nil {
				return nil, true, err
			}
			r.pop(f)
		}
		return out, true, nil
	}
	out := r.transN(1)
	if err := r.transition(&out[0], v, at); err != nil {
		return nil, false, err
	}
	return out, false, nil
}

func (r *defReader) transition(t *transDef, v any, at int32) error {
	switch x := v.(type) {
	case string:
		targets, err := r.targets(v, at) // (not x: that would box it again)
		t.targets = targets
		return err
	case *jsonObject:
		for i, k := range x.keys {
			kv := x.vals[i]
			kf := r.child(at, k)
			var err error
			switch k {
			case "target":
				t.targetKey = true
				t.targets, err = r.targets(kv, kf)
			case "guard":
				g := r.refN(1)
				g[0], err = r.ref(kv, kf, "guard")
				t.guard = &g[0]
			case "actions":
				t.actions, t.actionsArr, err = r.refList(kv, kf, "action")
			case "reenter":
				b, ok := kv.(bool)
				if !ok {
					return r.err(kf, nil, "must be true or false, got "+jsonShort(kv))
				}
				t.reenter = b
			case "description":
				s, ok := kv.(string)
				if !ok {
					return r.err(kf, nil, "must be a string, got "+jsonShort(kv))
				}
				t.description = s
			case "meta":
			default:
				if hint, ok := transitionHints[k]; ok {
					return r.err(kf, ErrUnsupported, hint)
				}
				return r.err(kf, nil, fmt.Sprintf("unknown key %s in a transition", jsStringify(k)))
			}
			if err != nil {
				return err
			}
			r.pop(kf)
		}
		return nil
	}
	return r.err(at, nil, "a transition must be a target string or an object, got "+jsonShort(v))
}

func (r *defReader) refList(v any, at int32, kind string) (refs []ref, arr bool, err error) {
	if a, ok := v.([]any); ok {
		out := r.refN(len(a))
		for i, e := range a {
			f := r.index(at, i)
			if out[i], err = r.ref(e, f, kind); err != nil {
				return nil, true, err
			}
			r.pop(f)
		}
		return out, true, nil
	}
	out := r.refN(1)
	if out[0], err = r.ref(v, at, kind); err != nil {
		return nil, false, err
	}
	return out, false, nil
}

// ref reads "name" or {"type": "name", "params": {...}}.
func (r *defReader) ref(v any, at int32, kind string) (ref, error) {
	var out ref
	switch x := v.(type) {
	case string:
		out.name = x
		return out, nil
	case *jsonObject:
		tv, ok := x.get("type")
		name, isStr := tv.(string)
		if !ok || !isStr {
			return out, r.err(at, ErrBadParams, fmt.Sprintf(`%s reference must be a string or {"type": ..., "params"?: {...}}, got %s`, kind, jsonShort(v)))
		}
		out.name = name
		for i, k := range x.keys {
			switch k {
			case "type":
			case "params":
				po, ok := x.vals[i].(*jsonObject)
				if !ok {
					f := r.child(at, "params")
					return out, r.err(f, ErrBadParams, fmt.Sprintf("params of %s %s must be an object, got %s", kind, jsStringify(name), jsonKind(x.vals[i])))
				}
				out.params = plainJSON(po).(map[string]any)
				out.hasParams = true
			default:
				f := r.child(at, k)
				return out, r.err(f, ErrBadParams, fmt.Sprintf("unknown key %s in %s %s", jsStringify(k), kind, jsStringify(name)))
			}
		}
		return out, nil
	}
	return out, r.err(at, ErrBadParams, fmt.Sprintf(`%s reference must be a string or {"type": ..., "params"?: {...}}, got %s`, kind, jsonShort(v)))
}

// withPaths returns a copy of a parsed definition with the JSON paths of its
// parts filled in, for the error messages of Compile.
func (d *Definition) withPaths() *Definition {
	c := *d
	c.lazyPaths = false
	c.root = d.root.withPaths("")
	return &c
}

func (s *stateDef) withPaths(path string) *stateDef {
	c := *s
	c.path = path
	c.entry = refsWithPaths(s.entry, joinPath(path, "entry"), s.entryArr)
	c.exit = refsWithPaths(s.exit, joinPath(path, "exit"), s.exitArr)
	c.on = eventsWithPaths(s.on, joinPath(path, "on"))
	c.after = eventsWithPaths(s.after, joinPath(path, "after"))
	c.always = transWithPaths(s.always, joinPath(path, "always"), s.alwaysArr)
	c.onDone = transWithPaths(s.onDone, joinPath(path, "onDone"), s.onDoneArr)
	c.states = nil
	if s.states != nil {
		c.states = make([]*stateDef, len(s.states))
	}
	for i, ch := range s.states {
		c.states[i] = ch.withPaths(joinPath(joinPath(path, "states"), ch.key))
	}
	return &c
}

func eventsWithPaths(evs []eventDef, base string) []eventDef {
	if evs == nil {
		return nil
	}
	out := make([]eventDef, len(evs))
	for i, e := range evs {
		e.path = joinPath(base, e.key)
		e.trans = transWithPaths(e.trans, e.path, e.arr)
		out[i] = e
	}
	return out
}

func transWithPaths(ts []transDef, base string, arr bool) []transDef {
	if ts == nil {
		return nil
	}
	out := make([]transDef, len(ts))
	for i, t := range ts {
		p := base
		if arr {
			p = indexPath(base, i)
		}
		t.path, t.targetPath = p, p
		if t.targetKey {
			t.targetPath = joinPath(p, "target")
		}
		if t.guard != nil {
			g := *t.guard
			g.path = joinPath(p, "guard")
			t.guard = &g
		}
		t.actions = refsWithPaths(t.actions, joinPath(p, "actions"), t.actionsArr)
		out[i] = t
	}
	return out
}

func refsWithPaths(rs []ref, base string, arr bool) []ref {
	if rs == nil {
		return nil
	}
	out := make([]ref, len(rs))
	for i, r := range rs {
		r.path = base
		if arr {
			r.path = indexPath(base, i)
		}
		out[i] = r
	}
	return out
}

// jsonKind names the JSON type of a parsed value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case *jsonObject, map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonShort renders a value for an error message, truncated.
func jsonShort(v any) string {
	s := jsStringify(v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// sortedParamNames lists params keys in a stable order for messages.
func sortedParamNames(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
