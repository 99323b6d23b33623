package registry

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeHeader: no input panics; an accepted header describes a layout
// that fits the file, in order, and re-encodes to the same bytes.
func FuzzDecodeHeader(f *testing.F) {
	b, h := validHeaderBytes(f)
	f.Add(b, int64(h.TotalBytes), false)
	small := newHeader(1, 1, MinInboxBytes, 0, 1)
	sb := make([]byte, headerFieldBytes)
	encodeHeader(sb, small)
	f.Add(sb, int64(small.TotalBytes), false)
	f.Add(sb, int64(small.TotalBytes-1), true)
	f.Add([]byte{0x43, 0x52, 0x4f, 0x58}, int64(1<<20), true)
	f.Fuzz(func(t *testing.T, data []byte, size int64, fix bool) {
		if fix && len(data) >= headerFieldBytes {
			// Half the time the checksum is right, so the checks behind it run.
			data = append([]byte(nil), data...)
			fixChecksum(data)
		}
		h, err := decodeHeader(data, size)
		if err != nil {
			require.ErrorIs(t, err, ErrBadSegment)
			return
		}
		require.LessOrEqual(t, h.TotalBytes, uint64(size))
		require.GreaterOrEqual(t, h.ProcessTableOff, uint64(h.HeaderBytes))
		require.GreaterOrEqual(t, h.MachineTableOff, h.ProcessTableOff+uint64(h.MaxProcesses)*ProcessEntryBytes)
		require.GreaterOrEqual(t, h.InboxOff, h.MachineTableOff+uint64(h.MachineSlots)*MachineEntryBytes)
		require.Equal(t, h.TotalBytes, h.InboxOff+uint64(h.MaxProcesses)*h.InboxStride)
		require.GreaterOrEqual(t, h.InboxStride, h.InboxRegionBytes)
		require.Zero(t, h.InboxOff%inboxAlign)
		again := make([]byte, headerFieldBytes)
		encodeHeader(again, h)
		require.Equal(t, data[:hChecksum+4], again[:hChecksum+4])
		require.Equal(t, data[hGeneration:hMutating+4], again[hGeneration:hMutating+4])
		require.Equal(t, data[hRepairs:hEvictions+8], again[hRepairs:hEvictions+8])
	})
}

// FuzzDecodeProcess: no input panics; an accepted entry re-encodes to an
// entry that decodes the same.
func FuzzDecodeProcess(f *testing.F) {
	b := make([]byte, ProcessEntryBytes)
	encodeProcess(b, procEntry{Gen: 3, Status: ProcessActive, PID: 100, Name: "n", Address: "/a.sock", StartTime: 9})
	f.Add(b)
	b2 := make([]byte, ProcessEntryBytes)
	encodeProcess(b2, procEntry{Gen: 1, Status: ProcessCrashed, PID: 1, DownReason: DownHeartbeat,
		Name: string(bytes.Repeat([]byte("x"), 64)), Address: string(bytes.Repeat([]byte("y"), 112))})
	f.Add(b2)
	f.Add(make([]byte, ProcessEntryBytes))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeProcess(data)
		if err != nil {
			require.ErrorIs(t, err, ErrBadSegment)
			return
		}
		if p.Status == ProcessFree {
			return
		}
		require.LessOrEqual(t, len(p.Name), MaxProcessNameLen)
		require.LessOrEqual(t, len(p.Address), MaxAddressLen)
		again := make([]byte, ProcessEntryBytes)
		encodeProcess(again, p)
		q, err := decodeProcess(again)
		require.NoError(t, err)
		require.Equal(t, p, q)
	})
}

// FuzzDecodeMachine: no input panics; an accepted entry is within bounds
// and round-trips.
func FuzzDecodeMachine(f *testing.F) {
	b := make([]byte, MachineEntryBytes)
	encodeMachine(b, machEntry{State: slotUsed, Status: MachineActive, OwnerSlot: 2, OwnerGen: 5, OwnerPID: 10, ID: "robot", ActorID: "$1"})
	f.Add(b, uint16(16))
	b2 := make([]byte, MachineEntryBytes)
	encodeMachine(b2, machEntry{State: slotUsed, Status: MachineOrphaned, OwnerGen: 1, ID: string(bytes.Repeat([]byte("i"), 64)), ActorID: string(bytes.Repeat([]byte("i"), 64))})
	f.Add(b2, uint16(1))
	f.Add(make([]byte, MachineEntryBytes), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, maxProcs uint16) {
		m, err := decodeMachine(data, uint32(maxProcs))
		if err != nil {
			require.ErrorIs(t, err, ErrBadSegment)
			return
		}
		if m.State != slotUsed {
			return
		}
		require.Less(t, m.OwnerSlot, uint32(maxProcs))
		require.NoError(t, validateID(m.ID))
		require.True(t, machineIDEquals(data, m.ID))
		if m.ActorID != m.ID {
			require.LessOrEqual(t, len(m.ActorID), MaxActorIDLen)
		}
		again := make([]byte, MachineEntryBytes)
		encodeMachine(again, m)
		q, err := decodeMachine(again, uint32(maxProcs))
		require.NoError(t, err)
		require.Equal(t, m, q)
	})
}
