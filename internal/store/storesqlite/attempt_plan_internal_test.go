package storesqlite

import (
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestAttemptListPlan checks that every attempt list of the API (the
// failed filter, each sort, with each other filter) reads an index in the
// list's order, with and without planner statistics: no step sorts the
// project's attempts (a temporary B-tree for the ORDER BY).
func TestAttemptListPlan(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	storetest.PlanAttempts(t, s, conn, 5_000)
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := s.write.ExecContext(t.Context(), `ANALYZE`); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		for _, tc := range storetest.AttemptPlanCases(conn) {
			q, err := attemptListQuery(tc.Params)
			if err != nil {
				t.Fatal(err)
			}
			plan := explain(t, s, q.Page, q.PageArgs)
			if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, attemptIndex(tc.Params)) {
				t.Errorf("analyzed %v, %s: plan\n%s\nwant %s and no sort", analyzed, tc.Name, plan, attemptIndex(tc.Params))
			}
			if tc.Params.Status != "" {
				// The count of failed attempts reads their index too.
				if plan := explain(t, s, q.Count, q.CountArgs); !strings.Contains(plan, "attempts_project_failed") {
					t.Errorf("analyzed %v, %s: count plan\n%s\nwant attempts_project_failed", analyzed, tc.Name, plan)
				}
			}
		}
	}
}

// attemptIndex is the index (or the start of its name) an attempt list
// reads in its order: the sort's, or for the time sorts the failed
// attempts' or a connection's.
func attemptIndex(p store.AttemptListParams) string {
	switch {
	case p.Sort == store.AttemptSortDuration:
		return "attempts_project_duration"
	case p.Sort == store.AttemptSortStatusCode:
		return "attempts_project_status_code"
	case p.Status == volley.AttemptFailed:
		return "attempts_project_failed"
	case p.ConnectionID != 0:
		return "attempts_connection_created"
	}
	return "attempts_project_created"
}
