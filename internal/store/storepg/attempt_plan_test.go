package storepg_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// fullSort is a plan's Sort node that sorts its whole input (an
// Incremental Sort only orders the ties of an index's order).
var fullSort = regexp.MustCompile(`(?m)^\s*(->\s+)?Sort\b`)

// TestAttemptListPlan checks that every attempt list of the API (the
// failed filter, each sort, with each other filter) reads its page through
// an index, once the table has statistics: the sort's index in its order,
// or for failed attempts their own index (PostgreSQL may sort those, a
// small share of the project's). Before any ANALYZE, PostgreSQL takes a
// fresh table for a few pages and sorts them; autovacuum analyzes a table
// as it grows (each time a tenth of it changed), so a table of any size
// has statistics. The counts stop at the API's cap (LIMIT), whatever they
// read.
func TestAttemptListPlan(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	storetest.PlanAttempts(t, s, conn, 5_000)
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatalf("ANALYZE: %v", err)
	}
	for _, tc := range storetest.AttemptPlanCases(conn) {
		_, page, err := s.ExplainAttemptList(t.Context(), tc.Params)
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		p := tc.Params
		index := map[string]string{store.AttemptSortDuration: "attempts_project_duration",
			store.AttemptSortStatusCode: "attempts_project_status_code"}[p.Sort]
		failed := p.Status == volley.AttemptFailed && strings.Contains(page, "attempts_project_failed")
		switch {
		case strings.Contains(page, "Seq Scan"):
			t.Errorf("%s: the page scans the table:\n%s", tc.Name, page)
		case failed:
		case p.Status == volley.AttemptFailed && index == "":
			t.Errorf("%s: the page does not read attempts_project_failed:\n%s", tc.Name, page)
		case index != "" && (!strings.Contains(page, index) || fullSort.MatchString(page)):
			t.Errorf("%s: the page does not read %s in order:\n%s", tc.Name, index, page)
		}
	}
}
