//go:build linux || darwin

package conformance

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_pipe"
)

// pipeMaxFrame is the frame limit of the named-pipe systems under test:
// small, so that the too-large case stays cheap.
const pipeMaxFrame = 64 << 10

func pipeConfig(name string) xorc.Config {
	return xorc.Config{
		Transport: xorc.NamedPipe,
		Name:      name,
		Shm: xorc.ShmConfig{
			MaxProcesses:      8,
			MaxMachines:       64,
			HeartbeatInterval: xorc.Duration(200 * time.Millisecond),
			HeartbeatTimeout:  xorc.Duration(10 * time.Second), // -race on a loaded machine: deaths are seen by pidfd and broken connections
		},
		Pipe: xorc.PipeConfig{MaxFrame: pipeMaxFrame},
	}
}

func TestNamedPipe(t *testing.T) {
	Run(t, Target{
		Name:         "pipe",
		Config:       pipeConfig,
		MultiProcess: true,
		MaxMessage:   pipeMaxFrame,
		// A frame from a socket of our own, through B's listener, to its
		// routing core: what a peer's link would send.
		Inject: func(t *testing.T, cfg xorc.Config, address string, payload []byte) error {
			dir, err := os.MkdirTemp("", "xci")
			require.NoError(t, err)
			defer os.RemoveAll(dir)
			n, err := remote_pipe.Listen(remote_pipe.Options{Dir: dir, Slot: -1}, func(remote_pipe.PeerInfo, []byte) {})
			if err != nil {
				return err
			}
			defer n.Close()
			l, err := n.Link(remote_pipe.Target{Path: address})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return l.Send(ctx, payload)
		},
		StaleAddress: func(address string) string {
			dir, slot, gen, err := remote_pipe.ParseAddress(address)
			if err != nil {
				return ""
			}
			return remote_pipe.AddressFor(dir, slot, gen-1)
		},
		Cleanup: func(name string) {
			_ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name))
			if dir, err := remote_pipe.DefaultDir(name); err == nil {
				_ = os.RemoveAll(dir)
			}
		},
	})
}
