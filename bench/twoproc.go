//go:build unix

package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
)

// The xorc rows between two processes (xorc-shm, xorc-pipe): this process
// sends to a toggle machine that a peer process (this binary re-executed)
// runs, both with the same configuration of the transport under test.

const envName = "XORC_BENCH_NAME"

var benchSeq atomic.Uint64

// serveXorc is the peer of a two-process xorc row: it runs the toggle
// machine with cfg until its stdin ends.
func serveXorc(cfg xorc.Config, cmds *peerIO) error {
	m, err := actor.LoadJSON([]byte(ToggleJSON), nil)
	if err != nil {
		return err
	}
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	orc, err := xorc.New(system, cfg)
	if err != nil {
		return err
	}
	defer orc.Close()
	if _, err := orc.Spawn(context.Background(), "toggle", m); err != nil {
		return err
	}
	cmds.say("READY")
	return cmds.serve(func(f []string) (string, error) {
		if f[0] == "events" {
			return strconv.FormatUint(orc.Stats().Events, 10), nil
		}
		return "", fmt.Errorf("unknown command %q", f[0])
	})
}

// runXorcPair starts the peer (role, with env) and measures machine events
// and requests from this process to its toggle machine, with cfg.
func runXorcPair(ctx context.Context, o Options, cfg xorc.Config, role string, env ...string) (Row, error) {
	peer, err := startPeer(ctx, role, env...)
	if err != nil {
		return Row{}, err
	}
	defer peer.close()
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	orc, err := xorc.New(system, cfg)
	if err != nil {
		return Row{}, err
	}
	defer orc.Close()
	ev := actor.Event{Type: "T"}
	t := &Target{
		Send: func(n int) error {
			for range n {
				if err := orc.Send(ctx, "toggle", ev); err != nil {
					return err
				}
			}
			// One link, in order: this answer comes after every event above.
			_, err := orc.Snapshot(ctx, "toggle")
			return err
		},
		Request: func() error {
			_, err := orc.Request(ctx, "toggle", ev)
			return err
		},
		Processed: func() uint64 {
			res, err := peer.do("events")
			if err != nil {
				return 0
			}
			n, _ := strconv.ParseUint(res, 10, 64)
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
