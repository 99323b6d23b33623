package remote_pipe

import (
	"context"
	"time"
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
