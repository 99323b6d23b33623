//go:build unix

// Command shm runs the wafer tool of `xorc demo` across three processes on
// one host, over the shared-memory transport (or, with -transport pipe, the
// named-pipe one): the load port in this process, the robot and the process
// chamber each in a child process (this program re-executes itself). The
// machines send events to each other by machine ID exactly as they would in
// one process; only the Config differs.
//
//	go run ./examples/shm
//	go run ./examples/shm -transport pipe
//
// While it runs, `go run ./cmd/xorc inspect NAME` (NAME is printed at the
// start) shows the segment: the three processes, their machines, their
// inboxes.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/examples/wafer"
	"github.com/xorc-dev/xorc/registry"
	"github.com/xorc-dev/xorc/remote_pipe"
)

// roleEnv tells a child which machine it runs.
const roleEnv = "XORC_EXAMPLE_ROLE"

func main() {
	log.SetFlags(0)
	if role := os.Getenv(roleEnv); role != "" {
		if err := child(role); err != nil {
			log.Fatalf("[%s] %v", role, err)
		}
		return
	}
	def := "shm"
	if v := os.Getenv(xorc.EnvTransport); v != "" {
		def = v
	}
	transport := flag.String("transport", def, "shm (shared memory) or pipe (Unix domain sockets)")
	flag.Parse()
	os.Setenv(xorc.EnvTransport, *transport) // the children inherit it
	if err := parent(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// config: the transport from XORC_TRANSPORT (default shared memory), the
// system name from XORC_NAME.
func config() xorc.Config {
	k := xorc.SharedMemory
	if v := os.Getenv(xorc.EnvTransport); v != "" {
		if p, err := xorc.ParseTransport(v); err == nil {
			k = p
		}
	}
	return xorc.Config{Transport: k, Name: os.Getenv("XORC_NAME")}
}

// start joins the system and spawns the machine id, printing its state
// changes.
func start(ctx context.Context, id string, out io.Writer) (*pactor.ActorSystem, *xorc.Orchestrator, <-chan *actor.StateChanged, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	system := pactor.NewActorSystem(pactor.WithLoggerFactory(func(*pactor.ActorSystem) *slog.Logger { return quiet }))
	orc, err := xorc.New(system, config())
	if err != nil {
		system.Shutdown()
		return nil, nil, nil, err
	}
	changes := make(chan *actor.StateChanged, 64)
	system.EventStream.Subscribe(func(evt any) {
		if sc, ok := evt.(*actor.StateChanged); ok {
			fmt.Fprintf(out, "[pid %d] %-8s %-34s -> %v\n", os.Getpid(), sc.MachineID, sc.Event.Type, sc.Snapshot.Value())
			select {
			case changes <- sc:
			default:
			}
		}
	})
	m, err := wafer.Load(id)
	if err == nil {
		_, err = orc.Spawn(ctx, id, m)
	}
	if err != nil {
		orc.Close()
		system.Shutdown()
		return nil, nil, nil, err
	}
	return system, orc, changes, nil
}

// child runs one machine until its stdin closes.
func child(id string) error {
	system, orc, _, err := start(context.Background(), id, os.Stdout)
	if err != nil {
		return err
	}
	defer system.Shutdown()
	defer orc.Close()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent is done
	return nil
}

func parent(stdout io.Writer) error {
	name := os.Getenv("XORC_NAME")
	cfg := config()
	if name == "" {
		name = fmt.Sprintf("example-%s-%d", cfg.Transport, os.Getpid())
		os.Setenv("XORC_NAME", name)
		// The registry segment outlives its processes (a restarted process
		// rejoins it); this example cleans up after itself.
		defer os.Remove(filepath.Join(registry.DefaultDir, "xorc."+name))
	}
	fmt.Fprintf(stdout, "system %q: registry %s\n", name, filepath.Join(registry.DefaultDir, "xorc."+name))
	if cfg.Transport == xorc.NamedPipe {
		if dir, err := remote_pipe.DefaultDir(name); err == nil {
			fmt.Fprintf(stdout, "sockets in %s\n", dir)
			defer os.Remove(dir) // empty once every process closed its socket
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // generous: -race children on a loaded machine start slowly
	defer cancel()

	var out sync.Mutex // one line at a time from three processes
	w := &lineWriter{mu: &out, w: stdout}
	system, orc, changes, err := start(ctx, "loadport", w)
	if err != nil {
		return err
	}
	defer system.Shutdown()
	defer orc.Close()

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var children []*exec.Cmd
	var stdins []io.Closer
	defer func() {
		for _, in := range stdins {
			in.Close()
		}
		for _, c := range children {
			_ = c.Wait()
		}
	}()
	for _, role := range wafer.IDs[1:] { // the load port runs here
		c := exec.Command(exe)
		c.Env = append(os.Environ(), roleEnv+"="+role)
		c.Stderr = os.Stderr
		in, err := c.StdinPipe()
		if err != nil {
			return err
		}
		pipe, err := c.StdoutPipe()
		if err != nil {
			return err
		}
		if err := c.Start(); err != nil {
			return err
		}
		children, stdins = append(children, c), append(stdins, in)
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(pipe)
			for sc.Scan() {
				if sc.Text() == "ready" {
					close(ready)
					continue
				}
				fmt.Fprintln(w, sc.Text())
			}
		}()
		select {
		case <-ready:
		case <-ctx.Done():
			return fmt.Errorf("the %s process did not start", role)
		}
	}
	fmt.Fprintf(w, "machines: %s (three processes, transport %s)\n", strings.Join(orc.Machines(), ", "), cfg.Transport)

	if err := orc.Send(ctx, "loadport", actor.Event{Type: "START"}); err != nil {
		return err
	}
	for done := false; !done; {
		select {
		case sc := <-changes:
			done = sc.Snapshot.Done()
		case <-ctx.Done():
			return fmt.Errorf("the load port never finished: %w", ctx.Err())
		}
	}
	for _, id := range wafer.IDs {
		s, err := orc.Snapshot(ctx, id) // the robot and the chamber answer from their processes
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "final: %-8s %-9v %v\n", id, s.Value, s.Context)
	}
	return nil
}

// lineWriter serialises whole lines from several goroutines.
type lineWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
