//go:build linux

package xorc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
)

// A request to another process's machine: the requester reads its reply
// from its own inbox (counted as polled). A reply that takes longer than
// the poll (remote_shm.ReplySpin) still arrives, through the inbox's reader
// (counted as a poll miss).
func TestRequestReadsItsOwnReply(t *testing.T) {
	a, z := twoMembers(t, shmTestConfig(t))
	ctx := context.Background()
	_, err := z.Spawn(ctx, "m", load(t, toggleChart, nil))
	require.NoError(t, err)
	started, release := make(chan struct{}, 1), make(chan struct{})
	_, err = z.Spawn(ctx, "slow", load(t, slowChart, slowImpl(started, release)))
	require.NoError(t, err)
	polls := func() (polled, misses uint64) {
		st, ok := a.TransportStats()
		require.True(t, ok)
		return st.Shm.Polled, st.Shm.PollMisses
	}

	const n = 20
	for i := range n {
		s, err := a.Request(ctx, "m", actor.Event{Type: "T"})
		require.NoError(t, err)
		assert.Equal(t, map[bool]string{true: "b", false: "a"}[i%2 == 0], fmt.Sprint(s.Value))
	}
	polled, misses := polls()
	assert.Equal(t, uint64(n), polled+misses, "every request polled")
	assert.Positive(t, polled, "replies read by their requester")

	res := make(chan error, 1)
	go func() {
		_, err := a.Request(ctx, "slow", actor.Event{Type: "SLOW"})
		res <- err
	}()
	<-started
	require.Eventually(t, func() bool { _, m := polls(); return m > misses }, 10*time.Second, time.Millisecond, "the poll gave up")
	close(release)
	require.NoError(t, <-res, "the late reply came through the reader")
	_, err = a.Request(ctx, "m", actor.Event{Type: "T"})
	require.NoError(t, err)
}
