package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// The helpers below are shared by the package's tests: a real node with
// the admin account as caller, a sink that records what the delivery
// engine sends it, and shortcuts for the API calls that build a source →
// connection → destination graph and read events back.

// node is a running test server seen through its admin account.
type node struct {
	srv  *testserver.Server
	acct *testserver.Account
}

// setup starts a node with a real clock and randomness.
func setup(t *testing.T) *node {
	t.Helper()
	return setupWith(t, testserver.Options{})
}

// setupWith starts a node with opts.
func setupWith(t testing.TB, opts testserver.Options) *node {
	t.Helper()
	srv := testserver.Start(t, opts)
	return &node{srv: srv, acct: srv.AdminAccount()}
}

// api calls the management API as the admin.
func (n *node) api(t testing.TB, method, path string, body any) *testserver.Response {
	t.Helper()
	return n.srv.Do(t, testserver.Request{Method: method, Path: path, Token: n.acct.Token, Body: body})
}

// must calls the API and fails the test unless the status is want.
func (n *node) must(t testing.TB, want int, method, path string, body any) *testserver.Response {
	t.Helper()
	resp := n.api(t, method, path, body)
	if resp.Status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.Status, want, resp.Body)
	}
	return resp
}

// names numbers the sources and destinations of a test binary, whose
// names must be unique within a project.
var names atomic.Int64

// source is a created source.
type source struct {
	ID          uint64 `json:"id"`
	IngestionID string `json:"ingestion_id"`
	Slug        string `json:"slug"`
}

// newSource creates a source in the admin's default project; fields
// override the defaults (a unique name, no auth).
func (n *node) newSource(t testing.TB, fields map[string]any) source {
	t.Helper()
	body := map[string]any{"name": fmt.Sprintf("src %d", names.Add(1))}
	for k, v := range fields {
		body[k] = v
	}
	var s source
	n.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", n.acct.ProjectID), body).JSON(t, &s)
	if s.ID == 0 || !strings.HasPrefix(s.IngestionID, "src_") {
		t.Fatalf("create source: no id or ingestion id in %+v", s)
	}
	return s
}

// newDestination creates a destination pointing at url.
func (n *node) newDestination(t testing.TB, url string) uint64 {
	t.Helper()
	var d struct{ ID uint64 }
	n.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/destinations", n.acct.ProjectID),
		map[string]any{"name": fmt.Sprintf("dst %d", names.Add(1)), "url": url}).JSON(t, &d)
	return d.ID
}

// connect creates a connection with the given status ("" for the default).
func (n *node) connect(t testing.TB, sourceID, destinationID uint64, status string) uint64 {
	t.Helper()
	body := map[string]any{"source_id": sourceID, "destination_id": destinationID}
	if status != "" {
		body["status"] = status
	}
	var c struct{ ID uint64 }
	n.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/connections", n.acct.ProjectID), body).JSON(t, &c)
	return c.ID
}

// routed creates a source (with fields), a sink, a destination to it and
// an enabled connection.
func (n *node) routed(t *testing.T, fields map[string]any) (source, *sink) {
	t.Helper()
	s := n.newSource(t, fields)
	k := newSink(t)
	n.connect(t, s.ID, n.newDestination(t, k.URL()), "")
	return s, k
}

// hookResponse is the answer to an ingestion request.
type hookResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// acceptedBody is the 202 body.
type acceptedBody struct {
	EventID   string `json:"event_id"`
	Status    string `json:"status"`
	Duplicate bool   `json:"duplicate"`
}

// errBody is the body of every refusal.
type errBody struct {
	Error string `json:"error"`
}

// hookRequest describes one ingestion request.
type hookRequest struct {
	Method string // default POST
	Query  string // raw query, without "?"
	Header http.Header
	Body   io.Reader // nil sends no body; a reader of unknown length is sent chunked
	// Length, when positive, is sent as the Content-Length of Body.
	Length int64
}

// hook sends req to /hook/{ingestionID}.
func (n *node) hook(t testing.TB, ingestionID string, req hookRequest) hookResponse {
	t.Helper()
	return sendHook(t, n.srv.URL, ingestionID, req)
}

// sendHook sends req to base/hook/{ingestionID}, failing the test on a
// transport error.
func sendHook(t testing.TB, base, ingestionID string, req hookRequest) hookResponse {
	t.Helper()
	r, err := tryHook(base, ingestionID, req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryHook is sendHook for goroutines other than the test's.
func tryHook(base, ingestionID string, req hookRequest) (hookResponse, error) {
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	url := base + "/hook/" + ingestionID
	if req.Query != "" {
		url += "?" + req.Query
	}
	hr, err := http.NewRequest(method, url, req.Body)
	if err != nil {
		return hookResponse{}, err
	}
	if req.Length > 0 {
		hr.ContentLength = req.Length
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return hookResponse{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return hookResponse{}, fmt.Errorf("%s %s: read response: %w", method, url, err)
	}
	return hookResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// post sends body with headers (name, value pairs) and returns the answer.
func (n *node) post(t testing.TB, ingestionID string, body []byte, header ...string) hookResponse {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Add(header[i], header[i+1])
	}
	return n.hook(t, ingestionID, hookRequest{Header: h, Body: bytes.NewReader(body)})
}

// accepted checks a 202 answer and returns its event id.
func accepted(t testing.TB, r hookResponse) acceptedBody {
	t.Helper()
	if r.Status != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", r.Status, r.Body)
	}
	var a acceptedBody
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("202 body %q: %v", r.Body, err)
	}
	if !strings.HasPrefix(a.EventID, "evt_") || a.Status != "accepted" {
		t.Fatalf("202 body %s, want {\"event_id\":\"evt_…\",\"status\":\"accepted\"}", r.Body)
	}
	if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("202 Content-Type %q, want application/json", got)
	}
	return a
}

// refused checks that r has status want and a JSON error body, and returns
// the error message.
func refused(t testing.TB, r hookResponse, want int) string {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
	var e errBody
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error == "" {
		t.Fatalf("status %d: body %q is not a JSON error (%v)", r.Status, r.Body, err)
	}
	return e.Error
}

// event is a stored event as GET /api/requests/{id} shows it.
type event struct {
	ID            uint64         `json:"id"`
	EventID       string         `json:"event_id"`
	SourceID      uint64         `json:"source_id"`
	Method        string         `json:"method"`
	Query         string         `json:"query"`
	Headers       map[string]any `json:"headers"`
	RawBody       string         `json:"raw_body"`
	RawBodyBase64 string         `json:"raw_body_base64"`
	Status        string         `json:"status"`
}

// header returns the stored values of a header, matched without regard to
// case.
func (e *event) header(name string) []string {
	for k, v := range e.Headers {
		if !strings.EqualFold(k, name) {
			continue
		}
		switch v := v.(type) {
		case string:
			return []string{v}
		case []any:
			out := make([]string, len(v))
			for i := range v {
				out[i], _ = v[i].(string)
			}
			return out
		}
	}
	return nil
}

// event reads an event by its public id: the family B route gives its
// database id, and GET /api/requests/{id} (family A) the event itself.
func (n *node) event(t testing.TB, uid string) event {
	t.Helper()
	var byUID event
	n.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/events/%s", n.acct.ProjectID, uid), nil).JSON(t, &byUID)
	var e event
	n.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/requests/%d", byUID.ID), nil).JSON(t, &e)
	if e.EventID != uid {
		t.Fatalf("GET /api/requests/%d: event_id %q, want %q", byUID.ID, e.EventID, uid)
	}
	return e
}

// total counts a source's stored events through the events list.
func (n *node) total(t testing.TB, sourceID uint64) int64 {
	t.Helper()
	var l struct {
		Total *int64 `json:"total"`
	}
	n.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/requests?source_id=%d&limit=1", n.acct.ProjectID, sourceID), nil).JSON(t, &l)
	if l.Total == nil {
		t.Fatal("events list has no total")
	}
	return *l.Total
}

// deliveries returns an event's deliveries straight from the store.
func (n *node) deliveries(t testing.TB, e event) []volley.Delivery {
	t.Helper()
	ds, err := n.srv.Store.DeliveryListByEvent(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// received is one request a sink got.
type received struct {
	Method string
	Header http.Header
	Body   []byte
}

// sink is a destination that records every request and answers 200.
type sink struct {
	srv *httptest.Server

	mu   sync.Mutex
	reqs []received
}

func newSink(t *testing.T) *sink {
	t.Helper()
	k := &sink{}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		k.mu.Lock()
		k.reqs = append(k.reqs, received{Method: r.Method, Header: r.Header.Clone(), Body: b})
		k.mu.Unlock()
	}))
	t.Cleanup(k.srv.Close)
	return k
}

// URL is the sink's address, a loopback URL the default egress policy
// allows.
func (k *sink) URL() string { return k.srv.URL + "/inbox" }

// of returns the requests that carried event uid.
func (k *sink) of(uid string) []received {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []received
	for _, r := range k.reqs {
		if r.Header.Get("X-Volley-Event-ID") == uid {
			out = append(out, r)
		}
	}
	return out
}

// count returns how many requests the sink got.
func (k *sink) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.reqs)
}

// waitDelivered waits until the sink got event uid and returns its requests.
func (k *sink) waitDelivered(t testing.TB, uid string) []received {
	t.Helper()
	var got []received
	eventually(t, "delivery of "+uid, func() bool {
		got = k.of(uid)
		return len(got) > 0
	})
	return got
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clock is a settable clock for testserver.Options.NowFunc.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// bodyOf is a request body of known length.
func bodyOf(s string) io.Reader { return strings.NewReader(s) }
