package remote_pipe

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame decoder and the control
// frame decoders: no panic, no payload over its kind's limit, every
// failure either io.EOF at a clean end or ErrBadFrame.
func FuzzReadFrame(f *testing.F) {
	f.Add(dataFrame([]byte("hello")), uint16(64))
	f.Add(helloFrame(kindHello, hello{version: 1, slot: 3, gen: 9, pid: 77, maxFrame: 1 << 20}), uint16(16))
	f.Add(append(helloFrame(kindWelcome, hello{version: 1, slot: -1, maxFrame: 8}), ackFrame(12)...), uint16(0))
	f.Add(goodbyeFrame(byeBadFrame, "frame too large"), uint16(1))
	f.Add(rawFrame(kindData, 0xFFFFFFFF, nil), uint16(100))
	f.Add(rawFrame(kindData, 10, []byte("abc")), uint16(100))
	f.Add([]byte{0, 0, 0}, uint16(1))
	f.Add(rawFrame(9, 1, []byte{1}), uint16(1))
	f.Add(bytes.Repeat(dataFrame(bytes.Repeat([]byte{7}, 600)), 3), uint16(1000))
	f.Fuzz(func(t *testing.T, in []byte, maxData uint16) {
		limit := int(maxData)
		for _, size := range []int{16, 4096} { // tiny buffer: payloads via scratch too
			fr := newFrameReader(bytes.NewReader(in), limit, size)
			for {
				kind, p, err := fr.next()
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, ErrBadFrame) {
						t.Fatalf("unexpected error class: %v", err)
					}
					break
				}
				lo, hi, ok := frameLimit(kind, limit)
				if !ok || len(p) < lo || len(p) > hi {
					t.Fatalf("%s frame of %d bytes passed, limits %d..%d", kindName(kind), len(p), lo, hi)
				}
				switch kind {
				case kindHello, kindWelcome:
					if h, err := decodeHello(p); err == nil {
						if h.maxFrame == 0 || h.slot < -1 {
							t.Fatalf("decodeHello accepted %+v", h)
						}
						if !bytes.Equal(helloFrame(kind, h)[frameHeaderLen:], p) && p[6] == 0 && p[7] == 0 {
							t.Fatalf("hello does not round trip")
						}
					} else if !errors.Is(err, ErrBadFrame) {
						t.Fatal(err)
					}
				case kindAck:
					if _, err := decodeAck(p); err != nil {
						t.Fatal(err)
					}
				case kindGoodbye:
					if _, _, err := decodeGoodbye(p); err != nil {
						t.Fatal(err)
					}
					_ = goodbyeError(p)
				}
			}
		}
	})
}
