package remote

import (
	"strconv"
	"strings"
	"sync/atomic"

	pactor "github.com/asynkron/protoactor-go/actor"
)

// Replies awaited through the core. A caller that sends a request through
// the core and waits for its reply (the facade's Request) can take a reply
// PID from the core instead of registering a process in the actor system:
// the core hands a reply to that PID straight to the caller's process. It
// saves the registry's insert and delete (a sharded map, on every request)
// and the lookup of each reply.
//
// The PIDs are this process's address and an id "xorc-await$<n>"; the core
// looks such ids up in a small table first, then in the registry (a reply
// that comes after its caller gave up finds neither: a dead letter, as
// before).

// awaitPrefix starts the ids of awaited reply PIDs.
const awaitPrefix = "xorc-await$"

// awaitSlots is the size of the table of awaited replies (by a hash of the
// id); a request whose slot is taken falls back to the registry.
const awaitSlots = 256

// Await is a reply PID of this process, known to the core only.
type Await struct {
	c    *Core
	pid  *pactor.PID
	proc pactor.Process
	slot *atomic.Pointer[Await]
}

// AwaitReply returns a reply PID whose messages arriving through the core go
// to proc, until Release; false when the table has no room for it (then
// register a process in the actor system as usual).
func (c *Core) AwaitReply(proc pactor.Process) (*Await, bool) {
	id := awaitPrefix + strconv.FormatUint(c.awaitSeq.Add(1), 36)
	a := &Await{c: c, pid: &pactor.PID{Address: c.addr, Id: id}, proc: proc}
	a.slot = &c.awaits[hashString(id)%awaitSlots]
	if !a.slot.CompareAndSwap(nil, a) {
		return nil, false
	}
	return a, true
}

// PID is the reply PID to send as a request's sender.
func (a *Await) PID() *pactor.PID { return a.pid }

// Release forgets the reply PID: a reply that comes later is a dead letter.
func (a *Await) Release() { a.slot.CompareAndSwap(a, nil) }

// awaited returns the Await of a reply PID id, or nil.
func (c *Core) awaited(id []byte) *Await {
	if len(id) <= len(awaitPrefix) || string(id[:len(awaitPrefix)]) != awaitPrefix {
		return nil
	}
	if a := c.awaits[hashBytes(id)%awaitSlots].Load(); a != nil && a.pid.Id == string(id) {
		return a
	}
	return nil
}

// awaitedPID returns the Await of pid if it is an awaited reply PID.
func (c *Core) awaitedPID(pid *pactor.PID) *Await {
	if !strings.HasPrefix(pid.Id, awaitPrefix) {
		return nil
	}
	if a := c.awaits[hashString(pid.Id)%awaitSlots].Load(); a != nil && a.pid.Id == pid.Id {
		return a
	}
	return nil
}

// localProcess returns the process of a local PID id: an awaited reply's,
// or the registry's (its DeadLetter process when there is none).
func (c *Core) localProcess(pid *pactor.PID) pactor.Process {
	if a := c.awaitedPID(pid); a != nil {
		return a.proc
	}
	proc, _ := c.sys.ProcessRegistry.GetLocal(pid.Id)
	return proc
}
