//go:build linux || darwin

package remote_pipe

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forceSpin enables polling for a test even on a one-CPU machine.
func forceSpin(t *testing.T) {
	t.Helper()
	old := spinEnabled
	spinEnabled = true
	t.Cleanup(func() { spinEnabled = old })
}

func TestExpectTrafficWindow(t *testing.T) {
	forceSpin(t)
	dir := shortDir(t)
	a := listen(t, dir, 1)
	assert.Zero(t, a.spinUntil.Load(), "an idle node does not poll")
	a.ExpectTraffic(0)
	a.ExpectTraffic(-time.Second)
	assert.Zero(t, a.spinUntil.Load(), "no window for d <= 0")

	a.ExpectTraffic(time.Hour)
	long := a.spinUntil.Load()
	assert.Greater(t, long, nanotime()+int64(59*time.Minute))
	a.ExpectTraffic(time.Millisecond)
	assert.Equal(t, long, a.spinUntil.Load(), "a shorter window does not cut a longer one")

	spinEnabled = false
	b := listen(t, dir, 2)
	b.ExpectTraffic(time.Hour)
	assert.Zero(t, b.spinUntil.Load(), "no polling on one CPU")
}

// While the node polls, its inbound connections behave as when they park:
// every frame is delivered in order (frames larger than one read too), and
// a close, a hang-up and a bad frame end the connection as documented.
func TestPollingReader(t *testing.T) {
	forceSpin(t)
	tests := []struct {
		name  string
		check func(t *testing.T, a, b *testNode)
	}{
		{"frames in order", func(t *testing.T, a, b *testNode) {
			l := a.link(t, b)
			ctx := ctxTimeout(t, 20*time.Second)
			const n = 300
			for i := range n {
				require.NoError(t, l.Send(ctx, seqFrame(uint64(i), 1+i*997%(3*readBufSize))))
			}
			b.in.waitLen(t, n)
			frames, _ := b.in.snapshot()
			for i, p := range frames {
				require.Equal(t, uint64(i), seqOf(p), "order")
				require.Len(t, p, max(8, 1+i*997%(3*readBufSize)))
			}
		}},
		{"node close acknowledges and says goodbye", func(t *testing.T, a, b *testNode) {
			l := a.link(t, b)
			ctx := ctxTimeout(t, 20*time.Second)
			for i := range 10 {
				require.NoError(t, l.Send(ctx, seqFrame(uint64(i), 64)))
			}
			b.in.waitLen(t, 10)
			start := time.Now()
			require.NoError(t, b.Close())
			assert.Less(t, time.Since(start), 5*time.Second, "the polling reader stopped")
			// The counter moves before the log line is written: wait for both.
			eventually(t, 5*time.Second, func() bool {
				return a.Stats().ConnsLost == 1 && strings.Contains(a.log.String(), ErrPeerClosed.Error())
			}, "a's link to hear the goodbye, and log it")
			assert.Zero(t, a.Stats().Unconfirmed, "b acknowledged what it delivered")
		}},
		{"hang-up without goodbye", func(t *testing.T, a, b *testNode) {
			rc := rawDial(t, b.Path())
			_, err := rc.Write(append(rawHello(), dataFrame([]byte("one"))...))
			require.NoError(t, err)
			b.in.waitLen(t, 1)
			require.NoError(t, rc.Close())
			eventually(t, 5*time.Second, func() bool { return b.Stats().InboundLost == 1 && b.Stats().OpenIn == 0 }, "the hang-up counted")
		}},
		{"bad frame", func(t *testing.T, a, b *testNode) {
			rc := rawDial(t, b.Path())
			_, err := rc.Write(rawHello())
			require.NoError(t, err)
			kind, _, err := rc.fr.next()
			require.NoError(t, err)
			require.Equal(t, kindWelcome, kind)
			_, err = rc.Write(rawFrame(kindData, 0xFFFFFFFF, nil))
			require.NoError(t, err)
			code, reason, ok := rc.untilEnd(t)
			require.True(t, ok, "a goodbye before the close")
			assert.Equal(t, byeBadFrame, code)
			assert.Contains(t, reason, "exceeds the limit")
			eventually(t, 5*time.Second, func() bool { return b.Stats().BadFrames == 1 }, "BadFrames+1")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := shortDir(t)
			a, b := listen(t, dir, 1), listen(t, dir, 2)
			b.ExpectTraffic(time.Minute) // the whole test: b's readers poll
			tc.check(t, a, b)
		})
	}
}
