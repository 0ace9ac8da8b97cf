package metrics_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/testserver"
)

// The tests here run a real node, send it real traffic and read /metrics
// over HTTP, parsing it with the Prometheus text parser.

// family is one parsed metric family.
type family = *dto.MetricFamily

// scrape GETs url with an optional bearer token and returns the status and
// body.
func scrape(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// parse reads the text format with the Prometheus parser, failing the test
// on any error in it.
func parse(t *testing.T, text string) map[string]family {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, text)
	}
	return fams
}

// value returns the value of the series of name whose labels include
// labels ("k=v" pairs): a counter's or gauge's value, a histogram's
// count. ok is false when there is no such series.
func value(fams map[string]family, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for _, l := range labels {
			k, want, _ := strings.Cut(l, "=")
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == want {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// histogramSum returns the sum of a histogram series.
func histogramSum(fams map[string]family, name string, label string) float64 {
	k, want, _ := strings.Cut(label, "=")
	for _, m := range fams[name].GetMetric() {
		for _, lp := range m.Label {
			if lp.GetName() == k && lp.GetValue() == want {
				return m.Histogram.GetSampleSum()
			}
		}
	}
	return 0
}

// node is a test server seen by its admin.
type node struct {
	srv *testserver.Server
	pid uint64
}

func (n *node) api(t *testing.T, want int, method, path string, body any) *testserver.Response {
	t.Helper()
	resp := n.srv.Do(t, testserver.Request{Method: method, Path: path, Token: testserver.AdminToken, Body: body})
	if resp.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.Status, want, resp.Body)
	}
	return resp
}

type created struct {
	ID          uint64 `json:"id"`
	IngestionID string `json:"ingestion_id"`
}

func (n *node) create(t *testing.T, kind string, body map[string]any) created {
	t.Helper()
	var c created
	n.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/%s", n.pid, kind), body).JSON(t, &c)
	return c
}

// hook sends a webhook and returns the status.
func (n *node) hook(t *testing.T, ingestionID string, header http.Header, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, n.srv.URL+"/hook/"+ingestionID, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor scrapes until ok accepts the metrics, or fails after a deadline
// that only bounds the wait.
func waitFor(t *testing.T, url, token, what string, ok func(map[string]family) bool) map[string]family {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := scrape(t, url, token)
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: status %d: %s", status, body)
		}
		fams := parse(t, body)
		if ok(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s:\n%s", what, body)
		}
		time.Sleep(20 * time.Millisecond) // polling, bounded by the deadline
	}
}

// TestMetricsAfterTraffic sends accepted and refused webhooks through a
// real node, with deliveries that succeed, fail once then succeed, give up
// (410) and are held, and checks that every counter moved by exactly the
// traffic sent.
func TestMetricsAfterTraffic(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{
		MaxBodyBytes: 1024,
		Delivery: delivery.Config{
			Retry:        delivery.RetryPolicy{Schedule: []time.Duration{20 * time.Millisecond}},
			PollInterval: 20 * time.Millisecond,
		},
	})
	n := &node{srv: srv, pid: srv.AdminAccount().ProjectID}

	// ok fails its first request only; gone answers 410 to everything.
	var okCalls atomic.Int64
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if okCalls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(ok.Close)
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }))
	t.Cleanup(gone.Close)

	src := n.create(t, "sources", map[string]any{"name": "plain"})
	okDest := n.create(t, "destinations", map[string]any{"name": "ok", "url": ok.URL})
	goneDest := n.create(t, "destinations", map[string]any{"name": "gone", "url": gone.URL})
	heldDest := n.create(t, "destinations", map[string]any{"name": "held", "url": ok.URL + "/held"})
	n.create(t, "connections", map[string]any{"source_id": src.ID, "destination_id": okDest.ID, "max_retries": 3})
	n.create(t, "connections", map[string]any{"source_id": src.ID, "destination_id": goneDest.ID})
	n.create(t, "connections", map[string]any{"source_id": src.ID, "destination_id": heldDest.ID, "status": "paused"})
	signed := n.create(t, "sources", map[string]any{"name": "signed", "type": "github", "verify_signature": true, "webhook_secret": "It's a Secret to Everybody"})
	keyed := n.create(t, "sources", map[string]any{"name": "keyed", "auth_type": "api_key", "auth_key": "k-123"})

	for i := range 3 {
		if got := n.hook(t, src.IngestionID, nil, fmt.Sprintf(`{"n":%d}`, i)); got != http.StatusAccepted {
			t.Fatalf("ingest %d: status %d", i, got)
		}
	}
	refusals := []struct {
		reason   string
		ingestID string
		header   http.Header
		body     string
		status   int
	}{
		{"unknown", "src_doesnotexist0000", nil, `{}`, http.StatusNotFound},
		{"unknown", "src_doesnotexist0001", nil, `{}`, http.StatusNotFound},
		{"signature", signed.IngestionID, http.Header{"X-Hub-Signature-256": {"sha256=00"}}, `{}`, http.StatusUnauthorized},
		{"auth", keyed.IngestionID, nil, `{}`, http.StatusUnauthorized},
		{"size", src.IngestionID, nil, strings.Repeat("x", 2048), http.StatusRequestEntityTooLarge},
	}
	for _, r := range refusals {
		if got := n.hook(t, r.ingestID, r.header, r.body); got != r.status {
			t.Fatalf("%s refusal: status %d, want %d", r.reason, got, r.status)
		}
	}

	url := srv.Node.MetricsURL()
	// Attempts are counted when they end, their outcomes once committed:
	// wait for both.
	fams := waitFor(t, url, "", "every delivery settled", func(f map[string]family) bool {
		s, _ := value(f, "volley_deliveries_total", "outcome=success")
		e, _ := value(f, "volley_deliveries_total", "outcome=exhausted")
		b, _ := value(f, "volley_delivery_backlog", "state=scheduled")
		return s == 3 && e == 3 && b == 3 && histogramSum(f, "volley_commit_batch_size", "writer=delivery") >= 7
	})
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"volley_events_ingested_total", nil, 3},
		{"volley_events_duplicate_total", nil, 0},
		{"volley_events_rejected_total", []string{"reason=unknown"}, 2},
		{"volley_events_rejected_total", []string{"reason=signature"}, 1},
		{"volley_events_rejected_total", []string{"reason=auth"}, 1},
		{"volley_events_rejected_total", []string{"reason=size"}, 1},
		{"volley_events_rejected_total", []string{"reason=eps"}, 0},
		{"volley_deliveries_total", []string{"outcome=success"}, 3},
		{"volley_deliveries_total", []string{"outcome=failed_attempt"}, 1},
		{"volley_deliveries_total", []string{"outcome=exhausted"}, 3},
		{"volley_deliveries_total", []string{"outcome=dropped"}, 0},
		{"volley_attempt_duration_seconds", []string{fmt.Sprintf("destination=%d", okDest.ID)}, 4},
		{"volley_attempt_duration_seconds", []string{fmt.Sprintf("destination=%d", goneDest.ID)}, 3},
		{"volley_delivery_backlog", []string{"state=due"}, 0},
		{"volley_delivery_backlog", []string{"state=scheduled"}, 3}, // held by the paused connection
		{"volley_delivery_oldest_due_age_seconds", nil, 0},
		{"volley_lease_takeovers_total", nil, 0},
	}
	for _, w := range want {
		got, ok := value(fams, w.name, w.labels...)
		if !ok || got != w.value {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	// Group commits: the ingest writer stored exactly the three events,
	// in however many batches; the recorder committed the seven attempts.
	if got := histogramSum(fams, "volley_commit_batch_size", "writer=ingest"); got != 3 {
		t.Errorf("ingest commit batch sizes sum to %v, want 3", got)
	}
	if got := histogramSum(fams, "volley_commit_batch_size", "writer=delivery"); got < 7 {
		t.Errorf("delivery commit batch sizes sum to %v, want at least the 7 attempts", got)
	}
	if n, _ := value(fams, "volley_commit_duration_seconds", "writer=ingest"); n < 1 {
		t.Errorf("no ingest commit duration recorded")
	}
	// The SQLite store's writer: each ingest commit took one turn on it,
	// and the engine's outcomes took theirs.
	commits, _ := value(fams, "volley_commit_duration_seconds", "writer=ingest")
	if got, ok := value(fams, "volley_store_writer_hold_seconds", "kind=ingest"); !ok || got != commits {
		t.Errorf("ingest writer holds %v (present %v), want one per ingest commit (%v)", got, ok, commits)
	}
	if got, ok := value(fams, "volley_store_writer_wait_seconds", "kind=finish"); !ok || got < 1 {
		t.Errorf("outcome writer waits %v (present %v), want at least 1", got, ok)
	}
	// SQLite's page buffer: the node's caches hold pages of it. (Whether
	// they overflow it depends on the other tests' stores open in this
	// process meanwhile: only the gauge's presence is checked.)
	if os.Getenv("VOLLEY_SQLITE_PAGE_MEMORY") != "malloc" {
		used, okUsed := value(fams, "volley_store_page_buffer_slots", "state=used")
		free, okFree := value(fams, "volley_store_page_buffer_slots", "state=free")
		if !okUsed || !okFree || used < 1 || free < 1 {
			t.Errorf("page buffer slots: used %v (present %v), free %v (present %v); want both above 0", used, okUsed, free, okFree)
		}
		if _, ok := value(fams, "volley_store_page_overflow_bytes"); !ok {
			t.Errorf("page overflow bytes missing")
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "go_gc_duration_seconds"} {
		if fams[name] == nil {
			t.Errorf("runtime metric %s missing", name)
		}
	}
}

// TestMetricsToken checks that a metrics token is required when set.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{MetricsToken: "m-secret"})
	url := srv.Node.MetricsURL()
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"m-secret", http.StatusOK}} {
		status, body := scrape(t, url, tc.token)
		if status != tc.want {
			t.Errorf("token %q: status %d, want %d: %s", tc.token, status, tc.want, body)
		}
		if status == http.StatusUnauthorized {
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, "metrics token") {
				t.Errorf("401 body %q does not explain the token", body)
			}
		} else {
			parse(t, body)
		}
	}
}

// TestMetricsSeparateListener checks that with MetricsAddr /metrics is
// served there and not on the main listener.
func TestMetricsSeparateListener(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{MetricsAddr: "127.0.0.1:0"})
	url := srv.Node.MetricsURL()
	if strings.HasPrefix(url, srv.URL) {
		t.Fatalf("MetricsURL %s is on the main listener %s", url, srv.URL)
	}
	status, body := scrape(t, url, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, status)
	}
	if fams := parse(t, body); fams["volley_events_ingested_total"] == nil {
		t.Errorf("separate listener serves no volley metrics:\n%s", body)
	}
	status, body = scrape(t, srv.URL+"/metrics", "")
	if status == http.StatusOK && strings.Contains(body, "volley_events_ingested_total") {
		t.Errorf("main listener still serves the metrics")
	}
}

// TestMetricsThrottled holds three events on a paused connection to a
// destination limited to 1 event per second, then resumes it: the three
// deliveries reach the engine at once, the first starts and the other two
// each wait for the destination's limit, once.
func TestMetricsThrottled(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	n := &node{srv: srv, pid: srv.AdminAccount().ProjectID}
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(sink.Close)
	src := n.create(t, "sources", map[string]any{"name": "paced"})
	dest := n.create(t, "destinations", map[string]any{"name": "slow", "url": sink.URL, "eps": 1})
	conn := n.create(t, "connections", map[string]any{"source_id": src.ID, "destination_id": dest.ID, "status": "paused"})
	for i := range 3 {
		if got := n.hook(t, src.IngestionID, nil, fmt.Sprintf(`{"n":%d}`, i)); got != http.StatusAccepted {
			t.Fatalf("ingest %d: status %d", i, got)
		}
	}
	n.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", conn.ID), map[string]any{"status": "enabled"})
	fams := waitFor(t, srv.Node.MetricsURL(), "", "three deliveries", func(f map[string]family) bool {
		s, _ := value(f, "volley_deliveries_total", "outcome=success")
		return s == 3
	})
	for limit, want := range map[string]float64{"destination": 2, "connection": 0, "source": 0} {
		if got, _ := value(fams, "volley_throttled_total", "limit="+limit); got != want {
			t.Errorf("volley_throttled_total{limit=%q} = %v, want %v", limit, got, want)
		}
	}
}

// TestMetricsSourceEPS sends three webhooks at one instant (a fixed clock)
// to a source limited to 1 event per second: one is stored, two are
// refused by the limit and count as throttled by the source.
func TestMetricsSourceEPS(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := testserver.Start(t, testserver.Options{NowFunc: func() time.Time { return at }})
	n := &node{srv: srv, pid: srv.AdminAccount().ProjectID}
	src := n.create(t, "sources", map[string]any{"name": "limited", "eps": 1})
	var statuses []int
	for range 3 {
		statuses = append(statuses, n.hook(t, src.IngestionID, nil, `{}`))
	}
	if statuses[0] != http.StatusAccepted || statuses[1] != http.StatusTooManyRequests || statuses[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v, want 202 then two 429", statuses)
	}
	_, body := scrape(t, srv.Node.MetricsURL(), "")
	fams := parse(t, body)
	for _, w := range []struct {
		name, label string
		want        float64
	}{
		{"volley_events_ingested_total", "", 1},
		{"volley_events_rejected_total", "reason=eps", 2},
		{"volley_throttled_total", "limit=source", 2},
	} {
		var labels []string
		if w.label != "" {
			labels = []string{w.label}
		}
		if got, _ := value(fams, w.name, labels...); got != w.want {
			t.Errorf("%s{%s} = %v, want %v", w.name, w.label, got, w.want)
		}
	}
}

// TestMetricsDropped holds the first of three deliveries in flight at a
// destination that takes one request at a time, deletes the connection
// while the other two wait in the node's queue, then lets the first
// answer: the two are dropped before their attempt.
func TestMetricsDropped(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Delivery: delivery.Config{Concurrency: 1}})
	n := &node{srv: srv, pid: srv.AdminAccount().ProjectID}
	arrived, release := make(chan struct{}, 3), make(chan struct{})
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	t.Cleanup(sink.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	src := n.create(t, "sources", map[string]any{"name": "doomed"})
	dest := n.create(t, "destinations", map[string]any{"name": "one-at-a-time", "url": sink.URL})
	conn := n.create(t, "connections", map[string]any{"source_id": src.ID, "destination_id": dest.ID})
	for i := range 3 {
		if got := n.hook(t, src.IngestionID, nil, fmt.Sprintf(`{"n":%d}`, i)); got != http.StatusAccepted {
			t.Fatalf("ingest %d: status %d", i, got)
		}
	}
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the first delivery never arrived")
	}
	n.api(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/api/connections/%d", conn.ID), nil)
	close(release)
	fams := waitFor(t, srv.Node.MetricsURL(), "", "the two queued deliveries dropped", func(f map[string]family) bool {
		d, _ := value(f, "volley_deliveries_total", "outcome=dropped")
		return d == 2
	})
	if got, _ := value(fams, "volley_deliveries_total", "outcome=success"); got != 1 {
		t.Errorf("volley_deliveries_total{outcome=success} = %v, want the 1 in flight at the delete", got)
	}
	if len(arrived) != 0 {
		t.Errorf("%d deliveries of the deleted connection were sent", len(arrived))
	}
}
