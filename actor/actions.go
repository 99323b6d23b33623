package actor

import (
	"fmt"
	"math"
	"time"
)

// Running actions and evaluating guards.

// ActionArgs is what an ActionFunc sees and can do. It is only valid during
// the call: do not keep it.
type ActionArgs struct {
	it     *Interpreter
	ev     *Event
	params map[string]any
	live   bool
}

// Context is the current context (read-only: change it with Assign).
func (a *ActionArgs) Context() Context {
	if !a.live {
		return nil
	}
	return a.it.ctx
}

// Event is the event being processed: the external event, the internal one
// taken from the queue (raised, done, after), or xstate.init at start.
func (a *ActionArgs) Event() Event {
	if !a.live {
		return Event{}
	}
	return *a.ev
}

// Params are the params of the action reference (nil when it has none).
func (a *ActionArgs) Params() map[string]any { return a.params }

// Assign sets context[key] = value (copy on write). Like XState's assign it
// counts as a context change even when the value is the same.
func (a *ActionArgs) Assign(key string, value any) {
	if !a.live {
		return
	}
	a.it.ownCtx()
	a.it.ctx[key] = value
	a.it.assigned = true
}

// Raise puts ev at the end of the internal queue; it is processed in the same
// macrostep.
func (a *ActionArgs) Raise(ev Event) {
	if !a.live {
		return
	}
	a.it.queue = append(a.it.queue, ievent{ev: ev, id: a.it.eventID(ev.Type)})
}

// Send emits an EffectSend: deliver ev to machine `to`, after d when d > 0.
func (a *ActionArgs) Send(to string, ev Event, d time.Duration) {
	if !a.live {
		return
	}
	a.it.effects = append(a.it.effects, Effect{Kind: EffectSend, To: to, Event: ev, Delay: d})
}

// Log emits an EffectLog.
func (a *ActionArgs) Log(msg string) {
	if !a.live {
		return
	}
	a.it.effects = append(a.it.effects, Effect{Kind: EffectLog, Message: msg, Event: *a.ev})
}

// GuardArgs is what a GuardFunc sees. It is only valid during the call.
type GuardArgs struct {
	it     *Interpreter
	ev     *Event
	params map[string]any
	live   bool
}

// Context is the current context (read-only).
func (g *GuardArgs) Context() Context {
	if !g.live {
		return nil
	}
	return g.it.ctx
}

// Event is the event being processed.
func (g *GuardArgs) Event() Event {
	if !g.live {
		return Event{}
	}
	return *g.ev
}

// Params are the params of the guard reference (nil when it has none).
func (g *GuardArgs) Params() map[string]any { return g.params }

// In reports whether a state is active, like the xorc.in guard: "#id",
// "#id.path" or a path from the root ("a.b"). Unknown states are inactive.
func (g *GuardArgs) In(stateRef string) bool {
	if !g.live {
		return false
	}
	idx, _ := g.it.m.lookupState(stateRef)
	return idx >= 0 && g.it.in.has(idx)
}

func (it *Interpreter) ownCtx() {
	if it.ctxOwned {
		return
	}
	c := make(Context, len(it.ctx)+1)
	for k, v := range it.ctx {
		c[k] = v
	}
	it.ctx = c
	it.ctxOwned = true
}

// eventField reads a top-level event field; "type" is the event type.
func eventField(ev *Event, field string) (any, bool) {
	if field == "type" {
		return ev.Type, true
	}
	v, ok := ev.Data[field]
	return v, ok
}

func (it *Interpreter) runActions(acts []action, ev *ievent) error {
	for i := range acts {
		a := &acts[i]
		switch a.kind {
		case aStartTimer:
			it.effects = append(it.effects, Effect{Kind: EffectStartTimer, Event: a.ev, Delay: a.delay, TimerID: a.timerID})
		case aCancelTimer:
			it.effects = append(it.effects, Effect{Kind: EffectCancelTimer, TimerID: a.timerID})
		case aAssign:
			it.impure = true
			it.ownCtx()
			for k, v := range a.assign {
				it.ctx[k] = v
			}
			it.assigned = true
		case aIncrement:
			it.impure = true
			cur, ok := it.ctx[a.key]
			base := 0.0
			if ok && cur != nil {
				f, isNum := toFloat(cur)
				if !isNum {
					return fmt.Errorf("xorc.increment: context.%s is not a number (%s)", a.key, jsStringify(cur))
				}
				base = f
			}
			it.ownCtx()
			it.ctx[a.key] = base + a.by
			it.assigned = true
		case aAppend:
			it.impure = true
			cur, ok := it.ctx[a.key]
			var old []any
			if ok && cur != nil {
				arr, isArr := cur.([]any)
				if !isArr {
					return fmt.Errorf("xorc.append: context.%s is not an array (%s)", a.key, jsStringify(cur))
				}
				old = arr
			}
			var v any = ev.ev.Type
			if a.hasValue {
				v = a.value
			}
			arr := make([]any, len(old)+1)
			copy(arr, old)
			arr[len(old)] = v
			it.ownCtx()
			it.ctx[a.key] = arr
			it.assigned = true
		case aCopy:
			it.impure = true
			v, _ := eventField(&ev.ev, a.field)
			it.ownCtx()
			it.ctx[a.key] = v
			it.assigned = true
		case aRaise:
			it.queue = append(it.queue, ievent{ev: a.ev, id: a.evID})
		case aLog:
			it.impure = true // the effect carries the event
			msg := a.message
			if !a.hasValue {
				msg = "xorc.log: " + ev.ev.Type
			}
			it.effects = append(it.effects, Effect{Kind: EffectLog, Message: msg, Event: ev.ev})
		case aSend:
			it.effects = append(it.effects, Effect{Kind: EffectSend, To: a.to, Event: a.ev, Delay: a.delay})
		case aUser:
			it.impure = true
			if err := it.callAction(a, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

func (it *Interpreter) callAction(a *action, ev *ievent) (err error) {
	args := &it.aargs
	args.ev, args.params, args.live = &ev.ev, a.params, true
	defer func() {
		args.live, args.ev, args.params = false, nil, nil
		if r := recover(); r != nil {
			err = fmt.Errorf("action %q panicked: %v", a.name, r)
		}
	}()
	if e := a.user(args); e != nil {
		return fmt.Errorf("action %q: %w", a.name, e)
	}
	return nil
}

func (it *Interpreter) callGuard(g *guard, ev *ievent) (ok bool, err error) {
	args := &it.gargs
	args.ev, args.params, args.live = &ev.ev, g.params, true
	defer func() {
		args.live, args.ev, args.params = false, nil, nil
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("guard %q panicked: %v", g.name, r)
		}
	}()
	return g.user(args), nil
}

func finiteNum(v any) (float64, bool) {
	f, ok := toFloat(v)
	return f, ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func (it *Interpreter) evalGuard(g *guard, ev *ievent) (bool, error) {
	switch g.kind {
	case gIn, gNot, gAnd, gOr:
		// xorc.in reads the configuration only; the others are as pure as
		// their operands.
	default:
		it.impure = true
	}
	switch g.kind {
	case gEq:
		v, ok := it.ctx[g.key]
		return ok && jsonEqual(v, g.value), nil
	case gNe:
		v, ok := it.ctx[g.key]
		return !(ok && jsonEqual(v, g.value)), nil
	case gGt, gGte, gLt, gLte:
		a, ok := finiteNum(it.ctx[g.key])
		if !ok {
			return false, nil
		}
		b, ok := finiteNum(g.value)
		if !ok {
			return false, nil
		}
		switch g.kind {
		case gGt:
			return a > b, nil
		case gGte:
			return a >= b, nil
		case gLt:
			return a < b, nil
		}
		return a <= b, nil
	case gEvent:
		v, ok := eventField(&ev.ev, g.field)
		if g.hasValue {
			return ok && jsonEqual(v, g.value), nil
		}
		return ok && truthy(v), nil
	case gIn:
		return it.in.has(g.state), nil
	case gNot:
		ok, err := it.evalGuard(g.kids[0], ev)
		return !ok, err
	case gAnd:
		for _, k := range g.kids {
			ok, err := it.evalGuard(k, ev)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case gOr:
		for _, k := range g.kids {
			ok, err := it.evalGuard(k, ev)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case gUser:
		return it.callGuard(g, ev)
	}
	return false, fmt.Errorf("guard %q: unknown kind", g.name)
}
