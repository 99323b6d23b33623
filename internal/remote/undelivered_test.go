package remote

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/proto"
	"github.com/xorc-dev/xorc/registry"
)

// A batch a link accepted and then could not deliver comes back through
// Undelivered: every envelope is a dead letter (a request's sender gets a
// DeadLetterResponse at once, a Watch's watcher Terminated, a one-way
// message is published), counted; bytes that are not envelopes are counted
// and skipped without a panic.
func TestUndeliveredBatchBecomesDeadLetters(t *testing.T) {
	net := newNet()
	a := newNode(t, net, "a")
	target := pactor.NewPID(scheme+"gone", "m1")

	replies := make(chan any, 4)
	sender, _ := a.sys.ProcessRegistry.Add(funcProcess(func(m any) { replies <- m }), "replies")
	watcher, _ := a.sys.ProcessRegistry.Add(funcProcess(func(m any) { replies <- m }), "watcher")
	dead := make(chan *pactor.DeadLetterEvent, 8)
	sub := a.sys.EventStream.Subscribe(func(evt any) {
		if d, ok := evt.(*pactor.DeadLetterEvent); ok {
			dead <- d
		}
	})
	defer a.sys.EventStream.Unsubscribe(sub)

	var batch []byte
	var err error
	batch, err = appendEnvelope(batch, target, nil, &proto.Event{Type: "one-way"})
	require.NoError(t, err)
	batch, err = appendEnvelope(batch, target, sender, &proto.Event{Type: "request"})
	require.NoError(t, err)
	batch, err = appendEnvelope(batch, target, nil, &pactor.Watch{Watcher: watcher})
	require.NoError(t, err)

	cause := fmt.Errorf("%w: process at %s crashed", registry.ErrProcessDied, target.Address)
	assert.Equal(t, 3, a.core.Undelivered(target.Address, batch, cause))

	got := map[string]bool{}
	for range 2 {
		select {
		case m := <-replies:
			switch m := m.(type) {
			case *pactor.DeadLetterResponse: // proto.actor's answer names no target
				got["request answered"] = true
			case *pactor.Terminated:
				assert.Equal(t, target.Id, m.Who.Id)
				assert.Equal(t, pactor.TerminatedReason_AddressTerminated, m.Why)
				got["watch terminated"] = true
			default:
				t.Fatalf("unexpected %T", m)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("only %v", got)
		}
	}
	assert.Len(t, got, 2)
	select {
	case d := <-dead:
		assert.Equal(t, target.Id, d.PID.Id)
	case <-time.After(5 * time.Second):
		t.Fatal("no dead letter published")
	}
	st := a.core.Stats()
	assert.Equal(t, uint64(3), st.Undelivered)
	assert.Equal(t, uint64(3), st.DeadLettersOut)
	assert.Equal(t, uint64(1), st.WatchTerminated)

	tests := []struct {
		name  string
		batch []byte
		n     int // envelopes counted
		bad   uint64
	}{
		{"empty", nil, 0, 0},
		{"broken tag", []byte{0xff}, 0, 1},
		{"envelope cut short", []byte{0x0a, 0x10, 1, 2}, 0, 1},
		{"envelope of garbage", []byte{0x0a, 0x02, 0xff, 0xff}, 1, 1},
		{"unknown field skipped", []byte{0x10, 0x01}, 0, 0},
		{"unknown field cut short", []byte{0x12, 0x05, 1}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.core.Stats()
			assert.Equal(t, tt.n, a.core.Undelivered(target.Address, tt.batch, cause))
			after := a.core.Stats()
			assert.Equal(t, uint64(tt.n), after.Undelivered-before.Undelivered)
			assert.Equal(t, tt.bad, after.EncodeErrors-before.EncodeErrors)
		})
	}

	a.core.Unconfirmed(target.Address, 0, cause)
	a.core.Unconfirmed(target.Address, 7, cause)
	assert.Equal(t, uint64(7), a.core.Stats().Unconfirmed)
}

type table map[int]registry.Process

func (tb table) Process(slot int) (registry.Process, error) {
	p, ok := tb[slot]
	if !ok {
		return registry.Process{}, errors.New("no such slot")
	}
	return p, nil
}

func TestPeerGoneAndProcessDown(t *testing.T) {
	crashed := registry.Process{Slot: 2, Generation: 5, PID: 4242, Name: "worker", Status: registry.ProcessCrashed}
	left := crashed
	left.Status = registry.ProcessDisconnected
	tests := []struct {
		name string
		tb   table
		gen  uint32
		want string
	}{
		{"crashed, still in its slot", table{2: crashed}, 5, `process 4242 ("worker", slot 2, generation 5) crashed`},
		{"left", table{2: left}, 5, `process 4242 ("worker", slot 2, generation 5) left`},
		{"slot reused", table{2: crashed}, 4, "process at /x (slot 2, generation 4) is gone"},
		{"slot freed", table{2: {Slot: 2, Generation: 5}}, 5, "is gone"},
		{"slot unreadable", table{}, 5, "is gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := PeerGone(tt.tb, "/x", 2, tt.gen)
			require.ErrorIs(t, err, registry.ErrProcessDied)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// CheckPeers takes down exactly the live peers gone reports.
func TestCheckPeers(t *testing.T) {
	net := newNet()
	a := newNode(t, net, "a")
	newNode(t, net, "b")
	newNode(t, net, "c")
	for _, p := range []string{"b", "c"} {
		a.sys.Root.Send(pactor.NewPID(scheme+p, "x"), &proto.Event{Type: "hi"})
	}
	require.ElementsMatch(t, []string{scheme + "b", scheme + "c"}, a.core.Peers())
	cause := fmt.Errorf("%w: c", registry.ErrProcessDied)
	a.core.CheckPeers(func(addr string) error {
		if addr == scheme+"c" {
			return cause
		}
		return nil
	})
	assert.Equal(t, []string{scheme + "b"}, a.core.Peers())
	assert.Equal(t, uint64(1), a.core.Stats().PeersDown)
	err := a.core.Deliver(t.Context(), pactor.NewPID(scheme+"c", "x"), nil, &proto.Event{Type: "late"})
	require.ErrorIs(t, err, cause)
}

// FuzzUndelivered: whatever bytes a transport hands back as an undelivered
// batch, the core never panics, and it counts every envelope field it finds.
func FuzzUndelivered(f *testing.F) {
	target := pactor.NewPID(scheme+"gone", "m1")
	var good []byte
	good, _ = appendEnvelope(good, target, nil, &proto.Event{Type: "T", Payload: []byte(`{"a":1}`)})
	good, _ = appendEnvelope(good, target, pactor.NewPID(scheme+"fuzz", "future$1"), &proto.Event{Type: "R"})
	good, _ = appendEnvelope(good, target, nil, &pactor.Watch{Watcher: pactor.NewPID(scheme+"fuzz", "w")})
	f.Add(good)
	f.Add([]byte{0x0a, 0x02, 0xff, 0xff})
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x12, 0x05, 1})
	f.Add([]byte{})

	sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	defer sys.Shutdown()
	sys.ProcessRegistry.Address = scheme + "fuzz"
	c, err := New(Config{System: sys, Address: scheme + "fuzz",
		Match: func(a string) bool { return strings.HasPrefix(a, scheme) },
		Dial:  func(a string) (Link, error) { return &memLink{net: newNet(), addr: a}, nil }})
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	cause := fmt.Errorf("%w: fuzz", registry.ErrProcessDied)
	f.Fuzz(func(t *testing.T, data []byte) {
		before := c.Stats()
		n := c.Undelivered(target.Address, data, cause)
		after := c.Stats()
		if uint64(n) != after.Undelivered-before.Undelivered {
			t.Fatalf("reported %d envelopes, counted %d", n, after.Undelivered-before.Undelivered)
		}
		if n > len(data)/2 {
			t.Fatalf("%d envelopes in %d bytes", n, len(data))
		}
	})
}
