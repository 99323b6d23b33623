package actor

import (
	"fmt"
	"math"
	"sort"
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
	path        string // JSON path of the state object; "" for the root
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
	states      []*stateDef
	tags        []string
	description string
	meta        any
}

// eventDef is one key of `on` (an event descriptor) or `after` (a delay) with
// its candidate transitions.
type eventDef struct {
	key   string
	path  string
	trans []transDef
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
}

// ref is an action or guard reference: "name" or {"type": name, "params": {...}}.
type ref struct {
	path      string
	name      string
	params    map[string]any
	hasParams bool
}

var stateKeys = map[string]bool{
	"id": true, "type": true, "initial": true, "states": true, "on": true, "entry": true, "exit": true,
	"always": true, "after": true, "onDone": true, "description": true, "tags": true, "meta": true,
	"history": true, "target": true,
}

var rootOnlyKeys = map[string]bool{"context": true, "options": true, "version": true}

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

var transitionKeys = map[string]bool{"target": true, "guard": true, "actions": true, "reenter": true, "description": true, "meta": true}

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

func definitionFromJSON(v any) (*Definition, error) {
	obj, ok := v.(*jsonObject)
	if !ok {
		return nil, defErr("", nil, "machine config must be a JSON object, got "+jsonKind(v))
	}
	d := &Definition{id: "(machine)"}
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
	root, err := parseState(obj, "", d.id, true)
	if err != nil {
		return nil, err
	}
	d.root = root
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

func parseState(obj *jsonObject, path, key string, isRoot bool) (*stateDef, error) {
	s := &stateDef{path: path, key: key}
	for i, k := range obj.keys {
		v := obj.vals[i]
		var kp string
		switch k {
		case "on", "after", "always", "onDone", "entry", "exit", "states", "target":
			kp = joinPath(path, k) // stored in the definition; else built only for errors (keyErr)
		}
		keyErr := func(kind error, msg string) error { return defErr(joinPath(path, k), kind, msg) }
		if msg, bad := unsupportedKeys[k]; bad {
			return nil, keyErr(ErrUnsupported, msg)
		}
		if rootOnlyKeys[k] {
			if !isRoot {
				return nil, keyErr(nil, fmt.Sprintf("%s is only allowed on the machine (root) config", jsStringify(k)))
			}
			continue
		}
		if !stateKeys[k] {
			return nil, keyErr(nil, fmt.Sprintf("unknown key %s in a state config", jsStringify(k)))
		}
		var err error
		switch k {
		case "id":
			if isRoot {
				continue // the machine id, read by the caller
			}
			str, ok := v.(string)
			if !ok || str == "" {
				return nil, keyErr(nil, "must be a non-empty string, got "+jsonShort(v))
			}
			s.id = str
		case "type":
			str, ok := v.(string)
			if !ok {
				return nil, keyErr(nil, "must be a string, got "+jsonShort(v))
			}
			switch str {
			case "atomic", "compound", "parallel", "final", "history":
			default:
				return nil, keyErr(nil, fmt.Sprintf("unknown state type %s (want atomic, compound, parallel, final or history)", jsStringify(str)))
			}
			s.typ = str
		case "initial":
			str, ok := v.(string)
			if !ok {
				if _, isObj := v.(*jsonObject); isObj {
					return nil, keyErr(ErrUnsupported, "initial must be a state key; an initial transition object (with actions) is not supported")
				}
				return nil, keyErr(nil, "must be a string, got "+jsonShort(v))
			}
			s.initial, s.hasInitial = str, true
		case "history":
			s.hasHistory = true
			switch x := v.(type) {
			case bool:
				s.history = "shallow"
			case string:
				if x != "shallow" && x != "deep" {
					return nil, keyErr(nil, fmt.Sprintf("must be \"shallow\" or \"deep\", got %s", jsStringify(x)))
				}
				s.history = x
			default:
				return nil, keyErr(nil, "must be \"shallow\" or \"deep\", got "+jsonShort(v))
			}
		case "target":
			s.histTarget, err = parseTargets(v, kp)
		case "states":
			so, ok := v.(*jsonObject)
			if !ok {
				return nil, keyErr(nil, "must be an object of states, got "+jsonKind(v))
			}
			for j, ck := range so.keys {
				cp := joinPath(kp, ck)
				co, ok := so.vals[j].(*jsonObject)
				if !ok {
					return nil, defErr(cp, nil, "a state config must be an object, got "+jsonKind(so.vals[j]))
				}
				child, err := parseState(co, cp, ck, false)
				if err != nil {
					return nil, err
				}
				s.states = append(s.states, child)
			}
		case "on":
			oo, ok := v.(*jsonObject)
			if !ok {
				return nil, keyErr(nil, "must be an object of event descriptors, got "+jsonKind(v))
			}
			for j, ev := range oo.keys {
				ep := joinPath(kp, ev)
				if ev == "" {
					return nil, defErr(ep, nil, `the empty event descriptor is not allowed; use "always" for eventless transitions`)
				}
				ts, err := parseTransitions(oo.vals[j], ep)
				if err != nil {
					return nil, err
				}
				s.on = append(s.on, eventDef{key: ev, path: ep, trans: ts})
			}
		case "after":
			oo, ok := v.(*jsonObject)
			if !ok {
				return nil, keyErr(nil, "must be an object of delays, got "+jsonKind(v))
			}
			for j, dk := range oo.keys {
				dp := joinPath(kp, dk)
				ts, err := parseTransitions(oo.vals[j], dp)
				if err != nil {
					return nil, err
				}
				if arr, ok := oo.vals[j].([]any); ok {
					// XState quirk (getDelayedTransitions spreads each array
					// element into an object): a target string inside an
					// `after` array becomes a targetless transition.
					for k, e := range arr {
						if _, isStr := e.(string); isStr {
							ts[k].targets = nil
						}
					}
				}
				s.after = append(s.after, eventDef{key: dk, path: dp, trans: ts})
			}
		case "always":
			s.always, err = parseTransitions(v, kp)
		case "onDone":
			s.onDone, err = parseTransitions(v, kp)
			s.hasOnDone = true
		case "entry":
			s.entry, err = parseRefs(v, kp, "action")
		case "exit":
			s.exit, err = parseRefs(v, kp, "action")
		case "description":
			str, ok := v.(string)
			if !ok {
				return nil, keyErr(nil, "must be a string, got "+jsonShort(v))
			}
			s.description = str
		case "tags":
			s.tags, err = parseStrings(v, kp)
		case "meta":
			s.meta = plainJSON(v)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseStrings(v any, path string) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, defErr(indexPath(path, i), nil, "must be a string, got "+jsonShort(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, defErr(path, nil, "must be a string or an array of strings, got "+jsonShort(v))
}

func parseTargets(v any, path string) ([]string, error) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil, nil // XState: "" means targetless
		}
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, defErr(indexPath(path, i), nil, "a target must be a non-empty string, got "+jsonShort(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, defErr(path, nil, "a target must be a string or an array of strings, got "+jsonShort(v))
}

// parseTransitions reads a transition config: a target string, a transition
// object, or an array of them.
func parseTransitions(v any, path string) ([]transDef, error) {
	if arr, ok := v.([]any); ok {
		out := make([]transDef, 0, len(arr))
		for i, e := range arr {
			t, err := parseTransition(e, indexPath(path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	t, err := parseTransition(v, path)
	if err != nil {
		return nil, err
	}
	return []transDef{t}, nil
}

func parseTransition(v any, path string) (transDef, error) {
	t := transDef{path: path, targetPath: path}
	switch x := v.(type) {
	case string:
		targets, err := parseTargets(x, path)
		t.targets = targets
		return t, err
	case *jsonObject:
		for i, k := range x.keys {
			kv := x.vals[i]
			var kp string // stored for target, guard and actions; built for errors otherwise
			if k == "target" || k == "guard" || k == "actions" {
				kp = joinPath(path, k)
			}
			keyErr := func(kind error, msg string) error { return defErr(joinPath(path, k), kind, msg) }
			if hint, ok := transitionHints[k]; ok {
				return t, keyErr(ErrUnsupported, hint)
			}
			if !transitionKeys[k] {
				return t, keyErr(nil, fmt.Sprintf("unknown key %s in a transition", jsStringify(k)))
			}
			var err error
			switch k {
			case "target":
				t.targetPath = kp
				t.targets, err = parseTargets(kv, kp)
			case "guard":
				var g ref
				g, err = parseRef(kv, kp, "guard")
				t.guard = &g
			case "actions":
				t.actions, err = parseRefs(kv, kp, "action")
			case "reenter":
				b, ok := kv.(bool)
				if !ok {
					return t, keyErr(nil, "must be true or false, got "+jsonShort(kv))
				}
				t.reenter = b
			case "description":
				s, ok := kv.(string)
				if !ok {
					return t, keyErr(nil, "must be a string, got "+jsonShort(kv))
				}
				t.description = s
			case "meta":
			}
			if err != nil {
				return t, err
			}
		}
		return t, nil
	}
	return t, defErr(path, nil, "a transition must be a target string or an object, got "+jsonShort(v))
}

func parseRefs(v any, path, kind string) ([]ref, error) {
	if arr, ok := v.([]any); ok {
		out := make([]ref, 0, len(arr))
		for i, e := range arr {
			r, err := parseRef(e, indexPath(path, i), kind)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	r, err := parseRef(v, path, kind)
	if err != nil {
		return nil, err
	}
	return []ref{r}, nil
}

// parseRef reads "name" or {"type": "name", "params": {...}}.
func parseRef(v any, path, kind string) (ref, error) {
	r := ref{path: path}
	switch x := v.(type) {
	case string:
		r.name = x
		return r, nil
	case *jsonObject:
		tv, ok := x.get("type")
		name, isStr := tv.(string)
		if !ok || !isStr {
			return r, defErr(path, ErrBadParams, fmt.Sprintf(`%s reference must be a string or {"type": ..., "params"?: {...}}, got %s`, kind, jsonShort(v)))
		}
		r.name = name
		for i, k := range x.keys {
			switch k {
			case "type":
			case "params":
				po, ok := x.vals[i].(*jsonObject)
				if !ok {
					return r, defErr(joinPath(path, "params"), ErrBadParams, fmt.Sprintf("params of %s %s must be an object, got %s", kind, jsStringify(name), jsonKind(x.vals[i])))
				}
				r.params = plainJSON(po).(map[string]any)
				r.hasParams = true
			default:
				return r, defErr(joinPath(path, k), ErrBadParams, fmt.Sprintf("unknown key %s in %s %s", jsStringify(k), kind, jsStringify(name)))
			}
		}
		return r, nil
	}
	return r, defErr(path, ErrBadParams, fmt.Sprintf(`%s reference must be a string or {"type": ..., "params"?: {...}}, got %s`, kind, jsonShort(v)))
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
