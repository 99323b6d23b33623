package registry

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInProcRegisterLookup(t *testing.T) {
	r := NewInProc("test", "inproc://test")
	self := r.Self()
	assert.Equal(t, os.Getpid(), self.PID)
	assert.Equal(t, "test", self.Name)
	assert.Equal(t, "inproc://test", self.Address)
	assert.Equal(t, ProcessActive, self.Status)

	require.NoError(t, r.Register("b", "xorc/b"))
	require.NoError(t, r.Register("a", "xorc/a"))
	m, err := r.Lookup("a")
	require.NoError(t, err)
	assert.Equal(t, "xorc/a", m.ActorID)
	assert.Equal(t, "inproc://test", m.Owner.Address)
	assert.False(t, m.RegisteredAt.IsZero())
	assert.Equal(t, 2, r.Self().Machines)

	ids := []string{}
	for _, m := range r.Machines() {
		ids = append(ids, m.ID)
	}
	assert.Equal(t, []string{"a", "b"}, ids, "sorted")
	require.Len(t, r.Processes(), 1)

	require.NoError(t, r.Unregister("a"))
	_, err = r.Lookup("a")
	require.ErrorIs(t, err, ErrUnknownMachine)
	require.ErrorIs(t, r.Unregister("a"), ErrUnknownMachine)
	require.NoError(t, r.Register("a", "xorc/a2"), "an ID can be taken again")
}

func TestInProcErrors(t *testing.T) {
	r := NewInProc("n", "addr")
	require.NoError(t, r.Register("m", "x"))
	err := r.Register("m", "y")
	require.ErrorIs(t, err, ErrMachineExists)
	assert.Contains(t, err.Error(), fmt.Sprint(os.Getpid()), "names the owner")

	for _, id := range []string{"", strings.Repeat("x", MaxMachineIDLen+1), "\xff\xfe"} {
		require.ErrorIs(t, r.Register(id, "a"), ErrInvalidID, "%q", id)
		_, err := r.Lookup(id)
		require.ErrorIs(t, err, ErrInvalidID)
		require.ErrorIs(t, r.Unregister(id), ErrInvalidID)
	}
	require.NoError(t, r.Register(strings.Repeat("x", MaxMachineIDLen), "a"), "exactly the limit is fine")

	called := false
	cancel := r.OnProcessDown(func(Process) { called = true })
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "idempotent")
	cancel()
	assert.False(t, called, "a lone process has no peer going down")
	require.ErrorIs(t, r.Register("z", "z"), ErrClosed)
	_, err = r.Lookup("m")
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, r.Unregister("m"), ErrClosed)
	assert.Empty(t, r.Machines())
	assert.Empty(t, r.Processes())
}

func TestInProcConcurrentRegister(t *testing.T) {
	r := NewInProc("n", "addr")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.Register("same", "x") == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
			_, _ = r.Lookup("same")
			_ = r.Machines()
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins, "exactly one registration wins")
}
