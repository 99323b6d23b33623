package bench

// Two-process benchmarks: the measuring process re-executes its own binary
// (the xorc command, or a test binary) as the peer. The peer learns its role
// from the environment, prints "READY [info]" once it serves, then answers
// commands from stdin, one line each, and exits at EOF.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvPeer is set in a peer process to its role.
const EnvPeer = "XORC_BENCH_PEER"

// IsPeer reports whether this process was started as a benchmark peer; its
// main function must then call PeerMain and exit with its status.
func IsPeer() bool { return os.Getenv(EnvPeer) != "" }

var (
	peersMu sync.Mutex
	peers   = map[string]func(env func(string) string, cmds *peerIO) error{}
)

// registerPeer adds a peer role.
func registerPeer(role string, serve func(env func(string) string, cmds *peerIO) error) {
	peersMu.Lock()
	defer peersMu.Unlock()
	peers[role] = serve
}

// PeerMain runs this process as the benchmark peer its environment names and
// returns the exit status.
func PeerMain() int {
	role := os.Getenv(EnvPeer)
	peersMu.Lock()
	serve := peers[role]
	peersMu.Unlock()
	if serve == nil {
		fmt.Fprintf(os.Stderr, "bench peer: unknown role %q\n", role)
		return 2
	}
	io := &peerIO{in: bufio.NewScanner(os.Stdin), out: os.Stdout}
	if err := serve(os.Getenv, io); err != nil {
		fmt.Fprintf(os.Stderr, "bench peer %s: %v\n", role, err)
		return 1
	}
	return 0
}

// peerIO is the peer's side of the conversation.
type peerIO struct {
	in  *bufio.Scanner
	out io.Writer
}

func (p *peerIO) say(format string, args ...any) { fmt.Fprintf(p.out, format+"\n", args...) }

// serve answers commands until EOF: "idle SECONDS" (CPU seconds this process
// used while idle for that long) and those handle answers (nil: unknown).
func (p *peerIO) serve(handle func(cmd []string) (string, error)) error {
	for p.in.Scan() {
		f := strings.Fields(p.in.Text())
		if len(f) == 0 {
			continue
		}
		var res string
		var err error
		if f[0] == "idle" && len(f) == 2 {
			res, err = idleCPU(f[1])
		} else {
			res, err = handle(f)
		}
		if err != nil {
			p.say("ERR %v", err)
		} else {
			p.say("OK %s", res)
		}
	}
	return p.in.Err()
}

// idleCPU sleeps for secs and returns the CPU seconds (user + system) the
// whole process used meanwhile.
func idleCPU(secs string) (string, error) {
	d, err := strconv.ParseFloat(secs, 64)
	if err != nil {
		return "", err
	}
	before, err := cpuTime()
	if err != nil {
		return "", err
	}
	time.Sleep(time.Duration(d * float64(time.Second)))
	after, err := cpuTime()
	if err != nil {
		return "", err
	}
	return strconv.FormatFloat((after - before).Seconds(), 'f', 6, 64), nil
}

// peerProc is the measuring side's handle on a peer.
type peerProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	info  string // what followed READY
	errb  *strings.Builder
}

// peerStartTimeout bounds a peer's start (it may create a segment, listen).
const peerStartTimeout = 30 * time.Second

// startPeer re-executes this binary as a peer with role and env.
func startPeer(ctx context.Context, role string, env ...string) (*peerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: find own executable: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(append(os.Environ(), EnvPeer+"="+role), env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &peerProc{cmd: cmd, in: in, lines: make(chan string, 4), errb: &strings.Builder{}}
	cmd.Stderr = &lockedWriter{w: p.errb}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start peer %s: %w", role, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	line, err := p.next(peerStartTimeout)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("bench: peer %s: %w", role, err)
	}
	rest, ok := strings.CutPrefix(line, "READY")
	if !ok {
		p.close()
		return nil, fmt.Errorf("bench: peer %s did not start: %q", role, line)
	}
	p.info = strings.TrimSpace(rest)
	return p, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *peerProc) stderr() string {
	lw := p.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return p.errb.String()
}

func (p *peerProc) next(timeout time.Duration) (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("peer exited: %s", strings.TrimSpace(p.stderr()))
		}
		return line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("peer silent for %v: %s", timeout, strings.TrimSpace(p.stderr()))
	}
}

// do sends a command and returns its OK answer.
func (p *peerProc) do(format string, args ...any) (string, error) {
	if _, err := fmt.Fprintf(p.in, format+"\n", args...); err != nil {
		return "", err
	}
	line, err := p.next(2 * requestTimeout)
	if err != nil {
		return "", err
	}
	if rest, ok := strings.CutPrefix(line, "OK"); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", errors.New(line)
}

// idleCPUPercent asks the peer how much of a core it used while idle for d.
func (p *peerProc) idleCPUPercent(d time.Duration) (float64, error) {
	res, err := p.do("idle %g", d.Seconds())
	if err != nil {
		return 0, err
	}
	secs, err := strconv.ParseFloat(res, 64)
	if err != nil {
		return 0, err
	}
	return round(100*secs/d.Seconds(), 3), nil
}

// close ends the peer (EOF on stdin) and reaps it.
func (p *peerProc) close() {
	_ = p.in.Close()
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}
