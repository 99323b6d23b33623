//go:build !(linux || darwin)

package remote_pipe

import (
	"context"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
)

// Supported returns ErrUnsupportedPlatform: the named-pipe transport runs on
// Linux and macOS.
func Supported() error { return ErrUnsupportedPlatform }

// Transport is a process's membership of a named-pipe system; it cannot be
// created on this platform: New returns ErrUnsupportedPlatform.
type Transport struct{}

// TransportStats are a transport's counters.
type TransportStats struct {
	remote.Stats
	Node        Stats  `json:"node"`
	EarlyFrames uint64 `json:"early_frames,omitempty"`
}

// New returns ErrUnsupportedPlatform.
func New(TransportOptions) (*Transport, error) { return nil, ErrUnsupportedPlatform }

// Address is empty on this platform.
func (*Transport) Address() string { return "" }

// Registry is nil on this platform.
func (*Transport) Registry() *registry.Shm { return nil }

// Self is empty on this platform.
func (*Transport) Self() registry.Process { return registry.Process{} }

// Node is nil on this platform.
func (*Transport) Node() *Node { return nil }

// Start returns ErrUnsupportedPlatform.
func (*Transport) Start(*pactor.ActorSystem) error { return ErrUnsupportedPlatform }

// Deliver returns ErrUnsupportedPlatform.
func (*Transport) Deliver(context.Context, *pactor.PID, *pactor.PID, any) error {
	return ErrUnsupportedPlatform
}

// Close does nothing on this platform.
func (*Transport) Close() error { return nil }

// Stats are empty on this platform.
func (*Transport) Stats() TransportStats { return TransportStats{} }
