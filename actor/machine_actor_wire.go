package actor

// Wire forms of the machine actor's messages (see package proto's Wirer).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	gproto "google.golang.org/protobuf/proto"

	"github.com/xorc-dev/xorc/proto"
)

// The errors of EventFromWire and Event.WireMessage wrap ErrBadEvent.

var (
	_ proto.EventWirer = Event{}
	_ proto.Wirer      = (*Reply)(nil)
)

// WireMessage returns ev as a *proto.Event: the type, and the data as a JSON
// object (empty payload when there is no data). Data with a "type" key, or a
// value JSON cannot encode, fails with ErrBadEvent.
func (ev Event) WireMessage() (gproto.Message, error) {
	typ, payload, err := ev.WireEvent()
	if err != nil {
		return nil, err
	}
	return &proto.Event{Type: typ, Payload: payload}, nil
}

// WireEvent returns the fields of ev's wire form (see WireMessage) without
// building it: the cross-process encoders' fast path.
func (ev Event) WireEvent() (eventType string, payload []byte, err error) {
	if ev.Type == "" {
		return "", nil, fmt.Errorf("%w: empty type", ErrBadEvent)
	}
	if len(ev.Data) == 0 {
		return ev.Type, nil, nil
	}
	if _, ok := ev.Data["type"]; ok {
		return "", nil, fmt.Errorf("%w: %q: data has a \"type\" key", ErrBadEvent, ev.Type)
	}
	p, err := marshalJSON(ev.Data)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %q: data: %v", ErrBadEvent, ev.Type, err)
	}
	return ev.Type, p, nil
}

// EventFromWire decodes an event that came over the wire. The payload must be
// empty, JSON null, or a JSON object without a "type" key; errors wrap
// ErrBadEvent.
func EventFromWire(pe *proto.Event) (Event, error) {
	if pe == nil || pe.Type == "" {
		return Event{}, fmt.Errorf("%w: empty type", ErrBadEvent)
	}
	ev := Event{Type: pe.Type}
	if len(pe.Payload) == 0 {
		return ev, nil
	}
	var data map[string]any
	if err := json.Unmarshal(pe.Payload, &data); err != nil {
		return Event{}, fmt.Errorf("%w: %q: payload is not a JSON object: %v", ErrBadEvent, pe.Type, err)
	}
	if _, ok := data["type"]; ok {
		return Event{}, fmt.Errorf("%w: %q: payload has a \"type\" key", ErrBadEvent, pe.Type)
	}
	if len(data) > 0 {
		ev.Data = data
	}
	return ev, nil
}

// WireMessage returns the reply as a *proto.Snapshot (value and context as JSON).
func (r *Reply) WireMessage() (gproto.Message, error) {
	return SnapshotToWire(r.MachineID, r.Snapshot)
}

// SnapshotToWire encodes a machine's snapshot.
func SnapshotToWire(machineID string, s Snapshot) (*proto.Snapshot, error) {
	value, err := marshalJSON(s.Value())
	if err != nil {
		return nil, fmt.Errorf("machine %q: value: %w", machineID, err)
	}
	ctx := s.Context
	if ctx == nil {
		ctx = Context{}
	}
	cj, err := marshalJSON(ctx)
	if err != nil {
		return nil, fmt.Errorf("machine %q: context: %w", machineID, err)
	}
	out := &proto.Snapshot{MachineId: machineID, ValueJson: value, ContextJson: cj, Error: s.Error}
	switch s.Status {
	case StatusActive:
		out.Status = proto.Status_STATUS_ACTIVE
	case StatusDone:
		out.Status = proto.Status_STATUS_DONE
	case StatusError:
		out.Status = proto.Status_STATUS_ERROR
	case StatusStopped:
		out.Status = proto.Status_STATUS_STOPPED
	default:
		return nil, fmt.Errorf("machine %q: %w %d", machineID, ErrUnknownStatus, uint8(s.Status))
	}
	return out, nil
}

// ErrUnknownStatus: a snapshot's Status is none of the defined ones, so it
// has no wire form.
var ErrUnknownStatus = errors.New("unknown machine status")

// marshalJSON is json.Marshal without HTML escaping and without the newline.
func marshalJSON(v any) ([]byte, error) {
	// The common cases of a snapshot on a request's path, without the
	// encoder: a state name that needs no escaping, an empty context.
	switch x := v.(type) {
	case string:
		if plainJSONString(x) {
			return append(append(append(make([]byte, 0, len(x)+2), '"'), x...), '"'), nil
		}
	case map[string]any:
		if len(x) == 0 {
			return []byte("{}"), nil
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// plainJSONString reports whether s is written in JSON as itself between
// quotes: printable ASCII without '"' and '\\'.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
