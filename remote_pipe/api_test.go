package remote_pipe

import (
	"context"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/registry"
)

// The same API on every platform (the stub for unsupported ones included):
// checked when the tests compile, for each GOOS vetted.
var (
	_ interface {
		Send(context.Context, []byte) error
		SendDeadline(time.Time, []byte) error
		MaxFrame() int
		Target() Target
		Peer() (PeerInfo, bool)
		Stats() LinkStats
		Close(error)
	} = (*Link)(nil)
	_ interface {
		Path() string
		Dir() string
		MaxFrame() int
		Stats() Stats
		Link(Target) (*Link, error)
		Close() error
	} = (*Node)(nil)
	_ func(Options, Handler) (*Node, error) = Listen
)

// The transport's API, the same on every platform.
var (
	_ interface {
		Address() string
		Registry() *registry.Shm
		Self() registry.Process
		Node() *Node
		Start(*pactor.ActorSystem) error
		Deliver(context.Context, *pactor.PID, *pactor.PID, any) error
		Close() error
		Stats() TransportStats
	} = (*Transport)(nil)
	_ func(TransportOptions) (*Transport, error) = New
	_ func() error                               = Supported
)
