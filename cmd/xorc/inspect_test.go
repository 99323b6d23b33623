//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/registry"
)

// Two members of one system (two orchestrators of this process, each with
// its own slot and inbox), a machine each, events between them: inspect
// shows both processes, both machines and the inboxes' counters.
func TestInspect(t *testing.T) {
	name := fmt.Sprintf("inspect-%d", os.Getpid())
	t.Cleanup(func() { _ = os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name)) })
	cfg := xorc.Config{Transport: xorc.SharedMemory, Name: name, Shm: xorc.ShmConfig{MaxProcesses: 4, MaxMachines: 8, InboxBytes: 64 << 10}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	member := func(id string) *xorc.Orchestrator {
		sys := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
		t.Cleanup(sys.Shutdown)
		o, err := xorc.New(sys, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = o.Close() })
		m, err := actor.LoadJSON([]byte(`{"id": "c", "initial": "a", "states": {"a": {"on": {"T": "a"}}}}`), nil)
		require.NoError(t, err)
		_, err = o.Spawn(context.Background(), id, m)
		require.NoError(t, err)
		return o
	}
	a, b := member("alpha"), member("beta")
	ctx := context.Background()
	for range 5 {
		require.NoError(t, a.Send(ctx, "beta", actor.Event{Type: "T"}))
	}
	_, err := b.Request(ctx, "alpha", actor.Event{Type: "T"})
	require.NoError(t, err)
	time.Sleep(1100 * time.Millisecond) // counters are published every 250 ms, activity every second

	code, out, errOut := runCLI(t, "", "inspect", name)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{"processes 2 of 4", "machines 2 of 8", "alpha", "beta", "active", "64 KiB", "shm://" + name + "/"} {
		assert.Contains(t, out, want)
	}

	code, out, errOut = runCLI(t, "", "inspect", "--json", filepath.Join(registry.DefaultDir, "xorc."+name))
	require.Equal(t, 0, code, errOut)
	var in struct {
		Processes []struct{ Slot, PID int }
		Machines  []struct {
			ID           string
			RegisteredAt time.Time
			LastActivity time.Time
		}
		Inboxes []struct {
			Slot  int `json:"slot"`
			Stats struct {
				Sent     uint64 `json:"sent"`
				Received uint64 `json:"received"`
				Inbox    struct{ Capacity, Read int }
			} `json:"stats"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &in), out)
	require.Len(t, in.Processes, 2)
	require.Len(t, in.Machines, 2)
	for _, m := range in.Machines {
		assert.True(t, m.LastActivity.After(m.RegisteredAt), "%s: activity recorded after registration", m.ID)
	}
	require.Len(t, in.Inboxes, 2)
	var sent, received uint64
	for _, ib := range in.Inboxes {
		assert.Equal(t, 64<<10, ib.Stats.Inbox.Capacity)
		sent += ib.Stats.Sent
		received += ib.Stats.Received
	}
	assert.Equal(t, uint64(7), sent, "5 events and a request one way, the reply the other")
	assert.Equal(t, uint64(7), received)

	code, _, errOut = runCLI(t, "", "inspect", "no-such-system-"+name)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no such file")
	code, _, _ = runCLI(t, "", "inspect")
	assert.Equal(t, 2, code)
	assert.True(t, strings.Contains(out, "Inboxes"))
}
