//go:build unix

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/registry"
)

// Row names of the shared-memory suite.
const (
	RowXorcShm        = "xorc-shm"
	RowProtoactorGRPC = "protoactor-grpc"
)

func init() {
	Register(Suite{
		Transport: "shm",
		Baseline:  RowProtoactorGRPC,
		Compare:   [][2]string{{RowXorcShm, RowXorcInproc}},
		Expand: func(o Options) []Runner {
			rs := []Runner{
				{Name: RowXorcShm, Run: func(ctx context.Context, o Options) (Row, error) { return runXorcShm(ctx, o, o.ShmSpin) }},
				{Name: RowProtoactorGRPC, Run: runProtoactorGRPC},
				{Name: RowXorcInproc, Run: runXorcInproc},
			}
			for _, spin := range o.ShmSpins {
				rs = append(rs, Runner{Name: fmt.Sprintf("%s spin=%v", RowXorcShm, spin),
					Run: func(ctx context.Context, o Options) (Row, error) { return runXorcShm(ctx, o, spin) }})
			}
			return rs
		},
	})
	registerPeer(peerXorcShm, serveXorcShm)
}

const (
	peerXorcShm = "xorc-shm"
	envName     = "XORC_BENCH_NAME"
	envSpin     = "XORC_BENCH_SPIN"
)

var benchSeq atomic.Uint64

// shmConfig is the configuration both processes of an xorc-shm row use.
func shmConfig(name string, spin time.Duration) xorc.Config {
	return xorc.Config{
		Transport:      xorc.SharedMemory,
		Name:           name,
		RequestTimeout: xorc.Duration(requestTimeout),
		SendTimeout:    xorc.Duration(requestTimeout),
		Shm:            xorc.ShmConfig{MaxProcesses: 4, MaxMachines: 16, Spin: xorc.Duration(spin)},
	}
}

// serveXorcShm is the peer of an xorc-shm row: it runs the toggle machine.
func serveXorcShm(env func(string) string, cmds *peerIO) error {
	spin, err := time.ParseDuration(env(envSpin))
	if err != nil {
		return err
	}
	m, err := actor.LoadJSON([]byte(ToggleJSON), nil)
	if err != nil {
		return err
	}
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	orc, err := xorc.New(system, shmConfig(env(envName), spin))
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

// runXorcShm measures machine events and requests from this process to a
// toggle machine in a peer process, over shared memory.
func runXorcShm(ctx context.Context, o Options, spin time.Duration) (Row, error) {
	name := fmt.Sprintf("bench-%d-%d", os.Getpid(), benchSeq.Add(1))
	defer func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) }()
	peer, err := startPeer(ctx, peerXorcShm, envName+"="+name, envSpin+"="+spin.String())
	if err != nil {
		return Row{}, err
	}
	defer peer.close()
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(quietLogger))
	defer system.Shutdown()
	orc, err := xorc.New(system, shmConfig(name, spin))
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
