//go:build linux || darwin

package xorc

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_pipe"
)

// pipeTransport adapts remote_pipe.Transport to the facade's seam.
type pipeTransport struct {
	opts remote_pipe.TransportOptions
	t    *remote_pipe.Transport
}

// pipeSupported says whether the named-pipe transport runs on this
// platform (a variable so that tests can take the other branch).
var pipeSupported = remote_pipe.Supported

func newPipeTransport(cfg Config) (Transport, error) {
	if err := pipeSupported(); err != nil {
		return nil, pipeUnavailable(err)
	}
	if err := registry.ValidateSegmentName(cfg.Name); err != nil {
		return nil, fmt.Errorf("%w: name: %w", ErrInvalidConfig, err)
	}
	sh, p := cfg.Shm, cfg.Pipe
	return &pipeTransport{opts: remote_pipe.TransportOptions{
		Name:              cfg.Name,
		RegistryDir:       sh.Dir,
		RegistryMode:      os.FileMode(sh.Mode),
		ProcessName:       processName(),
		MaxProcesses:      sh.MaxProcesses,
		MaxMachines:       sh.MaxMachines,
		HeartbeatInterval: time.Duration(sh.HeartbeatInterval),
		HeartbeatTimeout:  time.Duration(sh.HeartbeatTimeout),
		Dir:               p.Dir,
		DirMode:           fs.FileMode(p.DirMode),
		SocketMode:        fs.FileMode(p.SocketMode),
		MaxFrame:          p.MaxFrame,
		AllowUIDs:         p.AllowUIDs,
		SendTimeout:       time.Duration(cfg.SendTimeout),
	}}, nil
}

func (p *pipeTransport) Kind() TransportKind { return NamedPipe }

func (p *pipeTransport) Start(system *pactor.ActorSystem) error {
	if p.opts.Logger == nil {
		p.opts.Logger = system.Logger()
	}
	t, err := remote_pipe.New(p.opts)
	if err != nil {
		return err
	}
	if err := t.Start(system); err != nil {
		_ = t.Close()
		return err
	}
	p.t = t
	return nil
}

func (p *pipeTransport) Registry() registry.Registry { return p.t.Registry() }

func (p *pipeTransport) Deliver(ctx context.Context, target, sender *pactor.PID, msg any) error {
	return p.t.Deliver(ctx, target, sender, msg)
}

func (p *pipeTransport) AwaitReply(proc pactor.Process) (*remote.Await, bool) {
	return p.t.AwaitReply(proc)
}

func (p *pipeTransport) Route(target *pactor.PID) *remote.Route { return p.t.Route(target) }

func (p *pipeTransport) Close() error {
	if p.t == nil {
		return nil
	}
	return p.t.Close()
}

// Stats returns the transport's counters (see TransportStats).
func (p *pipeTransport) Stats() TransportStats {
	st := p.t.Stats()
	return TransportStats{Stats: st.Stats, Pipe: &st}
}
