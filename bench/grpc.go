//go:build unix

package bench

import (
	"context"
	"encoding/json"
	"fmt"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/xorc-dev/xorc/proto"
)

const peerGRPC = "protoactor-grpc"

func init() { registerPeer(peerGRPC, serveGRPC) }

// grpcCounter is the baseline actor of the gRPC row: it counts
// *proto.Event, answers one with a sender, and answers *proto.GetSnapshot
// with its count (in a *proto.Snapshot's context).
type grpcCounter struct{ n int }

func (a *grpcCounter) Receive(c pactor.Context) {
	switch c.Message().(type) {
	case *proto.Event:
		a.n++
		if c.Sender() != nil {
			c.Respond(&proto.Event{Type: "ok"})
		}
	case *proto.GetSnapshot:
		c.Respond(&proto.Snapshot{MachineId: "counter", ContextJson: fmt.Appendf(nil, `{"n":%d}`, a.n)})
	}
}

// serveGRPC is the peer of the gRPC row: an actor system with proto.actor's
// remote on 127.0.0.1 and a counter actor named "counter".
func serveGRPC(_ func(string) string, cmds *peerIO) error {
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	r := remote.NewRemote(system, remote.Configure("127.0.0.1", 0))
	r.Start()
	defer r.Shutdown(false)
	if _, err := system.Root.SpawnNamed(pactor.PropsFromProducer(func() pactor.Actor { return &grpcCounter{} }), "counter"); err != nil {
		return err
	}
	cmds.say("READY %s", system.Address())
	return cmds.serve(func(f []string) (string, error) { return "", fmt.Errorf("unknown command %q", f[0]) })
}

// runProtoactorGRPC measures plain proto.actor messages and RequestFuture
// round trips from this process to an actor in a peer process, over
// proto.actor's own gRPC remote (both ends on 127.0.0.1).
func runProtoactorGRPC(ctx context.Context, o Options) (Row, error) {
	peer, err := startPeer(ctx, peerGRPC)
	if err != nil {
		return Row{}, err
	}
	defer peer.close()
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	r := remote.NewRemote(system, remote.Configure("127.0.0.1", 0))
	r.Start()
	defer r.Shutdown(false)
	root := system.Root
	pid := pactor.NewPID(peer.info, "counter")
	msg := &proto.Event{Type: "T"}
	count := func() (uint64, error) {
		res, err := root.RequestFuture(pid, &proto.GetSnapshot{}, requestTimeout).Result()
		if err != nil {
			return 0, err
		}
		s, ok := res.(*proto.Snapshot)
		if !ok {
			return 0, fmt.Errorf("unexpected reply %T", res)
		}
		var c struct{ N uint64 }
		err = json.Unmarshal(s.ContextJson, &c)
		return c.N, err
	}
	t := &Target{
		Send: func(n int) error {
			for range n {
				root.Send(pid, msg)
			}
			_, err := count() // one connection, in order: after every message above
			return err
		},
		Request: func() error {
			_, err := root.RequestFuture(pid, msg, requestTimeout).Result()
			return err
		},
		Processed: func() uint64 {
			n, _ := count()
			return n
		},
	}
	row, err := measure(o, t)
	if err != nil {
		return row, err
	}
	if o.IdleFor > 0 {
		if row.IdleCPUPct, err = peer.idleCPUPercent(o.IdleFor); err != nil {
			return row, fmt.Errorf("idle CPU: %w", err)
		}
	}
	return row, nil
}
