package remote

import (
	"log/slog"
	"strings"
	"testing"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/proto"
)

// nop is a process that drops what it gets.
type nop struct{}

func (nop) SendUserMessage(*pactor.PID, any)   {}
func (nop) SendSystemMessage(*pactor.PID, any) {}
func (nop) Stop(*pactor.PID)                   {}

// The CPU of one envelope through the core without a link: encoding on the
// sending side, decoding and handing to a local process on the receiving one.
func BenchmarkEncodeEnvelope(b *testing.B) {
	target := pactor.NewPID(scheme+"b", "xorc/toggle")
	msg := &proto.Event{Type: "T"}
	var buf []byte
	var cache targetCache
	for _, tc := range []*targetCache{nil, &cache} {
		name := "uncached"
		if tc != nil {
			name = "cached-target" // what a peer does: its targets' fields are cached
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				var err error
				if buf, err = appendEnvelopeCached(buf[:0], tc, nil, target, nil, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReceiveEnvelope(b *testing.B) {
	const addr = scheme + "b"
	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	defer sys.Shutdown()
	sys.ProcessRegistry.Address = addr
	sys.ProcessRegistry.Add(nop{}, "xorc/toggle")
	c, err := New(Config{System: sys, Address: addr, Match: func(a string) bool { return strings.HasPrefix(a, scheme) },
		Dial: func(string) (Link, error) { return nil, ErrClosed }})
	if err != nil {
		b.Fatal(err)
	}
	batch, _ := appendEnvelope(nil, pactor.NewPID(addr, "xorc/toggle"), nil, &proto.Event{Type: "T"})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Receive(batch); err != nil {
			b.Fatal(err)
		}
	}
}
