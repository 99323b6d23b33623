//go:build linux

package conformance

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_shm"
)

// shmInbox is the inbox size of the shared-memory systems under test: small,
// so that the largest message is 8 KiB.
const shmInbox = 64 << 10

func shmConfig(name string) xorc.Config {
	return xorc.Config{
		Transport: xorc.SharedMemory,
		Name:      name,
		Shm: xorc.ShmConfig{
			MaxProcesses:      8,
			MaxMachines:       64,
			InboxBytes:        shmInbox,
			HeartbeatInterval: xorc.Duration(200 * time.Millisecond),
			HeartbeatTimeout:  xorc.Duration(10 * time.Second), // -race on a loaded machine: deaths are seen by pidfd
		},
	}
}

func TestSharedMemory(t *testing.T) {
	Run(t, Target{
		Name:         "shm",
		Config:       shmConfig,
		MultiProcess: true,
		MaxMessage:   shmInbox / 8,
		Inject: func(t *testing.T, cfg xorc.Config, address string, payload []byte) error {
			tr, err := remote_shm.New(remote_shm.Options{Name: cfg.Name, ProcessName: "injector"})
			if err != nil {
				return err
			}
			defer tr.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return tr.WriteRaw(ctx, address, remote_shm.RecordBatch, payload)
		},
		Cleanup: func(name string) { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) },
	})
}
