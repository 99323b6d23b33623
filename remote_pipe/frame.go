package remote_pipe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Wire format (see doc.go): every frame is
//
//	0  uint32 big-endian  payload length n
//	4  uint8              kind
//	5  n bytes            payload
const frameHeaderLen = 5

// Frame kinds.
const (
	kindHello   byte = 1 // dialer -> acceptor, first frame: who the dialer is
	kindWelcome byte = 2 // acceptor -> dialer, answer to hello: who the acceptor is
	kindData    byte = 3 // dialer -> acceptor: one opaque payload
	kindAck     byte = 4 // acceptor -> dialer: data frames delivered so far
	kindGoodbye byte = 5 // either way: orderly close, with a reason
)

func kindName(k byte) string {
	switch k {
	case kindHello:
		return "hello"
	case kindWelcome:
		return "welcome"
	case kindData:
		return "data"
	case kindAck:
		return "ack"
	case kindGoodbye:
		return "goodbye"
	}
	return fmt.Sprintf("kind %d", k)
}

const (
	// DefaultMaxFrame is the default limit on a data frame's payload.
	DefaultMaxFrame = 16 << 20
	// MaxMaxFrame is the largest limit Options.MaxFrame accepts.
	MaxMaxFrame = 1 << 30

	protoVersion  = 1
	helloLen      = 24 // hello and welcome payloads
	ackLen        = 8
	maxGoodbyeLen = 256 // reason code + text
)

var helloMagic = [4]byte{'X', 'P', 'I', 'P'}

// Goodbye reason codes.
const (
	byeClosing  byte = 1 // the sender is shutting down or closing this link
	byeRefused  byte = 2 // credentials not allowed
	byeBadFrame byte = 3 // the receiver got a bad frame from us
	byeVersion  byte = 4 // hello not acceptable (magic, version)
)

// hello is the payload of hello and welcome frames:
//
//	0  [4]byte 'XPIP'
//	4  uint16  protocol version
//	6  uint16  flags (0)
//	8  int32   registry slot (-1: none)
//	12 uint32  registry slot generation
//	16 uint32  pid
//	20 uint32  the sender's data frame limit (what it accepts)
type hello struct {
	version  uint16
	slot     int32
	gen      uint32
	pid      uint32
	maxFrame uint32
}

func appendFrameHeader(b []byte, kind byte, n int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	return append(b, kind)
}

// helloFrame is a whole hello (or welcome) frame.
func helloFrame(kind byte, h hello) []byte {
	b := make([]byte, 0, frameHeaderLen+helloLen)
	b = appendFrameHeader(b, kind, helloLen)
	b = append(b, helloMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, h.version)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(h.slot))
	b = binary.BigEndian.AppendUint32(b, h.gen)
	b = binary.BigEndian.AppendUint32(b, h.pid)
	b = binary.BigEndian.AppendUint32(b, h.maxFrame)
	return b
}

func decodeHello(p []byte) (hello, error) {
	if len(p) != helloLen {
		return hello{}, fmt.Errorf("%w: hello is %d bytes, want %d", ErrBadFrame, len(p), helloLen)
	}
	if [4]byte(p[0:4]) != helloMagic {
		return hello{}, fmt.Errorf("%w: hello magic %q, want %q", ErrBadFrame, p[0:4], helloMagic[:])
	}
	h := hello{
		version:  binary.BigEndian.Uint16(p[4:]),
		slot:     int32(binary.BigEndian.Uint32(p[8:])),
		gen:      binary.BigEndian.Uint32(p[12:]),
		pid:      binary.BigEndian.Uint32(p[16:]),
		maxFrame: binary.BigEndian.Uint32(p[20:]),
	}
	if h.slot < -1 {
		return hello{}, fmt.Errorf("%w: hello slot %d", ErrBadFrame, h.slot)
	}
	if h.maxFrame == 0 {
		return hello{}, fmt.Errorf("%w: hello announces a frame limit of 0", ErrBadFrame)
	}
	return h, nil
}

func ackFrame(delivered uint64) []byte {
	b := make([]byte, 0, frameHeaderLen+ackLen)
	b = appendFrameHeader(b, kindAck, ackLen)
	return binary.BigEndian.AppendUint64(b, delivered)
}

func decodeAck(p []byte) (uint64, error) {
	if len(p) != ackLen {
		return 0, fmt.Errorf("%w: ack is %d bytes, want %d", ErrBadFrame, len(p), ackLen)
	}
	return binary.BigEndian.Uint64(p), nil
}

func goodbyeFrame(code byte, reason string) []byte {
	if len(reason) > maxGoodbyeLen-1 {
		reason = reason[:maxGoodbyeLen-1]
	}
	b := make([]byte, 0, frameHeaderLen+1+len(reason))
	b = appendFrameHeader(b, kindGoodbye, 1+len(reason))
	b = append(b, code)
	return append(b, reason...)
}

func decodeGoodbye(p []byte) (code byte, reason string, err error) {
	if len(p) < 1 || len(p) > maxGoodbyeLen {
		return 0, "", fmt.Errorf("%w: goodbye is %d bytes, want 1 to %d", ErrBadFrame, len(p), maxGoodbyeLen)
	}
	return p[0], string(p[1:]), nil
}

// frameLimit is the largest payload a frame of this kind may carry, and
// the smallest; ok is false for an unknown kind.
func frameLimit(kind byte, maxData int) (lo, hi int, ok bool) {
	switch kind {
	case kindHello, kindWelcome:
		return helloLen, helloLen, true
	case kindAck:
		return ackLen, ackLen, true
	case kindGoodbye:
		return 1, maxGoodbyeLen, true
	case kindData:
		return 0, maxData, true
	}
	return 0, 0, false
}

// frameReader decodes frames from an untrusted stream. Every length is
// checked against the kind's limit before a byte of payload is read, so a
// hostile length costs neither memory nor time.
type frameReader struct {
	br      *bufio.Reader
	maxData int
	skip    int    // payload bytes still in br from the last frame
	scratch []byte // payloads longer than br's buffer
	// small counts the frames in a row that did not need an oversized
	// scratch (see maxKeptScratch).
	small int
	peak  int // the largest payload read through scratch
	grows int // growth steps of scratch (tests count them)
}

// readBufSize: frames up to this size are handed out straight from the
// reader's buffer, without a copy.
const readBufSize = 64 << 10

// ctlBufSize is the read buffer of a stream that carries only control
// frames (the dialer's side).
const ctlBufSize = 512

func newFrameReader(r io.Reader, maxData, bufSize int) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, bufSize), maxData: maxData}
}

// maxKeptScratch: a scratch buffer up to this size is kept for good. A
// bigger one (frames that big come in a steady stream under load: the
// sender coalesces what queued while its last write was in flight, so frame
// sizes vary from a few KB to MBs) is kept while frames need a scratch
// buffer at all, and let go after scratchKeepFrames frames in a row that
// fit in the read buffer. Growing it again for every big frame cost, per
// event of a stream of 1-2 MB frames, about 200 bytes allocated and most
// of the receiver's garbage collection.
const (
	maxKeptScratch    = 1 << 20
	scratchKeepFrames = 64
)

// next reads one frame. The payload is valid until the next call. At a
// clean end of stream between frames it returns io.EOF; a frame that breaks
// the protocol (unknown kind, length out of range, cut short) gives an
// error wrapping ErrBadFrame; other read errors are returned as they are.
func (fr *frameReader) next() (kind byte, payload []byte, err error) {
	if fr.skip > 0 {
		_, _ = fr.br.Discard(fr.skip) // bytes already buffered: cannot fail
		fr.skip = 0
	}
	h, err := fr.br.Peek(frameHeaderLen)
	if err != nil {
		if errors.Is(err, io.EOF) {
			if len(h) == 0 {
				return 0, nil, io.EOF
			}
			return 0, nil, fmt.Errorf("%w: truncated frame header (%d of %d bytes): %w",
				ErrBadFrame, len(h), frameHeaderLen, io.ErrUnexpectedEOF)
		}
		return 0, nil, err
	}
	n64 := uint64(binary.BigEndian.Uint32(h))
	kind = h[4]
	lo, hi, ok := frameLimit(kind, fr.maxData)
	if !ok {
		return 0, nil, fmt.Errorf("%w: unknown frame kind %d (length %d)", ErrBadFrame, kind, n64)
	}
	if n64 < uint64(lo) || n64 > uint64(hi) {
		if kind == kindData {
			return 0, nil, fmt.Errorf("%w: data frame of %d bytes exceeds the limit of %d: %w",
				ErrBadFrame, n64, hi, ErrFrameTooLarge)
		}
		return 0, nil, fmt.Errorf("%w: %s frame of %d bytes, want %d to %d", ErrBadFrame, kindName(kind), n64, lo, hi)
	}
	n := int(n64)
	_, _ = fr.br.Discard(frameHeaderLen)
	if cap(fr.scratch) > maxKeptScratch {
		if n > fr.br.Size() {
			fr.small = 0
		} else if fr.small++; fr.small >= scratchKeepFrames {
			fr.scratch, fr.small = nil, 0
		}
	}
	if n <= fr.br.Size() {
		payload, err = fr.br.Peek(n)
		if err != nil {
			return 0, nil, fr.payloadErr(kind, len(payload), n, err)
		}
		fr.skip = n
		return kind, payload, nil
	}
	// Grow with what actually arrives, not with what the header claims: a
	// hostile length costs at most twice the bytes really sent (or the
	// largest frame that really came before, peak: a buffer let go is
	// grown again in one step, not by doubling from readBufSize).
	buf := fr.scratch[:0]
	for len(buf) < n {
		have := len(buf)
		want := min(n, max(2*have, readBufSize, cap(buf), fr.peak)) // a kept buffer is filled at once
		if want > cap(buf) {
			fr.grows++
		}
		buf = slices.Grow(buf, want-have)[:want]
		if got, err := io.ReadFull(fr.br, buf[have:]); err != nil {
			fr.scratch = buf[:0]
			return 0, nil, fr.payloadErr(kind, have+got, n, err)
		}
	}
	fr.scratch = buf
	fr.peak = max(fr.peak, n)
	return kind, buf, nil
}

// buffered is how many bytes of later frames are already read: 0 means
// the next call reads from the stream.
func (fr *frameReader) buffered() int { return fr.br.Buffered() - fr.skip }

func (fr *frameReader) payloadErr(kind byte, got, want int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated %s frame (%d of %d payload bytes): %w",
			ErrBadFrame, kindName(kind), got, want, io.ErrUnexpectedEOF)
	}
	return err
}

// goodbyeError turns a peer's goodbye into an error for our side.
func goodbyeError(p []byte) error {
	code, reason, err := decodeGoodbye(p)
	if err != nil {
		return err
	}
	switch code {
	case byeRefused, byeVersion:
		return fmt.Errorf("%w: %q", ErrRefused, reason)
	case byeBadFrame:
		return fmt.Errorf("%w: the peer closed the connection: %q", ErrBadFrame, reason)
	}
	return fmt.Errorf("%w: %q", ErrPeerClosed, reason)
}
