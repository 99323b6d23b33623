package remote

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xorc-dev/xorc/proto"
)

// Snapshots, the replies to requests, encoded and decoded field by field
// rather than through the protobuf runtime's reflection: on a request's
// round trip the generic Size, Marshal and Unmarshal of this five-field
// message cost more than the rest of the envelope. The bytes are the ones
// proto.Marshal writes (fields in number order, zero values omitted); a
// snapshot the fast path does not take (invalid UTF-8, unknown fields, a
// field twice) goes the generic way, which reports or handles it.

var snapshotName = (&proto.Snapshot{}).ProtoReflect().Descriptor().FullName()

// Field numbers of proto.Snapshot.
const (
	fSnapMachineID = 1
	fSnapValue     = 2
	fSnapContext   = 3
	fSnapStatus    = 4
	fSnapError     = 5
)

// sizeSnapshot is the encoded size of s, or false if the fast path does not
// encode it.
func sizeSnapshot(s *proto.Snapshot) (int, bool) {
	if s == nil || !utf8.ValidString(s.MachineId) || !utf8.ValidString(s.Error) || len(s.ProtoReflect().GetUnknown()) > 0 {
		return 0, false
	}
	n := 0
	if s.MachineId != "" {
		n += sizeBytesField(len(s.MachineId))
	}
	if len(s.ValueJson) > 0 {
		n += sizeBytesField(len(s.ValueJson))
	}
	if len(s.ContextJson) > 0 {
		n += sizeBytesField(len(s.ContextJson))
	}
	if s.Status != 0 {
		n += protowire.SizeTag(fSnapStatus) + protowire.SizeVarint(uint64(int64(s.Status)))
	}
	if s.Error != "" {
		n += sizeBytesField(len(s.Error))
	}
	return n, true
}

// appendSnapshot appends the fields of s (sizeSnapshot said it takes it).
func appendSnapshot(buf []byte, s *proto.Snapshot) []byte {
	if s.MachineId != "" {
		buf = protowire.AppendTag(buf, fSnapMachineID, protowire.BytesType)
		buf = protowire.AppendString(buf, s.MachineId)
	}
	if len(s.ValueJson) > 0 {
		buf = protowire.AppendTag(buf, fSnapValue, protowire.BytesType)
		buf = protowire.AppendBytes(buf, s.ValueJson)
	}
	if len(s.ContextJson) > 0 {
		buf = protowire.AppendTag(buf, fSnapContext, protowire.BytesType)
		buf = protowire.AppendBytes(buf, s.ContextJson)
	}
	if s.Status != 0 {
		buf = protowire.AppendTag(buf, fSnapStatus, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(int64(s.Status)))
	}
	if s.Error != "" {
		buf = protowire.AppendTag(buf, fSnapError, protowire.BytesType)
		buf = protowire.AppendString(buf, s.Error)
	}
	return buf
}

// decodeSnapshot decodes b (copying: b is the inbox's memory), or reports
// false for anything but each known field at most once, well formed.
func decodeSnapshot(b []byte) (*proto.Snapshot, bool) {
	s := &proto.Snapshot{}
	var seen [fSnapError + 1]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < fSnapMachineID || num > fSnapError || seen[num] {
			return nil, false
		}
		seen[num] = true
		b = b[n:]
		if num == fSnapStatus {
			if typ != protowire.VarintType {
				return nil, false
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, false
			}
			s.Status = proto.Status(int32(v))
			b = b[n:]
			continue
		}
		if typ != protowire.BytesType {
			return nil, false
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch num {
		case fSnapMachineID, fSnapError:
			if !utf8.Valid(v) {
				return nil, false
			}
			if num == fSnapMachineID {
				s.MachineId = string(v)
			} else {
				s.Error = string(v)
			}
		case fSnapValue:
			s.ValueJson = append([]byte{}, v...)
		case fSnapContext:
			s.ContextJson = append([]byte{}, v...)
		}
	}
	return s, true
}
