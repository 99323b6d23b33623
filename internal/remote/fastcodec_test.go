package remote

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"

	"github.com/xorc-dev/xorc/proto"
)

// wireEvent is a Go message with a wire form (like actor.Event).
type wireEvent struct{ typ string }

func (w wireEvent) WireMessage() (gproto.Message, error) { return &proto.Event{Type: w.typ}, nil }

// fastEvent is a Go message with the encoder's fast path (like actor.Event).
type fastEvent struct {
	typ     string
	payload []byte
	err     error
}

func (f fastEvent) WireMessage() (gproto.Message, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &proto.Event{Type: f.typ, Payload: f.payload}, nil
}

func (f fastEvent) WireEvent() (string, []byte, error) { return f.typ, f.payload, f.err }

// appendEnvelope writes exactly what the general encoder (proto.Encode, then
// protobuf's marshaller) writes.
func TestAppendEnvelopeMatchesProto(t *testing.T) {
	target := pactor.NewPID(scheme+"b", "xorc/toggle")
	sender := &pactor.PID{Address: scheme + "a", Id: "future$x1", RequestId: 7}
	tests := []struct {
		name   string
		sender *pactor.PID
		msg    any
	}{
		{"event", nil, &proto.Event{Type: "T"}},
		{"event with payload and sender", sender, &proto.Event{Type: "GO", Payload: []byte(`{"job":7}`)}},
		{"empty event", nil, &proto.Event{}},
		{"wirer", nil, wireEvent{"W"}},
		{"event wirer", nil, fastEvent{typ: "F"}},
		{"event wirer with payload and sender", sender, fastEvent{typ: "F", payload: []byte(`{"a":[1,2]}`)}},
		{"event wirer with a long payload", nil, fastEvent{typ: "L", payload: []byte(strings.Repeat("x", 300))}},
		{"snapshot", sender, &proto.Snapshot{MachineId: "m", ValueJson: []byte(`"idle"`), ContextJson: []byte(`{}`), Status: proto.Status_STATUS_DONE}},
		{"watch (system)", nil, &pactor.Watch{Watcher: sender}},
		{"terminated (system)", nil, &pactor.Terminated{Who: target, Why: pactor.TerminatedReason_AddressTerminated}},
		{"envelope with sender", nil, &pactor.MessageEnvelope{Message: &proto.Event{Type: "E"}, Sender: sender}},
		{"envelope with header", sender, &pactor.MessageEnvelope{Message: &proto.Event{Type: "H"}, Header: map[string]string{"k": "v"}}},
		{"dead letter response", nil, &pactor.DeadLetterResponse{Target: target}},
	}
	var cache targetCache
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := proto.Encode(target, tt.sender, tt.msg)
			require.NoError(t, err)
			want, err := encodeField(nil, env)
			require.NoError(t, err)
			got, err := appendEnvelope([]byte("prefix"), target, tt.sender, tt.msg)
			require.NoError(t, err)
			assert.Equal(t, want, got[len("prefix"):])
			for range 2 { // a cache miss, then a hit
				got, err = appendEnvelopeCached([]byte("prefix"), &cache, nil, target, tt.sender, tt.msg)
				require.NoError(t, err)
				assert.Equal(t, want, got[len("prefix"):], "with the target cache")
			}
		})
	}
	t.Run("cache keyed by the PID's fields", func(t *testing.T) {
		for _, pid := range []*pactor.PID{
			target,
			pactor.NewPID(scheme+"c", target.Id), // same id, another process
			{Address: target.Address, Id: target.Id, RequestId: 9},
			pactor.NewPID(target.Address, "xorc/other"),
		} {
			env, err := proto.Encode(pid, nil, &proto.Event{Type: "T"})
			require.NoError(t, err)
			want, err := encodeField(nil, env)
			require.NoError(t, err)
			got, err := appendEnvelopeCached(nil, &cache, nil, pid, nil, fastEvent{typ: "T"})
			require.NoError(t, err)
			assert.Equal(t, want, got, "%v", pid)
		}
	})
	_, err := appendEnvelope(nil, target, nil, fastEvent{typ: "T", err: errors.New("no data")})
	assert.ErrorIs(t, err, proto.ErrUnknownType, "a failing WireEvent")
	for name, msg := range map[string]any{"no wire form": struct{}{}, "nil": nil, "nil event": (*proto.Event)(nil)} {
		_, err := appendEnvelope(nil, target, nil, msg)
		assert.ErrorIs(t, err, proto.ErrUnknownType, name)
	}
	_, err = appendEnvelope(nil, pactor.NewPID("x", "\xff"), nil, &proto.Event{Type: "T"})
	assert.ErrorIs(t, err, proto.ErrMalformed)
	_, err = appendEnvelopeCached(nil, &cache, nil, pactor.NewPID("x", "\xff"), nil, &proto.Event{Type: "T"})
	assert.ErrorIs(t, err, proto.ErrMalformed, "an invalid PID is not cached")
	_, err = appendEnvelope(nil, target, nil, &proto.Event{Type: "\xff"})
	assert.ErrorIs(t, err, proto.ErrMalformed)
	_, err = appendEnvelope(nil, nil, nil, &proto.Event{Type: "T"})
	assert.ErrorIs(t, err, proto.ErrMalformed)
}

// frozenEvent is a proto.Frozen event (like the facade's messages of events
// without data).
type frozenEvent struct{ fastEvent }

func (*frozenEvent) Frozen() {}

// frozenSlice is a proto.Frozen value whose type cannot be compared.
type frozenSlice struct{ typ []string }

func (f frozenSlice) WireMessage() (gproto.Message, error) { return &proto.Event{Type: f.typ[0]}, nil }
func (frozenSlice) Frozen()                                {}

// The envelope cache gives the encoder's bytes for every frozen message and
// target, alternating or not, and a hit costs no allocation; messages with a
// sender and Frozen types that cannot be compared are encoded each time.
func TestEnvelopeCacheFrozen(t *testing.T) {
	a, b := &frozenEvent{fastEvent{typ: "A"}}, &frozenEvent{fastEvent{typ: "B"}}
	sameAsA := &frozenEvent{fastEvent{typ: "A"}}
	target := pactor.NewPID(scheme+"b", "xorc/toggle")
	targets := []*pactor.PID{
		target,
		pactor.NewPID(scheme+"c", target.Id),
		{Address: target.Address, Id: target.Id, RequestId: 9},
		pactor.NewPID(target.Address, "xorc/other"),
	}
	sender := pactor.NewPID(scheme+"a", "future$1")
	want := func(pid, sender *pactor.PID, typ string) []byte {
		env, err := proto.Encode(pid, sender, &proto.Event{Type: typ})
		require.NoError(t, err)
		w, err := encodeField(nil, env)
		require.NoError(t, err)
		return w
	}
	var tc targetCache
	var ec envCache
	for round := range 3 {
		for _, pid := range targets {
			for _, m := range []*frozenEvent{a, b, sameAsA, a} {
				got, err := appendEnvelopeCached([]byte("prefix"), &tc, &ec, pid, nil, m)
				require.NoError(t, err)
				require.Equal(t, want(pid, nil, m.typ), got[len("prefix"):], "round %d %v %s", round, pid, m.typ)
				got, err = appendEnvelopeCached(nil, &tc, &ec, pid, sender, m)
				require.NoError(t, err)
				require.Equal(t, want(pid, sender, m.typ), got, "with a sender")
			}
		}
	}
	buf := make([]byte, 0, 256)
	_, err := appendEnvelopeCached(buf, &tc, &ec, target, nil, a)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = appendEnvelopeCached(buf, &tc, &ec, target, nil, a) }))

	s := frozenSlice{typ: []string{"S"}}
	for range 2 {
		got, err := appendEnvelopeCached(nil, &tc, &ec, target, nil, s)
		require.NoError(t, err)
		assert.Equal(t, want(target, nil, "S"), got, "not comparable: encoded, not cached")
	}
	_, err = appendEnvelopeCached(nil, &tc, &ec, target, nil, &frozenEvent{fastEvent{typ: "E", err: errors.New("no data")}})
	assert.ErrorIs(t, err, proto.ErrUnknownType, "an error is not cached")
}

func newDecodeCore(tb testing.TB, addr string) *Core {
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	tb.Cleanup(sys.Shutdown)
	sys.ProcessRegistry.Address = addr
	c, err := New(Config{System: sys, Address: addr, Match: func(a string) bool { return strings.HasPrefix(a, scheme) },
		Dial: func(string) (Link, error) { return nil, ErrClosed }})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// checkFastAgrees: whatever the fast decoder accepts, the general decoder
// accepts too, with the same target, message and sender.
func checkFastAgrees(t *testing.T, c *Core, data []byte) {
	id, out, ok := c.fastDecode(data)
	if !ok {
		return
	}
	env, err := proto.UnmarshalEnvelope(data)
	require.NoError(t, err, "the general decoder refuses what the fast one accepted")
	d, err := proto.Decode(env)
	require.NoError(t, err, "the general decoder refuses what the fast one accepted")
	require.False(t, d.System)
	require.Equal(t, c.addr, d.Target.Address)
	require.Equal(t, id.Id, d.Target.Id)
	msg, sender := out, (*pactor.PID)(nil)
	if me, ok := out.(*pactor.MessageEnvelope); ok {
		msg, sender = me.Message, me.Sender
	}
	require.True(t, gproto.Equal(msg.(gproto.Message), d.Message.(gproto.Message)), "messages differ: %v vs %v", msg, d.Message)
	if d.Sender == nil {
		require.Nil(t, sender)
	} else {
		require.NotNil(t, sender)
		require.True(t, d.Sender.Equal(sender), "senders differ: %v vs %v", sender, d.Sender)
	}
}

func envelopeField(t testing.TB, env *proto.Envelope) []byte {
	b, err := gproto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFastDecodeCases(t *testing.T) {
	const addr = scheme + "me"
	c := newDecodeCore(t, addr)
	good := &proto.Envelope{Target: &proto.PID{Address: addr, Id: "xorc/m"}, TypeName: "xorc.v1.Event", Payload: mustMarshal(t, &proto.Event{Type: "T"})}
	tests := []struct {
		name string
		env  *proto.Envelope
		raw  []byte
		fast bool
	}{
		{"event", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "xorc/m"}, TypeName: "xorc.v1.Event",
			Payload: mustMarshal(t, &proto.Event{Type: "T", Payload: []byte(`{}`)})}, nil, true},
		{"event with sender", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "xorc/m"}, Sender: &proto.PID{Address: scheme + "x", Id: "f", RequestId: 3},
			TypeName: "xorc.v1.Event", Payload: mustMarshal(t, &proto.Event{Type: "T"})}, nil, true},
		{"snapshot", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "f"}, TypeName: "xorc.v1.Snapshot",
			Payload: mustMarshal(t, &proto.Snapshot{MachineId: "m"})}, nil, true},
		{"other address", &proto.Envelope{Target: &proto.PID{Address: addr + "x", Id: "m"}, TypeName: "xorc.v1.Event"}, nil, false},
		{"system", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "m"}, TypeName: "actor.Watch", System: true}, nil, false},
		{"system type without flag", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "m"}, TypeName: "actor.Stop"}, nil, false},
		{"header", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "m"}, TypeName: "xorc.v1.Event", Header: map[string]string{"a": "b"}}, nil, false},
		{"unknown type", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "m"}, TypeName: "no.Such"}, nil, false},
		{"bad payload", &proto.Envelope{Target: &proto.PID{Address: addr, Id: "m"}, TypeName: "xorc.v1.Snapshot", Payload: []byte{0xff}}, nil, false},
		{"no target", &proto.Envelope{TypeName: "xorc.v1.Event"}, nil, false},
		{"repeated target", nil, append(envelopeField(t, good), envelopeField(t, &proto.Envelope{Target: &proto.PID{Address: addr, Id: "n"}})...), false},
		{"unknown field", nil, append(envelopeField(t, good), 0x48, 0x01), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.raw
			if data == nil {
				data = envelopeField(t, tt.env)
			}
			_, _, ok := c.fastDecode(data)
			assert.Equal(t, tt.fast, ok)
			checkFastAgrees(t, c, data)
		})
	}
}

func mustMarshal(t testing.TB, m gproto.Message) []byte {
	b, err := gproto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzFastDecode: on any bytes, the fast decoder never panics and never
// accepts something the general decoder would decode differently.
func FuzzFastDecode(f *testing.F) {
	const addr = scheme + "me"
	for _, env := range []*proto.Envelope{
		{Target: &proto.PID{Address: addr, Id: "xorc/m"}, TypeName: "xorc.v1.Event", Payload: mustMarshal(f, &proto.Event{Type: "T", Payload: []byte(`{"a":1}`)})},
		{Target: &proto.PID{Address: addr, Id: "f$1"}, Sender: &proto.PID{Address: scheme + "x", Id: "y", RequestId: 1}, TypeName: "xorc.v1.Snapshot", Payload: mustMarshal(f, &proto.Snapshot{MachineId: "m", Status: 1})},
		{Target: &proto.PID{Address: addr, Id: "m"}, TypeName: "actor.PoisonPill"},
	} {
		f.Add(envelopeField(f, env))
	}
	c := newDecodeCore(f, addr)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastAgrees(t, c, data)
		// What it accepts, the fast encoder writes back to the same thing.
		if id, out, ok := c.fastDecode(data); ok {
			var sender *pactor.PID
			msg := out
			if me, ok := out.(*pactor.MessageEnvelope); ok {
				msg, sender = me.Message, me.Sender
			}
			b, err := appendEnvelope(nil, pactor.NewPID(addr, id.Id), sender, msg)
			require.NoError(t, err)
			_, _, n := protowire.ConsumeTag(b)
			v, m := protowire.ConsumeBytes(b[n:])
			require.Equal(t, len(b), n+m)
			id2, out2, ok := c.fastDecode(v)
			require.True(t, ok)
			require.Equal(t, id.Id, id2.Id)
			msg2 := out2
			if me, ok := out2.(*pactor.MessageEnvelope); ok {
				msg2 = me.Message
				require.True(t, sender.Equal(me.Sender))
			}
			require.True(t, gproto.Equal(msg.(gproto.Message), msg2.(gproto.Message)))
		}
	})
}

// An event without data decodes to a shared message of its type, without
// allocating; one with data gets its own message and its own copy of the
// data; the shared messages of types whose hashes collide never mix.
func TestFastDecodeBareEvents(t *testing.T) {
	const addr = scheme + "me"
	c := newDecodeCore(t, addr)
	env := func(typ string, payload []byte) []byte {
		return envelopeField(t, &proto.Envelope{Target: &proto.PID{Address: addr, Id: "xorc/m"}, TypeName: "xorc.v1.Event",
			Payload: mustMarshal(t, &proto.Event{Type: typ, Payload: payload})})
	}
	event := func(data []byte) *proto.Event {
		t.Helper()
		_, out, ok := c.fastDecode(data)
		require.True(t, ok)
		return out.(*proto.Event)
	}
	bare := env("TOGGLE", nil)
	first := event(bare)
	assert.Equal(t, "TOGGLE", first.Type)
	assert.Nil(t, first.Payload)
	assert.Same(t, first, event(bare), "events without data share their message")
	assert.Zero(t, testing.AllocsPerRun(100, func() { event(bare) }), "an event without data allocates")

	withData := env("TOGGLE", []byte(`{"a":1}`))
	d1 := event(withData)
	assert.Equal(t, []byte(`{"a":1}`), d1.Payload)
	assert.NotSame(t, first, d1)
	withData[len(withData)-2] = '2' // the batch buffer is reused: the message keeps its own copy
	assert.Equal(t, []byte(`{"a":1}`), d1.Payload)

	// Many types: more than the cache's slots, so some share a slot.
	for round := range 2 {
		for i := range 200 {
			typ := fmt.Sprintf("E%d", i)
			ev := event(env(typ, nil))
			require.Equal(t, typ, ev.Type, "round %d", round)
			require.Nil(t, ev.Payload)
		}
	}
}

// A stream of identical envelopes (an event without data, no sender, one
// target) is decoded once and then recognised; whatever differs from the
// cached envelope is decoded in full, and a mixed stream allocates nothing.
func TestFastDecodeRepeatedEnvelopes(t *testing.T) {
	const addr = scheme + "me"
	c := newDecodeCore(t, addr)
	env := func(id, typ string, payload []byte, sender *proto.PID) []byte {
		return envelopeField(t, &proto.Envelope{Target: &proto.PID{Address: addr, Id: id}, Sender: sender, TypeName: "xorc.v1.Event",
			Payload: mustMarshal(t, &proto.Event{Type: typ, Payload: payload})})
	}
	decode := func(data []byte) (*pactor.PID, any) {
		t.Helper()
		pid, out, ok := c.fastDecode(data)
		require.True(t, ok)
		checkFastAgrees(t, c, data)
		return pid, out
	}
	a := env("m", "A", nil, nil)
	decode(a)
	decode(a)
	require.NotNil(t, c.fast.lastEnv.Load(), "two identical envelopes in a row fill the cache")
	fast := func(data []byte) {
		if _, _, ok := c.fastDecode(data); !ok {
			t.Fatal("not decoded")
		}
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { fast(a) }))

	others := []struct {
		data []byte
		id   string
		typ  string
	}{
		{env("n", "A", nil, nil), "n", "A"},
		{env("m", "B", nil, nil), "m", "B"},
		{env("m", "A", []byte(`{"x":1}`), nil), "m", "A"},
		{env("m", "A", nil, &proto.PID{Address: scheme + "x", Id: "s"}), "m", "A"},
		{append(append([]byte(nil), a[:len(a)-1]...), 'B'), "m", "B"}, // the last byte differs
	}
	for _, o := range others {
		decode(a) // the cache holds a
		pid, out := decode(o.data)
		assert.Equal(t, o.id, pid.Id)
		if me, ok := out.(*pactor.MessageEnvelope); ok {
			out = me.Message
		}
		assert.Equal(t, o.typ, out.(*proto.Event).Type)
	}

	mixed := [][]byte{env("m", "A", nil, nil), env("m", "B", nil, nil), env("n", "A", nil, nil)}
	for _, d := range mixed {
		decode(d)
	}
	i := 0
	assert.Zero(t, testing.AllocsPerRun(99, func() { fast(mixed[i%3]); i++ }), "a mixed stream allocates")
}
