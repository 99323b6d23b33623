package actor

// EventMessages turns events into the messages posted to the mailbox of a
// machine actor running one Machine, without allocating for the common case.
//
// Why: a proto.actor message is an interface value, and putting an Event (a
// string and a map) in one allocates, once per event sent. That allocation
// and the garbage collection it drives were about a quarter of the CPU of a
// one-way event through the facade. An event without data whose type the
// machine's definition names is fully described by its type, so the message
// for it is made once, here, and shared: a *Event into a table that nobody
// writes after NewEventMessages. Other events (with data, or of a type the
// machine ignores anyway) are boxed as usual.
//
// The machine actor accepts Event and *Event alike. Safe for concurrent use.
type EventMessages struct {
	m   *Machine
	evs []Event // evs[id] is the event of type m.evNames[id], no data
}

// NewEventMessages prepares the messages of m's event types.
func NewEventMessages(m *Machine) *EventMessages {
	evs := make([]Event, len(m.evNames))
	for id, name := range m.evNames {
		evs[id] = Event{Type: name}
	}
	return &EventMessages{m: m, evs: evs}
}

// Message returns the message to post for ev: a shared *Event for an event
// without data of a type the machine names, ev itself (boxed) otherwise.
func (e *EventMessages) Message(ev Event) any {
	if ev.Data == nil {
		if id := e.m.evTable.lookup(ev.Type); id >= 0 {
			return &e.evs[id]
		}
	}
	return ev
}
