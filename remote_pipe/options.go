package remote_pipe

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/xorc-dev/xorc/registry"
)

// Defaults for Options' zero fields.
const (
	DefaultDirMode          = 0o700
	DefaultSocketMode       = 0o600
	DefaultQueueBytes       = 1 << 20
	DefaultSendTimeout      = 10 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultBackoffMin       = 10 * time.Millisecond
	DefaultBackoffMax       = time.Second
	DefaultAckDelay         = 20 * time.Millisecond
	DefaultCloseTimeout     = time.Second
)

// Handler receives the data frames of one inbound connection, in order, on
// that connection's reader goroutine (frames of different connections
// arrive concurrently). payload is valid only until Handler returns: copy
// what you keep. A slow Handler slows that peer down (back pressure), no
// one else.
type Handler func(from PeerInfo, payload []byte)

// PeerInfo identifies the process at the other end of a connection.
type PeerInfo struct {
	Slot       int    // registry process slot it announced (-1: none)
	Generation uint32 // registry slot generation it announced
	PID        int    // process ID it announced
	UID        int    // its user ID as the kernel reports it (SO_PEERCRED / LOCAL_PEERCRED)
}

func (p PeerInfo) String() string {
	return fmt.Sprintf("slot %d gen %d pid %d uid %d", p.Slot, p.Generation, p.PID, p.UID)
}

// Target says where a link connects to.
type Target struct {
	Path string // the peer's socket path (its Node.Path, recorded as its registry address)
	// Slot and Generation, when Generation is not 0, must match what the
	// peer announces in its welcome: a socket answering with another
	// identity is refused with ErrWrongPeer.
	Slot       int
	Generation uint32
}

// TargetFor is the target for a process from the registry: its recorded
// address, slot and generation.
func TargetFor(p registry.Process) Target {
	return Target{Path: p.Address, Slot: p.Slot, Generation: p.Generation}
}

func (t Target) String() string {
	if t.Generation == 0 {
		return t.Path
	}
	return fmt.Sprintf("%s (slot %d gen %d)", t.Path, t.Slot, t.Generation)
}

// Undelivered reports the frames a connection could not deliver when it
// ended: never a silent drop. Every frame Send accepted (returned nil for)
// ends up either acknowledged by the peer, in Payloads, or counted in
// Unconfirmed.
type Undelivered struct {
	Err error // why the connection ended (wraps ErrConnLost, ErrPeerClosed, ErrRefused, ErrClosed...)
	// Payloads were accepted by Send but never completely written, in
	// order; the receiver of the report owns them again.
	Payloads [][]byte
	// Unconfirmed frames were written to the socket but the peer did not
	// acknowledge them before the connection ended: they may or may not
	// have reached its Handler.
	Unconfirmed uint64
}

// Options configure a Node. Zero values take the defaults.
type Options struct {
	// Name is the namespace (xorc's Config.Name): the default directory is
	// $XDG_RUNTIME_DIR/xorc/Name, else /tmp/xorc-<uid>/Name. Letters,
	// digits, '.', '_' and '-'.
	Name string
	// Dir replaces the default directory. It is created if missing (its
	// parent must exist) and must be a directory owned by us, not a
	// symlink, with no permission bits outside DirMode.
	Dir string
	// DirMode is the directory's mode and the most it may allow (default 0700).
	DirMode fs.FileMode
	// SocketMode is the socket file's mode (default 0600). Peers of
	// another uid (AllowUIDs) need a DirMode and SocketMode that let them
	// reach and connect to the socket.
	SocketMode fs.FileMode
	// SocketName is the socket's file name in Dir. Default
	// "<slot>.<generation>.sock" when Slot >= 0, else "p<pid>.sock".
	SocketName string
	// Slot and Generation are this process's registry slot and slot
	// generation (registry.Process), announced to every peer. Slot -1
	// means no registry.
	Slot       int
	Generation uint32
	// MaxFrame is the largest data payload this node accepts and sends
	// (default DefaultMaxFrame, at most MaxMaxFrame).
	MaxFrame int
	// AllowUIDs are the user IDs, besides our own, allowed to connect to us
	// and to be connected to.
	AllowUIDs []int
	// QueueBytes bounds what one link holds waiting for the socket (frames
	// with their headers); Send blocks while it is full (default 1 MiB).
	// A single frame larger than it is accepted when the queue is empty. A
	// busy link keeps two buffers of up to twice this for reuse.
	QueueBytes int
	// SendTimeout bounds Send when its context has no deadline (default 10s).
	SendTimeout time.Duration
	// HandshakeTimeout bounds connecting and the hello/welcome exchange (default 5s).
	HandshakeTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between failed dials of one
	// link; it doubles after each failure and resets on success
	// (defaults 10ms and 1s).
	BackoffMin, BackoffMax time.Duration
	// AckDelay is how long a receiver gathers deliveries before it
	// acknowledges them (default 20ms; none while idle).
	// Acknowledgements only serve the accounting of frames lost with a
	// connection: a shorter delay makes Undelivered.Unconfirmed smaller
	// and costs a timer and a small write per delay per busy connection
	// (at 2ms it measurably slowed a ping-pong).
	AckDelay time.Duration
	// CloseTimeout bounds Close's flush of queued frames (default 1s).
	CloseTimeout time.Duration
	// OnUndelivered is called (on a link goroutine, never under a lock)
	// once per ended connection that left frames undelivered or
	// unconfirmed. Nil: they are counted and logged.
	OnUndelivered func(to Target, u Undelivered)
	// Logger receives refused connections, bad frames and lost
	// connections (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults validates o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	if o.DirMode == 0 {
		o.DirMode = DefaultDirMode
	}
	if o.SocketMode == 0 {
		o.SocketMode = DefaultSocketMode
	}
	if o.MaxFrame == 0 {
		o.MaxFrame = DefaultMaxFrame
	}
	if o.QueueBytes == 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.AckDelay == 0 {
		o.AckDelay = DefaultAckDelay
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	bad := func(format string, args ...any) (Options, error) {
		return o, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
	}
	switch {
	case o.Dir == "" && o.Name == "":
		return bad("a Name or a Dir is needed")
	case o.DirMode&^fs.ModePerm != 0 || o.DirMode&0o700 != 0o700:
		return bad("DirMode %v: permission bits including 0700", o.DirMode)
	case o.SocketMode&^fs.ModePerm != 0 || o.SocketMode&0o600 != 0o600:
		return bad("SocketMode %v: permission bits including 0600", o.SocketMode)
	case o.MaxFrame < 0 || o.MaxFrame > MaxMaxFrame:
		return bad("MaxFrame %d: 1 to %d", o.MaxFrame, MaxMaxFrame)
	case o.QueueBytes < 0:
		return bad("QueueBytes %d", o.QueueBytes)
	case o.Slot < -1:
		return bad("Slot %d: -1 (none) or a registry slot", o.Slot)
	case o.SendTimeout < 0 || o.HandshakeTimeout < 0 || o.AckDelay < 0 || o.CloseTimeout < 0:
		return bad("negative timeout")
	case o.BackoffMin < 0 || o.BackoffMax < o.BackoffMin:
		return bad("backoff %v..%v", o.BackoffMin, o.BackoffMax)
	}
	if o.Name != "" {
		if err := registry.ValidateSegmentName(o.Name); err != nil {
			return o, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
		}
	}
	if o.SocketName == "" {
		if o.Slot >= 0 {
			o.SocketName = strconv.Itoa(o.Slot) + "." + strconv.FormatUint(uint64(o.Generation), 10) + sockSuffix
		} else {
			o.SocketName = "p" + strconv.Itoa(os.Getpid()) + sockSuffix
		}
	}
	if err := registry.ValidateSegmentName(o.SocketName); err != nil || filepath.Ext(o.SocketName) != sockSuffix {
		return bad("SocketName %q: letters, digits, '.', '_', '-', ending in %q", o.SocketName, sockSuffix)
	}
	o.AllowUIDs = slices.Clone(o.AllowUIDs)
	return o, nil
}

const (
	sockSuffix = ".sock"
	lockSuffix = ".lock"
)

// DefaultDir is the default socket directory for name:
// $XDG_RUNTIME_DIR/xorc/name if XDG_RUNTIME_DIR is set, else
// /tmp/xorc-<uid>/name.
func DefaultDir(name string) (string, error) {
	if err := registry.ValidateSegmentName(name); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "xorc", name), nil
	}
	return filepath.Join("/tmp", "xorc-"+strconv.Itoa(os.Geteuid()), name), nil
}
