//go:build !(linux || darwin)

package remote_pipe

import (
	"context"
	"time"
)

// Node is one process's end of the named-pipe transport. On this platform
// it cannot be created: Listen returns ErrUnsupportedPlatform.
type Node struct{}

// Listen returns ErrUnsupportedPlatform: the named-pipe transport runs on
// Linux and macOS.
func Listen(Options, Handler) (*Node, error) { return nil, ErrUnsupportedPlatform }

// Path is empty on this platform.
func (*Node) Path() string { return "" }

// Dir is empty on this platform.
func (*Node) Dir() string { return "" }

// MaxFrame is 0 on this platform.
func (*Node) MaxFrame() int { return 0 }

// Stats are empty on this platform.
func (*Node) Stats() Stats { return Stats{} }

// Link returns ErrUnsupportedPlatform.
func (*Node) Link(Target) (*Link, error) { return nil, ErrUnsupportedPlatform }

// Close does nothing on this platform.
func (*Node) Close() error { return nil }

// Link is the sending side towards one peer; it does not exist on this platform.
type Link struct{ target Target }

// Target is where the link connects to.
func (l *Link) Target() Target { return l.target }

// Peer reports no peer on this platform.
func (*Link) Peer() (PeerInfo, bool) { return PeerInfo{}, false }

// Stats are empty on this platform.
func (*Link) Stats() LinkStats { return LinkStats{} }

// Send returns ErrUnsupportedPlatform.
func (*Link) Send(context.Context, []byte) error { return ErrUnsupportedPlatform }

// SendDeadline returns ErrUnsupportedPlatform.
func (*Link) SendDeadline(time.Time, []byte) error { return ErrUnsupportedPlatform }

// MaxFrame is 0 on this platform.
func (*Link) MaxFrame() int { return 0 }

// Close does nothing on this platform.
func (*Link) Close(error) {}
