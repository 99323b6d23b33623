package xorc

import (
	"errors"
	"fmt"

	"github.com/xorc-dev/xorc/internal/remote"
	"github.com/xorc-dev/xorc/registry"
)

// Errors callers match with errors.Is. The registry's sentinels are re-exported
// so that an error from any layer has one identity.
var (
	// ErrUnknownMachine: no machine has this ID (never spawned, or stopped).
	ErrUnknownMachine = registry.ErrUnknownMachine
	// ErrMachineExists: Spawn of an ID that a machine already has.
	ErrMachineExists = registry.ErrMachineExists
	// ErrInvalidMachineID: empty, longer than 64 bytes, or not UTF-8.
	ErrInvalidMachineID = registry.ErrInvalidID
	// ErrProcessDied: the process that owned the machine died.
	ErrProcessDied = registry.ErrProcessDied
	// ErrEmptyEventType: an event without a type.
	ErrEmptyEventType = errors.New("xorc: empty event type")
	// ErrBadEvent: the machine refused the event (e.g. undecodable payload).
	ErrBadEvent = errors.New("xorc: bad event")
	// ErrTransportUnavailable: the configured transport is not built (yet) or
	// cannot start here; the error is a *TransportUnavailableError.
	ErrTransportUnavailable = errors.New("xorc: transport unavailable")
	// ErrInvalidConfig: a bad Config, environment variable or config file.
	ErrInvalidConfig = errors.New("xorc: invalid config")
	// ErrClosed: the orchestrator was closed.
	ErrClosed = errors.New("xorc: orchestrator closed")
	// ErrNotOwner: Stop of a machine that another process owns.
	ErrNotOwner = errors.New("xorc: machine owned by another process")
	// ErrNilMachine: Spawn without a compiled machine.
	ErrNilMachine = errors.New("xorc: nil machine")
	// ErrInboxFull: a machine of another process did not take the message
	// before the send's deadline (its process's inbox stayed full).
	ErrInboxFull = remote.ErrFull
	// ErrMessageTooLarge: the encoded message is larger than the transport
	// carries (for shared memory, an eighth of the inbox).
	ErrMessageTooLarge = remote.ErrTooLarge
	// ErrUndelivered: events sent earlier to machines of the same process
	// were accepted (Send returned nil) but could not be delivered (their
	// process's inbox stayed full past the send timeout, the transport
	// closed); they went to dead letters. The error wraps the cause; the
	// Send that returns it did not send its own event.
	ErrUndelivered = remote.ErrUndelivered
)

// TransportUnavailableError says which transport is unavailable and why. It
// matches ErrTransportUnavailable with errors.Is.
type TransportUnavailableError struct {
	Transport TransportKind
	Reason    string // e.g. "not built yet"
	Err       error  // the underlying error, if any (e.g. remote_pipe.ErrUnsupportedPlatform)
}

func (e *TransportUnavailableError) Error() string {
	return fmt.Sprintf("transport %s is %s", e.Transport, e.Reason)
}

// Is makes errors.Is(err, ErrTransportUnavailable) true.
func (e *TransportUnavailableError) Is(target error) bool { return target == ErrTransportUnavailable }

// Unwrap returns the underlying error (nil if none).
func (e *TransportUnavailableError) Unwrap() error { return e.Err }
