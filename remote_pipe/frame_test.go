package remote_pipe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func dataFrame(p []byte) []byte {
	return append(appendFrameHeader(nil, kindData, len(p)), p...)
}

func rawFrame(kind byte, n uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	return append(append(b, kind), payload...)
}

func TestFramesRoundTrip(t *testing.T) {
	h := hello{version: protoVersion, slot: 7, gen: 42, pid: 4242, maxFrame: 1 << 20}
	big := bytes.Repeat([]byte("0123456789abcdef"), readBufSize/8) // 2x the read buffer: read via scratch
	tests := []struct {
		name  string
		frame []byte
		kind  byte
		check func(t *testing.T, p []byte)
	}{
		{"empty data", dataFrame(nil), kindData, func(t *testing.T, p []byte) { assert.Empty(t, p) }},
		{"small data", dataFrame([]byte("hello")), kindData, func(t *testing.T, p []byte) { assert.Equal(t, "hello", string(p)) }},
		{"data larger than the read buffer", dataFrame(big), kindData, func(t *testing.T, p []byte) { assert.Equal(t, big, p) }},
		{"hello", helloFrame(kindHello, h), kindHello, func(t *testing.T, p []byte) {
			got, err := decodeHello(p)
			require.NoError(t, err)
			assert.Equal(t, h, got)
		}},
		{"welcome without slot", helloFrame(kindWelcome, hello{version: 1, slot: -1, pid: 1, maxFrame: 5}), kindWelcome, func(t *testing.T, p []byte) {
			got, err := decodeHello(p)
			require.NoError(t, err)
			assert.Equal(t, int32(-1), got.slot)
			assert.Equal(t, uint32(5), got.maxFrame)
		}},
		{"ack", ackFrame(1<<40 + 3), kindAck, func(t *testing.T, p []byte) {
			v, err := decodeAck(p)
			require.NoError(t, err)
			assert.Equal(t, uint64(1<<40+3), v)
		}},
		{"goodbye", goodbyeFrame(byeRefused, "uid 5 not allowed"), kindGoodbye, func(t *testing.T, p []byte) {
			code, reason, err := decodeGoodbye(p)
			require.NoError(t, err)
			assert.Equal(t, byeRefused, code)
			assert.Equal(t, "uid 5 not allowed", reason)
		}},
		{"long goodbye is cut to the limit", goodbyeFrame(byeBadFrame, string(bytes.Repeat([]byte{'x'}, 1000))), kindGoodbye, func(t *testing.T, p []byte) {
			assert.Len(t, p, maxGoodbyeLen)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Byte by byte too: frames split across reads must decode the same.
			for _, r := range []io.Reader{bytes.NewReader(tc.frame), iotest.OneByteReader(bytes.NewReader(tc.frame))} {
				fr := newFrameReader(r, 1<<20, readBufSize)
				kind, p, err := fr.next()
				require.NoError(t, err)
				assert.Equal(t, tc.kind, kind)
				tc.check(t, p)
				_, _, err = fr.next()
				assert.ErrorIs(t, err, io.EOF, "clean end after the frame")
				assert.NotErrorIs(t, err, ErrBadFrame)
			}
		})
	}
}

func TestFramesInSequence(t *testing.T) {
	var stream []byte
	for i := range 1000 {
		stream = append(stream, dataFrame(bytes.Repeat([]byte{byte(i)}, i%300))...)
		if i%100 == 0 {
			stream = append(stream, ackFrame(uint64(i))...)
		}
	}
	fr := newFrameReader(iotest.HalfReader(bytes.NewReader(stream)), 1<<20, 512)
	for i := range 1000 {
		kind, p, err := fr.next()
		require.NoError(t, err)
		require.Equal(t, kindData, kind)
		require.Equal(t, bytes.Repeat([]byte{byte(i)}, i%300), p, "frame %d", i)
		if i%100 == 0 {
			kind, p, err = fr.next()
			require.NoError(t, err)
			require.Equal(t, kindAck, kind)
			v, err := decodeAck(p)
			require.NoError(t, err)
			require.Equal(t, uint64(i), v)
		}
	}
	_, _, err := fr.next()
	require.ErrorIs(t, err, io.EOF)
}

func TestFrameReaderRejects(t *testing.T) {
	const limit = 100
	okHello := helloFrame(kindHello, hello{version: 1, slot: 1, gen: 1, pid: 1, maxFrame: 1})
	badMagic := bytes.Clone(okHello)
	badMagic[frameHeaderLen] = 'Y'
	tests := []struct {
		name     string
		in       []byte
		tooLarge bool // also ErrFrameTooLarge
		decode   func([]byte) error
	}{
		{name: "truncated header", in: []byte{0, 0, 0}},
		{name: "header only", in: rawFrame(kindData, 10, nil)},
		{name: "truncated payload", in: rawFrame(kindData, 10, []byte("abc"))},
		{name: "unknown kind 0", in: rawFrame(0, 1, []byte{1})},
		{name: "unknown kind 200", in: rawFrame(200, 0, nil)},
		{name: "data over the limit", in: rawFrame(kindData, limit+1, nil), tooLarge: true},
		{name: "data length 4 GiB-1", in: rawFrame(kindData, 0xFFFFFFFF, nil), tooLarge: true},
		{name: "hello too short", in: rawFrame(kindHello, helloLen-1, make([]byte, helloLen-1))},
		{name: "welcome too long", in: rawFrame(kindWelcome, helloLen+1, make([]byte, helloLen+1))},
		{name: "ack of 7 bytes", in: rawFrame(kindAck, 7, make([]byte, 7))},
		{name: "empty goodbye", in: rawFrame(kindGoodbye, 0, nil)},
		{name: "goodbye too long", in: rawFrame(kindGoodbye, maxGoodbyeLen+1, nil)},
		{name: "hello with a bad magic", in: badMagic, decode: func(p []byte) error { _, err := decodeHello(p); return err }},
		{name: "hello with a zero frame limit", in: helloFrame(kindHello, hello{version: 1, slot: 1}), decode: func(p []byte) error { _, err := decodeHello(p); return err }},
		{name: "hello with slot -2", in: helloFrame(kindHello, hello{version: 1, slot: -2, maxFrame: 1}), decode: func(p []byte) error { _, err := decodeHello(p); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFrameReader(bytes.NewReader(tc.in), limit, readBufSize)
			_, p, err := fr.next()
			if tc.decode != nil {
				require.NoError(t, err)
				err = tc.decode(p)
			}
			require.ErrorIs(t, err, ErrBadFrame)
			assert.Equal(t, tc.tooLarge, errors.Is(err, ErrFrameTooLarge), "ErrFrameTooLarge: %v", err)
		})
	}
}

// A hostile length must not make the reader allocate it.
func TestFrameReaderDoesNotAllocateClaimedLength(t *testing.T) {
	in := rawFrame(kindData, 1<<30, []byte("short"))
	fr := newFrameReader(bytes.NewReader(in), 1<<30, readBufSize)
	allocs := testing.AllocsPerRun(1, func() {
		fr = newFrameReader(bytes.NewReader(in), 1<<30, readBufSize)
		_, _, err := fr.next()
		require.ErrorIs(t, err, ErrBadFrame)
	})
	// The reader itself and its buffer, the error: nothing of the claimed 1 GiB.
	assert.Less(t, allocs, 20.0)
	assert.Less(t, cap(fr.scratch), 1<<20, "scratch buffer sized by an untrusted length")
}

// An error that is not the end of the stream is passed through as it is,
// not reported as a bad frame (a read timeout is not the peer's fault).
func TestFrameReaderPassesReadErrors(t *testing.T) {
	boom := errors.New("boom")
	fr := newFrameReader(iotest.ErrReader(boom), 10, readBufSize)
	_, _, err := fr.next()
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrBadFrame)

	r := io.MultiReader(bytes.NewReader(rawFrame(kindData, 10, []byte("abc"))), iotest.ErrReader(boom))
	fr = newFrameReader(r, 10, readBufSize)
	_, _, err = fr.next()
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrBadFrame)
}

// A stream of frames bigger than maxKeptScratch reuses one scratch buffer
// (growing it for each frame was most of a busy receiver's allocations),
// also when frames of all sizes alternate; the buffer is let go once
// scratchKeepFrames frames in a row fit in the read buffer, and then grown
// again, in one step, when a big frame comes.
func TestFrameReaderKeepsScratchWhileNeeded(t *testing.T) {
	bigA := bytes.Repeat([]byte("a"), 3*maxKeptScratch)
	bigB := bytes.Repeat([]byte("b"), 3*maxKeptScratch-7)
	mid := bytes.Repeat([]byte("h"), readBufSize+1) // needs the scratch buffer, much less than its size
	var stream bytes.Buffer
	stream.Write(dataFrame(bigA))
	for range 4 { // AllocsPerRun(3, ...) below runs its function 4 times
		stream.Write(dataFrame(bigB))
		stream.Write(dataFrame(bigA))
	}
	stream.Write(dataFrame(bigB))
	stream.Write(dataFrame(mid))
	for range scratchKeepFrames - 1 {
		stream.Write(dataFrame([]byte("small")))
	}
	stream.Write(dataFrame(bigA)) // the counter was reset by mid: still kept
	for range scratchKeepFrames {
		stream.Write(dataFrame([]byte("small")))
	}
	stream.Write(dataFrame(bigB))

	fr := newFrameReader(bytes.NewReader(stream.Bytes()), 4*maxKeptScratch, readBufSize)
	read := func(want []byte) {
		t.Helper()
		kind, p, err := fr.next()
		if err != nil || kind != kindData || !bytes.Equal(want, p) { // no testify here: its arguments allocate
			t.Fatalf("got kind %d, %d bytes, err %v; want a data frame of %d bytes", kind, len(p), err, len(want))
		}
	}
	read(bigA)
	kept := cap(fr.scratch)
	require.GreaterOrEqual(t, kept, len(bigA))
	allocs := testing.AllocsPerRun(3, func() { read(bigB); read(bigA) })
	assert.Zero(t, allocs, "big frames after the first reuse its buffer")
	read(bigB)
	read(mid)
	for range scratchKeepFrames - 1 {
		read([]byte("small"))
	}
	read(bigA)
	assert.Equal(t, kept, cap(fr.scratch), "kept while a frame needed it")
	for range scratchKeepFrames {
		read([]byte("small"))
	}
	assert.Zero(t, cap(fr.scratch), "let go after %d small frames", scratchKeepFrames)
	grows := fr.grows
	read(bigB)
	assert.Equal(t, grows+1, fr.grows, "grown again in one step to the size big frames had")
	_, _, err := fr.next()
	assert.ErrorIs(t, err, io.EOF)
}
