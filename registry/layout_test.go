package registry

import (
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validHeaderBytes(t testing.TB) ([]byte, header) {
	t.Helper()
	h := newHeader(16, 256, DefaultInboxBytes, DefaultInboxHeaderLen, 12345)
	b := make([]byte, headerFieldBytes)
	encodeHeader(b, h)
	return b, h
}

func fixChecksum(b []byte) {
	ne.PutUint32(b[hChecksum:], crc32.Checksum(b[:hChecksum], castagnoli))
}

func TestHeaderRoundTrip(t *testing.T) {
	b, h := validHeaderBytes(t)
	got, err := decodeHeader(b, int64(h.TotalBytes))
	require.NoError(t, err)
	h.Checksum = got.Checksum
	assert.Equal(t, h, got)
	assert.Equal(t, uint32(512), got.MachineSlots)
	assert.Equal(t, uint64(HeaderBytes), got.ProcessTableOff)
	assert.Equal(t, uint64(HeaderBytes+16*ProcessEntryBytes), got.MachineTableOff)
	assert.Zero(t, got.InboxOff%inboxAlign)
	assert.Equal(t, uint64(DefaultInboxBytes+DefaultInboxHeaderLen), got.InboxRegionBytes)
	// A bigger file is fine; a smaller one is truncated.
	_, err = decodeHeader(b, int64(h.TotalBytes)+4096)
	assert.NoError(t, err)
}

func TestDecodeHeaderRejects(t *testing.T) {
	u32 := func(off int, v uint32) func([]byte) { return func(b []byte) { ne.PutUint32(b[off:], v) } }
	u64f := func(off int, v uint64) func([]byte) { return func(b []byte) { ne.PutUint64(b[off:], v) } }
	cases := []struct {
		name    string
		mod     func([]byte)
		keepSum bool // do not recompute the checksum after mod
		size    int64
		want    string
	}{
		{name: "zero magic", mod: u32(hMagic, 0), want: "not initialised"},
		{name: "wrong magic", mod: u32(hMagic, 0x12345678), want: "magic 0x12345678"},
		{name: "wrong version", mod: u32(hVersion, 2), want: "layout version 2"},
		{name: "bad checksum", mod: u32(hMaxProcs, 17), keepSum: true, want: "checksum"},
		{name: "header size", mod: u32(hHeaderBytes, 128), want: "header size"},
		{name: "process entry size", mod: u32(hProcEntry, 255), want: "process entry size"},
		{name: "machine entry size", mod: u32(hMachEntry, 64), want: "machine entry size"},
		{name: "zero processes", mod: u32(hMaxProcs, 0), want: "max processes"},
		{name: "absurd processes", mod: u32(hMaxProcs, 1<<31), want: "max processes"},
		{name: "zero machines", mod: u32(hMaxMachines, 0), want: "max machines"},
		{name: "slots not power of two", mod: u32(hMachineSlots, 500), want: "power of two"},
		{name: "slots below machines", mod: u32(hMachineSlots, 128), want: "machine table"},
		{name: "inbox not power of two", mod: u64f(hInboxBytes, 3<<20), want: "inbox bytes"},
		{name: "absurd inbox", mod: u64f(hInboxBytes, 1<<50), want: "inbox bytes"},
		{name: "region smaller than data", mod: u64f(hInboxRegion, 1024), want: "inbox region"},
		{name: "stride smaller than region", mod: u64f(hInboxStride, 4096), want: "inbox stride"},
		{name: "process table in header", mod: u64f(hProcOff, 64), want: "process table offset"},
		{name: "process table misaligned", mod: u64f(hProcOff, 4100), want: "process table offset"},
		{name: "tables overlap", mod: u64f(hMachOff, HeaderBytes+64), want: "overlaps the process table"},
		{name: "inbox overlaps machines", mod: u64f(hInboxOff, HeaderBytes+16*256+4096), want: "overlaps the machine table"},
		{name: "huge offset", mod: u64f(hInboxOff, 1<<62), want: "inbox offset"},
		{name: "total mismatch", mod: u64f(hTotalBytes, 1<<20), want: "total size"},
		{name: "truncated file", size: 8192, want: "truncated"},
		{name: "negative size", size: -1, want: "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, h := validHeaderBytes(t)
			if c.mod != nil {
				c.mod(b)
			}
			if !c.keepSum {
				fixChecksum(b)
			}
			size := int64(h.TotalBytes)
			if c.size != 0 {
				size = c.size
			}
			_, err := decodeHeader(b, size)
			require.ErrorIs(t, err, ErrBadSegment)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := decodeHeader(make([]byte, 10), 1<<30)
	assert.ErrorIs(t, err, ErrBadSegment)
}

func TestProcessEntryRoundTrip(t *testing.T) {
	p := procEntry{
		Seq: 4, Gen: 7, Status: ProcessCrashed, PID: 4242, Machines: 3, StartTime: 99,
		Heartbeat: 123456789, JoinedAt: 1, DownAt: 2, PidNS: 4026531836,
		Name: "wafer-tool-ü", Address: "/run/xorc/a.sock", DownReason: DownExited,
		Registrations: 5, DeathsDetected: 1,
	}
	b := make([]byte, ProcessEntryBytes)
	encodeProcess(b, p)
	got, err := decodeProcess(b)
	require.NoError(t, err)
	assert.Equal(t, p, got)

	max := p
	max.Name = string(make([]byte, MaxProcessNameLen))
	max.Address = string(make([]byte, MaxAddressLen))
	encodeProcess(b, max)
	got, err = decodeProcess(b)
	require.NoError(t, err)
	assert.Equal(t, max, got)
}

func TestDecodeProcessRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func([]byte)
		want string
	}{
		{"status", func(b []byte) { ne.PutUint32(b[pGenStatus+4:], 9) }, "status 9"},
		{"pid zero", func(b []byte) { ne.PutUint32(b[pPID:], 0) }, "pid 0"},
		{"pid huge", func(b []byte) { ne.PutUint32(b[pPID:], 1<<30) }, "pid"},
		{"generation zero", func(b []byte) { ne.PutUint32(b[pGenStatus:], 0) }, "generation 0"},
		{"name length", func(b []byte) { b[pLens] = 65 }, "name length 65"},
		{"address length", func(b []byte) { b[pLens+1] = 200 }, "address length 200"},
		{"down reason", func(b []byte) { b[pLens+2] = 77 }, "down reason 77"},
		{"machines", func(b []byte) { ne.PutUint32(b[pMachines:], 1<<31) }, "machine count"},
		{"name utf8", func(b []byte) { b[pLens] = 2; b[pName] = 0xff; b[pName+1] = 0xfe }, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := make([]byte, ProcessEntryBytes)
			encodeProcess(b, procEntry{Gen: 1, Status: ProcessActive, PID: 10, Name: "n"})
			c.mod(b)
			_, err := decodeProcess(b)
			require.ErrorIs(t, err, ErrBadSegment)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := decodeProcess(make([]byte, 255))
	assert.ErrorIs(t, err, ErrBadSegment)
	// A free entry's other fields are ignored.
	b := make([]byte, ProcessEntryBytes)
	b[pLens] = 250
	p, err := decodeProcess(b)
	require.NoError(t, err)
	assert.Equal(t, ProcessFree, p.Status)
}

func TestMachineEntryRoundTrip(t *testing.T) {
	for _, m := range []machEntry{
		{Seq: 2, State: slotUsed, Status: MachineActive, OwnerSlot: 3, OwnerGen: 9, OwnerPID: 77,
			RegisteredAt: 5, LastActivity: 6, ID: "robot/arm-1", ActorID: "$123"},
		{State: slotUsed, Status: MachineOrphaned, OwnerSlot: 15, OwnerGen: 1, OwnerPID: 1,
			ID: string(make([]byte, 64)), ActorID: string(make([]byte, 64))},
		{State: slotUsed, Status: MachineActive, OwnerGen: 1, ID: "x", ActorID: ""},
		{State: slotUsed, Status: MachineActive, OwnerGen: 1, ID: "y", ActorID: "123456789012345678901234"},
	} {
		b := make([]byte, MachineEntryBytes)
		encodeMachine(b, m)
		got, err := decodeMachine(b, 16)
		require.NoError(t, err)
		assert.Equal(t, m, got)
		assert.True(t, machineIDEquals(b, m.ID))
		assert.False(t, machineIDEquals(b, m.ID+"z"))
	}
	for _, st := range []uint8{slotFree, slotTombstone} {
		b := make([]byte, MachineEntryBytes)
		encodeMachine(b, machEntry{State: st})
		got, err := decodeMachine(b, 16)
		require.NoError(t, err)
		assert.Equal(t, st, got.State)
		assert.False(t, machineIDEquals(b, ""))
	}
}

func TestDecodeMachineRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func([]byte)
		want string
	}{
		{"state", func(b []byte) { b[mMeta] = 7 }, "state 7"},
		{"status", func(b []byte) { b[mMeta+1] = 0 }, "status 0"},
		{"id empty", func(b []byte) { b[mMeta+2] = 0 }, "ID length 0"},
		{"id long", func(b []byte) { b[mMeta+2] = 65 }, "ID length 65"},
		{"actor long", func(b []byte) { b[mMeta+3] = 25 }, "actor ID length 25"},
		{"owner slot", func(b []byte) { ne.PutUint32(b[mOwnerSlot:], 16) }, "owner slot 16"},
		{"owner generation", func(b []byte) { ne.PutUint32(b[mOwnerGen:], 0) }, "generation 0"},
		{"id utf8", func(b []byte) { b[mID] = 0xff }, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := make([]byte, MachineEntryBytes)
			encodeMachine(b, machEntry{State: slotUsed, Status: MachineActive, OwnerGen: 1, ID: "abc", ActorID: "a"})
			c.mod(b)
			_, err := decodeMachine(b, 16)
			require.ErrorIs(t, err, ErrBadSegment)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := decodeMachine(make([]byte, 129), 16)
	assert.ErrorIs(t, err, ErrBadSegment)
}

func TestHashIDIsFNV1a(t *testing.T) {
	// Published FNV-1a 32-bit test vectors: the hash must never change, or
	// processes of two builds would probe different chains.
	for in, want := range map[string]uint32{"": 0x811c9dc5, "a": 0xe40c292c, "foobar": 0xbf9cf968} {
		assert.Equal(t, want, hashID(in), in)
	}
}

func TestCheckActorID(t *testing.T) {
	assert.NoError(t, checkActorID("m", ""))
	assert.NoError(t, checkActorID("m", "123456789012345678901234"))
	assert.NoError(t, checkActorID(string(make([]byte, 64)), string(make([]byte, 64))))
	assert.ErrorIs(t, checkActorID("m", "1234567890123456789012345"), ErrInvalidID)
}

func TestValidateSegmentName(t *testing.T) {
	for _, ok := range []string{"a", "xorc-1.test_2", string(make([]byte, 0)) + "Z"} {
		assert.NoError(t, ValidateSegmentName(ok), ok)
	}
	for _, bad := range []string{"", "a/b", "..", " x", "é", "a\x00b"} {
		if bad == ".." {
			// ".." is made of allowed bytes; the "xorc." prefix keeps it inside the directory.
			p, err := segmentPathIn("/dev/shm", bad)
			require.NoError(t, err)
			assert.Equal(t, "/dev/shm/xorc...", p)
			continue
		}
		assert.ErrorIs(t, ValidateSegmentName(bad), ErrInvalidName, bad)
	}
	assert.Equal(t, "ab", truncateUTF8("abü", 3), "cut on a rune boundary")
}
