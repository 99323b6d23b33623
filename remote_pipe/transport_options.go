package remote_pipe

import (
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/xorc-dev/xorc/internal/remote"
)

// TransportOptions configures New. Only Name is required.
type TransportOptions struct {
	// Name names the system: its registry segment (registry.OpenShm) and the
	// default socket directory (DefaultDir). Processes with the same Name
	// see each other's machines.
	Name string

	// The registry (the shared-memory process and machine tables, as for
	// the shared-memory transport; see registry.ShmOptions). The
	// capacities and RegistryMode apply when this process creates the
	// segment.
	RegistryDir       string      // segment directory (default /dev/shm)
	RegistryMode      os.FileMode // segment file mode (default 0600)
	ProcessName       string      // this process's name in the process table (default: the executable's)
	MaxProcesses      int         // process table entries (default 16)
	MaxMachines       int         // machine capacity (default 256)
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	PollInterval      time.Duration

	// The sockets (see Options).
	Dir        string      // socket directory (default DefaultDir(Name))
	DirMode    fs.FileMode // default 0700
	SocketMode fs.FileMode // default 0600
	// MaxFrame is the largest batch of envelopes sent or accepted in one
	// frame (default DefaultMaxFrame, 16 MiB): a larger message fails with
	// remote.ErrTooLarge.
	MaxFrame int
	// AllowUIDs are the user IDs, besides this process's, whose processes
	// may connect to it and be connected to.
	AllowUIDs []int
	// QueueBytes bounds what a link to one peer holds while the socket is
	// busy (default DefaultQueueBytes).
	QueueBytes int

	// SendTimeout is the deadline of a send whose caller gives none
	// (proto.actor sends, a context without deadline): a peer that does not
	// read makes the sender wait until then, then fail with remote.ErrFull
	// (default remote.DefaultSendTimeout, 5 s).
	SendTimeout time.Duration
	// MaxQueueBytes bounds the envelopes the routing core queues for one
	// peer while a write to it is in flight (default
	// remote.DefaultMaxQueueBytes, 1 MiB): a send that finds it full waits
	// for room until its deadline, then fails with remote.ErrFull. A message
	// larger than the bound (up to MaxFrame) waits until the queue is empty
	// and is then queued alone.
	MaxQueueBytes int

	// Logger (default: the actor system's, at Start).
	Logger *slog.Logger
}

func (o TransportOptions) sendTimeout() time.Duration {
	if o.SendTimeout > 0 {
		return o.SendTimeout
	}
	return remote.DefaultSendTimeout
}
