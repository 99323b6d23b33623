package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"
)

// ErrInvalidName is wrapped by errors about a segment name or a process
// name that cannot be used.
var ErrInvalidName = errors.New("invalid name")

// DefaultDir is where segments live: a tmpfs, so unused pages cost nothing.
const DefaultDir = "/dev/shm"

// segmentPrefix starts every segment's file name.
const segmentPrefix = "xorc."

// maxSegmentNameLen bounds Config.Name (the file name must stay well below NAME_MAX).
const maxSegmentNameLen = 100

// Liveness defaults.
const (
	DefaultHeartbeatInterval = time.Second
	DefaultHeartbeatMisses   = 5 // HeartbeatTimeout defaults to this many intervals
	DefaultPollInterval      = 50 * time.Millisecond
)

// ShmOptions configures OpenShm. Only Name is required. The capacities
// (MaxProcesses, MaxMachines, InboxBytes, InboxHeaderBytes) and Mode apply
// when this call creates the segment; a process opening an existing segment
// uses the capacities stored in its header.
type ShmOptions struct {
	// Name names the segment: the file DefaultDir/xorc.<Name>. Letters,
	// digits, '.', '_' and '-', at most 100 bytes.
	Name string
	// Dir overrides DefaultDir (tests). It should be a tmpfs.
	Dir string
	// Mode is the segment file's permission bits (default 0600).
	Mode os.FileMode
	// ProcessName is this process's name in the process table (default: the
	// executable's base name, cut to MaxProcessNameLen bytes).
	ProcessName string
	// Address is this process's initial transport address (see SetAddress).
	Address string

	// MaxProcesses is the size of the process table (default 16).
	MaxProcesses int
	// MaxMachines bounds the registered machines (default 256); the machine
	// table has the next power of two >= 2*MaxMachines entries so probe
	// chains stay short.
	MaxMachines int
	// InboxBytes is the data size of each process's inbox ring (default 1 MiB,
	// a power of two).
	InboxBytes int
	// InboxHeaderBytes is reserved in front of each inbox's data for the ring
	// header (a multiple of 64; default 4096, or 256 bytes per process slot
	// rounded up to a page when that is more). An inbox region is
	// InboxHeaderBytes+InboxBytes long. The transport should set it from its
	// ring's header size for MaxProcesses producers.
	InboxHeaderBytes int

	// HeartbeatInterval is how often this process writes its heartbeat and
	// scans the process table (default 1 s).
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is the heartbeat age after which a peer is declared
	// crashed even though its pid looks alive (default 5 intervals).
	HeartbeatTimeout time.Duration
	// PollInterval is how often peers' pids are checked when pidfd is not
	// available (default 50 ms). With pidfd a death is seen at once.
	PollInterval time.Duration
	// DisablePidfd forces the polling detector (tests; kernels before 5.3).
	DisablePidfd bool
}

func (o *ShmOptions) setDefaults() error {
	if err := ValidateSegmentName(o.Name); err != nil {
		return err
	}
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Mode == 0 {
		o.Mode = 0o600
	}
	if o.Mode&^os.ModePerm != 0 {
		return fmt.Errorf("segment mode %v: only permission bits are allowed", o.Mode)
	}
	if o.ProcessName == "" {
		o.ProcessName = truncateUTF8(filepath.Base(os.Args[0]), MaxProcessNameLen)
	}
	if len(o.ProcessName) > MaxProcessNameLen || !utf8.ValidString(o.ProcessName) {
		return fmt.Errorf("%w: process name %q: at most %d bytes of UTF-8", ErrInvalidName, o.ProcessName, MaxProcessNameLen)
	}
	if len(o.Address) > MaxAddressLen {
		return fmt.Errorf("%w: address %q is %d bytes, the limit is %d", ErrInvalidName, o.Address, len(o.Address), MaxAddressLen)
	}
	if o.MaxProcesses == 0 {
		o.MaxProcesses = DefaultMaxProcesses
	}
	if o.MaxMachines == 0 {
		o.MaxMachines = DefaultMaxMachines
	}
	if o.InboxBytes == 0 {
		o.InboxBytes = DefaultInboxBytes
	}
	if o.InboxHeaderBytes == 0 {
		// Room for a ring header with a cache-line pair per producer.
		o.InboxHeaderBytes = max(DefaultInboxHeaderLen, int(alignUp(uint64(o.MaxProcesses)*256, inboxAlign)))
	}
	if err := validateCapacities(o.MaxProcesses, o.MaxMachines, o.InboxBytes, o.InboxHeaderBytes); err != nil {
		return err
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.HeartbeatTimeout == 0 {
		o.HeartbeatTimeout = DefaultHeartbeatMisses * o.HeartbeatInterval
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	switch {
	case o.HeartbeatInterval < time.Millisecond:
		return fmt.Errorf("heartbeat interval %v: at least 1ms", o.HeartbeatInterval)
	case o.HeartbeatTimeout < 2*o.HeartbeatInterval:
		return fmt.Errorf("heartbeat timeout %v: at least two intervals (%v)", o.HeartbeatTimeout, 2*o.HeartbeatInterval)
	case o.PollInterval < time.Millisecond:
		return fmt.Errorf("poll interval %v: at least 1ms", o.PollInterval)
	}
	return nil
}

// ValidateSegmentName checks a segment name: 1 to 100 bytes of letters,
// digits, '.', '_' and '-' (so it can never name a path outside the directory).
func ValidateSegmentName(name string) error {
	if name == "" || len(name) > maxSegmentNameLen {
		return fmt.Errorf("%w: segment name %q: 1 to %d bytes", ErrInvalidName, name, maxSegmentNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: segment name %q: byte %q at %d; use letters, digits, '.', '_', '-'", ErrInvalidName, name, c, i)
		}
	}
	return nil
}

// SegmentPath is the file of the named segment in DefaultDir.
func SegmentPath(name string) (string, error) {
	return segmentPathIn(DefaultDir, name)
}

func segmentPathIn(dir, name string) (string, error) {
	if err := ValidateSegmentName(name); err != nil {
		return "", err
	}
	return filepath.Join(dir, segmentPrefix+name), nil
}

// Remove unlinks the named segment from DefaultDir. Processes that have it
// mapped keep their mapping; the next OpenShm creates a new segment.
func Remove(name string) error {
	path, err := SegmentPath(name)
	if err != nil {
		return err
	}
	return os.Remove(path)
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
