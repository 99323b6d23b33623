package remote_pipe

import (
	"errors"
	"fmt"
)

// Errors callers match with errors.Is. Returned errors wrap them with the
// socket path, the peer and the cause.
var (
	// ErrFrameTooLarge: a payload longer than the frame limit (ours, or the
	// smaller one the peer announced). Send refuses it; the connection is
	// not affected.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrBadFrame: a frame that breaks the protocol (unknown kind, length
	// over the limit, truncated, malformed control frame). The receiver
	// closes that connection; a peer that closed our connection for it
	// reports it to us in its goodbye.
	ErrBadFrame = errors.New("bad frame")
	// ErrUnreachable: the peer cannot be connected to (no socket, nobody
	// listening, the handshake failed or timed out). Send returns it, or the
	// last such error while the link waits out its redial backoff.
	ErrUnreachable = errors.New("peer unreachable")
	// ErrConnLost: an established connection broke without a goodbye (the
	// peer died or reset it). Frames queued on it are reported with it.
	ErrConnLost = errors.New("connection lost")
	// ErrPeerClosed: the peer closed the connection in an orderly way
	// (it is shutting down).
	ErrPeerClosed = errors.New("peer closed the connection")
	// ErrRefused: the peer refused us: our uid is not allowed, or our hello
	// was not acceptable (version, identity).
	ErrRefused = errors.New("connection refused by peer")
	// ErrNotAllowed: the peer's uid (as the kernel reports it) is neither
	// ours nor in Options.AllowUIDs. The acceptor closes such connections;
	// the dialer refuses to talk to such a listener.
	ErrNotAllowed = errors.New("peer uid not allowed")
	// ErrWrongPeer: the socket answered with another identity (registry
	// slot and generation) than the link expected: a stale address.
	ErrWrongPeer = errors.New("socket belongs to another process")
	// ErrQueueFull: the link's queue stayed full until the caller's
	// deadline (the peer reads too slowly). Wraps the context's error too.
	ErrQueueFull = errors.New("send queue full")
	// ErrClosed: the link or node was closed by this process.
	ErrClosed = errors.New("closed")
	// ErrUnsafeDir: the socket directory is a symlink, not a directory, not
	// owned by us, or more permissive than allowed.
	ErrUnsafeDir = errors.New("unsafe socket directory")
	// ErrAddressInUse: another live process listens on the socket path.
	ErrAddressInUse = errors.New("socket address in use")
	// ErrInvalidOptions: an option out of range.
	ErrInvalidOptions = errors.New("invalid pipe options")
)

// ErrUnsupportedPlatform: the named-pipe transport runs on Linux and macOS
// only (on Windows, Listen returns it). It wraps errors.ErrUnsupported.
var ErrUnsupportedPlatform = fmt.Errorf("named-pipe transport: unsupported platform: %w", errors.ErrUnsupported)
