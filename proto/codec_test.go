package proto

import (
	"errors"
	"testing"
	"unicode/utf8"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gproto "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// goMsg is a Go message with a wire form, like actor.Event.
type goMsg struct{ typ string }

func (g goMsg) WireMessage() (gproto.Message, error) {
	if g.typ == "" {
		return nil, errors.New("empty")
	}
	return &Event{Type: g.typ}, nil
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	target := pactor.NewPID("shm://a", "xorc/m1")
	sender := pactor.NewPID("shm://b", "future$1")
	tests := []struct {
		name       string
		msg        any
		sender     *pactor.PID
		wantType   string
		wantSystem bool
		check      func(t *testing.T, d Decoded)
	}{
		{
			name: "event", msg: &Event{Type: "GO", Payload: []byte(`{"job":7}`)},
			wantType: "xorc.v1.Event",
			check: func(t *testing.T, d Decoded) {
				ev := d.Message.(*Event)
				assert.Equal(t, "GO", ev.Type)
				assert.JSONEq(t, `{"job":7}`, string(ev.Payload))
				assert.Nil(t, d.Sender)
				assert.Same(t, ev, d.UserMessage(), "no sender, no header: the bare message")
			},
		},
		{
			name: "wirer with sender", msg: goMsg{typ: "PING"}, sender: sender,
			wantType: "xorc.v1.Event",
			check: func(t *testing.T, d Decoded) {
				assert.Equal(t, "PING", d.Message.(*Event).Type)
				require.NotNil(t, d.Sender)
				assert.True(t, sender.Equal(d.Sender))
				me, ok := d.UserMessage().(*pactor.MessageEnvelope)
				require.True(t, ok)
				assert.True(t, sender.Equal(me.Sender))
			},
		},
		{
			name: "message envelope carries header and sender",
			msg: &pactor.MessageEnvelope{
				Message: &Snapshot{MachineId: "m1", Status: Status_STATUS_DONE},
				Sender:  sender, Header: map[string]string{"trace": "abc"},
			},
			wantType: "xorc.v1.Snapshot",
			check: func(t *testing.T, d Decoded) {
				assert.Equal(t, Status_STATUS_DONE, d.Message.(*Snapshot).Status)
				assert.Equal(t, "abc", d.Header["trace"])
				assert.True(t, sender.Equal(d.Sender))
			},
		},
		{
			name: "protoactor watch is a system message", msg: &pactor.Watch{Watcher: sender},
			wantType: "actor.Watch", wantSystem: true,
			check: func(t *testing.T, d Decoded) {
				assert.True(t, sender.Equal(d.Message.(*pactor.Watch).Watcher))
			},
		},
		{
			name: "protoactor terminated", msg: &pactor.Terminated{Who: target, Why: pactor.TerminatedReason_AddressTerminated},
			wantType: "actor.Terminated", wantSystem: true,
			check: func(t *testing.T, d Decoded) {
				assert.Equal(t, pactor.TerminatedReason_AddressTerminated, d.Message.(*pactor.Terminated).Why)
			},
		},
		{
			name: "any registered protobuf message", msg: wrapperspb.String("hi"),
			wantType: "google.protobuf.StringValue",
			check: func(t *testing.T, d Decoded) {
				assert.Equal(t, "hi", d.Message.(*wrapperspb.StringValue).GetValue())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Encode(target, tt.sender, tt.msg)
			require.NoError(t, err)
			assert.Equal(t, tt.wantType, env.TypeName)
			assert.Equal(t, tt.wantSystem, env.System)

			data, err := MarshalEnvelope(env)
			require.NoError(t, err)
			back, err := UnmarshalEnvelope(data)
			require.NoError(t, err)
			d, err := Decode(back)
			require.NoError(t, err)
			assert.True(t, target.Equal(d.Target))
			assert.Equal(t, tt.wantSystem, d.System)
			tt.check(t, d)
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	target := pactor.NewPID("a", "b")
	tests := []struct {
		name   string
		target *pactor.PID
		msg    any
		want   error
	}{
		{"plain go struct", target, struct{ X int }{1}, ErrUnknownType},
		{"nil message", target, nil, ErrUnknownType},
		{"wirer failing", target, goMsg{}, ErrUnknownType},
		{"no target", nil, &Event{Type: "x"}, ErrMalformed},
		{"target without id", pactor.NewPID("a", ""), &Event{Type: "x"}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.target, nil, tt.msg)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := func() *Envelope {
		return &Envelope{Target: &PID{Address: "a", Id: "m"}, TypeName: "xorc.v1.Event"}
	}
	tests := []struct {
		name   string
		mutate func(e *Envelope)
		want   error
	}{
		{"unknown type", func(e *Envelope) { e.TypeName = "nope.Nothing" }, ErrUnknownType},
		{"empty type", func(e *Envelope) { e.TypeName = "" }, ErrMalformed},
		{"invalid type name", func(e *Envelope) { e.TypeName = "a..b" }, ErrMalformed},
		{"overlong type name", func(e *Envelope) { e.TypeName = string(make([]byte, MaxTypeNameLen+1)) }, ErrMalformed},
		{"no target", func(e *Envelope) { e.Target = nil }, ErrMalformed},
		{"target without id", func(e *Envelope) { e.Target.Id = "" }, ErrMalformed},
		{"target not utf8", func(e *Envelope) { e.Target.Id = "\xff" }, ErrMalformed},
		{"garbage payload", func(e *Envelope) { e.Payload = []byte{0xff, 0xff, 0xff} }, ErrMalformed},
		{"user message flagged system", func(e *Envelope) { e.System = true }, ErrMalformed},
		{"system message not flagged", func(e *Envelope) {
			e.TypeName = "actor.Watch"
		}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.mutate(e)
			_, err := Decode(e)
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := Decode(nil)
	require.ErrorIs(t, err, ErrMalformed)
}

func TestBatch(t *testing.T) {
	target := pactor.NewPID("a", "m")
	var envs []*Envelope
	for _, typ := range []string{"A", "B", "C"} {
		env, err := Encode(target, nil, &Event{Type: typ})
		require.NoError(t, err)
		envs = append(envs, env)
	}
	data, err := AppendBatch([]byte("prefix"), envs)
	require.NoError(t, err)
	require.Equal(t, "prefix", string(data[:6]))

	b, err := UnmarshalBatch(data[6:], 3)
	require.NoError(t, err)
	require.Len(t, b.Envelopes, 3)
	for i, typ := range []string{"A", "B", "C"} {
		d, err := Decode(b.Envelopes[i])
		require.NoError(t, err)
		assert.Equal(t, typ, d.Message.(*Event).Type, "order kept")
	}

	_, err = UnmarshalBatch(data[6:], 2)
	require.ErrorIs(t, err, ErrTooLarge)

	_, err = UnmarshalBatch([]byte{0x0a, 0x05, 0x01}, 0)
	require.ErrorIs(t, err, ErrMalformed, "truncated")

	bad, err := AppendBatch(nil, []*Envelope{{TypeName: "xorc.v1.Event"}})
	require.NoError(t, err)
	_, err = UnmarshalBatch(bad, 0)
	require.ErrorIs(t, err, ErrMalformed, "envelope without target")

	_, err = UnmarshalEnvelope([]byte{0xff})
	require.ErrorIs(t, err, ErrMalformed)
}

func TestPIDConversion(t *testing.T) {
	assert.Nil(t, FromPID(nil))
	assert.Nil(t, (*PID)(nil).ToPID())
	p := &pactor.PID{Address: "x", Id: "y", RequestId: 9}
	assert.True(t, p.Equal(FromPID(p).ToPID()))
}

// FuzzUnmarshalBatch feeds untrusted bytes to the batch decoder and decodes
// every envelope it accepts: errors are fine, panics are not.
func FuzzUnmarshalBatch(f *testing.F) {
	target := pactor.NewPID("a", "m")
	for _, msg := range []any{
		&Event{Type: "GO", Payload: []byte(`{"a":1}`)},
		&Snapshot{MachineId: "m", ValueJson: []byte(`"idle"`)},
		&pactor.Watch{Watcher: target},
		&GetSnapshot{},
	} {
		env, err := Encode(target, target, msg)
		if err != nil {
			f.Fatal(err)
		}
		data, err := AppendBatch(nil, []*Envelope{env, env})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := UnmarshalBatch(data, 1024)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		for _, env := range b.Envelopes {
			d, err := Decode(env)
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownType) {
					t.Fatalf("unexpected error class: %v", err)
				}
				continue
			}
			if d.Target == nil || d.Message == nil {
				t.Fatalf("decoded without target or message: %+v", d)
			}
			_ = d.UserMessage()
		}
	})
}

// FuzzEnvelopeRoundTrip: any event that encodes decodes to the same event.
func FuzzEnvelopeRoundTrip(f *testing.F) {
	f.Add("addr", "id", "GO", []byte(`{"x":1}`), true)
	f.Add("", "m", "", []byte{}, false)
	f.Fuzz(func(t *testing.T, addr, id, typ string, payload []byte, withSender bool) {
		target := pactor.NewPID(addr, id)
		var sender *pactor.PID
		if withSender {
			sender = pactor.NewPID(addr, "s")
		}
		env, err := Encode(target, sender, &Event{Type: typ, Payload: payload})
		if err != nil {
			valid := utf8.ValidString(addr) && utf8.ValidString(id) && utf8.ValidString(typ)
			if id != "" && valid {
				t.Fatalf("encode: %v", err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("encode error class: %v", err)
			}
			return
		}
		data, err := MarshalEnvelope(env)
		if err != nil {
			return // invalid UTF-8 strings do not marshal in proto3
		}
		back, err := UnmarshalEnvelope(data)
		if err != nil {
			return
		}
		d, err := Decode(back)
		if err != nil {
			t.Fatalf("decode of an encoded envelope: %v", err)
		}
		ev := d.Message.(*Event)
		if ev.Type != typ || string(ev.Payload) != string(payload) {
			t.Fatalf("round trip changed the event: %q %q", ev.Type, ev.Payload)
		}
		if withSender != (d.Sender != nil) {
			t.Fatalf("sender lost or invented")
		}
	})
}
