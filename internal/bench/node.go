package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// nodeStartTimeout bounds how long a node may take to answer /healthz: a
// node opening a store of millions of events may first update planner
// statistics (SQLite's PRAGMA optimize). nodeStopTimeout bounds its
// graceful stop, after which it is killed.
const (
	nodeStartTimeout = 5 * time.Minute
	nodeStopTimeout  = 2 * time.Minute
)

// node is a `volley serve` child process.
type node struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed once the process has been reaped
}

// freeAddr returns a loopback address no one listens on now, for a child
// process to listen on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startNode runs `<exe> serve` on a free loopback port with env added to the
// environment, and waits until it answers /healthz.
func startNode(ctx context.Context, exe string, env []string, logTo *os.File) (*node, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "serve", "--addr", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logTo, logTo
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start volley serve: %w", err)
	}
	n := &node{cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(n.exited) }()
	deadline := time.Now().Add(nodeStartTimeout)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			n.stop()
			return nil, ctx.Err()
		}
		select {
		case <-n.exited:
			// A node that cannot start (a bad setting, a store it cannot
			// open) says why in its log.
			return nil, fmt.Errorf("volley serve on %s exited before it became healthy (%v); see %s", addr, cmd.ProcessState, logTo.Name())
		default:
		}
		resp, err := http.Get(n.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.stop()
	return nil, fmt.Errorf("volley serve on %s did not become healthy", addr)
}

// stop ends the node gracefully (SIGTERM) and waits for it.
func (n *node) stop() {
	n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.exited:
	case <-time.After(nodeStopTimeout):
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// rssMB reads the node's resident set size in MiB from /proc (Linux); 0
// where unavailable.
func (n *node) rssMB() float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(n.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
