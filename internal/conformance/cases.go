package conformance

import (
	"strconv"
	"strings"
	"testing"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

// notifyTimeout bounds how long a death or a Terminated may take to be seen.
const notifyTimeout = 20 * time.Second

// testLocal: machines of one process talk without the transport encoding
// anything (the same-process short-circuit), for every transport.
func testLocal(t *testing.T, target Target) {
	cfg := target.Config(systemName(t, target))
	a := startNode(t, "A", cfg)
	a.ok("spawn c1 counter")
	a.ok("spawn r1 relay c1")
	a.ok("send r1 PING 10")
	assert.Equal(t, "10", a.ok("wait c1 10"))
	assert.Equal(t, "11", a.ok("request c1 HIT"))
	assert.Equal(t, "local 12", a.ok("future c1 HIT"))
	assert.Equal(t, "c1,r1", a.ok("machines"))
	a.fails("unknown", "send nobody HIT")
	a.fails("exists", "spawn c1 counter")

	a.ok("watch c1")
	a.ok("request c1 HIT") // the watch is in c1's system queue before this request
	a.ok("stop c1")
	eventually(t, notifyTimeout, func() bool { return a.ok("terminated") == "xorc/c1:Stopped" },
		"the watcher never got Terminated for c1: %q", a.ok("terminated"))
	a.fails("unknown", "request c1 HIT")
	a.ok("spawn c1 counter") // the ID is free again
	assert.Equal(t, "1", a.ok("request c1 HIT"))

	st := a.stats()
	assert.Zero(t, st.Sent, "nothing local is encoded or sent")
	assert.Zero(t, st.Received)
	a.exit()
}

// testEventsAndRequests: three processes, machines sending to each other by
// ID from Go (Send), from charts (xorc.send), with requests (Request) and
// plain proto.actor RequestFuture.
func testEventsAndRequests(t *testing.T, target Target) {
	cfg := target.Config(systemName(t, target))
	a := startNode(t, "A", cfg)
	b := startNode(t, "B", cfg)
	c := startNode(t, "C", cfg)
	a.ok("spawn a1 counter")
	b.ok("spawn b1 counter")
	c.ok("spawn c1 counter")
	a.ok("spawn ra relay b1")
	b.ok("spawn rb relay c1")
	c.ok("spawn rc relay a1")
	long := strings.Repeat("m", 64) // the longest machine ID
	b.ok("spawn %s counter", long)

	a.ok("send b1 HIT 200") // Go Send, A -> B
	assert.Equal(t, "200", b.ok("wait b1 200"))
	c.ok("send ra PING 50") // C -> ra in A, which sends HIT to b1 in B (xorc.send)
	assert.Equal(t, "250", b.ok("wait b1 250"))
	b.ok("send rb PING 20") // local relay in B sends to c1 in C
	assert.Equal(t, "20", c.ok("wait c1 20"))
	c.ok("send rc PING 30") // local relay in C sends to a1 in A
	assert.Equal(t, "30", a.ok("wait a1 30"))

	assert.Equal(t, "31", c.ok("request a1 HIT"))
	assert.Equal(t, "21", a.ok("request c1 HIT"))
	assert.Equal(t, "wire 22", b.ok("future c1 HIT"), "proto.actor's RequestFuture across processes")
	assert.Equal(t, "local 32", a.ok("future a1 HIT"))
	assert.Equal(t, "1", a.ok("request %s HIT", long))
	for _, n := range []*nodeProc{a, b, c} {
		assert.Equal(t, "a1,b1,c1,"+long+",ra,rb,rc", n.ok("machines"))
	}
	a.fails("unknown", "request nobody HIT")

	sa, sb := a.stats(), b.stats()
	assert.GreaterOrEqual(t, sa.Sent, uint64(200+3), "A sent its events and requests")
	assert.GreaterOrEqual(t, sb.Received, uint64(250), "B received from A")
	assert.LessOrEqual(t, sa.SentBatches, sa.Sent, "a batch carries at least one envelope")
	for _, s := range []nodeStats{sa, sb, c.stats()} {
		assert.Zero(t, s.DecodeErrors)
		assert.Zero(t, s.SendErrors)
		assert.Zero(t, s.Stale)
	}
	for _, n := range []*nodeProc{a, b, c} {
		n.exit()
	}
}

// testWatch: a watcher in one process gets Terminated when a machine of
// another process stops, and nothing after Unwatch.
func testWatch(t *testing.T, target Target) {
	cfg := target.Config(systemName(t, target))
	a := startNode(t, "A", cfg)
	b := startNode(t, "B", cfg)
	a.ok("spawn a1 counter")
	b.ok("spawn b1 counter")
	b.ok("spawn b2 counter")

	a.ok("watch b1")
	a.ok("request b1 HIT") // behind the Watch on the same link: b1 has the watcher now
	b.ok("stop b1")
	eventually(t, notifyTimeout, func() bool { return a.ok("terminated") == "xorc/b1:Stopped" },
		"A never got Terminated for b1: %q", a.ok("terminated"))

	a.ok("watch b2")
	a.ok("request b2 HIT")
	a.ok("unwatch b2")
	a.ok("request b2 HIT")
	b.ok("stop b2")
	b.ok("future a1 HIT") // B -> A behind any Terminated B sent
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, "xorc/b1:Stopped", a.ok("terminated"), "no Terminated for b2 after Unwatch")
	a.exit()
	b.exit()
}

// testKill: a process killed with SIGKILL in the middle of the traffic. The
// others notice (Terminated to watchers), sends to its machines fail with
// ErrProcessDied naming the machine, nothing hangs, and a restarted process
// takes the machine IDs back and is reachable again.
func testKill(t *testing.T, target Target) {
	cfg := target.Config(systemName(t, target))
	a := startNode(t, "A", cfg)
	b := startNode(t, "B", cfg)
	c := startNode(t, "C", cfg)
	a.ok("spawn a1 counter")
	b.ok("spawn b1 counter")
	b.ok("spawn b2 counter")
	b.ok("spawn rb relay a1")
	c.ok("spawn c1 counter")

	a.ok("watch b1")
	a.ok("request b1 HIT")
	assert.Equal(t, "1", c.ok("request b2 HIT"))
	c.ok("send rb PING 100") // traffic through B when it dies
	b.kill()

	eventually(t, notifyTimeout, func() bool {
		return strings.Contains(a.ok("terminated"), "xorc/b1:AddressTerminated")
	}, "A never got Terminated for b1 of the killed process: %q", a.ok("terminated"))
	msg := a.fails("died", "send b1 HIT")
	assert.Contains(t, msg, `"b1"`, "the error names the machine")
	msg = c.fails("died", "request b2 HIT")
	assert.Contains(t, msg, `"b2"`)
	c.fails("died", "future b2 HIT")
	as := a.stats()
	assert.GreaterOrEqual(t, as.PeersDown, uint64(1))
	assert.GreaterOrEqual(t, as.WatchTerminated, uint64(1))

	b2 := startNode(t, "B2", cfg)
	b2.ok("spawn b1 counter") // taken over from the dead process
	b2.ok("spawn b2 counter")
	a.ok("send b1 HIT 5")
	assert.Equal(t, "5", b2.ok("wait b1 5"))
	assert.Equal(t, "1", c.ok("request b2 HIT"))
	assert.Equal(t, "wire 2", a.ok("future b2 HIT"))
	for _, n := range []*nodeProc{a, b2, c} {
		n.exit()
	}
}

// testTooLarge: a message larger than the transport carries fails with
// ErrMessageTooLarge, and the link keeps working.
func testTooLarge(t *testing.T, target Target) {
	cfg := target.Config(systemName(t, target))
	a := startNode(t, "A", cfg)
	b := startNode(t, "B", cfg)
	b.ok("spawn b1 counter")
	a.fails("toolarge", "send b1 HIT 1 %d", target.MaxMessage)
	assert.Equal(t, "1", a.ok("request b1 HIT"))
	a.exit()
	b.exit()
}

// testBadInput: garbage, an envelope of an unknown type, and envelopes for an
// earlier process at the same place arrive in a live process: each is
// counted and dead-lettered, and the process keeps serving.
func testBadInput(t *testing.T, target Target) {
	cfg := target.Config(systemName(t, target))
	a := startNode(t, "A", cfg)
	b := startNode(t, "B", cfg)
	b.ok("spawn b1 counter")
	before := b.stats()

	// Bytes that are not a batch.
	require.NoError(t, target.Inject(t, cfg, b.addr, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3}))
	eventually(t, notifyTimeout, func() bool { return b.stats().DecodeErrors > before.DecodeErrors },
		"garbage was not counted as a decode error")
	assert.Equal(t, "1", a.ok("request b1 HIT"), "B keeps serving")

	// An envelope of a type nobody knows, then a good one in the same batch.
	good := envelope(t, b.addr, "xorc/b1", actor.Event{Type: "HIT"})
	bad := envelope(t, b.addr, "xorc/b1", actor.Event{Type: "HIT"})
	bad.TypeName = "nowhere.Unknown"
	batch, err := proto.AppendBatch(nil, []*proto.Envelope{bad, good})
	require.NoError(t, err)
	mid := b.stats()
	require.NoError(t, target.Inject(t, cfg, b.addr, batch))
	assert.Equal(t, "2", b.ok("wait b1 2"), "the good envelope after the bad one is delivered")
	eventually(t, notifyTimeout, func() bool { return b.stats().DecodeErrors > mid.DecodeErrors },
		"the unknown type was not counted")

	// Envelopes for an earlier process at B's place.
	staleAddress := StaleGeneration
	if target.StaleAddress != nil {
		staleAddress = target.StaleAddress
	}
	if stale := staleAddress(b.addr); stale != "" {
		batch, err := proto.AppendBatch(nil, []*proto.Envelope{envelope(t, stale, "xorc/b1", actor.Event{Type: "HIT"})})
		require.NoError(t, err)
		require.NoError(t, target.Inject(t, cfg, b.addr, batch))
		eventually(t, notifyTimeout, func() bool { return b.stats().Stale > mid.Stale },
			"the stale envelope was not counted")
		assert.Equal(t, "3", a.ok("request b1 HIT"), "the stale envelope was not delivered")
	}
	after := b.stats()
	assert.Greater(t, after.DeadLettersIn, before.DeadLettersIn)
	assert.Greater(t, after.DeadLetters, before.DeadLetters, "published as proto.actor dead letters")
	a.exit()
	b.exit()
}

func envelope(t *testing.T, address, id string, msg any) *proto.Envelope {
	t.Helper()
	env, err := proto.Encode(pactor.NewPID(address, id), nil, msg)
	require.NoError(t, err)
	return env
}

// StaleGeneration is the address an earlier process at the same place had,
// for addresses that end in ".<generation>" (shared memory); "" otherwise.
func StaleGeneration(addr string) string {
	i := strings.LastIndexByte(addr, '.')
	if i < 0 {
		return ""
	}
	gen, err := strconv.ParseUint(addr[i+1:], 10, 32)
	if err != nil {
		return ""
	}
	return addr[:i+1] + strconv.FormatUint(uint64(uint32(gen-1)), 10)
}
