package xorc

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

// Snapshot is a machine's state as a request returns it, from this process or
// another one.
type Snapshot struct {
	MachineID string
	// Value is XState's state value: a string for an atomic child of the
	// root, nested objects for compound and parallel states.
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
		case map[string]any:
			child, ok := cur[seg]
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
		if err := json.Unmarshal(p.ValueJson, &s.Value); err != nil {
			return nil, fmt.Errorf("%w: snapshot of %q: value: %v", proto.ErrMalformed, p.MachineId, err)
		}
	}
	if len(p.ContextJson) > 0 {
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
	default:
		return nil, fmt.Errorf("%w: snapshot of %q: status %d", proto.ErrMalformed, p.MachineId, p.Status)
	}
	return s, nil
}
