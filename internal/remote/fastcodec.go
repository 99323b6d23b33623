package remote

// The envelope codec of the hot path. Encoding writes an envelope straight
// into the batch buffer, byte for byte what proto.MarshalEnvelope writes for
// proto.Encode's Envelope, without building the Envelope, its PIDs or, for
// events, the payload's own buffer. Decoding handles the common case (a
// user message for this process, no header, every field once) without the
// reflection-driven unmarshaller and with cached PIDs; anything else (system
// messages, headers, other addresses, duplicate or unknown fields, errors)
// takes the general path, which is the reference: a fuzz test checks that
// both agree.

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	pactor "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/xorc-dev/xorc/proto"
)

// Field numbers of xorc.v1.Envelope, xorc.v1.PID and xorc.v1.Event.
const (
	fEnvTarget      = 1
	fEnvSender      = 2
	fEnvTypeName    = 3
	fEnvPayload     = 4
	fEnvCorrelation = 5
	fEnvSystem      = 6
	fEnvHeader      = 7

	fPIDAddress   = 1
	fPIDID        = 2
	fPIDRequestID = 3

	fEventType    = 1
	fEventPayload = 2

	fBatchEnvelope = 1
)

var eventName = (&proto.Event{}).ProtoReflect().Descriptor().FullName()

func sizeBytesField(n int) int { return protowire.SizeTag(1) + protowire.SizeBytes(n) }

func sizePID(p *pactor.PID) int {
	n := 0
	if p.Address != "" {
		n += sizeBytesField(len(p.Address))
	}
	if p.Id != "" {
		n += sizeBytesField(len(p.Id))
	}
	if p.RequestId != 0 {
		n += protowire.SizeTag(fPIDRequestID) + protowire.SizeVarint(uint64(p.RequestId))
	}
	return n
}

func appendPID(b []byte, num protowire.Number, p *pactor.PID, size int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	if p.Address != "" {
		b = protowire.AppendTag(b, fPIDAddress, protowire.BytesType)
		b = protowire.AppendString(b, p.Address)
	}
	if p.Id != "" {
		b = protowire.AppendTag(b, fPIDID, protowire.BytesType)
		b = protowire.AppendString(b, p.Id)
	}
	if p.RequestId != 0 {
		b = protowire.AppendTag(b, fPIDRequestID, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(p.RequestId))
	}
	return b
}

func validPID(p *pactor.PID) bool { return utf8.ValidString(p.Address) && utf8.ValidString(p.Id) }

// appendEnvelope appends the envelope that carries msg to target (sender:
// the reply address) to buf as a Batch field. msg may be a
// *pactor.MessageEnvelope; it must have a wire form (proto.WireForm).
func appendEnvelope(buf []byte, target, sender *pactor.PID, msg any) ([]byte, error) {
	return appendEnvelopeCached(buf, nil, nil, target, sender, msg)
}

// eventTypeField is the type_name field of every event envelope.
var eventTypeField = protowire.AppendString(protowire.AppendTag(nil, fEnvTypeName, protowire.BytesType), string(eventName))

// targetField is the encoding of a target PID as an Envelope's field 1.
type targetField struct {
	addr, id string
	req      uint32
	field    []byte
}

// targetCache keeps the encoded target fields of the PIDs a peer is sent to
// most (by a hash of the id), so that an envelope to one of them costs a
// copy: no sizing, no UTF-8 check, no field-by-field encoding.
type targetCache [8]atomic.Pointer[targetField]

// appendTarget appends target as an Envelope's field 1; false if its
// strings are not valid UTF-8.
func (tc *targetCache) appendTarget(buf []byte, target *pactor.PID) ([]byte, bool) {
	var slot *atomic.Pointer[targetField]
	if tc != nil {
		slot = &tc[QuickHash(target.Id)&7]
		if f := slot.Load(); f != nil && f.id == target.Id && f.addr == target.Address && f.req == target.RequestId {
			return append(buf, f.field...), true
		}
	}
	if !validPID(target) {
		return buf, false
	}
	start := len(buf)
	buf = appendPID(buf, fEnvTarget, target, sizePID(target))
	if slot != nil {
		slot.Store(&targetField{addr: target.Address, id: target.Id, req: target.RequestId, field: append([]byte(nil), buf[start:]...)})
	}
	return buf, true
}

// envCache keeps whole encoded envelopes of proto.Frozen messages sent
// without a reply address, by target and message identity: the envelope of
// a one-way event without data to a machine is then one copy. It is not safe
// for concurrent use (a peer uses it under its lock).
type envCache [16]envEntry

type envEntry struct {
	msg      proto.Frozen
	addr, id string
	req      uint32
	env      []byte // the Batch field; reused when the entry is replaced
}

// appendFrozen appends the envelope of msg to target (no sender), from the
// cache or encoded and then kept.
func (ec *envCache) appendFrozen(buf []byte, tc *targetCache, target *pactor.PID, msg proto.Frozen) ([]byte, error) {
	h := QuickHash(target.Id)
	if ew, ok := msg.(proto.EventWirer); ok {
		if typ, _, err := ew.WireEvent(); err == nil {
			h += 31 * QuickHash(typ)
		}
	}
	e := &ec[h%uint32(len(ec))]
	if e.msg == msg && e.id == target.Id && e.addr == target.Address && e.req == target.RequestId {
		return append(buf, e.env...), nil
	}
	start := len(buf)
	buf, err := appendEnvelopeCached(buf, tc, nil, target, nil, msg)
	if err != nil {
		return buf, err
	}
	if reflect.TypeOf(msg).Comparable() { // a Frozen struct with a slice could not be compared above
		*e = envEntry{msg: msg, addr: target.Address, id: target.Id, req: target.RequestId, env: append(e.env[:0], buf[start:]...)}
	}
	return buf, nil
}

// appendEnvelopeCached is appendEnvelope with a cache of target fields and
// one of whole envelopes (either may be nil).
func appendEnvelopeCached(buf []byte, tc *targetCache, ec *envCache, target, sender *pactor.PID, msg any) ([]byte, error) {
	if target == nil || target.Id == "" {
		return buf, fmt.Errorf("%w: envelope without target", proto.ErrMalformed)
	}
	if ec != nil && sender == nil {
		if f, ok := msg.(proto.Frozen); ok {
			return ec.appendFrozen(buf, tc, target, f)
		}
	}
	if me, ok := msg.(*pactor.MessageEnvelope); ok {
		if len(me.Header) > 0 { // rare: the general encoder writes the map
			env, err := proto.Encode(target, sender, msg)
			if err != nil {
				return buf, err
			}
			return encodeField(buf, env)
		}
		if me.Sender != nil {
			sender = me.Sender
		}
		msg = me.Message
	}
	// Events, the common case, without building a *proto.Event.
	var (
		evType    string
		evPayload []byte
		isEvent   bool
		pm        gproto.Message
	)
	switch m := msg.(type) {
	case proto.EventWirer:
		t, p, err := m.WireEvent()
		if err != nil {
			return buf, fmt.Errorf("encoding for %s/%s: %w: %T: %v", target.Address, target.Id, proto.ErrUnknownType, msg, err)
		}
		evType, evPayload, isEvent = t, p, true
	case *proto.Event:
		if m != nil {
			evType, evPayload, isEvent = m.Type, m.Payload, true
		}
	}
	if !isEvent {
		var err error
		if pm, err = proto.WireForm(msg); err != nil {
			return buf, fmt.Errorf("encoding for %s/%s: %w", target.Address, target.Id, err)
		}
		if ev, ok := pm.(*proto.Event); ok {
			if ev == nil {
				return buf, fmt.Errorf("encoding for %s/%s: %w: nil *proto.Event", target.Address, target.Id, proto.ErrUnknownType)
			}
			evType, evPayload, isEvent = ev.Type, ev.Payload, true
		}
	}
	if sender != nil && !validPID(sender) {
		return buf, fmt.Errorf("%w: PID for %s/%s is not valid UTF-8", proto.ErrMalformed, target.Address, target.Id)
	}
	var payloadSize, typeFieldSize int
	var typeName string
	var snap *proto.Snapshot // encoded by hand (see fastcodec_snapshot.go)
	system := false
	if isEvent {
		if !utf8.ValidString(evType) {
			return buf, fmt.Errorf("%w: event type is not valid UTF-8 (for %s/%s)", proto.ErrMalformed, target.Address, target.Id)
		}
		if evType != "" {
			payloadSize += sizeBytesField(len(evType))
		}
		if len(evPayload) > 0 {
			payloadSize += sizeBytesField(len(evPayload))
		}
		typeFieldSize = len(eventTypeField)
	} else {
		typeName = string(pm.ProtoReflect().Descriptor().FullName())
		typeFieldSize = sizeBytesField(len(typeName))
		if s, ok := pm.(*proto.Snapshot); ok {
			if n, ok := sizeSnapshot(s); ok {
				snap, payloadSize = s, n
			}
		}
		if snap == nil {
			payloadSize = gproto.Size(pm)
		}
		_, system = pm.(pactor.SystemMessage)
		// Target fields are kept for the actors that get events (machines);
		// other messages mostly answer futures, each a PID used once.
		tc = nil
	}

	// The target goes first: encode it at the end of buf, then move it
	// behind the envelope's tag and length once the size is known.
	start := len(buf)
	buf, ok := tc.appendTarget(buf, target)
	if !ok {
		return buf[:start], fmt.Errorf("%w: PID for %s/%s is not valid UTF-8", proto.ErrMalformed, target.Address, target.Id)
	}
	targetLen := len(buf) - start
	size := targetLen + typeFieldSize
	senderSize := 0
	if sender != nil {
		senderSize = sizePID(sender)
		size += sizeBytesField(senderSize)
	}
	if payloadSize > 0 {
		size += sizeBytesField(payloadSize)
	}
	if system {
		size += protowire.SizeTag(fEnvSystem) + 1
	}
	head := protowire.SizeTag(fBatchEnvelope) + protowire.SizeVarint(uint64(size))
	buf = slices.Grow(buf, head+size-targetLen)[:start+head+targetLen]
	copy(buf[start+head:], buf[start:start+targetLen])
	h := protowire.AppendTag(buf[start:start], fBatchEnvelope, protowire.BytesType)
	protowire.AppendVarint(h, uint64(size))

	if sender != nil {
		buf = appendPID(buf, fEnvSender, sender, senderSize)
	}
	if isEvent {
		buf = append(buf, eventTypeField...)
	} else {
		buf = protowire.AppendTag(buf, fEnvTypeName, protowire.BytesType)
		buf = protowire.AppendString(buf, typeName)
	}
	if payloadSize > 0 {
		buf = protowire.AppendTag(buf, fEnvPayload, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(payloadSize))
		if isEvent {
			if evType != "" {
				buf = protowire.AppendTag(buf, fEventType, protowire.BytesType)
				buf = protowire.AppendString(buf, evType)
			}
			if len(evPayload) > 0 {
				buf = protowire.AppendTag(buf, fEventPayload, protowire.BytesType)
				buf = protowire.AppendBytes(buf, evPayload)
			}
		} else if snap != nil {
			buf = appendSnapshot(buf, snap)
		} else {
			before := len(buf)
			var err error
			buf, err = gproto.MarshalOptions{UseCachedSize: true}.MarshalAppend(buf, pm)
			if err != nil {
				return buf[:start], fmt.Errorf("%w: marshal %s for %s/%s: %v", proto.ErrMalformed, typeName, target.Address, target.Id, err)
			}
			if len(buf)-before != payloadSize {
				return buf[:start], fmt.Errorf("%w: %s for %s/%s changed while encoded", proto.ErrMalformed, typeName, target.Address, target.Id)
			}
		}
	}
	if system {
		buf = protowire.AppendTag(buf, fEnvSystem, protowire.VarintType)
		buf = protowire.AppendVarint(buf, 1)
	}
	return buf, nil
}

// fastIn is the decoder state of a Core: caches of message types, target
// PIDs and sender addresses, so that the common envelope costs no lookups
// by name and few allocations.
type fastIn struct {
	typesMu sync.RWMutex
	types   map[string]protoreflect.MessageType
	pids    [256]atomic.Pointer[pactor.PID] // by a hash of the id
	addrs   [64]atomic.Pointer[string]      // interned sender addresses
	evTypes [64]atomic.Pointer[string]      // interned event types
	// bare holds the shared messages of events without data, by a hash of
	// the type: see decodeEvent.
	bare [64]atomic.Pointer[proto.Event]
	// last is the last target field that decoded to a PID of this process:
	// the next envelope for it skips parsing and checking it.
	last atomic.Pointer[rawTarget]
	// lastEnv is the last envelope of a stream of identical ones (an event
	// without data, no sender, to one target: what a one-way stream sends
	// most), with what it decodes to; the next identical one is delivered
	// after one comparison. candPID and candEv are the decoding of the
	// previous such envelope: the cache is filled (an allocation) only when
	// two in a row decode alike, so that a mixed stream allocates nothing.
	lastEnv atomic.Pointer[rawEnvelope]
	candPID atomic.Pointer[pactor.PID]
	candEv  atomic.Pointer[proto.Event]
}

type rawEnvelope struct {
	raw   []byte
	field []byte // raw as a Batch field (tag, length, raw): what Receive matches
	// block is field repeated blockFields times, made once a run that
	// long was seen: Receive then matches long runs block by block.
	block atomic.Pointer[[]byte]
	pid   *pactor.PID
	ev    *proto.Event // shared: an event without data
}

// blockFields is how many copies of a repeated envelope field Receive
// compares at once (one comparison of a few KiB instead of one call per
// envelope).
const blockFields = 64

// blockOf returns e's block, made now if a run of k envelopes shows that
// runs are long; nil otherwise.
func (e *rawEnvelope) blockOf(k int) []byte {
	if b := e.block.Load(); b != nil {
		return *b
	}
	if k < blockFields {
		return nil
	}
	b := bytes.Repeat(e.field, blockFields)
	e.block.Store(&b)
	return b
}

type rawTarget struct {
	raw []byte
	pid *pactor.PID
}

// hashBytes is FNV-1a.
func hashBytes(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

// QuickHash is a cheap hash of s for small caches that compare whole keys (a
// collision costs a miss, never a wrong answer): the encoder's, the facade's
// route caches. It mixes the length and the first, middle and last two bytes,
// so that IDs that differ in a counter at either end spread.
func QuickHash(s string) uint32 {
	n := len(s)
	if n == 0 {
		return 0
	}
	h := uint32(n)*0x9E3779B1 ^ uint32(s[0])*0x85EBCA6B ^ uint32(s[n/2])*0xC2B2AE35
	return h ^ (uint32(s[n-1])|uint32(s[max(n-2, 0)])<<8)*0x27D4EB2F
}

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func (f *fastIn) messageType(name []byte) protoreflect.MessageType {
	f.typesMu.RLock()
	mt := f.types[string(name)]
	f.typesMu.RUnlock()
	if mt != nil {
		return mt
	}
	if len(name) > proto.MaxTypeNameLen || !protoreflect.FullName(name).IsValid() {
		return nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		return nil
	}
	f.typesMu.Lock()
	if f.types == nil {
		f.types = map[string]protoreflect.MessageType{}
	}
	if len(f.types) < 1024 { // bounded: only names of linked-in types get here
		f.types[string(name)] = mt
	}
	f.typesMu.Unlock()
	return mt
}

// decodeMessage decodes an envelope's payload of type typeName (isEvent:
// the event type's name), or reports false for what the general decoder
// must handle (unknown types, system messages, malformed payloads).
func (f *fastIn) decodeMessage(typeName, payload []byte, isEvent bool) (gproto.Message, bool) {
	if isEvent {
		return f.decodeEvent(payload)
	}
	if string(typeName) == string(snapshotName) {
		if s, ok := decodeSnapshot(payload); ok {
			return s, true
		}
	}
	mt := f.messageType(typeName)
	if mt == nil {
		return nil, false
	}
	if mt.Descriptor().FullName() == eventName {
		return f.decodeEvent(payload)
	}
	msg := mt.New().Interface()
	if err := gproto.Unmarshal(payload, msg); err != nil {
		return nil, false
	}
	if _, sys := msg.(pactor.SystemMessage); sys {
		return nil, false
	}
	return msg, true
}

// localPID returns a PID of this process for id, cached (proto.actor caches
// the resolved process in the PID).
func (f *fastIn) localPID(addr string, id []byte) *pactor.PID {
	slot := &f.pids[hashBytes(id)&255]
	if p := slot.Load(); p != nil && p.Id == string(id) {
		return p
	}
	p := &pactor.PID{Address: addr, Id: string(id)}
	slot.Store(p)
	return p
}

// eventType interns an event type (valid UTF-8).
func (f *fastIn) eventType(b []byte) string {
	if len(b) <= 1 {
		return string(b) // no allocation
	}
	slot := &f.evTypes[hashBytes(b)&63]
	if s := slot.Load(); s != nil && *s == string(b) {
		return *s
	}
	s := string(b)
	slot.Store(&s)
	return s
}

func (f *fastIn) address(b []byte) string {
	slot := &f.addrs[hashBytes(b)&63]
	if s := slot.Load(); s != nil && *s == string(b) {
		return *s
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// pidFields parses a wire PID; ok is false for anything but the canonical
// form (each field at most once, no unknown fields).
func pidFields(b []byte) (addr, id []byte, reqID uint32, ok bool) {
	var seen [4]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < 1 || num > 3 || seen[num] {
			return nil, nil, 0, false
		}
		seen[num] = true
		b = b[n:]
		switch {
		case num == fPIDRequestID && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v > 1<<32-1 {
				return nil, nil, 0, false
			}
			reqID, b = uint32(v), b[n:]
		case num != fPIDRequestID && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(v) {
				return nil, nil, 0, false
			}
			if num == fPIDAddress {
				addr = v
			} else {
				id = v
			}
			b = b[n:]
		default:
			return nil, nil, 0, false
		}
	}
	return addr, id, reqID, true
}

// decodeEvent decodes a canonical xorc.v1.Event.
//
// An event without data (the common case) decodes to a message shared by
// every envelope of its type: messages are immutable once sent (proto.actor's
// rule, and what a machine actor or a Watch in this process sees of an event
// sent to it in-process too), so nobody can tell it from a fresh one, and the
// receiving side allocates nothing per event.
func (f *fastIn) decodeEvent(b []byte) (*proto.Event, bool) {
	var typ, payload []byte
	var seen [3]bool
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 || num < 1 || num > 2 || seen[num] || wt != protowire.BytesType {
			return nil, false
		}
		seen[num] = true
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		if num == fEventType {
			if !utf8.Valid(v) {
				return nil, false
			}
			typ = v
		} else {
			payload = v
		}
	}
	if len(payload) > 0 {
		return &proto.Event{Type: f.eventType(typ), Payload: append([]byte(nil), payload...)}, true
	}
	slot := &f.bare[hashBytes(typ)&63]
	if ev := slot.Load(); ev != nil && ev.Type == string(typ) {
		return ev, true
	}
	ev := &proto.Event{Type: f.eventType(typ)}
	slot.Store(ev)
	return ev, true
}

// noteBare records that data decoded to the shared event ev for tpid, with
// no sender; the second time in a row it fills lastEnv.
func (f *fastIn) noteBare(data []byte, tpid *pactor.PID, ev *proto.Event) {
	if f.candEv.Load() == ev && f.candPID.Load() == tpid {
		field := protowire.AppendBytes(protowire.AppendTag(nil, fBatchEnvelope, protowire.BytesType), data)
		f.lastEnv.Store(&rawEnvelope{raw: field[len(field)-len(data):], field: field, pid: tpid, ev: ev})
		return
	}
	f.candEv.Store(ev)
	f.candPID.Store(tpid)
}

// fastDecode decodes a common envelope: the target's id and what to hand to
// it (the message, or a *pactor.MessageEnvelope with the sender).
func (c *Core) fastDecode(data []byte) (targetPID *pactor.PID, out any, ok bool) {
	if le := c.fast.lastEnv.Load(); le != nil && bytes.Equal(le.raw, data) {
		return le.pid, le.ev, true
	}
	var target, sender, typeName, payload []byte
	var hasSender, system bool
	var seen [8]bool
	for b := data; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < 1 || num > 6 || seen[num] {
			return nil, nil, false // malformed, a header, an unknown field, a repeat
		}
		seen[num] = true
		b = b[n:]
		if num == fEnvCorrelation || num == fEnvSystem {
			if typ != protowire.VarintType {
				return nil, nil, false
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, nil, false
			}
			if num == fEnvSystem {
				system = v != 0
			}
			b = b[n:]
			continue
		}
		if typ != protowire.BytesType {
			return nil, nil, false
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, nil, false
		}
		b = b[n:]
		switch num {
		case fEnvTarget:
			target = v
		case fEnvSender:
			sender, hasSender = v, true
		case fEnvTypeName:
			typeName = v
		case fEnvPayload:
			payload = v
		}
	}
	if system || !seen[fEnvTarget] {
		return nil, nil, false
	}
	isEvent := string(typeName) == string(eventName)
	var tpid *pactor.PID
	if lt := c.fast.last.Load(); lt != nil && bytes.Equal(lt.raw, target) {
		tpid = lt.pid
	} else {
		taddr, id, treq, ok := pidFields(target)
		if !ok || len(id) == 0 || treq != 0 || string(taddr) != c.addr {
			return nil, nil, false
		}
		if isEvent {
			tpid = c.fast.localPID(c.addr, id)
			c.fast.last.Store(&rawTarget{raw: append([]byte(nil), target...), pid: tpid})
		} else if a := c.awaited(id); a != nil {
			tpid = a.pid
		} else {
			// Not kept: other messages mostly answer futures, each a PID
			// used once (the cache is for the machines events stream to).
			tpid = &pactor.PID{Address: c.addr, Id: string(id)}
		}
	}
	msg, ok := c.fast.decodeMessage(typeName, payload, isEvent)
	if !ok {
		return nil, nil, false
	}
	out = msg
	if ev, ok := msg.(*proto.Event); ok && !hasSender && ev.Payload == nil && len(data) <= 256 {
		c.fast.noteBare(data, tpid, ev)
	}
	if hasSender {
		saddr, sid, sreq, ok := pidFields(sender)
		if !ok {
			return nil, nil, false
		}
		out = &pactor.MessageEnvelope{Message: msg, Sender: &pactor.PID{Address: c.fast.address(saddr), Id: string(sid), RequestId: sreq}}
	}
	return tpid, out, true
}
