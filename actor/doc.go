// Package actor is xorc's statechart core: XState v5 machine definitions
// (JSON, or a Go Builder), a compiler into indexed tables, and a pure
// interpreter that behaves like XState 5.33.3, step for step.
//
// # Using it
//
//	m, err := actor.LoadJSON(configJSON, &actor.Implementations{
//		Actions: map[string]actor.ActionFunc{"notify": notify},
//		Guards:  map[string]actor.GuardFunc{"isAdmin": isAdmin},
//		Delays:  map[string]time.Duration{"short": 50 * time.Millisecond},
//	})
//	it := m.NewInterpreter()    // one per actor: scratch space, not concurrent
//	snap, effects := it.Start() // the xstate.init macrostep
//	snap, effects = it.Step(snap, actor.Event{Type: "GO", Data: map[string]any{"job": 7.0}})
//
// The interpreter does no I/O, starts no goroutine and reads no clock. It
// takes a Snapshot and an Event and returns the next Snapshot plus Effects as
// data, in the order they were produced: EffectStartTimer / EffectCancelTimer
// (an `after` delay: feed Event back into the machine after Delay, TimerID
// names it for the cancel), EffectSend (xorc.send, ActionArgs.Send) and
// EffectLog (xorc.log, ActionArgs.Log). The driver applies them in order: the
// machine actor with real timers, RunCase with a simulated clock. A timer id
// is the timer's event type, xstate.after.<delay>.<stateId>; cancels may name
// timers that already fired (ignore them).
//
// Snapshots are values: keep old ones freely, the interpreter never mutates a
// snapshot it returned (contexts are copied on write). The effects slice is
// valid until the next call on the interpreter.
//
// # The step cache
//
// Most macrosteps of most machines depend on nothing but the configuration
// and the event type: no guard other than xorc.in is evaluated, no action
// reads or writes the context, logs or runs user code. Once one of its
// interpreters has run 64 steps, a Machine interns its configurations and
// caches those macrosteps (next configuration, status, effects) per
// (configuration, event type), shared by all its interpreters; Step is then
// a table lookup. A macrostep that does anything else is marked and always
// runs the interpreter. The cache is bounded (about 2 MiB per machine); past
// the bound, steps from configurations it does not hold run the interpreter.
// Results are the same with and without it (stepcache.go).
//
// # Definitions
//
// ParseJSON reads an XState v5 createMachine config: id, initial, context,
// states, type (parallel, final, history with history: shallow|deep and an
// optional default target), on (a target string, a transition object, or an
// array of guarded candidates), the "*" wildcard (and XState's "foo.*"
// partial wildcards), targetless and self transitions, reenter, entry, exit,
// always, after (numeric ms and named delays), onDone, description, tags,
// meta, explicit ids, and options.maxIterations. Targets are resolved like
// XState: a bare key is a sibling ("b", "b.c"), ".c" a child, "#id" and
// "#id.path" absolute. Keys keep JavaScript property order (integer-like keys
// first, ascending, then document order), which decides document order.
// Builder produces the same Definition from Go code. Compile checks every
// reference against the Implementations and builds the tables; LoadJSON does
// both.
//
// Load errors are *DefinitionError values naming the JSON path of the
// offending value ("states.busy.on.GO[1].target: unknown target ..."); they
// wrap ErrInvalidDefinition and a specific sentinel (ErrUnknownTarget,
// ErrMissingInitial, ErrDuplicateID, ErrUnknownAction, ErrUnknownGuard,
// ErrUnknownDelay, ErrBadParams, ErrUnsupported, ErrReservedName). xorc is
// stricter than XState here: it refuses unknown keys, duplicate ids, unknown
// initial states and history targets, unknown named delays, and features it
// does not run (invoke, output, initial transitions with actions).
//
// # Actions and guards
//
// References are "name" or {"type": name, "params": {...}}. Users register
// Go actions and guards in Implementations (like XState's setup()); names
// starting with "xorc." are reserved for the built-ins, which are exactly
// those of the reference oracle (../shared/tools/xstate-oracle/README.md),
// with the same param validation and runtime errors: xorc.assign,
// xorc.increment, xorc.append, xorc.copy, xorc.raise, xorc.log, plus
// xorc.send {to, event, data?, delay?} (an EffectSend), and the guards
// xorc.eq, ne, gt, gte, lt, lte, event, in, not, and, or. A machine without
// context starts with {}.
//
// A user action that returns an error or panics, a panicking user guard, a
// throwing built-in (xorc.increment on a string) and the microstep bound
// (Implementations.MaxIterations, default 1000, XState's "Infinite loop
// detected ..." message) put the machine in StatusError with the message and
// keep the snapshot from before the event; the process never crashes (even
// an unexpected panic inside the interpreter becomes an "xorc: internal
// error" status). The effects of the failed macrostep are dropped, except
// logs that already happened, and every timer of the kept configuration is
// cancelled.
//
// # Semantics
//
// The algorithm is XState's macrostep/microstep, and the README pitfalls of
// the oracle hold: transition selection from the innermost state (exact
// descriptor before wildcards; a parallel state's own transitions only when
// no region selected one), exit actions in reverse document order, then
// transition actions, then entry actions in document order; the domain is
// the plain LCA, default reenter: false; eventless transitions re-checked
// only after a microstep that changed the snapshot, collected in the
// insertion order of the active states (XState's _nodes list), to a fixpoint
// bounded by MaxIterations; raised and done events on an internal queue,
// processed after the eventless transitions; done events
// xstate.done.state.<id>; exit actions of every state when the machine
// reaches a top-level final state; after-timers started on entry and
// cancelled on exit; the events xstate.stop (status stopped) and
// xstate.error.actor.* (status error when nothing handles it) as in XState.
// A few XState quirks are kept on purpose because existing charts depend on
// them: an external event of type xstate.init only runs eventless
// transitions; a target string inside an `after` array is a targetless
// transition (XState spreads the string into an object); a transition to
// the root (#id of the machine) without reenter runs the root's entry
// actions again without exiting it.
//
// # History: where xorc deliberately differs from XState
//
// XState 5.33.3 has bugs when a transition targets a history state of P from
// inside P (the oracle README lists them). xorc follows SCXML instead: a
// transition to a history state behaves as a transition to the states it
// restores, with the normal exit set, so that every state entered again is
// exited first and the configuration stays consistent:
//
//   - x -> h where h restores x itself: x is exited, then entered (XState
//     enters x again without exiting it).
//   - the same in a parallel state together with a transition from another
//     region to a sibling of x: the two conflict (both exit x) and the first
//     in document order wins (XState takes both and P ends up with two
//     active children).
//   - a reenter transition from inside parallel P to the deep history of P's
//     parent: P stays active and is not entered again (XState runs P's entry
//     actions without its exit actions).
//   - a transition to the history of a parallel P from inside P with nothing
//     recorded: the domain and targets are computed once, before the exit,
//     so P is exited and entered again (XState loses P).
//   - a history state directly under a parallel root: the root is not
//     entered again (XState runs the root's entry actions again).
//
// Mechanically: the effective targets of a history transition never count as
// "inside" the source when they are the source itself, the domain is
// computed once per microstep from the history recorded before the exits,
// the restore uses the history recorded by them, and a state that stays
// active is not entered again.
//
// # Simulated runs
//
// RunCase, RunCases, RunOracleInput and RunOracleJSONL run the reference
// oracle's input format (a machine, events with {"type": "$wait", "ms": N}
// advancing a simulated clock, named delays) and produce its output format
// (`xorc machine run`). Timers fire in deadline order, same deadlines in
// scheduling order, each firing its own macrostep; a timer started by a
// firing counts from the firing time; 0 ms timers fire on the next $wait; a
// $wait stops after 10000 clock rounds (or 10000 firings) with an error.
// Contexts are written with sorted keys (XState keeps insertion order; the
// data is the same).
package actor
