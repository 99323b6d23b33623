package proto

import (
	"errors"
	"fmt"
	"unicode/utf8"

	pactor "github.com/asynkron/protoactor-go/actor"
	gproto "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Errors of the codec, matched with errors.Is. Returned errors wrap them with
// the message type and, where known, the target.
var (
	// ErrUnknownType: the envelope names a message type this process does not
	// know (not linked in), or a Go message has no wire form.
	ErrUnknownType = errors.New("xorc/proto: unknown message type")
	// ErrMalformed: the bytes are not a valid envelope or batch, or a field is
	// out of range (missing target, bad type name, payload that does not decode).
	ErrMalformed = errors.New("xorc/proto: malformed message")
	// ErrTooLarge: a batch holds more envelopes than the caller allows.
	ErrTooLarge = errors.New("xorc/proto: too large")
)

// MaxTypeNameLen bounds Envelope.type_name (protobuf full names are short).
const MaxTypeNameLen = 256

// Wirer is implemented by Go messages that are not protobuf messages but have
// a protobuf wire form, such as actor.Event (sent as *Event) and the machine
// actor's replies (sent as *Snapshot). The receiving process gets the
// protobuf form; the code that handles the Go form handles that one too.
type Wirer interface {
	WireMessage() (gproto.Message, error)
}

// EventWirer is implemented by Wirers whose wire form is an *Event (such as
// actor.Event): WireEvent returns that Event's type and payload, exactly what
// WireMessage would put there, without building the message. Encoders use it
// as a fast path.
type EventWirer interface {
	Wirer
	WireEvent() (eventType string, payload []byte, err error)
}

// Frozen is implemented by messages that never change once created: a
// sender may send one value many times, and an encoder may keep the bytes it
// made from it and reuse them whenever the same value (by identity) goes to
// the same target again. The facade's messages for events without data are
// Frozen (one per event type, shared by every send).
type Frozen interface {
	Wirer
	Frozen()
}

// FromPID converts a proto.actor PID to its wire form. Nil stays nil.
func FromPID(p *pactor.PID) *PID {
	if p == nil {
		return nil
	}
	return &PID{Address: p.Address, Id: p.Id, RequestId: p.RequestId}
}

// ToPID converts a wire PID to a proto.actor PID. Nil stays nil.
func (x *PID) ToPID() *pactor.PID {
	if x == nil {
		return nil
	}
	return &pactor.PID{Address: x.Address, Id: x.Id, RequestId: x.RequestId}
}

// Encode builds the envelope that carries msg to target. sender is the reply
// address (nil for a one-way message). msg may be a *pactor.MessageEnvelope (as
// proto.actor hands it to a Process): its header and sender are carried and its
// own sender wins over the sender argument when set. The message itself must be
// a protobuf message or implement Wirer; anything else fails with
// ErrUnknownType. proto.actor system messages (Watch, Unwatch, Terminated,
// Stop) get the system flag.
func Encode(target, sender *pactor.PID, msg any) (*Envelope, error) {
	if target == nil || target.Id == "" {
		return nil, fmt.Errorf("%w: envelope without target", ErrMalformed)
	}
	var header map[string]string
	if me, ok := msg.(*pactor.MessageEnvelope); ok {
		if me.Sender != nil {
			sender = me.Sender
		}
		if len(me.Header) > 0 {
			header = me.Header
		}
		msg = me.Message
	}
	pm, err := wireForm(msg)
	if err != nil {
		return nil, fmt.Errorf("encoding for %s/%s: %w", target.Address, target.Id, err)
	}
	payload, err := gproto.Marshal(pm)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal %T for %s/%s: %v", ErrMalformed, msg, target.Address, target.Id, err)
	}
	_, system := pm.(pactor.SystemMessage)
	return &Envelope{
		Target:   FromPID(target),
		Sender:   FromPID(sender),
		TypeName: string(pm.ProtoReflect().Descriptor().FullName()),
		Payload:  payload,
		System:   system,
		Header:   header,
	}, nil
}

// WireForm returns the protobuf message msg travels as: msg itself, or its
// Wirer form. Anything else fails with ErrUnknownType.
func WireForm(msg any) (gproto.Message, error) { return wireForm(msg) }

func wireForm(msg any) (gproto.Message, error) {
	switch m := msg.(type) {
	case nil:
		return nil, fmt.Errorf("%w: nil message", ErrUnknownType)
	case Wirer:
		pm, err := m.WireMessage()
		if err != nil {
			return nil, fmt.Errorf("%w: %T: %v", ErrUnknownType, msg, err)
		}
		if pm == nil {
			return nil, fmt.Errorf("%w: %T has a nil wire form", ErrUnknownType, msg)
		}
		return pm, nil
	case gproto.Message:
		return m, nil
	}
	return nil, fmt.Errorf("%w: %T is neither a protobuf message nor a proto.Wirer", ErrUnknownType, msg)
}

// Validate checks the fields an envelope must have before it is decoded or
// delivered: a target with an id, a well-formed type name.
func (x *Envelope) Validate() error {
	if x == nil {
		return fmt.Errorf("%w: nil envelope", ErrMalformed)
	}
	if x.Target == nil || x.Target.Id == "" {
		return fmt.Errorf("%w: envelope without target", ErrMalformed)
	}
	if !utf8.ValidString(x.Target.Id) || !utf8.ValidString(x.Target.Address) {
		return fmt.Errorf("%w: target is not valid UTF-8", ErrMalformed)
	}
	n := x.TypeName
	if n == "" || len(n) > MaxTypeNameLen || !protoreflect.FullName(n).IsValid() {
		return fmt.Errorf("%w: type name %.64q for %s/%s", ErrMalformed, n, x.Target.Address, x.Target.Id)
	}
	return nil
}

// Decoded is an envelope turned back into what proto.actor delivers.
type Decoded struct {
	Target  *pactor.PID
	Sender  *pactor.PID // nil for a one-way message
	Message any         // a protobuf message (e.g. *Event, *Snapshot, *actor.Watch)
	Header  map[string]string
	System  bool
}

// Decode validates env and decodes its payload by type name from the protobuf
// registry of this process (every linked-in generated message is there,
// proto.actor's actor.Watch & co. included). An unknown name fails with
// ErrUnknownType; bytes that do not decode, or a system flag that does not
// match the type, with ErrMalformed.
func Decode(env *Envelope) (Decoded, error) {
	if err := env.Validate(); err != nil {
		return Decoded{}, err
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(env.TypeName))
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: %q for %s/%s", ErrUnknownType, env.TypeName, env.Target.Address, env.Target.Id)
	}
	m := mt.New().Interface()
	if err := gproto.Unmarshal(env.Payload, m); err != nil {
		return Decoded{}, fmt.Errorf("%w: %s payload for %s/%s: %v", ErrMalformed, env.TypeName, env.Target.Address, env.Target.Id, err)
	}
	_, isSystem := m.(pactor.SystemMessage)
	if isSystem != env.System {
		return Decoded{}, fmt.Errorf("%w: system flag %v does not match type %s", ErrMalformed, env.System, env.TypeName)
	}
	return Decoded{
		Target:  env.Target.ToPID(),
		Sender:  env.Sender.ToPID(),
		Message: m,
		Header:  env.Header,
		System:  env.System,
	}, nil
}

// UserMessage returns what to hand to proto.actor's Process.SendUserMessage: the
// bare message, or a *pactor.MessageEnvelope when there is a sender or header.
func (d Decoded) UserMessage() any {
	if d.Sender == nil && len(d.Header) == 0 {
		return d.Message
	}
	return &pactor.MessageEnvelope{Message: d.Message, Sender: d.Sender, Header: d.Header}
}

// MarshalEnvelope encodes one envelope.
func MarshalEnvelope(env *Envelope) ([]byte, error) { return gproto.Marshal(env) }

// UnmarshalEnvelope decodes and validates one envelope from untrusted bytes.
func UnmarshalEnvelope(data []byte) (*Envelope, error) {
	env := &Envelope{}
	if err := gproto.Unmarshal(data, env); err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	if err := env.Validate(); err != nil {
		return nil, err
	}
	return env, nil
}

// AppendBatch appends the encoding of a batch of envs to buf.
func AppendBatch(buf []byte, envs []*Envelope) ([]byte, error) {
	return gproto.MarshalOptions{}.MarshalAppend(buf, &Batch{Envelopes: envs})
}

// UnmarshalBatch decodes a batch from untrusted bytes and validates every
// envelope. More than maxEnvelopes envelopes (when maxEnvelopes > 0) fails with
// ErrTooLarge; the caller bounds the byte length before calling.
func UnmarshalBatch(data []byte, maxEnvelopes int) (*Batch, error) {
	b := &Batch{}
	if err := gproto.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("%w: batch: %v", ErrMalformed, err)
	}
	if maxEnvelopes > 0 && len(b.Envelopes) > maxEnvelopes {
		return nil, fmt.Errorf("%w: batch of %d envelopes, the limit is %d", ErrTooLarge, len(b.Envelopes), maxEnvelopes)
	}
	for i, env := range b.Envelopes {
		if err := env.Validate(); err != nil {
			return nil, fmt.Errorf("batch envelope %d: %w", i, err)
		}
	}
	return b, nil
}
