package registry

import (
	"errors"
	"time"
)

// MaxMachineIDLen is the longest machine ID in bytes (the seed's table width).
const MaxMachineIDLen = 64

// Errors callers match with errors.Is. Returned errors wrap them with the
// machine ID and, where known, the owning process.
var (
	ErrUnknownMachine = errors.New("unknown machine")
	ErrMachineExists  = errors.New("machine already registered")
	ErrInvalidID      = errors.New("invalid machine ID")
	ErrProcessDied    = errors.New("owning process died")
	ErrFull           = errors.New("registry table full")
	ErrClosed         = errors.New("registry closed")
)

// ProcessStatus is a process table entry's status.
type ProcessStatus uint32

const (
	ProcessFree         ProcessStatus = iota // slot unused
	ProcessActive                            // alive and heartbeating
	ProcessDisconnected                      // left cleanly
	ProcessCrashed                           // found dead (pid gone or reused, or heartbeat stale)
)

func (s ProcessStatus) String() string {
	switch s {
	case ProcessFree:
		return "free"
	case ProcessActive:
		return "active"
	case ProcessDisconnected:
		return "disconnected"
	case ProcessCrashed:
		return "crashed"
	}
	return "unknown"
}

// Process describes one registered process.
type Process struct {
	Slot          int    // index in the process table
	Generation    uint32 // bumped every time the slot is taken, so a reused slot is a new process
	PID           int    // OS process ID
	StartTime     uint64 // OS process start time (clock ticks since boot on Linux)
	Name          string
	Address       string // the transport address: actor PIDs of this process carry it
	LastHeartbeat time.Time
	Machines      int
	Status        ProcessStatus
}

// Machine describes one registered machine.
type Machine struct {
	ID           string
	Owner        Process // the owning process as it was at lookup time
	ActorID      string  // the proto.actor PID.Id of the machine's actor in the owner
	RegisteredAt time.Time
	LastActivity time.Time
}

// Registry is the shared view of which process owns which machine.
type Registry interface {
	// Self is this process's own entry.
	Self() Process
	// Register records that this process owns machineID, served by actorID.
	// A machine ID owned by a live process fails with ErrMachineExists naming the owner.
	Register(machineID, actorID string) error
	// Unregister removes a machine this process owns.
	Unregister(machineID string) error
	// Lookup finds a machine's owner. A machine whose owner died fails with
	// ErrProcessDied naming the machine; an unknown one with ErrUnknownMachine.
	Lookup(machineID string) (Machine, error)
	// Machines lists the registered machines.
	Machines() []Machine
	// Processes lists the process table's used entries.
	Processes() []Process
	// OnProcessDown registers fn to be called (from a registry goroutine) once
	// for every process found dead or departed. It returns a function that
	// removes fn.
	OnProcessDown(fn func(Process)) (cancel func())
	// Close unregisters this process and its machines and releases resources.
	Close() error
}

// ValidateID checks a machine ID: non-empty, valid UTF-8, at most MaxMachineIDLen bytes.
func ValidateID(id string) error {
	return validateID(id)
}
