package actor

import (
	"errors"
	"fmt"
	"sort"
)

// StatusStopped is the status after the event xstate.stop (XState's
// "stopped"): like done and error, later events change nothing.
const StatusStopped Status = StatusError + 1

// String is the XState name of the status: active, done, error, stopped.
func (s Status) String() string {
	switch s {
	case StatusActive:
		return "active"
	case StatusDone:
		return "done"
	case StatusError:
		return "error"
	case StatusStopped:
		return "stopped"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, error) {
	switch s {
	case "active":
		return StatusActive, nil
	case "done":
		return StatusDone, nil
	case "error":
		return StatusError, nil
	case "stopped":
		return StatusStopped, nil
	}
	return 0, fmt.Errorf("unknown status %q", s)
}

// Snapshot is a machine's state between macrosteps. It is a value: keep old
// ones freely, the interpreter never mutates a snapshot it returned.
type Snapshot struct {
	Status  Status
	Context Context
	Error   string // set when Status == StatusError

	m      *Machine
	active []int32   // active states in XState's insertion order (_nodes)
	hist   [][]int32 // recorded history per history ordinal (nil: none)
	c      *config   // the interned configuration of (active, hist), or nil (stepcache.go)
}

// Machine is the machine the snapshot belongs to (nil for the zero Snapshot).
func (s Snapshot) Machine() *Machine { return s.m }

// Done reports whether the machine reached a top-level final state.
func (s Snapshot) Done() bool { return s.Status == StatusDone }

// StateValue is an object state value with its keys in order (document
// order; reversed in done snapshots, as XState produces them).
type StateValue []StateValueEntry

// StateValueEntry is one key of a StateValue. Value is a string (an atomic
// child of a compound state) or a StateValue.
type StateValueEntry struct {
	Key   string
	Value any
}

// Get returns the value of key.
func (v StateValue) Get(key string) (any, bool) {
	for _, e := range v {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the value as a JSON object in key order.
func (v StateValue) MarshalJSON() ([]byte, error) { return v.appendJSON(nil), nil }

func (v StateValue) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, e := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSString(b, e.Key)
		b = append(b, ':')
		b = appendJS(b, e.Value)
	}
	return append(b, '}')
}

// Value is XState's state value: a string for an atomic child, nested objects
// (a StateValue, marshalling in document order) for compound and parallel
// states; an atomic region of a parallel state is an empty object.
func (s Snapshot) Value() any {
	var posBuf [96]int32
	var linkBuf [64]int32
	return s.value(posBuf[:], linkBuf[:])
}

// value is Value with scratch space for the state positions (pos, one per
// state of the machine) and the links (two per active state); it is grown
// when too short.
func (s Snapshot) value(pos, link []int32) any {
	if s.m == nil || len(s.active) == 0 {
		return nil
	}
	m, list := s.m, s.active
	if m.states[0].kind == kCompound {
		// A compound root in an atomic state: the value is a string.
		for _, x := range list {
			if st := &m.states[x]; st.parent == 0 {
				if st.kind == kAtomic || st.kind == kFinal {
					return st.keyVal
				}
				break
			}
		}
	}
	// The children of each active state, in the order of the active list
	// (XState's getValueFromAdj), as linked lists over list positions.
	if len(pos) < len(m.states) {
		pos = make([]int32, len(m.states))
	}
	n := len(list)
	if len(link) < 2*n {
		link = make([]int32, 2*n)
	}
	head, next := link[:n], link[n:2*n]
	for i, x := range list {
		pos[x] = int32(i)
		head[i] = -1
	}
	for i := n - 1; i >= 0; i-- {
		if p := m.states[list[i]].parent; p >= 0 {
			j := pos[p]
			next[i] = head[j]
			head[j] = int32(i)
		}
	}
	vb := valueBuilder{m: m, list: list, entries: make([]StateValueEntry, 0, n)}
	return vb.value(pos[0], head, next)
}

// valueBuilder computes XState's getValueFromAdj over the linked children
// (head: first child, next: next sibling, by list position; -1: none).
type valueBuilder struct {
	m       *Machine
	list    []int32
	entries []StateValueEntry
}

func (vb *valueBuilder) value(j int32, head, next []int32) any {
	m := vb.m
	st := &m.states[vb.list[j]]
	first := head[j]
	if st.kind == kCompound {
		if first < 0 {
			return StateValue{}
		}
		if ch := &m.states[vb.list[first]]; ch.kind == kAtomic || ch.kind == kFinal {
			return ch.keyVal
		}
	}
	k := 0
	for c := first; c >= 0; c = next[c] {
		k++
	}
	start := len(vb.entries)
	vb.entries = vb.entries[:start+k]
	obj := StateValue(vb.entries[start : start+k : start+k])
	i := 0
	for c := first; c >= 0; c = next[c] {
		obj[i] = StateValueEntry{Key: m.states[vb.list[c]].key, Value: vb.value(c, head, next)}
		i++
	}
	return obj
}

func (s Snapshot) isActive(idx int32) bool {
	for _, x := range s.active {
		if x == idx {
			return true
		}
	}
	return false
}

// Matches reports whether the state at path ("a.b", from the root, like
// XState's snapshot.matches) is active.
func (s Snapshot) Matches(path string) bool {
	if s.m == nil {
		return false
	}
	node := int32(0)
	for _, seg := range toStatePath(path) {
		node = s.m.childByKey(node, seg)
		if node < 0 || !s.isActive(node) {
			return false
		}
	}
	return true
}

// In reports whether a state is active, by reference like the xorc.in guard
// ("#id", "#id.path", or a path from the root).
func (s Snapshot) In(stateRef string) bool {
	if s.m == nil {
		return false
	}
	idx, _ := s.m.lookupState(stateRef)
	return idx >= 0 && s.isActive(idx)
}

// HasTag reports whether an active state has the tag.
func (s Snapshot) HasTag(tag string) bool {
	if s.m == nil {
		return false
	}
	for _, x := range s.active {
		for _, t := range s.m.states[x].tags {
			if t == tag {
				return true
			}
		}
	}
	return false
}

// Tags returns the tags of the active states, sorted, without duplicates.
func (s Snapshot) Tags() []string {
	if s.m == nil {
		return nil
	}
	set := map[string]bool{}
	for _, x := range s.active {
		for _, t := range s.m.states[x].tags {
			set[t] = true
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Active returns the ids of the active states in document order.
func (s Snapshot) Active() []string {
	if s.m == nil {
		return nil
	}
	idx := append([]int32(nil), s.active...)
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = s.m.states[x].id
	}
	return out
}

// Meta returns the meta of the active states that have one, by state id.
func (s Snapshot) Meta() map[string]any {
	out := map[string]any{}
	if s.m == nil {
		return out
	}
	for _, x := range s.active {
		if meta := s.m.states[x].meta; meta != nil {
			out[s.m.states[x].id] = meta
		}
	}
	return out
}

// MarshalJSON writes {"value": ..., "context": ..., "status": ..., "error"?: ...}.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	b := []byte(`{"value":`)
	b = appendJS(b, s.Value())
	b = append(b, `,"context":`...)
	ctx := s.Context
	if ctx == nil {
		ctx = Context{}
	}
	b = appendJS(b, map[string]any(ctx))
	b = append(b, `,"status":`...)
	b = appendJSString(b, s.Status.String())
	if s.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSString(b, s.Error)
	}
	return append(b, '}'), nil
}

// PersistedSnapshot is a snapshot in plain data, for storage or transfer:
// Machine.Restore turns it back into a Snapshot of the same machine.
type PersistedSnapshot struct {
	// Active lists the ids of the active states in the interpreter's
	// insertion order (it decides the order of eventless transitions).
	Active []string `json:"active"`
	// History maps a history state id to the ids of its recorded states.
	History map[string][]string `json:"history,omitempty"`
	Context Context             `json:"context"`
	Status  string              `json:"status"`
	Error   string              `json:"error,omitempty"`
}

// Persist returns the snapshot as plain data.
func (s Snapshot) Persist() PersistedSnapshot {
	p := PersistedSnapshot{Context: s.Context, Status: s.Status.String(), Error: s.Error}
	if s.m == nil {
		return p
	}
	p.Active = make([]string, len(s.active))
	for i, x := range s.active {
		p.Active[i] = s.m.states[x].id
	}
	for ord, rec := range s.hist {
		if rec == nil {
			continue
		}
		if p.History == nil {
			p.History = map[string][]string{}
		}
		ids := make([]string, len(rec))
		for i, x := range rec {
			ids[i] = s.m.states[x].id
		}
		p.History[s.m.states[s.m.histStates[ord]].id] = ids
	}
	return p
}

// ErrBadSnapshot is wrapped by Restore's errors.
var ErrBadSnapshot = errors.New("invalid snapshot")

// Restore rebuilds a snapshot of m from its persisted form, checking that the
// configuration is consistent (every active state's parent is active, every
// active compound state has exactly one active child, every active parallel
// state all its regions).
func (m *Machine) Restore(p PersistedSnapshot) (Snapshot, error) {
	st, err := ParseStatus(p.Status)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	s := Snapshot{Status: st, Context: p.Context, Error: p.Error, m: m}
	if s.Context == nil {
		s.Context = Context{}
	}
	in := newBitset(len(m.states))
	for _, id := range p.Active {
		idx, ok := m.stateByID(id)
		if !ok {
			return Snapshot{}, fmt.Errorf("%w: no state has id %q", ErrBadSnapshot, id)
		}
		if in.has(idx) {
			return Snapshot{}, fmt.Errorf("%w: state %q is listed twice", ErrBadSnapshot, id)
		}
		if m.states[idx].kind == kHistory {
			return Snapshot{}, fmt.Errorf("%w: history state %q cannot be active", ErrBadSnapshot, id)
		}
		in.set(idx)
		s.active = append(s.active, idx)
	}
	if !in.has(0) {
		return Snapshot{}, fmt.Errorf("%w: the root is not active", ErrBadSnapshot)
	}
	for _, x := range s.active {
		st := &m.states[x]
		if st.parent >= 0 && !in.has(st.parent) {
			return Snapshot{}, fmt.Errorf("%w: state %q is active without its parent", ErrBadSnapshot, st.id)
		}
		n := 0
		for _, ch := range st.children {
			if in.has(ch) {
				n++
			}
		}
		switch {
		case st.kind == kCompound && n != 1:
			return Snapshot{}, fmt.Errorf("%w: compound state %q has %d active children", ErrBadSnapshot, st.id, n)
		case st.kind == kParallel && n != len(st.children):
			return Snapshot{}, fmt.Errorf("%w: parallel state %q has an inactive region", ErrBadSnapshot, st.id)
		}
	}
	if len(p.History) > 0 {
		s.hist = make([][]int32, len(m.histStates))
		for hid, ids := range p.History {
			h, ok := m.stateByID(hid)
			if !ok || m.states[h].kind != kHistory {
				return Snapshot{}, fmt.Errorf("%w: %q is not a history state", ErrBadSnapshot, hid)
			}
			rec := make([]int32, 0, len(ids))
			for _, id := range ids {
				idx, ok := m.stateByID(id)
				if !ok || !m.isDesc(idx, m.states[h].parent) || m.states[idx].kind == kHistory {
					return Snapshot{}, fmt.Errorf("%w: history %q records %q, which is not a state of its parent", ErrBadSnapshot, hid, id)
				}
				rec = append(rec, idx)
			}
			sort.Slice(rec, func(a, b int) bool { return rec[a] < rec[b] })
			s.hist[m.states[h].histOrd] = rec
		}
	}
	return s, nil
}
