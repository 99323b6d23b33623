package registry

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"time"
)

// InProc is the Registry of a single process: a map behind a mutex. It is what
// the in-process transport uses, and the in-memory twin of the shared-memory
// registry in tests. It has no peers, so OnProcessDown callbacks never run.
type InProc struct {
	mu       sync.RWMutex
	self     Process
	machines map[string]Machine
	closed   bool
}

var _ Registry = (*InProc)(nil)

// NewInProc returns an empty registry for this process, named name, whose
// actors carry the transport address address.
func NewInProc(name, address string) *InProc {
	return &InProc{
		self: Process{
			Slot:          0,
			Generation:    1,
			PID:           os.Getpid(),
			Name:          name,
			Address:       address,
			LastHeartbeat: time.Now(),
			Status:        ProcessActive,
		},
		machines: make(map[string]Machine),
	}
}

// Self is this process's entry.
func (r *InProc) Self() Process {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p := r.self
	p.Machines = len(r.machines)
	return p
}

// Register records that this process owns machineID, served by actorID.
func (r *InProc) Register(machineID, actorID string) error {
	if err := ValidateID(machineID); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("register %q: %w", machineID, ErrClosed)
	}
	if m, ok := r.machines[machineID]; ok {
		return fmt.Errorf("%w: %q is owned by process %d (%s)", ErrMachineExists, machineID, m.Owner.PID, m.Owner.Name)
	}
	now := time.Now()
	r.machines[machineID] = Machine{ID: machineID, Owner: r.self, ActorID: actorID, RegisteredAt: now, LastActivity: now}
	return nil
}

// Unregister removes a machine this process owns.
func (r *InProc) Unregister(machineID string) error {
	if err := ValidateID(machineID); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("unregister %q: %w", machineID, ErrClosed)
	}
	if _, ok := r.machines[machineID]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownMachine, machineID)
	}
	delete(r.machines, machineID)
	return nil
}

// Lookup finds a machine.
func (r *InProc) Lookup(machineID string) (Machine, error) {
	if err := ValidateID(machineID); err != nil {
		return Machine{}, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return Machine{}, fmt.Errorf("lookup %q: %w", machineID, ErrClosed)
	}
	m, ok := r.machines[machineID]
	if !ok {
		return Machine{}, fmt.Errorf("%w: %q", ErrUnknownMachine, machineID)
	}
	return m, nil
}

// Machines lists the registered machines, sorted by ID.
func (r *InProc) Machines() []Machine {
	r.mu.RLock()
	out := make([]Machine, 0, len(r.machines))
	for _, m := range r.machines {
		out = append(out, m)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Processes lists this process (the only one), or nothing once closed.
func (r *InProc) Processes() []Process {
	r.mu.RLock()
	closed := r.closed
	r.mu.RUnlock()
	if closed {
		return nil
	}
	return []Process{r.Self()}
}

// OnProcessDown accepts fn for interface compatibility; a single process has
// no peer that could go down, so fn is never called.
func (r *InProc) OnProcessDown(fn func(Process)) (cancel func()) {
	return func() {}
}

// Close forgets every machine. Later calls fail with ErrClosed; Close itself
// is idempotent.
func (r *InProc) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.self.Status = ProcessDisconnected
	r.machines = map[string]Machine{}
	return nil
}
