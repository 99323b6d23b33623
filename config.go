package xorc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
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
	// /dev/shm. XORC_TRANSPORT=shm. Not built yet.
	SharedMemory
	// NamedPipe: processes on one host, through Unix domain sockets.
	// XORC_TRANSPORT=pipe. Not built yet.
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
	return c, nil
}

// Environment variables read by ConfigFromEnv.
const (
	EnvTransport      = "XORC_TRANSPORT"       // inproc | shm | pipe | redis | hybrid
	EnvName           = "XORC_NAME"            // Config.Name
	EnvRequestTimeout = "XORC_REQUEST_TIMEOUT" // Go duration, e.g. 2s
)

// ConfigFromEnv builds a Config from XORC_TRANSPORT, XORC_NAME and
// XORC_REQUEST_TIMEOUT; unset variables keep their defaults. A bad value
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
