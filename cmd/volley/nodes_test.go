package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store/storepg"
)

// This file holds what the multi-node tests (cluster_test.go,
// outage_test.go) share: a PostgreSQL schema per test, `volley serve`
// processes on it, a destination that watches for overlapping deliveries,
// and an ingest client. The binary, volleyProc, apiJSON and seqSet come from
// crash_test.go.

// clusterSecretKey is the VOLLEY_SECRET_KEY every node of a test shares
// (64 hex characters).
const clusterSecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// testDatabaseURL returns VOLLEY_TEST_DATABASE_URL, or skips the test
// without it or in -short mode.
func testDatabaseURL(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the multi-node test in -short mode: it builds and runs the volley binary on PostgreSQL")
	}
	u := os.Getenv("VOLLEY_TEST_DATABASE_URL")
	if u == "" {
		t.Skip("VOLLEY_TEST_DATABASE_URL is not set: skipping the multi-node test " +
			"(e.g. VOLLEY_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable')")
	}
	return u
}

// freshSchema creates and migrates a schema of its own in the database at
// dbURL and drops it when the test ends (after the nodes started later
// have been killed: cleanups run last in, first out). It returns the
// schema's name.
func freshSchema(t *testing.T, dbURL string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "volley_cmdtest_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	st, err := storepg.Open(ctx, storepg.Config{URL: dbURL, Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	st.Close()
	return schema
}

// withSearchPath returns dbURL with schema as its search_path, the way a
// node is pointed at a schema.
func withSearchPath(t *testing.T, dbURL, schema string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// startPGNode runs `volley serve` on dbURL with the shared secret key and
// admin token, a data directory of its own and a free port, and waits until
// it answers /healthz. The node is killed when the test ends.
func startPGNode(t *testing.T, bin, dbURL string) *volleyProc {
	t.Helper()
	return startVolley(t, bin, t.TempDir(), "VOLLEY_DATABASE_URL="+dbURL, "VOLLEY_SECRET_KEY="+clusterSecretKey)
}

// kill sends SIGKILL and waits until the process is gone.
func (p *volleyProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Errorf("kill: %v", err)
	}
	<-p.exited
}

// status GETs path without credentials and returns the status code, or 0
// when there was no answer.
func (p *volleyProc) status(path string) int {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(p.url + path)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// total returns the "total" of an API list (events or attempts) filtered
// by status.
func (p *volleyProc) total(t *testing.T, list string, project uint64, status string) int {
	t.Helper()
	var out struct{ Total int }
	p.apiJSON(t, "GET", fmt.Sprintf("/api/projects/%d/%s?limit=1&status=%s", project, list, status), nil, &out)
	return out.Total
}

// route is a source connected to a destination.
type route struct {
	project     uint64
	ingestionID string
	destination uint64
	connection  uint64
}

// createRoute creates, through p's API, a source and a destination towards
// sinkURL with the extra fields given, and a connection between them.
func createRoute(t *testing.T, p *volleyProc, sinkURL string, destination, connection map[string]any) route {
	t.Helper()
	r := route{project: p.defaultProject(t)}
	var src struct {
		ID          uint64 `json:"id"`
		IngestionID string `json:"ingestion_id"`
	}
	p.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/sources", r.project), map[string]any{"name": "load"}, &src)
	r.ingestionID = src.IngestionID
	dst := map[string]any{"name": "sink", "url": sinkURL}
	for k, v := range destination {
		dst[k] = v
	}
	var d struct{ ID uint64 }
	p.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/destinations", r.project), dst, &d)
	r.destination = d.ID
	conn := map[string]any{"source_id": src.ID, "destination_id": d.ID}
	for k, v := range connection {
		conn[k] = v
	}
	var c struct{ ID uint64 }
	p.apiJSON(t, "POST", fmt.Sprintf("/api/projects/%d/connections", r.project), conn, &c)
	r.connection = c.ID
	return r
}

// waitUntil polls cond every 25ms until it holds, failing the test with
// what after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// newIngestClient returns a client for posting events from workers
// goroutines.
func newIngestClient(t *testing.T, workers int) *http.Client {
	c := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true},
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// postSeq posts the event with sequence number seq to base and returns the
// status code, or 0 when there was no answer.
func postSeq(client *http.Client, base, ingestionID string, seq int) int {
	body := fmt.Sprintf(`{"seq":%d,"pad":%q}`, seq, strings.Repeat("v", 200))
	resp, err := client.Post(base+"/hook/"+ingestionID, "application/json", strings.NewReader(body))
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// hookSink is a destination that answers 200 after a delay and records,
// per Webhook-Id (one per delivery, the same on every attempt), every
// request and when it started and ended. It notes any request that starts
// while another with the same Webhook-Id is still in flight: one delivery
// sent by two nodes at once.
type hookSink struct {
	srv   *httptest.Server
	delay time.Duration

	mu        sync.Mutex
	inflight  map[string]int    // Webhook-Id → requests in flight
	received  map[string]int    // Webhook-Id → requests started
	eventOf   map[string]string // Webhook-Id → X-Volley-Event-Id
	idOf      map[int]string    // sequence number → Webhook-Id
	seqFirst  map[int]time.Time // sequence number → start of its first request
	delivered map[int]int       // sequence number → requests answered to a sender still there
	overlaps  []string          // "id at time" of each overlapping request
	twoIDs    []int             // sequence numbers seen under two Webhook-Ids
	arrivals  []time.Time       // start of every request
	aborted   int               // requests whose sender hung up before the answer
	requests  int
	maxFlight int
}

func newHookSink(t *testing.T, delay time.Duration) *hookSink {
	t.Helper()
	s := &hookSink{
		delay: delay, inflight: map[string]int{}, received: map[string]int{}, eventOf: map[string]string{},
		idOf: map[int]string{}, seqFirst: map[int]time.Time{}, delivered: map[int]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *hookSink) serve(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Seq *int `json:"seq"`
	}
	id := r.Header.Get("Webhook-Id")
	// Reading the body to its end lets the server notice a sender that
	// hangs up (it cancels the request's context).
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &b)
	}
	if err != nil || b.Seq == nil || id == "" {
		http.Error(w, "no seq or Webhook-Id", http.StatusBadRequest)
		return
	}
	seq := *b.Seq
	start := time.Now()
	s.mu.Lock()
	s.requests++
	s.arrivals = append(s.arrivals, start)
	if s.inflight[id] > 0 {
		s.overlaps = append(s.overlaps, fmt.Sprintf("%s at %s", id, start.Format("15:04:05.000")))
	}
	s.inflight[id]++
	s.maxFlight = max(s.maxFlight, s.inflight[id])
	s.received[id]++
	s.eventOf[id] = r.Header.Get("X-Volley-Event-Id")
	if prev, ok := s.idOf[seq]; ok && prev != id {
		s.twoIDs = append(s.twoIDs, seq)
	}
	if _, ok := s.seqFirst[seq]; !ok {
		s.seqFirst[seq] = start
	}
	s.idOf[seq] = id
	s.mu.Unlock()

	gone := false
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the sender died or gave up
			t.Stop()
			gone = true
		}
	}
	gone = gone || r.Context().Err() != nil

	s.mu.Lock()
	s.inflight[id]--
	if gone {
		s.aborted++
	} else {
		s.delivered[seq]++
	}
	s.mu.Unlock()
}

// missing returns the sequence numbers among seqs not delivered yet.
func (s *hookSink) missing(seqs []int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, seq := range seqs {
		if s.delivered[seq] == 0 {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

// waitDelivered polls until every sequence number of seqs was delivered,
// failing the test after timeout with the nodes' logs.
func (s *hookSink) waitDelivered(t *testing.T, seqs []int, timeout time.Duration, nodes ...*volleyProc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing := s.missing(seqs)
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for i, n := range nodes {
				fmt.Fprintf(&logs, "--- node %d log:\n%s", i, n.log.String())
			}
			t.Fatalf("%d of %d acknowledged events never reached the destination within %v (e.g. %v)\n%s",
				len(missing), len(seqs), timeout, missing[:min(10, len(missing))], logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sinkStats is what the destination saw.
type sinkStats struct {
	requests   int      // requests received
	deliveries int      // distinct Webhook-Ids
	duplicates []string // a Webhook-Id per request beyond the first
	overlaps   []string
	twoIDs     []int
	aborted    int
}

func (s *hookSink) stats() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := sinkStats{requests: s.requests, deliveries: len(s.received), aborted: s.aborted,
		overlaps: slices.Clone(s.overlaps), twoIDs: slices.Clone(s.twoIDs)}
	for id, n := range s.received {
		for range n - 1 {
			st.duplicates = append(st.duplicates, id)
		}
	}
	return st
}

// event returns the event id of the delivery with Webhook-Id id.
func (s *hookSink) event(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eventOf[id]
}

// requestsOf returns how many requests with Webhook-Id id started.
func (s *hookSink) requestsOf(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[id]
}

// startedSince returns how many requests started at t or later.
func (s *hookSink) startedSince(t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.arrivals {
		if !a.Before(t) {
			n++
		}
	}
	return n
}

// firstDelivery returns when the first request for sequence number seq
// started.
func (s *hookSink) firstDelivery(seq int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seqFirst[seq]
}

// sortedArrivals returns when each request started, in order. Arrivals are
// for the log only: on a loaded machine they bunch up however evenly the
// requests were sent.
func (s *hookSink) sortedArrivals() []time.Time {
	s.mu.Lock()
	a := slices.Clone(s.arrivals)
	s.mu.Unlock()
	slices.SortFunc(a, func(x, y time.Time) int { return x.Compare(y) })
	return a
}

// maxPerSecond returns the most requests that started within any
// half-open one-second window [t, t+1s).
func (s *hookSink) maxPerSecond() int {
	a := s.sortedArrivals()
	most, j := 0, 0
	for i := range a {
		for j < len(a) && a[j].Sub(a[i]) < time.Second {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

// tightestSpan returns the shortest time in which n requests started, or 0
// when there were fewer.
func (s *hookSink) tightestSpan(n int) time.Duration {
	a := s.sortedArrivals()
	var span time.Duration
	for i := 0; i+n-1 < len(a); i++ {
		if d := a[i+n-1].Sub(a[i]); i == 0 || d < span {
			span = d
		}
	}
	return span
}
