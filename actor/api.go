package actor

// This file is the public surface of the statechart core that the rest of xorc
// (the machine actor, the facade, the command line, the oracle tests) codes
// against. Implementations live in the other files of this package.

import (
	"encoding/json"
	"time"
)

// Event is a statechart event: a type plus an optional payload. In JSON the
// payload fields sit next to "type": {"type": "GO", "job": 7}.
type Event struct {
	Type string
	// Data holds the payload as JSON values (nil, bool, float64, string,
	// []any, map[string]any). Nil when the event has no payload.
	Data map[string]any
}

// Context is a machine's extended state, a JSON object. Snapshots share
// contexts: treat a Context you did not create as read-only (actions change it
// through ActionArgs.Assign, which copies on write).
type Context = map[string]any

// Status is the lifecycle status of a machine.
type Status uint8

const (
	StatusActive Status = iota // running
	StatusDone                 // reached a top-level final state
	StatusError                // an action failed or the eventless loop bound was hit
)

// Implementations are the named Go actions, guards and delays a definition may
// reference, like XState's setup(). The xorc.* built-ins are always available.
type Implementations struct {
	Actions map[string]ActionFunc
	Guards  map[string]GuardFunc
	Delays  map[string]time.Duration
	// MaxIterations bounds the microsteps of one macrostep (default 1000).
	MaxIterations int
}

// ActionFunc is a user action. It runs inside the interpreter, synchronously,
// in XState's order. A returned error or a panic puts the machine in
// StatusError and keeps the snapshot from before the event.
type ActionFunc func(a *ActionArgs) error

// GuardFunc is a user guard. It must not change anything.
type GuardFunc func(g *GuardArgs) bool

// EffectKind says what an Effect asks its driver (the machine actor, or the
// simulated clock of RunCase) to do.
type EffectKind uint8

const (
	// EffectSend: deliver Event to machine To, after Delay when Delay > 0.
	EffectSend EffectKind = iota + 1
	// EffectStartTimer: after Delay, feed Event back into this machine.
	// TimerID identifies the timer for a later EffectCancelTimer.
	EffectStartTimer
	// EffectCancelTimer: cancel the timer TimerID if it has not fired.
	EffectCancelTimer
	// EffectLog: log Message (xorc.log, ActionArgs.Log).
	EffectLog
)

// Effect is something the pure interpreter asks its driver to do. Effects are
// returned in the order they were produced and must be applied in that order.
type Effect struct {
	Kind    EffectKind
	To      string        // EffectSend: target machine ID
	Event   Event         // EffectSend, EffectStartTimer
	Delay   time.Duration // EffectSend (0 = now), EffectStartTimer
	TimerID string        // EffectStartTimer, EffectCancelTimer
	Message string        // EffectLog
}

// CaseStep is one step of the oracle's output format
// (../shared/tools/xstate-oracle/README.md, "Output format").
type CaseStep struct {
	Step    int             `json:"step"`
	Event   json.RawMessage `json:"event"`
	Value   any             `json:"value"`
	Context Context         `json:"context"`
	Status  string          `json:"status"`
	Done    bool            `json:"done"`
	Now     int64           `json:"now"`
	Error   string          `json:"error,omitempty"`
}

// CaseResult is the result of one case in the oracle's batch format.
type CaseResult struct {
	Steps []CaseStep `json:"steps"`
	Error string     `json:"error,omitempty"`
}
