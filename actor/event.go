package actor

import (
	"errors"
	"fmt"
)

// ErrBadEvent is wrapped by Event.UnmarshalJSON's errors.
var ErrBadEvent = errors.New("invalid event")

// MarshalJSON writes {"type": ..., <payload fields>...}; payload keys are
// sorted (a Go map has no order) and a payload "type" key is skipped.
func (e Event) MarshalJSON() ([]byte, error) { return e.appendJSON(nil), nil }

func (e Event) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendJSString(b, e.Type)
	if len(e.Data) > 0 {
		for _, k := range sortedKeys(e.Data) {
			if k == "type" {
				continue
			}
			b = append(b, ',')
			b = appendJSString(b, k)
			b = append(b, ':')
			b = appendJS(b, e.Data[k])
		}
	}
	return append(b, '}')
}

// UnmarshalJSON reads {"type": "...", ...payload}: every field other than
// "type" goes to Data (nil when there is none).
func (e *Event) UnmarshalJSON(data []byte) error {
	v, err := parseJSON(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	ev, err := eventFromJSON(v)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

func eventFromJSON(v any) (Event, error) {
	o, ok := v.(*jsonObject)
	if !ok {
		return Event{}, fmt.Errorf("%w: an event must be a JSON object, got %s", ErrBadEvent, jsonKind(v))
	}
	tv, _ := o.get("type")
	t, ok := tv.(string)
	if !ok {
		return Event{}, fmt.Errorf(`%w: an event needs a string "type", got %s`, ErrBadEvent, jsonShort(tv))
	}
	ev := Event{Type: t}
	for i, k := range o.keys {
		if k == "type" {
			continue
		}
		if ev.Data == nil {
			ev.Data = make(map[string]any, len(o.keys)-1)
		}
		ev.Data[k] = plainJSON(o.vals[i])
	}
	return ev, nil
}
