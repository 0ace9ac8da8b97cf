package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunLists runs phase (d) on a small SQLite store: every query answers
// 200 through the API and is reported with its request.
func TestRunLists(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := runLists(t.Context(), Config{Events: 300, Runs: 1, BodySize: 128}, &out); err != nil {
		t.Fatalf("runLists: %v\n%s", err, out.String())
	}
	report := out.String()
	for _, q := range listQueries(&listGraph{projectID: 1, routes: []datasetRoute{{1, 1, 1}, {2, 2, 2}}}, &dataset{Events: 300, MiddleUID: "evt_0123456789abcdefghijkl"}) {
		if !strings.Contains(report, q.name) {
			t.Errorf("report lacks %q:\n%s", q.name, report)
		}
	}
	for _, want := range []string{"(d) list queries on 300 events", "planner statistics:", "events: default page", " 300  GET /api/projects/"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

// TestTimeQueryBudget: past its budget a query is not repeated (one run
// after the warm-up at least); without one it runs as often as asked.
func TestTimeQueryBudget(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.WriteString(w, `{"total":7}`)
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		budget   time.Duration
		runs     int
		requests int64
	}{{0, 5, 6}, {time.Nanosecond, 1, 2}} {
		n.Store(0)
		r, err := timeQuery(t.Context(), srv.Client(), srv.URL, "/", 5, tc.budget)
		if err != nil || r.runs != tc.runs || n.Load() != tc.requests || r.total != 7 {
			t.Errorf("budget %s: %+v, %v after %d requests; want %d runs, %d requests", tc.budget, r, err, n.Load(), tc.runs, tc.requests)
		}
	}
}
