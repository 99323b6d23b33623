package xorc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

// Snapshot is a machine's state as a request returns it, from this process or
// another one.
type Snapshot struct {
	MachineID string
	// Value is XState's state value: a string for an atomic child of the
	// root, an actor.StateValue (keys in document order) for compound and
	// parallel states, the same for a machine of this process or another.
	Value   any
	Context actor.Context
	Status  actor.Status
	Error   string // set when Status is actor.StatusError

	local    actor.Snapshot // the interpreter's snapshot, when hasLocal
	hasLocal bool           // the machine is in this process
}

// Done reports whether the machine reached a top-level final state.
func (s *Snapshot) Done() bool { return s.Status == actor.StatusDone }

// Matches reports whether the state at path ("a.b", from the root, like
// XState's snapshot.matches) is active.
func (s *Snapshot) Matches(path string) bool {
	if s.hasLocal {
		return s.local.Matches(path)
	}
	return valueMatches(s.Value, path)
}

// valueMatches walks a decoded state value ("x" or {"a": {"b": ...}}).
func valueMatches(v any, path string) bool {
	if path == "" {
		return false
	}
	for _, seg := range strings.Split(path, ".") {
		switch cur := v.(type) {
		case string:
			if cur != seg {
				return false
			}
			v = nil // an atomic state has no children left to match
		case actor.StateValue:
			child, ok := cur.Get(seg)
			if !ok {
				return false
			}
			v = child
		default:
			return false
		}
	}
	return true
}

func snapshotFromLocal(r *actor.Reply) *Snapshot {
	s := r.Snapshot
	return &Snapshot{
		MachineID: r.MachineID,
		Value:     s.Value(),
		Context:   s.Context,
		Status:    s.Status,
		Error:     s.Error,
		local:     s,
		hasLocal:  true,
	}
}

func snapshotFromWire(p *proto.Snapshot) (*Snapshot, error) {
	s := &Snapshot{MachineID: p.MachineId, Error: p.Error}
	if len(p.ValueJson) > 0 {
		v, err := decodeStateValue(p.ValueJson)
		if err != nil {
			return nil, fmt.Errorf("%w: snapshot of %q: value: %v", proto.ErrMalformed, p.MachineId, err)
		}
		s.Value = v
	}
	if len(p.ContextJson) > 0 && string(p.ContextJson) != "{}" {
		if err := json.Unmarshal(p.ContextJson, &s.Context); err != nil {
			return nil, fmt.Errorf("%w: snapshot of %q: context: %v", proto.ErrMalformed, p.MachineId, err)
		}
	}
	if s.Context == nil {
		s.Context = actor.Context{}
	}
	switch p.Status {
	case proto.Status_STATUS_DONE:
		s.Status = actor.StatusDone
	case proto.Status_STATUS_ERROR:
		s.Status = actor.StatusError
	case proto.Status_STATUS_ACTIVE:
		s.Status = actor.StatusActive
	case proto.Status_STATUS_STOPPED:
		s.Status = actor.StatusStopped
	default:
		return nil, fmt.Errorf("%w: snapshot of %q: status %d", proto.ErrMalformed, p.MachineId, p.Status)
	}
	return s, nil
}

// maxValueDepth bounds the nesting of a state value read from the wire.
const maxValueDepth = 64

// decodeStateValue reads a state value from JSON, keeping the key order:
// a string, or an object whose values are state values.
func decodeStateValue(data []byte) (any, error) {
	if n := len(data); n >= 2 && data[0] == '"' && data[n-1] == '"' && plainJSON(data[1:n-1]) {
		return string(data[1 : n-1]), nil // a state name, the common case, without the decoder
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	v, err := readStateValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the state value")
	}
	return v, nil
}

// plainJSON reports whether b, between quotes, is a JSON string that means
// itself: printable ASCII without '"' and '\\'.
func plainJSON(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func readStateValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, fmt.Errorf("state value nested deeper than %d", maxValueDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case string:
		return t, nil
	case json.Delim:
		if t != '{' {
			return nil, fmt.Errorf("unexpected %v in a state value", t)
		}
		sv := actor.StateValue{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("state value key %v is not a string", kt)
			}
			child, err := readStateValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			sv = append(sv, actor.StateValueEntry{Key: key, Value: child})
		}
		if _, err := dec.Token(); err != nil { // the closing '}'
			return nil, err
		}
		return sv, nil
	}
	return nil, fmt.Errorf("a state value is a string or an object, not %v", tok)
}
