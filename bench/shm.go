//go:build unix

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xorc-dev/xorc"
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
	envSpin     = "XORC_BENCH_SPIN"
)

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
	return serveXorc(shmConfig(env(envName), spin), cmds)
}

// runXorcShm measures machine events and requests from this process to a
// toggle machine in a peer process, over shared memory.
func runXorcShm(ctx context.Context, o Options, spin time.Duration) (Row, error) {
	name := fmt.Sprintf("bench-%d-%d", os.Getpid(), benchSeq.Add(1))
	defer func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) }()
	return runXorcPair(ctx, o, shmConfig(name, spin), peerXorcShm, envName+"="+name, envSpin+"="+spin.String())
}
