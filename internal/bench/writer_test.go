package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// writerMetrics renders the writer histograms as a node serves them, with
// every count scaled by n.
func writerMetrics(n uint64) string {
	var b strings.Builder
	b.WriteString("# TYPE volley_store_writer_wait_seconds histogram\n")
	for _, kind := range []string{"ingest", "finish"} {
		fmt.Fprintf(&b, "volley_store_writer_wait_seconds_bucket{kind=%q,le=\"0.001\"} %d\n", kind, 90*n)
		fmt.Fprintf(&b, "volley_store_writer_wait_seconds_bucket{kind=%q,le=\"0.004\"} %d\n", kind, 99*n)
		fmt.Fprintf(&b, "volley_store_writer_wait_seconds_bucket{kind=%q,le=\"0.016\"} %d\n", kind, 100*n)
		fmt.Fprintf(&b, "volley_store_writer_wait_seconds_bucket{kind=%q,le=\"+Inf\"} %d\n", kind, 100*n)
		fmt.Fprintf(&b, "volley_store_writer_wait_seconds_sum{kind=%q} 0.1\n", kind)
		fmt.Fprintf(&b, "volley_store_writer_wait_seconds_count{kind=%q} %d\n", kind, 100*n)
	}
	b.WriteString("# TYPE volley_store_writer_hold_seconds histogram\n")
	for _, h := range []struct {
		kind         string
		a, b, c, inf uint64
	}{{"ingest", 100, 100, 100, 100}, {"finish", 0, 50, 100, 100}, {"sweep", 0, 0, 0, 0}} {
		fmt.Fprintf(&b, "volley_store_writer_hold_seconds_bucket{kind=%q,le=\"0.001\"} %d\n", h.kind, h.a*n)
		fmt.Fprintf(&b, "volley_store_writer_hold_seconds_bucket{kind=%q,le=\"0.004\"} %d\n", h.kind, h.b*n)
		fmt.Fprintf(&b, "volley_store_writer_hold_seconds_bucket{kind=%q,le=\"0.016\"} %d\n", h.kind, h.c*n)
		fmt.Fprintf(&b, "volley_store_writer_hold_seconds_bucket{kind=%q,le=\"+Inf\"} %d\n", h.kind, h.inf*n)
		fmt.Fprintf(&b, "volley_store_writer_hold_seconds_sum{kind=%q} %g\n", h.kind, 0.25*float64(h.inf*n))
		fmt.Fprintf(&b, "volley_store_writer_hold_seconds_count{kind=%q} %d\n", h.kind, h.inf*n)
	}
	return b.String()
}

// TestWriterSnapSince checks that a step's writer statistics are the
// difference of two scrapes, rendered with the longest holds first and
// the kinds that did not write left out.
func TestWriterSnapSince(t *testing.T) {
	t.Parallel()
	var scale atomic.Uint64
	scale.Store(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, writerMetrics(scale.Load()))
	}))
	defer srv.Close()
	before, err := scrapeWriter(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	scale.Store(3) // the step doubled every count
	after, err := scrapeWriter(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := after.since(before).String()
	want := "ingest waited p99 ≤ 4 ms, max ≤ 16 ms; held by finish p99 ≤ 16 ms, max ≤ 16 ms (200, 50.0 s), ingest p99 ≤ 1 ms, max ≤ 1 ms (200, 50.0 s)"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestWriterSnapWithoutWriter checks that a node without a single writer
// (PostgreSQL) reports nothing.
func TestWriterSnapWithoutWriter(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE volley_events_ingested_total counter\nvolley_events_ingested_total 3\n")
	}))
	defer srv.Close()
	s, err := scrapeWriter(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.since(writerSnap{}).String(); got != "" {
		t.Errorf("got %q, want nothing", got)
	}
}
