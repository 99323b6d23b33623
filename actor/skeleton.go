package actor

// Skeleton bodies: the interpreter issue replaces this whole file. The
// signatures are the contract the machine actor, the facade and the tests use.

import (
	"encoding/json"
	"time"
)

// Definition is a parsed, validated statechart, not yet compiled.
type Definition struct{ id string }

// ID is the machine's root id.
func (d *Definition) ID() string { return d.id }

// ParseJSON reads an XState v5 createMachine config. Errors name the JSON path.
func ParseJSON(data []byte) (*Definition, error) { return nil, ErrNotImplemented }

// Compile checks every reference against impl (nil: built-ins only) and builds
// the indexed tables the interpreter runs on.
func Compile(def *Definition, impl *Implementations) (*Machine, error) {
	return nil, ErrNotImplemented
}

// LoadJSON is ParseJSON followed by Compile.
func LoadJSON(data []byte, impl *Implementations) (*Machine, error) {
	d, err := ParseJSON(data)
	if err != nil {
		return nil, err
	}
	return Compile(d, impl)
}

// Machine is a compiled statechart. It is immutable and safe for concurrent use.
type Machine struct{ id string }

// ID is the machine definition's root id (not the runtime machine ID).
func (m *Machine) ID() string { return m.id }

// NewInterpreter returns an interpreter for m. An Interpreter holds scratch
// space and is not safe for concurrent use: give each actor its own.
func (m *Machine) NewInterpreter() *Interpreter { return &Interpreter{m: m} }

// Interpreter runs macrosteps. It does no I/O, starts no goroutine and reads no
// clock: time enters only as events (timer events from EffectStartTimer).
type Interpreter struct{ m *Machine }

// Start runs the initial macrostep (event xstate.init).
// The returned effects are valid until the next call on it.
func (it *Interpreter) Start() (Snapshot, []Effect) { return Snapshot{}, nil }

// Step processes one external event (a macrostep). Events sent to a machine
// that is done or in error change nothing.
func (it *Interpreter) Step(s Snapshot, ev Event) (Snapshot, []Effect) { return s, nil }

// Snapshot is a machine's state between macrosteps. It is a value: keep old
// ones freely, the interpreter never mutates a snapshot it returned.
type Snapshot struct {
	Status  Status
	Context Context
	Error   string // set when Status == StatusError
}

// Value is XState's state value: a string for an atomic child, nested objects
// (marshalling in document order) for compound and parallel states.
func (s Snapshot) Value() any { return nil }

// Matches reports whether the state at path ("a.b", from the root, like
// XState's snapshot.matches) is active.
func (s Snapshot) Matches(path string) bool { return false }

// ActionArgs is what an ActionFunc sees and can do.
type ActionArgs struct{}

func (a *ActionArgs) Context() Context                          { return nil }
func (a *ActionArgs) Event() Event                              { return Event{} }
func (a *ActionArgs) Params() map[string]any                    { return nil }
func (a *ActionArgs) Assign(key string, value any)              {}
func (a *ActionArgs) Raise(ev Event)                            {}
func (a *ActionArgs) Send(to string, ev Event, d time.Duration) {}
func (a *ActionArgs) Log(msg string)                            {}

// GuardArgs is what a GuardFunc sees.
type GuardArgs struct{}

func (g *GuardArgs) Context() Context        { return nil }
func (g *GuardArgs) Event() Event            { return Event{} }
func (g *GuardArgs) Params() map[string]any  { return nil }
func (g *GuardArgs) In(stateRef string) bool { return false }

// RunCase runs one case in the oracle's input format (machine, events with
// $wait, delays) on a simulated clock and returns the oracle's output.
func RunCase(data json.RawMessage) CaseResult { return CaseResult{Error: ErrNotImplemented.Error()} }
