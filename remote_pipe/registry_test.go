//go:build linux || darwin

package remote_pipe

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/registry"
)

// The registry carries the socket path: a process records its node's path
// as its address, a peer finds it in the process table and links to it,
// and the acceptor sees the dialer's slot and generation.
func TestAddressThroughTheRegistry(t *testing.T) {
	if _, err := os.Stat(registry.DefaultDir); err != nil {
		t.Skipf("no %s: %v", registry.DefaultDir, err)
	}
	t.Setenv("XDG_RUNTIME_DIR", shortDir(t))
	name := fmt.Sprintf("xp-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	o := registry.ShmOptions{Name: name, MaxProcesses: 4, MaxMachines: 16, InboxBytes: registry.MinInboxBytes, InboxHeaderBytes: 256}
	t.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	join := func() (*registry.Shm, *testNode) {
		reg, err := registry.OpenShm(o)
		require.NoError(t, err)
		t.Cleanup(func() { _ = reg.Close() })
		self := reg.Self()
		tn := &testNode{in: newInbox(), log: &logBuf{}}
		n, err := Listen(Options{Name: name, Slot: self.Slot, Generation: self.Generation, Logger: tn.log.logger()}, tn.in.handler)
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		tn.Node = n
		require.NoError(t, reg.SetAddress(n.Path()))
		return reg, tn
	}
	regA, a := join()
	regB, b := join()
	require.NotEqual(t, regA.Self().Slot, regB.Self().Slot)

	var peer registry.Process
	for _, p := range regB.Processes() {
		if p.Slot == regA.Self().Slot {
			peer = p
		}
	}
	require.Equal(t, a.Path(), peer.Address)
	assert.Equal(t, fmt.Sprintf("%d.%d.sock", peer.Slot, peer.Generation), filepath.Base(peer.Address))
	l, err := b.Link(TargetFor(peer))
	require.NoError(t, err)
	require.NoError(t, l.Send(ctxTimeout(t, 10*time.Second), []byte("via the registry")))
	a.in.waitLen(t, 1)
	_, from := a.in.snapshot()
	assert.Equal(t, regB.Self().Slot, from[0].Slot)
	assert.Equal(t, regB.Self().Generation, from[0].Generation)
}
