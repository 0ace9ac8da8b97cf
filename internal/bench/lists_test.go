package bench

import (
	"strings"
	"testing"
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
