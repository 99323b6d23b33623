//go:build unix

package xorc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_shm"
)

// shmTransport adapts remote_shm.Transport to the facade's seam.
type shmTransport struct {
	opts remote_shm.Options
	t    *remote_shm.Transport
}

func newShmTransport(cfg Config) (Transport, error) {
	if err := registry.ValidateSegmentName(cfg.Name); err != nil {
		return nil, fmt.Errorf("%w: name: %w", ErrInvalidConfig, err)
	}
	sh := cfg.Shm
	return &shmTransport{opts: remote_shm.Options{
		Name:              cfg.Name,
		Dir:               sh.Dir,
		Mode:              os.FileMode(sh.Mode),
		ProcessName:       processName(),
		MaxProcesses:      sh.MaxProcesses,
		MaxMachines:       sh.MaxMachines,
		InboxBytes:        sh.InboxBytes,
		Spin:              time.Duration(sh.Spin),
		SendTimeout:       time.Duration(cfg.SendTimeout),
		HeartbeatInterval: time.Duration(sh.HeartbeatInterval),
		HeartbeatTimeout:  time.Duration(sh.HeartbeatTimeout),
		Inline:            actor.DefaultDispatcher(),
	}}, nil
}

func processName() string {
	n := filepath.Base(os.Args[0])
	if len(n) > registry.MaxProcessNameLen {
		n = n[:registry.MaxProcessNameLen]
	}
	return n
}

func (s *shmTransport) Kind() TransportKind { return SharedMemory }

func (s *shmTransport) Start(system *pactor.ActorSystem) error {
	if s.opts.Logger == nil {
		s.opts.Logger = system.Logger()
	}
	t, err := remote_shm.New(s.opts)
	if err != nil {
		return err
	}
	if err := t.Start(system); err != nil {
		_ = t.Close()
		return err
	}
	s.t = t
	return nil
}

func (s *shmTransport) Registry() registry.Registry { return s.t.Registry() }

func (s *shmTransport) Deliver(ctx context.Context, target, sender *pactor.PID, msg any) error {
	return s.t.Deliver(ctx, target, sender, msg)
}

func (s *shmTransport) PollRequest(ctx context.Context, target, sender *pactor.PID, msg any, replies <-chan any) (any, bool, error) {
	return s.t.PollRequest(ctx, target, sender, msg, replies)
}

func (s *shmTransport) AwaitReply(proc pactor.Process) (*remote.Await, bool) {
	return s.t.AwaitReply(proc)
}

func (s *shmTransport) Route(target *pactor.PID) *remote.Route { return s.t.Route(target) }

func (s *shmTransport) Close() error {
	if s.t == nil {
		return nil
	}
	return s.t.Close()
}

// Stats returns the transport's counters (see TransportStats).
func (s *shmTransport) Stats() TransportStats {
	st := s.t.Stats()
	return TransportStats{Stats: st.Stats, Shm: &st}
}
