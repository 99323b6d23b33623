package actor

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// The xorc.* built-in actions and guards: parameter specs (validated at load
// time exactly like the reference oracle does) and compilation into the
// action/guard records the interpreter executes.

type paramType uint8

const (
	ptString   paramType = iota + 1 // a non-empty string
	ptNumber                        // a finite number
	ptNumOrStr                      // a finite number or a string
	ptJSON                          // any JSON value
	ptGuard                         // a guard reference
	ptGuards                        // an array of guard references
	ptObject                        // a JSON object
	ptDelay                         // a finite number >= 0 (ms) or a delay name
)

var paramTypeNames = map[paramType]string{
	ptString:   "a non-empty string",
	ptNumber:   "a finite number",
	ptNumOrStr: "a number or a string",
	ptJSON:     "JSON",
	ptGuard:    "a guard reference",
	ptGuards:   "an array of guards",
	ptObject:   "an object",
	ptDelay:    "a delay in ms (a finite number >= 0) or a delay name",
}

type builtinSpec struct {
	required map[string]paramType
	optional map[string]paramType
	anyKeys  bool // xorc.assign: any keys, any JSON values
}

var cmpSpec = &builtinSpec{required: map[string]paramType{"value": ptNumOrStr}, optional: map[string]paramType{"key": ptString}}

var actionSpecs = map[string]*builtinSpec{
	"xorc.assign":    {anyKeys: true},
	"xorc.increment": {optional: map[string]paramType{"key": ptString, "by": ptNumber}},
	"xorc.append":    {optional: map[string]paramType{"key": ptString, "value": ptJSON}},
	"xorc.copy":      {required: map[string]paramType{"key": ptString, "field": ptString}},
	"xorc.raise":     {required: map[string]paramType{"event": ptString}},
	"xorc.log":       {optional: map[string]paramType{"message": ptString}},
	"xorc.send": {required: map[string]paramType{"to": ptString, "event": ptString},
		optional: map[string]paramType{"data": ptObject, "delay": ptDelay}},
}

var guardSpecs = map[string]*builtinSpec{
	"xorc.eq": cmpSpec, "xorc.ne": cmpSpec, "xorc.gt": cmpSpec, "xorc.gte": cmpSpec, "xorc.lt": cmpSpec, "xorc.lte": cmpSpec,
	"xorc.event": {required: map[string]paramType{"field": ptString}, optional: map[string]paramType{"value": ptJSON}},
	"xorc.in":    {required: map[string]paramType{"state": ptString}},
	"xorc.not":   {required: map[string]paramType{"guard": ptGuard}},
	"xorc.and":   {required: map[string]paramType{"guards": ptGuards}},
	"xorc.or":    {required: map[string]paramType{"guards": ptGuards}},
}

// BuiltinActions and BuiltinGuards list the names of the xorc.* built-ins.
func BuiltinActions() []string { return sortedSpecNames(actionSpecs) }

// BuiltinGuards lists the names of the xorc.* built-in guards.
func BuiltinGuards() []string { return sortedSpecNames(guardSpecs) }

func sortedSpecNames(m map[string]*builtinSpec) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isNum(v any) bool {
	f, ok := v.(float64)
	return ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func checkParamType(t paramType, v any) bool {
	switch t {
	case ptString:
		s, ok := v.(string)
		return ok && s != ""
	case ptNumber:
		return isNum(v)
	case ptNumOrStr:
		_, isStr := v.(string)
		return isStr || isNum(v)
	case ptJSON:
		return true
	case ptObject:
		_, ok := v.(map[string]any)
		return ok
	case ptDelay:
		if s, ok := v.(string); ok {
			return s != ""
		}
		f, ok := v.(float64)
		return ok && isNum(v) && f >= 0
	}
	return false
}

// checkParams validates params against spec. kind is "action" or "guard";
// onGuard is called for nested guard references.
func checkParams(kind, name string, spec *builtinSpec, r ref, onGuard func(v any, path string) error) error {
	what := kind + " " + name
	// Paths are only built for errors and nested guards.
	pp := func() string { return joinPath(r.path, "params") }
	if spec.anyKeys {
		if _, bad := r.params["__proto__"]; bad {
			return defErr(pp(), ErrBadParams, what+`: context key "__proto__" is not allowed`)
		}
		return nil
	}
	if len(spec.required) > 0 {
		for _, k := range sortedTypeKeys(spec.required) {
			if _, ok := r.params[k]; !ok {
				return defErr(r.path, ErrBadParams, fmt.Sprintf("%s: params.%s is required", what, k))
			}
		}
	}
	if len(r.params) == 0 {
		return nil
	}
	keys := r.params
	var sorted []string
	if len(keys) > 1 {
		sorted = sortedParamNames(keys)
	} else {
		for k := range keys {
			sorted = []string{k}
		}
	}
	for _, k := range sorted {
		v := r.params[k]
		kp := func() string { return joinPath(pp(), k) }
		t, ok := spec.required[k]
		if !ok {
			t, ok = spec.optional[k]
		}
		if !ok {
			return defErr(kp(), ErrBadParams, fmt.Sprintf("%s: unknown param %s", what, jsStringify(k)))
		}
		switch t {
		case ptGuard:
			if err := onGuard(v, kp()); err != nil {
				return err
			}
		case ptGuards:
			arr, ok := v.([]any)
			if !ok {
				return defErr(kp(), ErrBadParams, fmt.Sprintf("%s: params.%s must be an array of guards", what, k))
			}
			for i, g := range arr {
				if err := onGuard(g, indexPath(kp(), i)); err != nil {
					return err
				}
			}
		default:
			if !checkParamType(t, v) {
				return defErr(kp(), ErrBadParams, fmt.Sprintf("%s: params.%s must be %s, got %s", what, k, paramTypeNames[t], jsonShort(v)))
			}
		}
		if k == "key" && v == "__proto__" {
			return defErr(kp(), ErrBadParams, what+`: context key "__proto__" is not allowed`)
		}
	}
	return nil
}

func sortedTypeKeys(m map[string]paramType) []string {
	if len(m) == 1 {
		for k := range m {
			return []string{k}
		}
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type actionKind uint8

const (
	aAssign actionKind = iota + 1
	aIncrement
	aAppend
	aCopy
	aRaise
	aLog
	aSend
	aUser
	aStartTimer  // the entry side of an `after` key
	aCancelTimer // the exit side of an `after` key
)

// action is a compiled action reference.
type action struct {
	kind     actionKind
	name     string
	key      string
	field    string
	by       float64
	value    any
	hasValue bool
	assign   map[string]any
	ev       Event // raise, send, timers
	evID     int32 // raise, timers
	message  string
	to       string
	delay    time.Duration
	timerID  string
	user     ActionFunc
	params   map[string]any
}

type guardKind uint8

const (
	gEq guardKind = iota + 1
	gNe
	gGt
	gGte
	gLt
	gLte
	gEvent
	gIn
	gNot
	gAnd
	gOr
	gUser
)

var guardKinds = map[string]guardKind{
	"xorc.eq": gEq, "xorc.ne": gNe, "xorc.gt": gGt, "xorc.gte": gGte, "xorc.lt": gLt, "xorc.lte": gLte,
	"xorc.event": gEvent, "xorc.in": gIn, "xorc.not": gNot, "xorc.and": gAnd, "xorc.or": gOr,
}

// guard is a compiled guard reference.
type guard struct {
	kind     guardKind
	name     string
	key      string
	field    string
	value    any
	hasValue bool
	state    int32
	kids     []*guard
	user     GuardFunc
	params   map[string]any
}

func (c *compiler) compileAction(r ref) (action, error) {
	if strings.HasPrefix(r.name, "xorc.") {
		spec, ok := actionSpecs[r.name]
		if !ok {
			return action{}, defErr(r.path, ErrUnknownAction, fmt.Sprintf("unknown action %s", jsStringify(r.name)))
		}
		if err := checkParams("action", r.name, spec, r, nil); err != nil {
			return action{}, err
		}
		p := r.params
		a := action{name: r.name, params: p}
		str := func(k, def string) string {
			if v, ok := p[k].(string); ok {
				return v
			}
			return def
		}
		switch r.name {
		case "xorc.assign":
			a.kind = aAssign
			a.assign = p
		case "xorc.increment":
			a.kind = aIncrement
			a.key = str("key", "count")
			a.by = 1
			if v, ok := p["by"].(float64); ok {
				a.by = v
			}
		case "xorc.append":
			a.kind = aAppend
			a.key = str("key", "log")
			a.value, a.hasValue = p["value"]
		case "xorc.copy":
			a.kind = aCopy
			a.key, a.field = str("key", ""), str("field", "")
		case "xorc.raise":
			a.kind = aRaise
			a.ev = Event{Type: str("event", "")}
			a.evID = c.intern(a.ev.Type)
		case "xorc.log":
			a.kind = aLog
			a.message, a.hasValue = p["message"].(string)
		case "xorc.send":
			a.kind = aSend
			a.to = str("to", "")
			a.ev = Event{Type: str("event", "")}
			if data, ok := p["data"].(map[string]any); ok {
				if _, bad := data["type"]; bad {
					return action{}, defErr(joinPath(joinPath(r.path, "params"), "data"), ErrBadParams, `action xorc.send: params.data must not contain "type" (use params.event)`)
				}
				if len(data) > 0 {
					a.ev.Data = data
				}
			}
			switch d := p["delay"].(type) {
			case float64:
				a.delay = msToDuration(d)
			case string:
				dd, ok := c.impl.Delays[d]
				if !ok {
					return action{}, defErr(joinPath(joinPath(r.path, "params"), "delay"), ErrUnknownDelay, fmt.Sprintf("action xorc.send: unknown delay %s", jsStringify(d)))
				}
				a.delay = dd
			}
		}
		return a, nil
	}
	fn, ok := c.impl.Actions[r.name]
	if !ok || fn == nil {
		return action{}, defErr(r.path, ErrUnknownAction, fmt.Sprintf("unknown action %s", jsStringify(r.name)))
	}
	return action{kind: aUser, name: r.name, user: fn, params: r.params}, nil
}

// refFromValue reads a nested guard reference (a params value): "name" or
// {"type": name, "params"?: {...}}.
func refFromValue(v any, path string) (ref, error) {
	switch x := v.(type) {
	case string:
		return ref{path: path, name: x}, nil
	case map[string]any:
		name, ok := x["type"].(string)
		if !ok {
			break
		}
		r := ref{path: path, name: name}
		for k, pv := range x {
			switch k {
			case "type":
			case "params":
				pm, ok := pv.(map[string]any)
				if !ok {
					return r, defErr(joinPath(path, "params"), ErrBadParams, fmt.Sprintf("params of guard %s must be an object, got %s", jsStringify(name), jsonKind(pv)))
				}
				r.params, r.hasParams = pm, true
			default:
				return r, defErr(joinPath(path, k), ErrBadParams, fmt.Sprintf("unknown key %s in guard %s", jsStringify(k), jsStringify(name)))
			}
		}
		return r, nil
	}
	return ref{}, defErr(path, ErrBadParams, fmt.Sprintf(`guard reference must be a string or {"type": ..., "params"?: {...}}, got %s`, jsonShort(v)))
}

func (c *compiler) compileGuard(r ref) (*guard, error) {
	if strings.HasPrefix(r.name, "xorc.") {
		spec, ok := guardSpecs[r.name]
		if !ok {
			return nil, defErr(r.path, ErrUnknownGuard, fmt.Sprintf("unknown guard %s", jsStringify(r.name)))
		}
		g := &guard{kind: guardKinds[r.name], name: r.name, params: r.params}
		err := checkParams("guard", r.name, spec, r, func(v any, path string) error {
			nr, err := refFromValue(v, path)
			if err != nil {
				return err
			}
			k, err := c.compileGuard(nr)
			if err != nil {
				return err
			}
			g.kids = append(g.kids, k)
			return nil
		})
		if err != nil {
			return nil, err
		}
		p := r.params
		switch g.kind {
		case gEq, gNe, gGt, gGte, gLt, gLte:
			g.key = "count"
			if k, ok := p["key"].(string); ok {
				g.key = k
			}
			g.value, g.hasValue = p["value"]
		case gEvent:
			g.field, _ = p["field"].(string)
			g.value, g.hasValue = p["value"]
		case gIn:
			s, _ := p["state"].(string)
			idx, err := c.resolveInState(s, r.path)
			if err != nil {
				return nil, err
			}
			g.state = idx
		}
		return g, nil
	}
	fn, ok := c.impl.Guards[r.name]
	if !ok || fn == nil {
		return nil, defErr(r.path, ErrUnknownGuard, fmt.Sprintf("unknown guard %s", jsStringify(r.name)))
	}
	return &guard{kind: gUser, name: r.name, user: fn, params: r.params}, nil
}

// resolveInState resolves an xorc.in state reference: "#id", "#id.path", or
// a plain path from the root ("a.b"). refPath is the guard reference's path.
func (c *compiler) resolveInState(s, refPath string) (int32, error) {
	idx, msg := c.m.lookupState(s)
	if idx < 0 {
		return -1, defErr(joinPath(joinPath(refPath, "params"), "state"), ErrUnknownTarget, "xorc.in: "+msg)
	}
	if c.m.states[idx].kind == kHistory {
		return -1, defErr(joinPath(joinPath(refPath, "params"), "state"), ErrBadParams, fmt.Sprintf("xorc.in: %s is a history state, which is never active", jsStringify(s)))
	}
	return idx, nil
}

// lookupState resolves a state reference like XState's stateIn: "#id" and
// "#id.path" by id (then path), anything else as a path from the root. It
// returns -1 and a reason when there is no such state.
func (m *Machine) lookupState(s string) (int32, string) {
	if strings.HasPrefix(s, "#") {
		idx, err := m.byID(s)
		if err != "" {
			return -1, fmt.Sprintf("no state %s (%s)", jsStringify(s), err)
		}
		return idx, ""
	}
	node := int32(0)
	for _, seg := range strings.Split(s, ".") {
		next := m.childByKey(node, seg)
		if next < 0 {
			return -1, fmt.Sprintf("no state path %s from the root (plain paths start below the root; use \"#%s.…\" for a full id)", jsStringify(s), m.id)
		}
		node = next
	}
	return node, ""
}

// msToDuration converts milliseconds (a JSON number) to a Duration.
func msToDuration(ms float64) time.Duration {
	ns := ms * 1e6
	if ns >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ns)
}
