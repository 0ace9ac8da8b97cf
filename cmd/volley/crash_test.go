package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// crashAdminToken is the admin token of the crash test's node (40
// characters).
const crashAdminToken = "vk_crashtest0000000000000000000000000000"

// TestKill9LosesNoAcknowledgedEvent runs the real binary, kills it with
// SIGKILL halfway through ingesting 3000 events from 8 goroutines,
// restarts it on the same data directory and checks that every event
// answered 202 reaches the destination: a 202 is only sent once the event
// and its delivery are durable. The destination holds its requests until
// the kill, so the restarted node has to deliver the whole backlog from
// the store. Requests that failed or got no answer may be lost; repeated
// deliveries are allowed (at-least-once) and counted in the log.
func TestKill9LosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the kill -9 test in -short mode: it builds and runs the volley binary")
	}
	t.Parallel()
	const (
		events  = 3000
		workers = 8
		killAt  = events / 2 // acknowledged events before the kill
		after   = 200        // events sent after the restart
	)
	bin := buildVolley(t)
	dataDir := t.TempDir()
	sink := newSeqSink(t)

	node := startVolley(t, bin, dataDir)
	project := node.defaultProject(t)
	var src struct {
		ID          uint64 `json:"id"`
		IngestionID string `json:"ingestion_id"`
	}
	node.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/sources", project), map[string]any{"name": "crash"}, &src)
	var dst struct{ ID uint64 }
	node.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/destinations", project), map[string]any{"name": "sink", "url": sink.srv.URL}, &dst)
	node.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/connections", project), map[string]any{"source_id": src.ID, "destination_id": dst.ID}, nil)

	start := time.Now()
	acked := newSeqSet()
	var failed atomic.Int64
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			if err := node.cmd.Process.Kill(); err != nil {
				t.Errorf("kill: %v", err)
			}
		})
	}
	postSeqs(node.url, src.IngestionID, 0, events, workers, func(seq int, ok bool) {
		if !ok {
			failed.Add(1)
			return
		}
		if acked.add(seq) >= killAt {
			kill()
		}
	})
	kill() // in case fewer than killAt were acknowledged
	<-node.exited
	sink.release()
	beforeKill := acked.len()
	t.Logf("killed after %v: %d acknowledged, %d failed or unanswered; the destination was holding every delivery",
		time.Since(start).Round(time.Millisecond), beforeKill, failed.Load())
	if beforeKill < killAt {
		t.Fatalf("only %d events acknowledged before the kill; the node log:\n%s", beforeKill, node.log.String())
	}

	restarted := startVolley(t, bin, dataDir)
	// The restarted node takes new events as well.
	var afterFailed atomic.Int64
	postSeqs(restarted.url, src.IngestionID, events, after, workers, func(seq int, ok bool) {
		if ok {
			acked.add(seq)
		} else {
			afterFailed.Add(1)
		}
	})
	if n := afterFailed.Load(); n > 0 {
		t.Fatalf("%d events refused by the restarted node; its log:\n%s", n, restarted.log.String())
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := sink.missing(acked.all())
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged events never reached the destination (e.g. %v); the restarted node's log:\n%s",
				len(missing), missing[:min(10, len(missing))], restarted.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	distinct, dups := sink.stats()
	t.Logf("%d acknowledged (%d before the kill, %d after the restart), %d delivered (%d delivered without an acknowledgement), %d duplicate deliveries; done after %v",
		acked.len(), beforeKill, after, distinct, distinct-acked.len(), dups, time.Since(start).Round(time.Millisecond))
}

// buildVolley builds this command into a temporary directory with the go
// tool from PATH (without -race: the race detector is for the test
// process).
func buildVolley(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool in PATH to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "volley")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// volleyProc is a running `volley serve`.
type volleyProc struct {
	cmd    *exec.Cmd
	url    string
	log    *lockedBuffer
	exited chan struct{} // closed once the process has been reaped
}

// startVolley runs `volley serve` on a free port with dataDir and waits
// until it is healthy. The process gets none of this process's VOLLEY_*
// variables, only env and the admin token: without VOLLEY_SECRET_KEY the
// key file in the data directory is used, as a restart on the same
// directory needs.
func startVolley(t *testing.T, bin, dataDir string, env ...string) *volleyProc {
	t.Helper()
	// Any free port, chosen by the node itself and read from its output: a
	// port picked here and released before the node binds it may be taken
	// meanwhile by another test's node, which would then answer for it.
	p := &volleyProc{log: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VOLLEY_") {
			env = append(env, kv)
		}
	}
	p.cmd.Env = append(env, "VOLLEY_ADMIN_TOKEN="+crashAdminToken) // apiJSON sends this one
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("volley serve exited before it was healthy: %v\n%s", p.cmd.ProcessState, p.log.String())
		default:
		}
		var err error
		if p.url == "" {
			p.url = listeningURL(p.log.String())
		}
		if p.url != "" {
			var resp *http.Response
			if resp, err = http.Get(p.url + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("volley serve never became healthy (%v); log:\n%s", err, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listeningURL returns the URL of the "Volley is listening on" line of a
// node's output, or "" before it is printed.
func listeningURL(out string) string {
	const prefix = "Volley is listening on "
	i := strings.Index(out, prefix)
	if i < 0 {
		return ""
	}
	rest := out[i+len(prefix):]
	end := strings.IndexByte(rest, '\n')
	if end < 0 {
		return ""
	}
	return rest[:end]
}

// apiJSON calls the management API as the admin, expecting a 2xx, and
// decodes the answer into out unless it is nil.
func (p *volleyProc) apiJSON(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+crashAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

func (p *volleyProc) defaultProject(t *testing.T) uint64 {
	t.Helper()
	var ps struct {
		Projects []struct {
			ID        uint64 `json:"id"`
			IsDefault bool   `json:"is_default"`
		} `json:"projects"`
	}
	p.apiJSON(t, "GET", "/api/projects", nil, &ps)
	for _, pr := range ps.Projects {
		if pr.IsDefault {
			return pr.ID
		}
	}
	t.Fatalf("no default project among %+v", ps.Projects)
	return 0
}

// postSeqs posts events first … first+count-1 (each body carries its
// sequence number) from workers goroutines and reports each outcome: ok
// means the node answered 202.
func postSeqs(base, ingestionID string, first, count, workers int, done func(seq int, ok bool)) {
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	seqs := make(chan int)
	go func() {
		for i := range count {
			seqs <- first + i
		}
		close(seqs)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for seq := range seqs {
				body := fmt.Sprintf(`{"seq":%d,"pad":%q}`, seq, strings.Repeat("v", 200))
				resp, err := client.Post(base+"/hook/"+ingestionID, "application/json", strings.NewReader(body))
				if err != nil {
					done(seq, false)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done(seq, resp.StatusCode == http.StatusAccepted)
			}
		})
	}
	wg.Wait()
}

// seqSet is a concurrency-safe set of sequence numbers.
type seqSet struct {
	mu sync.Mutex
	m  map[int]bool
}

func newSeqSet() *seqSet { return &seqSet{m: map[int]bool{}} }

// add adds seq and returns the size of the set.
func (s *seqSet) add(seq int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[seq] = true
	return len(s.m)
}

func (s *seqSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *seqSet) all() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, 0, len(s.m))
	for seq := range s.m {
		out = append(out, seq)
	}
	return out
}

// seqSink is a destination that counts deliveries per sequence number and
// answers 200. Until release it holds every request, so that the node has a
// backlog of acknowledged but undelivered events when it is killed; a held
// request whose sender dies is not counted.
type seqSink struct {
	srv     *httptest.Server
	hold    chan struct{}
	release func()

	mu    sync.Mutex
	count map[int]int
}

func newSeqSink(t *testing.T) *seqSink {
	t.Helper()
	s := &seqSink{count: map[int]int{}, hold: make(chan struct{})}
	s.release = sync.OnceFunc(func() { close(s.hold) })
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Seq *int `json:"seq"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Seq == nil {
			http.Error(w, "no seq", http.StatusBadRequest)
			return
		}
		select {
		case <-s.hold:
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
		s.count[*b.Seq]++
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.release) // runs first: held requests must not block Close
	return s
}

// missing returns the sequence numbers of seqs not delivered yet.
func (s *seqSink) missing(seqs []int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, seq := range seqs {
		if s.count[seq] == 0 {
			out = append(out, seq)
		}
	}
	return out
}

// stats returns how many sequence numbers arrived and how many deliveries
// were repeats.
func (s *seqSink) stats() (distinct, duplicates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.count {
		distinct++
		duplicates += n - 1
	}
	return distinct, duplicates
}

// lockedBuffer collects a process's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
