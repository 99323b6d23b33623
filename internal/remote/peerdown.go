package remote

import (
	"fmt"

	"github.com/xorc-dev/xorc/registry"
)

// Peer deaths as the transports that keep their processes in the
// shared-memory registry (shared memory, named pipes) report them: one
// error text and one sweep, whatever carries the bytes.

// ProcessDown is the error of sends to a process the registry found dead or
// departed: it wraps registry.ErrProcessDied and names the process.
func ProcessDown(p registry.Process) error {
	state := "crashed"
	if p.Status == registry.ProcessDisconnected {
		state = "left"
	}
	return fmt.Errorf("%w: process %d (%q, slot %d, generation %d) %s",
		registry.ErrProcessDied, p.PID, p.Name, p.Slot, p.Generation, state)
}

// ProcessTable is the part of the registry PeerGone reads.
type ProcessTable interface {
	Process(slot int) (registry.Process, error)
}

// PeerGone is the error of sends to the process that had generation gen of
// slot at address, once it is no longer alive: ProcessDown of its entry if
// the slot still shows it, else a plain "is gone" (the slot was reused or
// freed). Both wrap registry.ErrProcessDied.
func PeerGone(reg ProcessTable, address string, slot int, gen uint32) error {
	p, err := reg.Process(slot)
	if err == nil && p.Generation == gen && p.Status != registry.ProcessFree {
		return ProcessDown(p)
	}
	return fmt.Errorf("%w: process at %s (slot %d, generation %d) is gone", registry.ErrProcessDied, address, slot, gen)
}

// CheckPeers calls PeerDown for every live peer for which gone returns an
// error (that error as the cause): a transport's periodic sweep for deaths
// its registry did not report (the registry reports only processes its
// monitor saw alive; one that joined and died between two scans is found
// dead, not reported).
func (c *Core) CheckPeers(gone func(address string) error) {
	for _, addr := range c.Peers() {
		if err := gone(addr); err != nil {
			c.PeerDown(addr, err)
		}
	}
}
