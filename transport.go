package xorc

import (
	"context"
	"fmt"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_pipe"
	"github.com/xorc-dev/xorc/remote_shm"
)

// Transport is the seam between the facade and the way processes reach each
// other. The in-process transport is the trivial one; the shared-memory,
// named-pipe and Redis transports implement the same four steps:
//
//  1. Start(system) runs once, from New, before the orchestrator spawns any
//     machine. It opens or joins the registry, sets
//     system.ProcessRegistry.Address to this process's transport address (the
//     address every local PID then carries), and registers a proto.actor
//     AddressResolver (system.ProcessRegistry.RegisterAddressResolver) that
//     returns a pactor.Process for the PIDs of other processes. Plain
//     proto.actor code (Send, Request, RequestFuture, Watch, replies to
//     futures) then crosses processes unchanged. Incoming envelopes are
//     decoded (package proto) and delivered to local PIDs.
//  2. Registry() is the machine registry shared with the other processes: the
//     facade registers its machines there and looks up the others'.
//  3. Deliver(ctx, target, sender, msg) hands msg to target, a PID of another
//     process, with sender as the reply address (nil for a one-way message).
//     Unlike pactor.Process.SendUserMessage it reports failure: a full inbox
//     past ctx's deadline (a transport applies its own default deadline when
//     ctx has none), a dead peer (wrapping registry.ErrProcessDied), a
//     message without a wire form (wrapping proto.ErrUnknownType). It never
//     drops a message silently. The facade calls it only for targets in other
//     processes: a machine of this process always gets the Go value directly,
//     without encoding.
//  4. Close() detaches from the other processes and closes the registry.
type Transport interface {
	Kind() TransportKind
	Start(system *pactor.ActorSystem) error
	Registry() registry.Registry
	Deliver(ctx context.Context, target, sender *pactor.PID, msg any) error
	Close() error
}

// newTransport builds the transport cfg asks for. Transports that are not
// built yet fail with a *TransportUnavailableError.
func newTransport(cfg Config) (Transport, error) {
	switch cfg.Transport {
	case InProcess:
		return &inprocTransport{name: cfg.Name}, nil
	case SharedMemory:
		return newShmTransport(cfg)
	case NamedPipe:
		return newPipeTransport(cfg)
	case Redis, Hybrid:
		return nil, &TransportUnavailableError{Transport: cfg.Transport, Reason: "not built yet"}
	}
	return nil, fmt.Errorf("%w: unknown transport %d", ErrInvalidConfig, uint8(cfg.Transport))
}

// inprocTransport keeps everything in this process: an in-process registry,
// no address resolver, nothing to deliver remotely.
type inprocTransport struct {
	name string
	reg  *registry.InProc
}

func (t *inprocTransport) Kind() TransportKind { return InProcess }

func (t *inprocTransport) Start(system *pactor.ActorSystem) error {
	t.reg = registry.NewInProc(t.name, system.Address())
	return nil
}

func (t *inprocTransport) Registry() registry.Registry { return t.reg }

func (t *inprocTransport) Deliver(_ context.Context, target, _ *pactor.PID, _ any) error {
	return fmt.Errorf("%w: %s/%s is not in this process and the in-process transport reaches no other",
		ErrUnknownMachine, target.Address, target.Id)
}

func (t *inprocTransport) Close() error {
	if t.reg == nil {
		return nil
	}
	return t.reg.Close()
}

// TransportStats are the counters of a transport between processes: the
// routing core's (messages and batches sent and received, errors, dead
// letters, stale envelopes, peers down) and, for shared memory, the inbox's,
// for named pipes, the sockets'.
type TransportStats struct {
	remote.Stats
	// Shm holds the shared-memory transport's inbox counters (nil otherwise).
	Shm *remote_shm.Stats `json:"shm,omitempty"`
	// Pipe holds the named-pipe transport's counters, the sockets' among
	// them (Pipe.Node: connections, bad frames, refused peers; nil otherwise).
	Pipe *remote_pipe.TransportStats `json:"pipe,omitempty"`
}

// TransportStats returns the counters of the orchestrator's transport; false
// for a transport without any (in-process).
func (o *Orchestrator) TransportStats() (TransportStats, bool) {
	if s, ok := o.transport.(interface{ Stats() TransportStats }); ok {
		return s.Stats(), true
	}
	return TransportStats{}, false
}
