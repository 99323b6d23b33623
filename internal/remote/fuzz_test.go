package remote

import (
	"log/slog"
	"strings"
	"testing"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/proto"
)

// FuzzReceive feeds untrusted bytes to the inbound side: it must never
// panic, and every envelope it finds is either delivered or counted.
func FuzzReceive(f *testing.F) {
	const addr = scheme + "fuzz"
	good := func(envs ...*proto.Envelope) []byte {
		b, err := proto.AppendBatch(nil, envs)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	ev, _ := proto.Encode(pactor.NewPID(addr, "sink"), pactor.NewPID(scheme+"other", "future$1"), &proto.Event{Type: "T", Payload: []byte(`{"a":1}`)})
	watch, _ := proto.Encode(pactor.NewPID(addr, "sink"), nil, &pactor.Watch{Watcher: pactor.NewPID(scheme+"other", "w")})
	term, _ := proto.Encode(pactor.NewPID(addr, "w"), nil, &pactor.Terminated{Who: pactor.NewPID(scheme+"other", "x")})
	stale, _ := proto.Encode(pactor.NewPID(scheme+"old", "sink"), nil, &proto.Event{Type: "S"})
	f.Add(good(ev))
	f.Add(good(ev, watch, term))
	f.Add(good(stale))
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})

	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	defer sys.Shutdown()
	sys.ProcessRegistry.Address = addr
	c, err := New(Config{System: sys, Address: addr, MaxEnvelopes: 64,
		Match: func(a string) bool { return strings.HasPrefix(a, scheme) },
		Dial:  func(a string) (Link, error) { return &memLink{net: newNet(), addr: a}, nil }})
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		before := c.Stats()
		_ = c.Receive(data)
		after := c.Stats()
		if after.ReceivedBatches != before.ReceivedBatches+1 {
			t.Fatalf("batch not counted")
		}
		if after.DecodeErrors < before.DecodeErrors || after.Received < before.Received {
			t.Fatalf("counters went back")
		}
	})
}
