//go:build linux || darwin

package remote_pipe

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchPair is this process's node and a link to a child of the given role.
func benchPair(b *testing.B, role string, handler Handler) (*Node, *Link, *child) {
	dir := shortDir(b)
	me, err := Listen(Options{Dir: dir, Slot: 1, Generation: 1, Logger: (&logBuf{}).logger()}, handler)
	require.NoError(b, err)
	b.Cleanup(func() { _ = me.Close() })
	c := startChild(b, childSpec{role: role, dir: dir, slot: 2, parent: me.Path()})
	l, err := me.Link(Target{Path: c.path, Slot: 2, Generation: 1})
	require.NoError(b, err)
	return me, l, c
}

// BenchmarkCrossProcessThroughput: one-way frames to another process, as
// fast as Send takes them; the child answers the last one. The payload
// buffer is reused (Send copies), as the routing core reuses its encoding
// buffer.
func BenchmarkCrossProcessThroughput(b *testing.B) {
	for _, size := range []int{16, 256, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			done := make(chan struct{}, 1)
			_, l, c := benchPair(b, "count", func(_ PeerInfo, p []byte) {
				if string(p) == "done" {
					done <- struct{}{}
				}
			})
			ctx := context.Background()
			warm := make([]byte, 16)
			binary.BigEndian.PutUint64(warm[8:], 1)
			require.NoError(b, l.Send(ctx, warm))
			<-done
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			p := make([]byte, size)
			for i := range b.N {
				binary.BigEndian.PutUint64(p, uint64(i))
				binary.BigEndian.PutUint64(p[8:], uint64(b.N))
				if err := l.Send(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			<-done
			b.StopTimer()
			st := l.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
			b.ReportMetric(float64(st.FramesOut)/float64(st.Writes), "frames/write")
			c.stop(b)
		})
	}
}

// BenchmarkCrossProcessPingPong: one frame to an echoing child and back,
// one at a time: the round-trip time, with its percentiles.
func BenchmarkCrossProcessPingPong(b *testing.B) {
	pong := make(chan struct{}, 1)
	_, l, c := benchPair(b, "echo", func(PeerInfo, []byte) { pong <- struct{}{} })
	ctx := context.Background()
	p := make([]byte, 64)
	for range 200 { // connect both ways, warm up
		require.NoError(b, l.Send(ctx, p))
		<-pong
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := l.Send(ctx, p); err != nil {
			b.Fatal(err)
		}
		<-pong
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
	c.stop(b)
}

// BenchmarkRawSocketPingPong is the floor for BenchmarkCrossProcessPingPong
// on the same machine: 64 bytes to a bare Unix socket echo server in
// another process and back. "same-goroutine" writes and reads in the
// benchmark's goroutine; "reader-goroutine" reads on another goroutine and
// hands over through a channel, as a Node's Handler must.
func BenchmarkRawSocketPingPong(b *testing.B) {
	for _, handoff := range []bool{false, true} {
		name := "same-goroutine"
		if handoff {
			name = "reader-goroutine"
		}
		b.Run(name, func(b *testing.B) {
			dir := shortDir(b)
			c := startChild(b, childSpec{role: "rawecho", dir: dir})
			conn, err := net.Dial("unix", c.path)
			require.NoError(b, err)
			defer conn.Close()
			pong := make(chan struct{}, 1)
			if handoff {
				go func() {
					p := make([]byte, 64)
					for {
						if _, err := io.ReadFull(conn, p); err != nil {
							return
						}
						pong <- struct{}{}
					}
				}()
			}
			p := make([]byte, 64)
			rt := func() {
				if _, err := conn.Write(p); err != nil {
					b.Fatal(err)
				}
				if handoff {
					<-pong
				} else if _, err := io.ReadFull(conn, p); err != nil {
					b.Fatal(err)
				}
			}
			for range 200 {
				rt()
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				rt()
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportLatency(b, lat)
			_ = conn.Close()
			c.stop(b)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(0.999), "p999-µs")
}
