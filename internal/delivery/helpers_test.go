package delivery_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/testserver"
)

// The helpers below are shared by the engine tests: a real node on
// 127.0.0.1 driven through its HTTP API, sinks that record what reaches
// them, and polling with a deadline.

// fastConfig retries after 50ms and polls every 50ms, so that whole retry
// sequences take a fraction of a second. The default attempt timeout stays
// generous: a sink that answers at once must never time out on a loaded
// machine (tests of timeouts set the destination's timeout_ms).
func fastConfig() delivery.Config {
	return delivery.Config{
		Retry:        delivery.RetryPolicy{Schedule: []time.Duration{50 * time.Millisecond}, Jitter: 0},
		Timeout:      5 * time.Second,
		PollInterval: 50 * time.Millisecond,
	}
}

// env is a running node, its admin's default project and a client of its
// own for ingestion.
type env struct {
	srv    *testserver.Server
	pid    uint64
	client *http.Client
}

func setup(t *testing.T, cfg delivery.Config) *env {
	t.Helper()
	srv := testserver.Start(t, testserver.Options{Delivery: cfg})
	return newEnv(t, srv, srv.AdminAccount().ProjectID)
}

func newEnv(t *testing.T, srv *testserver.Server, pid uint64) *env {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return &env{srv: srv, pid: pid, client: client}
}

// api calls the management API as the admin and fails the test unless the
// answer has status want.
func (e *env) api(t *testing.T, want int, method, path string, body any) *testserver.Response {
	t.Helper()
	resp := e.srv.Do(t, testserver.Request{Method: method, Path: path, Token: testserver.AdminToken, Body: body})
	if resp.Status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.Status, want, resp.Body)
	}
	return resp
}

type created struct {
	ID          uint64 `json:"id"`
	IngestionID string `json:"ingestion_id"`
}

// source creates a source and returns its id and ingestion id.
func (e *env) source(t *testing.T, name string) created {
	t.Helper()
	var c created
	e.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", e.pid), map[string]any{"name": name}).JSON(t, &c)
	return c
}

// destination creates a destination for url with extra fields.
func (e *env) destination(t *testing.T, name, url string, extra map[string]any) uint64 {
	t.Helper()
	body := map[string]any{"name": name, "url": url}
	for k, v := range extra {
		body[k] = v
	}
	var c created
	e.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/destinations", e.pid), body).JSON(t, &c)
	return c.ID
}

// connect creates a connection with extra fields.
func (e *env) connect(t *testing.T, src, dest uint64, extra map[string]any) uint64 {
	t.Helper()
	body := map[string]any{"source_id": src, "destination_id": dest}
	for k, v := range extra {
		body[k] = v
	}
	var c created
	e.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/connections", e.pid), body).JSON(t, &c)
	return c.ID
}

// route creates a source, a destination for url and a connection between
// them, and returns the source.
func (e *env) route(t *testing.T, url string, dest, conn map[string]any) (src created, destID, connID uint64) {
	t.Helper()
	src = e.source(t, "src-"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	destID = e.destination(t, "dest", url, dest)
	connID = e.connect(t, src.ID, destID, conn)
	return src, destID, connID
}

// ingest sends a webhook to a source with a plain HTTP request and returns
// the event id of its 202.
func (e *env) ingest(t *testing.T, ingestionID, body string) string {
	t.Helper()
	return e.ingestRequest(t, http.MethodPost, ingestionID, "", nil, body)
}

func (e *env) ingestRequest(t *testing.T, method, ingestionID, query string, header http.Header, body string) string {
	t.Helper()
	url := e.srv.URL + "/hook/" + ingestionID
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: status %d: %s", resp.StatusCode, b)
	}
	var out struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.EventID == "" {
		t.Fatalf("ingest: answer %s: %v", b, err)
	}
	return out.EventID
}

// ingestMany sends n webhooks concurrently and returns their event ids.
func (e *env) ingestMany(t *testing.T, ingestionID string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := e.client.Post(e.srv.URL+"/hook/"+ingestionID, "application/json", strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var out struct {
				EventID string `json:"event_id"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted {
				errs <- fmt.Errorf("ingest %d: status %d, %v", i, resp.StatusCode, err)
				return
			}
			ids[i] = out.EventID
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

// attemptJSON is an attempt as the API shows it.
type attemptJSON struct {
	ID            uint64         `json:"id"`
	EventID       string         `json:"event_id"`
	DeliveryID    uint64         `json:"delivery_id"`
	ConnectionID  uint64         `json:"connection_id"`
	DestinationID uint64         `json:"destination_id"`
	Status        string         `json:"status"`
	StatusCode    int            `json:"status_code"`
	ErrorReason   string         `json:"error_reason"`
	DurationMS    int64          `json:"duration_ms"`
	Number        int            `json:"attempt_number"`
	Trigger       string         `json:"trigger"`
	Headers       map[string]any `json:"response_headers"`
	Body          *string        `json:"response_body"`
	CreatedAt     time.Time      `json:"created_at"`
}

// eventJSON is an event (a "request") as the API shows it, with its
// attempts oldest first.
type eventJSON struct {
	ID       uint64        `json:"id"`
	EventID  string        `json:"event_id"`
	Status   string        `json:"status"`
	Attempts []attemptJSON `json:"delivery_attempts"`
}

// event returns an event by its public id.
func (e *env) event(t *testing.T, uid string) eventJSON {
	t.Helper()
	var ev eventJSON
	e.api(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/events/%s", e.pid, uid), nil).JSON(t, &ev)
	return ev
}

// attempts lists the project's attempts with a query (e.g. "event_id=…"),
// oldest first.
func (e *env) attempts(t *testing.T, query string) []attemptJSON {
	t.Helper()
	var out struct {
		Attempts []attemptJSON `json:"attempts"`
	}
	e.api(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/delivery-attempts?sort=time_oldest&limit=500&%s", e.pid, query), nil).JSON(t, &out)
	return out.Attempts
}

// awaitStatus waits until an event has status want and returns it.
func (e *env) awaitStatus(t *testing.T, uid, want string) eventJSON {
	t.Helper()
	var ev eventJSON
	eventually(t, 15*time.Second, func() bool {
		ev = e.event(t, uid)
		return ev.Status == want
	}, func() string { return fmt.Sprintf("event %s has status %q, want %q", uid, ev.Status, want) })
	return ev
}

// eventually calls cond until it holds, failing the test with msg() after
// within.
func eventually(t *testing.T, within time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, msg())
		}
		<-tick.C
	}
}

// received is one request that reached a sink.
type received struct {
	At     time.Time
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// sink is a destination server that records every request, then answers
// with its handler (200 "ok" when nil).
type sink struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []received
	arrived chan struct{} // one value per request, never blocks the handler
}

func newSink(t *testing.T, h http.HandlerFunc) *sink {
	t.Helper()
	s := &sink{arrived: make(chan struct{}, 1024)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, received{At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		select {
		case s.arrived <- struct{}{}:
		default:
		}
		if h == nil {
			io.WriteString(w, "ok")
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.reqs...)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// awaitCount waits until the sink has received n requests.
func (s *sink) awaitCount(t *testing.T, n int, within time.Duration) {
	t.Helper()
	eventually(t, within, func() bool { return s.count() >= n },
		func() string { return fmt.Sprintf("sink received %d requests, want %d", s.count(), n) })
}

// hang blocks a sink handler until the client gives up on the request or
// the test ends (t.Context is cancelled before the sinks close).
func hang(t *testing.T, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-t.Context().Done():
	}
}

// closedURL returns an http URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/hook"
}

// maxInWindow returns the most times that fall in one closed window
// [a, a+w] of a sorted list.
func maxInWindow(times []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for j < len(times) && !times[j].After(times[i].Add(w)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}
