package conformance

// The node: the body of every child process of the suite. It runs an
// orchestrator with the configuration the parent passes in the environment,
// prints "@READY <address> <pid>", then obeys one command per stdin line and
// answers each with one "@OK ..." or "@ERR <kind> <message>" line.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

// Environment of a node.
const (
	EnvNode   = "XORC_CONFORMANCE_NODE"   // set (to the node's name) in a child
	EnvConfig = "XORC_CONFORMANCE_CONFIG" // the xorc.Config as JSON
)

// IsNode reports whether this process was started as a node of the suite.
func IsNode() bool { return os.Getenv(EnvNode) != "" }

// commandTimeout bounds one command of a node (requests, waits).
const commandTimeout = 15 * time.Second

// Charts the nodes spawn. counter counts HIT events in context.n; relay
// counts PING events and sends a HIT to the machine named by its target.
const counterChart = `{"id": "counter", "initial": "on", "context": {"n": 0}, "states": {
  "on": {"on": {"HIT": {"actions": [{"type": "xorc.increment", "params": {"key": "n"}}]}}}}}`

func relayChart(to string) string {
	return fmt.Sprintf(`{"id": "relay", "initial": "on", "context": {"n": 0}, "states": {
  "on": {"on": {"PING": {"actions": [{"type": "xorc.increment", "params": {"key": "n"}},
    {"type": "xorc.send", "params": {"to": %q, "event": "HIT"}}]}}}}}`, to)
}

// Node runs a node and returns its exit status: call it from the test
// binary's helper test when IsNode.
func Node() int {
	var cfg xorc.Config
	if err := json.Unmarshal([]byte(os.Getenv(EnvConfig)), &cfg); err != nil {
		fmt.Printf("@ERR config %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return log }))
	orc, err := xorc.New(system, cfg)
	if err != nil {
		fmt.Printf("@ERR start %v\n", err)
		return 3
	}
	n := &node{orc: orc, system: system, cfg: cfg}
	n.watcher = system.Root.Spawn(pactor.PropsFromFunc(n.watchReceive))
	system.EventStream.Subscribe(func(evt any) {
		if _, ok := evt.(*pactor.DeadLetterEvent); ok {
			n.deadLetters.Add(1)
		}
	})
	fmt.Printf("@READY %s %d\n", system.Address(), os.Getpid())
	code := n.serve(os.Stdin, os.Stdout)
	_ = orc.Close()
	system.Shutdown()
	return code
}

type node struct {
	orc    *xorc.Orchestrator
	system *pactor.ActorSystem
	cfg    xorc.Config

	watcher     *pactor.PID
	mu          sync.Mutex
	terminated  []string // "who-id why" of every Terminated the watcher got
	deadLetters atomic.Uint64
}

type watchCmd struct{ pid *pactor.PID }
type unwatchCmd struct{ pid *pactor.PID }

func (n *node) watchReceive(c pactor.Context) {
	switch m := c.Message().(type) {
	case *watchCmd:
		c.Watch(m.pid)
		c.Respond(true) // after the Watch is on its way
	case *unwatchCmd:
		c.Unwatch(m.pid)
		c.Respond(true)
	case *pactor.Terminated:
		n.mu.Lock()
		n.terminated = append(n.terminated, m.Who.GetId()+" "+m.Why.String())
		n.mu.Unlock()
	}
}

func (n *node) serve(in io.Reader, out io.Writer) int {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "exit" {
			fmt.Fprintln(out, "@OK bye")
			return 0
		}
		res, err := n.do(f)
		if err != nil {
			fmt.Fprintf(out, "@ERR %s %s\n", kind(err), strings.ReplaceAll(err.Error(), "\n", " | "))
		} else {
			fmt.Fprintf(out, "@OK %s\n", res)
		}
	}
	return 0
}

// kind classifies an error for the parent, which cannot use errors.Is
// across the process boundary.
func kind(err error) string {
	switch {
	case errors.Is(err, xorc.ErrProcessDied):
		return "died"
	case errors.Is(err, xorc.ErrUnknownMachine):
		return "unknown"
	case errors.Is(err, xorc.ErrMessageTooLarge):
		return "toolarge"
	case errors.Is(err, xorc.ErrInboxFull):
		return "full"
	case errors.Is(err, xorc.ErrMachineExists):
		return "exists"
	case errors.Is(err, pactor.ErrDeadLetter):
		return "deadletter"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, pactor.ErrTimeout):
		return "timeout"
	}
	return "other"
}

func arg(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func (n *node) do(f []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	switch f[0] {
	case "spawn": // spawn ID counter | spawn ID relay TARGET
		chart := counterChart
		if arg(f, 2) == "relay" {
			chart = relayChart(arg(f, 3))
		}
		m, err := actor.LoadJSON([]byte(chart), nil)
		if err != nil {
			return "", err
		}
		_, err = n.orc.Spawn(ctx, arg(f, 1), m)
		return "", err
	case "send": // send TO TYPE [COUNT [PAYLOAD-BYTES]]
		count, size := 1, 0
		if v := arg(f, 3); v != "" {
			count, _ = strconv.Atoi(v)
		}
		if v := arg(f, 4); v != "" {
			size, _ = strconv.Atoi(v)
		}
		ev := actor.Event{Type: arg(f, 2)}
		if size > 0 {
			ev.Data = map[string]any{"pad": strings.Repeat("x", size)}
		}
		for i := range count {
			if err := n.orc.Send(ctx, arg(f, 1), ev); err != nil {
				return "", fmt.Errorf("send %d of %d: %w", i+1, count, err)
			}
		}
		return strconv.Itoa(count), nil
	case "request": // request TO TYPE: the snapshot's context.n after the event
		s, err := n.orc.Request(ctx, arg(f, 1), actor.Event{Type: arg(f, 2)})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(s.Context["n"]), nil
	case "future": // future TO TYPE: a plain proto.actor RequestFuture
		pid, err := n.orc.Lookup(arg(f, 1))
		if err != nil {
			return "", err
		}
		res, err := n.system.Root.RequestFuture(pid, actor.Event{Type: arg(f, 2)}, commandTimeout).Result()
		if err != nil {
			return "", err
		}
		switch r := res.(type) {
		case *proto.Snapshot: // from another process
			var c map[string]any
			if err := json.Unmarshal(r.ContextJson, &c); err != nil {
				return "", err
			}
			return fmt.Sprintf("wire %v", c["n"]), nil
		case *actor.Reply: // from this process
			return fmt.Sprintf("local %v", r.Snapshot.Context["n"]), nil
		}
		return "", fmt.Errorf("unexpected reply %T", res)
	case "wait": // wait ID N: until context.n >= N
		want, _ := strconv.ParseFloat(arg(f, 2), 64)
		for {
			s, err := n.orc.Snapshot(ctx, arg(f, 1))
			if err != nil {
				return "", err
			}
			if got, _ := s.Context["n"].(float64); got >= want {
				return fmt.Sprint(got), nil
			}
			select {
			case <-ctx.Done():
				return "", fmt.Errorf("n = %v, want %v: %w", s.Context["n"], want, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	case "watch", "unwatch": // watch ID: the node's watcher actor watches the machine
		pid, err := n.orc.Lookup(arg(f, 1))
		if err != nil {
			return "", err
		}
		var msg any = &watchCmd{pid}
		if f[0] == "unwatch" {
			msg = &unwatchCmd{pid}
		}
		if _, err := n.system.Root.RequestFuture(n.watcher, msg, commandTimeout).Result(); err != nil {
			return "", err
		}
		return pid.Address + " " + pid.Id, nil
	case "terminated": // the Terminated messages the watcher got, sorted
		n.mu.Lock()
		t := append([]string(nil), n.terminated...)
		n.mu.Unlock()
		sort.Strings(t)
		return strings.ReplaceAll(strings.Join(t, ","), " ", ":"), nil
	case "stop":
		return "", n.orc.Stop(ctx, arg(f, 1))
	case "lookup":
		pid, err := n.orc.Lookup(arg(f, 1))
		if err != nil {
			return "", err
		}
		return pid.Address + " " + pid.Id, nil
	case "stats":
		st, _ := n.orc.TransportStats()
		b, err := json.Marshal(struct {
			xorc.TransportStats
			DeadLetters uint64 `json:"dead_letters_seen"`
		}{st, n.deadLetters.Load()})
		return string(b), err
	case "machines":
		return strings.Join(n.orc.Machines(), ","), nil
	}
	return "", fmt.Errorf("unknown command %q", f[0])
}
