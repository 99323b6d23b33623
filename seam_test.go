package xorc

// The transport seam tested with an in-memory twin (in the style of
// hashicorp/raft's InmemTransport): two actor systems in this test process
// play two processes, joined by a "network" that carries every message as
// encoded protobuf bytes. The real transports (shared memory, named pipes) are
// tested across real OS processes in their own packages; this test pins down
// what the facade expects of any of them.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
	"github.com/xorc-dev/xorc/registry"
)

// loopNet is the shared medium: systems by address and one machine table.
type loopNet struct {
	mu       sync.Mutex
	systems  map[string]*pactor.ActorSystem
	machines map[string]registry.Machine
	fail     error // when set, every Deliver fails with it
	wire     atomic.Int64
}

func newLoopNet() *loopNet {
	return &loopNet{systems: map[string]*pactor.ActorSystem{}, machines: map[string]registry.Machine{}}
}

// carry moves encoded bytes to the target system, as a reader of a real
// transport would: decode, then deliver to the local PID.
func (n *loopNet) carry(data []byte) error {
	n.wire.Add(1)
	env, err := proto.UnmarshalEnvelope(data)
	if err != nil {
		return err
	}
	d, err := proto.Decode(env)
	if err != nil {
		return err
	}
	n.mu.Lock()
	sys := n.systems[d.Target.Address]
	n.mu.Unlock()
	if sys == nil {
		return fmt.Errorf("%w: no process at %s", registry.ErrProcessDied, d.Target.Address)
	}
	proc, _ := sys.ProcessRegistry.GetLocal(d.Target.Id) // dead letters when gone
	if d.System {
		proc.SendSystemMessage(d.Target, d.Message)
	} else {
		proc.SendUserMessage(d.Target, d.UserMessage())
	}
	return nil
}

type loopTransport struct {
	net  *loopNet
	addr string
	name string
	reg  *loopReg
}

func (t *loopTransport) Kind() TransportKind { return Hybrid }

func (t *loopTransport) Start(system *pactor.ActorSystem) error {
	system.ProcessRegistry.Address = t.addr
	system.ProcessRegistry.RegisterAddressResolver(func(pid *pactor.PID) (pactor.Process, bool) {
		t.net.mu.Lock()
		_, ok := t.net.systems[pid.Address]
		t.net.mu.Unlock()
		if !ok {
			return nil, false
		}
		return &loopProcess{t: t}, true
	})
	t.net.mu.Lock()
	t.net.systems[t.addr] = system
	t.net.mu.Unlock()
	t.reg = &loopReg{net: t.net, self: registry.Process{Name: t.name, Address: t.addr, PID: len(t.addr), Status: registry.ProcessActive}}
	return nil
}

func (t *loopTransport) Registry() registry.Registry { return t.reg }

func (t *loopTransport) Deliver(ctx context.Context, target, sender *pactor.PID, msg any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.net.mu.Lock()
	fail := t.net.fail
	t.net.mu.Unlock()
	if fail != nil {
		return fail
	}
	env, err := proto.Encode(target, sender, msg)
	if err != nil {
		return err
	}
	data, err := proto.MarshalEnvelope(env)
	if err != nil {
		return err
	}
	return t.net.carry(data)
}

func (t *loopTransport) Close() error {
	t.net.mu.Lock()
	delete(t.net.systems, t.addr)
	t.net.mu.Unlock()
	return t.reg.Close()
}

// loopProcess is what the address resolver hands proto.actor for a remote PID.
type loopProcess struct{ t *loopTransport }

func (p *loopProcess) SendUserMessage(pid *pactor.PID, msg any) {
	if err := p.t.Deliver(context.Background(), pid, nil, msg); err != nil {
		panic(err) // a test transport: make losses loud
	}
}

func (p *loopProcess) SendSystemMessage(pid *pactor.PID, msg any) { p.SendUserMessage(pid, msg) }
func (p *loopProcess) Stop(pid *pactor.PID)                       { p.SendSystemMessage(pid, &pactor.Stop{}) }

// loopReg is one process's view of the shared machine table.
type loopReg struct {
	net  *loopNet
	self registry.Process
}

func (r *loopReg) Self() registry.Process { return r.self }

func (r *loopReg) Register(id, actorID string) error {
	if err := registry.ValidateID(id); err != nil {
		return err
	}
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	if m, ok := r.net.machines[id]; ok {
		return fmt.Errorf("%w: %q owned by %s", registry.ErrMachineExists, id, m.Owner.Name)
	}
	r.net.machines[id] = registry.Machine{ID: id, Owner: r.self, ActorID: actorID}
	return nil
}

func (r *loopReg) Unregister(id string) error {
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	if m, ok := r.net.machines[id]; !ok || m.Owner.Address != r.self.Address {
		return fmt.Errorf("%w: %q", registry.ErrUnknownMachine, id)
	}
	delete(r.net.machines, id)
	return nil
}

func (r *loopReg) Lookup(id string) (registry.Machine, error) {
	if err := registry.ValidateID(id); err != nil {
		return registry.Machine{}, err
	}
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	m, ok := r.net.machines[id]
	if !ok {
		return registry.Machine{}, fmt.Errorf("%w: %q", registry.ErrUnknownMachine, id)
	}
	return m, nil
}

func (r *loopReg) Machines() []registry.Machine {
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	out := []registry.Machine{}
	for _, m := range r.net.machines {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (r *loopReg) Processes() []registry.Process               { return []registry.Process{r.self} }
func (r *loopReg) OnProcessDown(func(registry.Process)) func() { return func() {} }
func (r *loopReg) Close() error                                { return nil }

func TestTransportSeamAcrossTwoSystems(t *testing.T) {
	net := newLoopNet()
	a := newOrc(t, Config{}, WithTransport(&loopTransport{net: net, addr: "loop://a", name: "a"}))
	b := newOrc(t, Config{}, WithTransport(&loopTransport{net: net, addr: "loop://b", name: "b"}))
	assert.Equal(t, "loop://a", a.System().Address(), "Start set the address")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := waitFor(t, a, func(sc *actor.StateChanged) bool {
		return sc.MachineID == "ping" && sc.Snapshot.Status == actor.StatusDone
	})
	_, err := a.Spawn(ctx, "ping", load(t, pingChart, nil))
	require.NoError(t, err)
	_, err = b.Spawn(ctx, "pong", load(t, pongChart, nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"ping", "pong"}, a.Machines(), "one registry, both processes")

	_, err = b.Spawn(ctx, "ping", load(t, pingChart, nil))
	require.ErrorIs(t, err, ErrMachineExists, "an ID owned by the other process")

	pid, err := a.Lookup("pong")
	require.NoError(t, err)
	assert.Equal(t, "loop://b", pid.Address)

	// ping (in a) and pong (in b) talk by ID through the transport.
	before := net.wire.Load()
	require.NoError(t, b.Send(ctx, "ping", actor.Event{Type: "START"}))
	select {
	case sc := <-done:
		assert.EqualValues(t, 3, sc.Snapshot.Context["count"])
	case <-ctx.Done():
		t.Fatal("ping never finished")
	}
	assert.GreaterOrEqual(t, net.wire.Load()-before, int64(7), "START + 3 PING + 3 PONG crossed the wire")

	// A request across: the reply comes back as a *proto.Snapshot.
	s, err := a.Request(ctx, "pong", actor.Event{Type: "PING", Data: map[string]any{"note": "x"}})
	require.NoError(t, err)
	assert.Equal(t, "pong", s.MachineID)
	assert.EqualValues(t, 4, s.Context["count"])
	assert.Equal(t, "ready", s.Value)
	assert.True(t, s.Matches("ready"))
	assert.False(t, s.hasLocal, "decoded from the wire, not the local snapshot")
	s, err = b.Snapshot(ctx, "ping")
	require.NoError(t, err)
	assert.True(t, s.Done())

	// Stop is for the owner.
	require.ErrorIs(t, a.Stop(ctx, "pong"), ErrNotOwner)

	// A transport failure is reported, never swallowed.
	down := fmt.Errorf("peer: %w", registry.ErrProcessDied)
	net.mu.Lock()
	net.fail = down
	net.mu.Unlock()
	err = a.Send(ctx, "pong", actor.Event{Type: "PING"})
	require.ErrorIs(t, err, ErrProcessDied)
	_, err = a.Request(ctx, "pong", actor.Event{Type: "PING"})
	require.ErrorIs(t, err, ErrProcessDied)
	net.mu.Lock()
	net.fail = nil
	net.mu.Unlock()

	// An event the wire cannot carry fails at the sender.
	err = a.Send(ctx, "pong", actor.Event{Type: "PING", Data: map[string]any{"type": "clash"}})
	require.ErrorIs(t, err, proto.ErrUnknownType)

	// A machine stopped by its owner is unknown to the other process too.
	require.NoError(t, b.Stop(ctx, "pong"))
	_, err = a.Request(ctx, "pong", actor.Event{Type: "PING"})
	require.ErrorIs(t, err, ErrUnknownMachine)
	assert.Zero(t, a.Stats().Panics+b.Stats().Panics)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}
