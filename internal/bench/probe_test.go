package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// timeoutErr is a net.Error that timed out, as a client timeout reports.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestProbeTally(t *testing.T) {
	t.Parallel()
	var tally probeTally
	// 100 accepted requests of 1..100 ms, then every way a request fails.
	for i := 100; i >= 1; i-- {
		tally.record(time.Duration(i)*time.Millisecond, http.StatusAccepted, nil)
	}
	tally.record(10*time.Second, 0, timeoutErr{})
	tally.record(10*time.Second, 0, fmt.Errorf("post: %w", context.DeadlineExceeded))
	tally.record(time.Millisecond, 0, errors.New("connection refused"))
	tally.record(time.Millisecond, http.StatusServiceUnavailable, nil)
	got := tally.stats()
	want := probeStats{sent: 104, accepted: 100, timeouts: 2, errors: 2,
		p50: 51 * time.Millisecond, p99: 100 * time.Millisecond, max: 100 * time.Millisecond}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
	if s := got.String(); s != "p50 51.0 ms, p99 100.0 ms, max 100.0 ms; 104 sent, 2 timeouts, 2 errors" {
		t.Errorf("String() = %q", s)
	}
	var empty probeTally
	if s := empty.stats(); !reflect.DeepEqual(s, probeStats{}) {
		t.Errorf("empty stats = %+v", s)
	}
}

// TestProbe runs a probe against a server that refuses every third
// webhook: each request is counted once, as accepted or as an error, and
// only accepted ones are added to the caller's count.
func TestProbe(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	var accepted atomic.Int64
	p := startProbe(t.Context(), srv.URL, 200, []byte(`{}`), &accepted)
	deadline := time.Now().Add(30 * time.Second)
	for n.Load() < 30 {
		if time.Now().After(deadline) {
			p.finish()
			t.Fatalf("the server got %d requests of the probe in 30 s", n.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	s := p.finish()
	if s.sent != int(n.Load()) || s.accepted+s.errors != s.sent || s.timeouts != 0 || s.errors != s.sent/3 {
		t.Errorf("stats %+v after the server got %d requests", s, n.Load())
	}
	if s.perSecond <= 0 || !strings.Contains(s.String(), "/s), ") {
		t.Errorf("no rate in %+v: %s", s, s)
	}
	if accepted.Load() != int64(s.accepted) {
		t.Errorf("accepted count %d, stats say %d", accepted.Load(), s.accepted)
	}
}

// TestCaps: the caps on bulk work are read from a /metrics page and
// summed up per kind of work.
func TestCaps(t *testing.T) {
	t.Parallel()
	page := func(lease, retention, gaveUp string) string {
		return `# HELP volley_bulk_rate_cap The rate …
# TYPE volley_bulk_rate_cap gauge
volley_bulk_rate_cap{work="lease"} ` + lease + `
volley_bulk_rate_cap{work="retention"} ` + retention + `
volley_bulk_yield_given_up_total{work="lease"} ` + gaveUp + `
volley_commit_batch_size_bucket{writer="ingest",le="1"} 3
`
	}
	cs := capStats{}
	for _, p := range []string{page("0", "0", "1"), page("700", "0", "1"), page("490", "0", "2"), page("0", "0", "3")} {
		caps, err := parseCaps(strings.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		cs.add(caps)
	}
	if s := cs.String(); s != "bulk work: lease capped in 2 of 4 samples (lowest 490/s, uncapped after 2 trials)" {
		t.Errorf("String() = %q", s)
	}
	calm := capStats{}
	calm.add(map[string]capSample{"lease": {}})
	if s := calm.String(); s != "bulk work never capped" {
		t.Errorf("never capped: %q", s)
	}
	if s := (capStats{}).String(); s != "" {
		t.Errorf("no caps exposed: %q, want nothing", s)
	}
	if _, err := parseCaps(strings.NewReader(`volley_bulk_rate_cap{work="lease"} x` + "\n")); err == nil {
		t.Error("a cap that is not a number parsed")
	}
	st := probeStats{sent: 1, accepted: 1, caps: cs}
	if s := st.String(); !strings.HasSuffix(s, "0 errors; bulk work: lease capped in 2 of 4 samples (lowest 490/s, uncapped after 2 trials)") {
		t.Errorf("probe String() = %q", s)
	}
}
