package xorc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// TransportKind chooses how an orchestrator reaches machines in other
// processes. The zero value is InProcess.
type TransportKind uint8

const (
	// InProcess: every machine lives in this process (the seed's
	// InProcessOrchestrator). XORC_TRANSPORT=inproc.
	InProcess TransportKind = iota
	// SharedMemory: processes on one host, through per-process inbox rings in
	// /dev/shm (Linux; Config.Shm configures it). XORC_TRANSPORT=shm.
	SharedMemory
	// NamedPipe: processes on one host, through Unix domain sockets
	// (Linux and macOS; Config.Pipe configures it, the registry settings of
	// Config.Shm apply to its registry). XORC_TRANSPORT=pipe.
	NamedPipe
	// Redis: processes on several hosts, through a Redis server.
	// XORC_TRANSPORT=redis. Not built yet.
	Redis
	// Hybrid: shared memory on the host, Redis across hosts.
	// XORC_TRANSPORT=hybrid. Not built yet.
	Hybrid
)

var transportNames = [...]string{
	InProcess:    "inproc",
	SharedMemory: "shm",
	NamedPipe:    "pipe",
	Redis:        "redis",
	Hybrid:       "hybrid",
}

// String returns the transport's name as XORC_TRANSPORT spells it.
func (k TransportKind) String() string {
	if int(k) < len(transportNames) {
		return transportNames[k]
	}
	return fmt.Sprintf("transport(%d)", uint8(k))
}

// ParseTransport parses a transport name: inproc, shm, pipe, redis or hybrid
// (case-insensitive). Anything else fails with ErrInvalidConfig.
func ParseTransport(s string) (TransportKind, error) {
	for k, name := range transportNames {
		if strings.EqualFold(s, name) {
			return TransportKind(k), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown transport %q (want one of %s)", ErrInvalidConfig, s, strings.Join(transportNames[:], ", "))
}

// MarshalText implements encoding.TextMarshaler ("inproc", "shm", ...).
func (k TransportKind) MarshalText() ([]byte, error) {
	if int(k) >= len(transportNames) {
		return nil, fmt.Errorf("%w: unknown transport %d", ErrInvalidConfig, uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *TransportKind) UnmarshalText(b []byte) error {
	v, err := ParseTransport(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("250ms", "5s").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%w: duration %q: %v", ErrInvalidConfig, b, err)
	}
	*d = Duration(v)
	return nil
}

// DefaultName is the system name used when Config.Name is empty.
const DefaultName = "xorc"

// DefaultRequestTimeout bounds a Request whose context has no deadline.
const DefaultRequestTimeout = 5 * time.Second

// Config chooses the transport and names the system. The zero value is a
// valid in-process configuration.
type Config struct {
	// Transport chooses how other processes are reached (default InProcess).
	Transport TransportKind `json:"transport"`
	// Name names the system: the shared-memory segment, the pipe directory,
	// the Redis key prefix. Processes with the same Name and transport see
	// each other's machines. Default DefaultName.
	Name string `json:"name,omitempty"`
	// RequestTimeout bounds Request when its context has no deadline
	// (default DefaultRequestTimeout).
	RequestTimeout Duration `json:"request_timeout,omitempty"`
	// SendTimeout bounds a send to a machine of another process whose
	// context has no deadline, and every proto.actor send across processes:
	// while the target's inbox is full the sender waits this long, then the
	// send fails (default DefaultSendTimeout).
	SendTimeout Duration `json:"send_timeout,omitempty"`
	// Shm configures the shared-memory transport, and the registry of the
	// named-pipe transport (its Dir, Mode, MaxProcesses, MaxMachines and
	// heartbeats; not InboxBytes or Spin).
	Shm ShmConfig `json:"shm,omitzero"`
	// Pipe configures the named-pipe transport.
	Pipe PipeConfig `json:"pipe,omitzero"`
}

// PipeConfig configures the named-pipe transport (Transport: NamedPipe).
// Every process listens on a Unix domain socket in Dir; its registry (which
// process owns which machine, which processes live) is the shared-memory
// one, configured by Config.Shm.
type PipeConfig struct {
	// Dir is the socket directory (default $XDG_RUNTIME_DIR/xorc/<Name>,
	// else /tmp/xorc-<uid>/<Name>). It is created 0700 if missing and
	// refused if it is a symlink, not ours, or more open than DirMode.
	Dir string `json:"dir,omitempty"`
	// DirMode and SocketMode are the directory's and the sockets'
	// permission bits (defaults 0700 and 0600). Peers of another user
	// (AllowUIDs) need modes that let them reach the socket.
	DirMode    FileMode `json:"dir_mode,omitempty"`
	SocketMode FileMode `json:"socket_mode,omitempty"`
	// MaxFrame is the largest batch of messages in one frame, in bytes
	// (default 16 MiB, at most 256 MiB): a larger message fails with
	// ErrMessageTooLarge; a larger frame from a peer closes its connection.
	MaxFrame int `json:"max_frame,omitempty"`
	// AllowUIDs are the user IDs, besides this process's own, allowed to
	// connect to it and to be connected to (the kernel reports the peer's
	// uid: SO_PEERCRED, LOCAL_PEERCRED).
	AllowUIDs []int `json:"allow_uids,omitempty"`
}

// DefaultSendTimeout bounds a send to another process whose context has no
// deadline.
const DefaultSendTimeout = 5 * time.Second

// ShmConfig configures the shared-memory transport (Transport: SharedMemory).
// The capacities and Mode apply when this process creates the segment; a
// process joining an existing one uses the segment's.
type ShmConfig struct {
	// Dir is where the segment file lives (default /dev/shm, a tmpfs).
	Dir string `json:"dir,omitempty"`
	// Mode is the segment file's permission bits (default 0600: only this
	// user's processes can join).
	Mode FileMode `json:"mode,omitempty"`
	// MaxProcesses is the size of the process table (default 16).
	MaxProcesses int `json:"max_processes,omitempty"`
	// MaxMachines bounds the machines of the whole system (default 256).
	MaxMachines int `json:"max_machines,omitempty"`
	// InboxBytes is each process's inbox ring, a power of two (default 1 MiB).
	// The largest message is an eighth of it.
	InboxBytes int `json:"inbox_bytes,omitempty"`
	// Spin is how long a process polls its empty inbox before it sleeps in
	// the kernel: lower latency for more CPU while busy. 0 takes the
	// default (remote_shm.DefaultSpinBudget); a negative value disables it.
	Spin Duration `json:"spin,omitempty"`
	// HeartbeatInterval (default 1 s) and HeartbeatTimeout (default 5
	// intervals): a process whose heartbeat is older counts as dead even if
	// its pid lives. A killed process is noticed at once without them.
	HeartbeatInterval Duration `json:"heartbeat_interval,omitempty"`
	HeartbeatTimeout  Duration `json:"heartbeat_timeout,omitempty"`
}

// FileMode is an os.FileMode that reads and writes JSON as an octal string
// ("0600").
type FileMode os.FileMode

// MarshalText implements encoding.TextMarshaler.
func (m FileMode) MarshalText() ([]byte, error) {
	return []byte(fmt.Sprintf("%#o", uint32(m))), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *FileMode) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 8, 32)
	if err != nil || v&^uint64(os.ModePerm) != 0 {
		return fmt.Errorf("%w: mode %q: want octal permission bits such as 0600", ErrInvalidConfig, b)
	}
	*m = FileMode(v)
	return nil
}

// withDefaults fills the zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = Duration(DefaultRequestTimeout)
	}
	if int(c.Transport) >= len(transportNames) {
		return c, fmt.Errorf("%w: unknown transport %d", ErrInvalidConfig, uint8(c.Transport))
	}
	if len(c.Name) > 64 || strings.ContainsAny(c.Name, "/\x00") {
		return c, fmt.Errorf("%w: name %q: at most 64 bytes, no '/' or NUL", ErrInvalidConfig, c.Name)
	}
	if c.RequestTimeout < 0 {
		return c, fmt.Errorf("%w: request_timeout %v is negative", ErrInvalidConfig, time.Duration(c.RequestTimeout))
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = Duration(DefaultSendTimeout)
	}
	if c.SendTimeout < 0 {
		return c, fmt.Errorf("%w: send_timeout %v is negative", ErrInvalidConfig, time.Duration(c.SendTimeout))
	}
	sh := c.Shm
	switch {
	case sh.MaxProcesses < 0 || sh.MaxMachines < 0 || sh.InboxBytes < 0:
		return c, fmt.Errorf("%w: shm: negative capacity", ErrInvalidConfig)
	case sh.InboxBytes != 0 && sh.InboxBytes&(sh.InboxBytes-1) != 0:
		return c, fmt.Errorf("%w: shm.inbox_bytes %d is not a power of two", ErrInvalidConfig, sh.InboxBytes)
	case sh.HeartbeatInterval < 0 || sh.HeartbeatTimeout < 0:
		return c, fmt.Errorf("%w: shm: negative heartbeat", ErrInvalidConfig)
	case os.FileMode(sh.Mode)&^os.ModePerm != 0:
		return c, fmt.Errorf("%w: shm.mode %#o: only permission bits", ErrInvalidConfig, uint32(sh.Mode))
	}
	if err := c.Pipe.validate(); err != nil {
		return c, err
	}
	return c, nil
}

// maxPipeFrame is remote_pipe.MaxMaxFrame (the config does not import the
// transport).
const maxPipeFrame = 256 << 20

func (p PipeConfig) validate() error {
	switch {
	case p.MaxFrame < 0 || p.MaxFrame > maxPipeFrame:
		return fmt.Errorf("%w: pipe.max_frame %d: 0 (default) to %d", ErrInvalidConfig, p.MaxFrame, maxPipeFrame)
	case p.DirMode != 0 && (os.FileMode(p.DirMode)&^os.ModePerm != 0 || p.DirMode&0o700 != 0o700):
		return fmt.Errorf("%w: pipe.dir_mode %#o: permission bits including 0700", ErrInvalidConfig, uint32(p.DirMode))
	case p.SocketMode != 0 && (os.FileMode(p.SocketMode)&^os.ModePerm != 0 || p.SocketMode&0o600 != 0o600):
		return fmt.Errorf("%w: pipe.socket_mode %#o: permission bits including 0600", ErrInvalidConfig, uint32(p.SocketMode))
	}
	for i, uid := range p.AllowUIDs {
		if uid < 0 {
			return fmt.Errorf("%w: pipe.allow_uids[%d]: %d is not a uid", ErrInvalidConfig, i, uid)
		}
	}
	return nil
}

// Environment variables read by ConfigFromEnv.
const (
	EnvTransport      = "XORC_TRANSPORT"       // inproc | shm | pipe | redis | hybrid
	EnvName           = "XORC_NAME"            // Config.Name
	EnvRequestTimeout = "XORC_REQUEST_TIMEOUT" // Go duration, e.g. 2s
	EnvSendTimeout    = "XORC_SEND_TIMEOUT"    // Go duration: Config.SendTimeout
	EnvShmInboxBytes  = "XORC_SHM_INBOX_BYTES" // Config.Shm.InboxBytes
	EnvShmSpin        = "XORC_SHM_SPIN"        // Go duration: Config.Shm.Spin (negative: no spinning)
	EnvPipeDir        = "XORC_PIPE_DIR"        // Config.Pipe.Dir
	EnvPipeMaxFrame   = "XORC_PIPE_MAX_FRAME"  // Config.Pipe.MaxFrame, bytes
	EnvPipeAllowUIDs  = "XORC_PIPE_ALLOW_UIDS" // Config.Pipe.AllowUIDs, comma-separated
)

// ConfigFromEnv builds a Config from the XORC_* variables above; unset
// variables keep their defaults. A bad value
// fails with ErrInvalidConfig naming the variable.
func ConfigFromEnv() (Config, error) {
	var c Config
	if v, ok := os.LookupEnv(EnvTransport); ok && v != "" {
		k, err := ParseTransport(v)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvTransport, err)
		}
		c.Transport = k
	}
	c.Name = os.Getenv(EnvName)
	if v, ok := os.LookupEnv(EnvRequestTimeout); ok && v != "" {
		if err := c.RequestTimeout.UnmarshalText([]byte(v)); err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvRequestTimeout, err)
		}
	}
	if v, ok := os.LookupEnv(EnvSendTimeout); ok && v != "" {
		if err := c.SendTimeout.UnmarshalText([]byte(v)); err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvSendTimeout, err)
		}
	}
	if v, ok := os.LookupEnv(EnvShmInboxBytes); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w: %q is not a number", EnvShmInboxBytes, ErrInvalidConfig, v)
		}
		c.Shm.InboxBytes = n
	}
	if v, ok := os.LookupEnv(EnvShmSpin); ok && v != "" {
		if err := c.Shm.Spin.UnmarshalText([]byte(v)); err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvShmSpin, err)
		}
	}
	c.Pipe.Dir = os.Getenv(EnvPipeDir)
	if v, ok := os.LookupEnv(EnvPipeMaxFrame); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w: %q is not a number", EnvPipeMaxFrame, ErrInvalidConfig, v)
		}
		c.Pipe.MaxFrame = n
	}
	if v, ok := os.LookupEnv(EnvPipeAllowUIDs); ok && v != "" {
		for f := range strings.SplitSeq(v, ",") {
			uid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return Config{}, fmt.Errorf("%s: %w: %q is not a list of uids", EnvPipeAllowUIDs, ErrInvalidConfig, v)
			}
			c.Pipe.AllowUIDs = append(c.Pipe.AllowUIDs, uid)
		}
	}
	if _, err := c.withDefaults(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads a Config from a JSON file such as
//
//	{"transport": "inproc", "name": "fab1", "request_timeout": "2s"}
//
// Unknown fields are errors (a typo must not silently choose a default).
// Errors wrap ErrInvalidConfig and name the file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %v", ErrInvalidConfig, path, err)
	}
	if dec.More() {
		return Config{}, fmt.Errorf("%w: %s: data after the JSON object", ErrInvalidConfig, path)
	}
	if _, err := c.withDefaults(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
