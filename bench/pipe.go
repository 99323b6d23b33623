//go:build linux || darwin

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_pipe"
)

// RowXorcPipe is the named-pipe suite's xorc row.
const RowXorcPipe = "xorc-pipe"

func init() {
	Register(Suite{
		Transport: "pipe",
		Baseline:  RowProtoactorGRPC,
		Compare:   [][2]string{{RowXorcPipe, RowXorcInproc}},
		Runners: []Runner{
			{Name: RowXorcPipe, Run: runXorcPipe},
			{Name: RowProtoactorGRPC, Run: runProtoactorGRPC},
			{Name: RowXorcInproc, Run: runXorcInproc},
		},
	})
	registerPeer(peerXorcPipe, serveXorcPipe)
}

const peerXorcPipe = "xorc-pipe"

// pipeConfig is the configuration both processes of an xorc-pipe row use
// (sockets in the default directory).
func pipeConfig(name string) xorc.Config {
	return xorc.Config{
		Transport:      xorc.NamedPipe,
		Name:           name,
		RequestTimeout: xorc.Duration(requestTimeout),
		SendTimeout:    xorc.Duration(requestTimeout),
		Shm:            xorc.ShmConfig{MaxProcesses: 4, MaxMachines: 16},
	}
}

// serveXorcPipe is the peer of an xorc-pipe row: it runs the toggle machine.
func serveXorcPipe(env func(string) string, cmds *peerIO) error {
	return serveXorc(pipeConfig(env(envName)), cmds)
}

// runXorcPipe measures machine events and requests from this process to a
// toggle machine in a peer process, over a Unix domain socket.
func runXorcPipe(ctx context.Context, o Options) (Row, error) {
	name := fmt.Sprintf("bench-pipe-%d-%d", os.Getpid(), benchSeq.Add(1))
	defer func() {
		_ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name))
		if dir, err := remote_pipe.DefaultDir(name); err == nil {
			_ = os.RemoveAll(dir)
		}
	}()
	return runXorcPair(ctx, o, pipeConfig(name), peerXorcPipe, envName+"="+name)
}
