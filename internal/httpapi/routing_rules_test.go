package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// received is one request a recordingSink got.
type received struct {
	path   string
	header http.Header
	body   string
}

// recordingSink is a destination on 127.0.0.1 that answers 200 and keeps
// every request.
type recordingSink struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func newRecordingSink(t *testing.T) *recordingSink {
	t.Helper()
	s := &recordingSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, received{path: r.URL.Path + "?" + r.URL.RawQuery, header: r.Header.Clone(), body: string(b)})
		s.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

// at returns the requests received on a path prefix.
func (s *recordingSink) at(prefix string) []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []received
	for _, r := range s.got {
		if strings.HasPrefix(r.path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// rulesSetup is a project with one source and a sink.
type rulesSetup struct {
	srv     *testserver.Server
	admin   *caller
	sink    *recordingSink
	pid     uint64
	base    string
	source  uint64
	ingest  string
	settled int64 // attempts recorded so far in the project
}

func setupRules(t *testing.T) *rulesSetup {
	t.Helper()
	srv := testserver.Start(t, testserver.Options{})
	r := &rulesSetup{srv: srv, admin: callerOf(srv, testserver.AdminToken), sink: newRecordingSink(t)}
	r.pid = idOf(t, r.admin.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Rules"}), "project")
	r.base = fmt.Sprintf("/api/projects/%d", r.pid)
	src := r.admin.must(t, http.StatusCreated, "POST", r.base+"/sources", map[string]any{"name": "Shop"})
	r.source, r.ingest = idOf(t, src, "source"), stringOf(t, src, "source", "ingestion_id")
	return r
}

// connect creates a destination at the sink's path and a connection to it
// with the given extra fields.
func (r *rulesSetup) connect(t *testing.T, name, path string, fields map[string]any) uint64 {
	t.Helper()
	dst := idOf(t, r.admin.must(t, http.StatusCreated, "POST", r.base+"/destinations",
		map[string]any{"name": name, "url": r.sink.URL + path}), "destination")
	body := map[string]any{"source_id": r.source, "destination_id": dst}
	for k, v := range fields {
		body[k] = v
	}
	return idOf(t, r.admin.must(t, http.StatusCreated, "POST", r.base+"/connections", body), "connection")
}

// send ingests body and waits until attempts more attempts are recorded
// and nothing is pending.
func (r *rulesSetup) send(t *testing.T, body string, attempts int64) string {
	t.Helper()
	uid := ingest(t, r.srv, r.ingest, map[string]string{"X-Shop": "eu-1"}, body)
	r.settled += attempts
	waitSettled(t, r.admin, r.pid, r.settled)
	return uid
}

type eventDetail struct {
	Status     string `json:"status"`
	Deliveries []struct {
		ConnectionID uint64 `json:"connection_id"`
		State        string `json:"state"`
		Reason       string `json:"reason"`
		AttemptCount int    `json:"attempt_count"`
	} `json:"deliveries"`
	Attempts []struct {
		ConnectionID        uint64 `json:"connection_id"`
		Status              string `json:"status"`
		ErrorReason         string `json:"error_reason"`
		TransformationLogs  string `json:"transformation_logs"`
		TransformationError string `json:"transformation_error"`
	} `json:"delivery_attempts"`
}

func (r *rulesSetup) event(t *testing.T, uid string) eventDetail {
	t.Helper()
	var ev eventDetail
	r.admin.must(t, http.StatusOK, "GET", fmt.Sprintf("%s/events/%s", r.base, uid), nil).JSON(t, &ev)
	return ev
}

func TestFilterEndToEnd(t *testing.T) {
	t.Parallel()
	r := setupRules(t)
	orders := r.connect(t, "Orders", "/orders", map[string]any{
		"filter": map[string]any{"body": map[string]any{"type": map[string]any{"$startsWith": "order."}, "amount": map[string]any{"$gte": 100}},
			"headers": map[string]any{"X-Shop": map[string]any{"$in": []string{"eu-1", "eu-2"}}}}})
	all := r.connect(t, "Everything", "/all", nil)

	big := r.send(t, `{"type":"order.created","amount":150}`, 2)
	small := r.send(t, `{"type":"order.created","amount":20}`, 1)
	if got := len(r.sink.at("/orders")); got != 1 {
		t.Fatalf("the filtered connection's destination got %d requests, want 1", got)
	}
	if got := len(r.sink.at("/all")); got != 2 {
		t.Fatalf("the unfiltered connection's destination got %d requests, want 2", got)
	}
	ev := r.event(t, big)
	if ev.Status != "processed" || len(ev.Deliveries) != 2 {
		t.Fatalf("matching event: %+v", ev)
	}
	ev = r.event(t, small)
	if ev.Status != "processed" {
		t.Errorf("event filtered on one connection and delivered on another is %q, want processed", ev.Status)
	}
	for _, d := range ev.Deliveries {
		switch d.ConnectionID {
		case orders:
			if d.State != "filtered" || d.Reason != "filter did not match" || d.AttemptCount != 0 {
				t.Errorf("filtered delivery = %+v", d)
			}
		case all:
			if d.State != "success" {
				t.Errorf("unfiltered delivery = %+v", d)
			}
		}
	}
	for _, a := range ev.Attempts {
		if a.ConnectionID == orders {
			t.Errorf("a filtered delivery made an attempt: %+v", a)
		}
	}

	// An event no connection lets through is filtered, listed as such, and
	// makes no request at all.
	r.admin.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", all), map[string]any{
		"filter": map[string]any{"query": map[string]any{"debug": map[string]any{"$exist": true}}}})
	none := r.send(t, `{"type":"invoice.paid","amount":500}`, 0)
	if ev := r.event(t, none); ev.Status != "filtered" || len(ev.Attempts) != 0 {
		t.Errorf("event filtered everywhere: %+v", ev)
	}
	var list struct {
		Requests []struct {
			EventID string `json:"event_id"`
		} `json:"requests"`
	}
	r.admin.must(t, http.StatusOK, "GET", r.base+"/requests?status=filtered", nil).JSON(t, &list)
	if len(list.Requests) != 1 || list.Requests[0].EventID != none {
		t.Errorf("?status=filtered lists %+v, want %s only", list.Requests, none)
	}
	if got := len(r.sink.at("/")); got != 3 {
		t.Errorf("sink got %d requests in all, want 3", got)
	}

	// Why an event does not match, for a stored event and a given request.
	var why struct {
		Matches bool `json:"matches"`
		Reason  struct {
			Path, Expected, Actual string
		} `json:"reason"`
	}
	r.admin.must(t, http.StatusOK, "POST", "/api/connections/test-filter",
		map[string]any{"connection_id": orders, "event_id": small}).JSON(t, &why)
	if why.Matches || why.Reason.Path != "body.amount.$gte" || why.Reason.Expected != ">= 100" || why.Reason.Actual != "20" {
		t.Errorf("test-filter on the small order = %+v", why)
	}
	r.admin.must(t, http.StatusOK, "POST", "/api/connections/test-filter", map[string]any{
		"filter":  map[string]any{"path": "/x", "query": map[string]any{"page": map[string]any{"$gt": 1}}},
		"request": map[string]any{"path": "/x", "query": map[string]any{"page": 2}}}).JSON(t, &why)
	if !why.Matches {
		t.Errorf("test-filter on a given request = %+v, want a match", why)
	}
}

func TestFilterValidation(t *testing.T) {
	t.Parallel()
	r := setupRules(t)
	dst := idOf(t, r.admin.must(t, http.StatusCreated, "POST", r.base+"/destinations",
		map[string]any{"name": "D", "url": r.sink.URL}), "destination")
	for filter, want := range map[string]string{
		`{"body":{"amount":{"$gt":"a","$lt":true}}}`: "filter.body.amount.$lt: expects a number or a string",
		`{"body":{"type":{"$regex":"x"}}}`:           "filter.body.type.$regex: unknown operator",
		`{"bdy":{}}`:                                 "filter.bdy: unknown section",
		`{"headers":{"x":{"$exist":1}}}`:             "filter.headers.x.$exist: expects true or false",
	} {
		resp := r.admin.do(t, "POST", r.base+"/connections",
			fmt.Sprintf(`{"source_id":%d,"destination_id":%d,"filter":%s}`, r.source, dst, filter))
		e := errorOf(t, resp)
		if resp.Status != http.StatusBadRequest || !strings.HasPrefix(e.Error, want) || e.Field != "filter" {
			t.Errorf("filter %s: %d %+v, want 400 %q", filter, resp.Status, e, want)
		}
	}
	resp := r.admin.do(t, "POST", "/api/connections/test-filter", map[string]any{"filter": map[string]any{"body": "x"}})
	if e := errorOf(t, resp); resp.Status != http.StatusBadRequest || !strings.Contains(e.Error, "event_id") {
		t.Errorf("test-filter without an event: %d %+v", resp.Status, e)
	}
	resp = r.admin.do(t, "POST", "/api/connections/test-filter", map[string]any{"filter": map[string]any{"body": "x"}, "event_id": "evt_nope"})
	if resp.Status != http.StatusNotFound {
		t.Errorf("test-filter on an unknown event: %d %s", resp.Status, resp.Body)
	}
}

func TestSubPathFilteredAndForwarded(t *testing.T) {
	t.Parallel()
	r := setupRules(t)
	r.connect(t, "Orders", "/in", map[string]any{"filter": map[string]any{"path": map[string]any{"$startsWith": "/orders/"}}})
	uid := ingest(t, r.srv, r.ingest+"/orders/42?x=1", nil, `{}`)
	r.settled++
	waitSettled(t, r.admin, r.pid, r.settled)
	other := ingest(t, r.srv, r.ingest+"/invoices/7", nil, `{}`)
	waitSettled(t, r.admin, r.pid, r.settled)
	got := r.sink.at("/")
	if len(got) != 1 || got[0].path != "/in/orders/42?x=1" {
		t.Fatalf("sink got %+v, want one request at /in/orders/42?x=1", got)
	}
	var ev struct {
		Path   string `json:"path"`
		Status string `json:"status"`
	}
	r.admin.must(t, http.StatusOK, "GET", fmt.Sprintf("%s/events/%s", r.base, uid), nil).JSON(t, &ev)
	if ev.Path != "/orders/42" || ev.Status != "processed" {
		t.Errorf("event = %+v", ev)
	}
	r.admin.must(t, http.StatusOK, "GET", fmt.Sprintf("%s/events/%s", r.base, other), nil).JSON(t, &ev)
	if ev.Path != "/invoices/7" || ev.Status != "filtered" {
		t.Errorf("event on another path = %+v", ev)
	}
}
