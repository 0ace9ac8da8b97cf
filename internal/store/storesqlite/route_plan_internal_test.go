package storesqlite

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestEventRoutePlan: a connection or destination filter over many
// deliveries walks the project's events newest first and probes each one's
// deliveries by index, with no sort; over few it reads their list. Both
// plans list the same events, and the count of a walk with no other filter
// is the capped one the route count found.
func TestEventRoutePlan(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	start := time.Now().Add(-time.Hour)
	for i := range 3 {
		events := storetest.Events(200, i, conn, time.Now())
		for j := range events {
			events[j].Event.CreatedAt = start.Add(time.Duration(i*200+j) * time.Second)
		}
		if _, err := s.EventInsert(t.Context(), events); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
	many := storesql.Routes{Deliveries: storesql.RouteListMax + 1}
	for _, f := range []store.EventListParams{{ConnectionID: conn.ID}, {DestinationID: conn.DestinationID},
		{ConnectionID: conn.ID, Status: volley.EventPending}} {
		p := f
		p.ProjectID, p.Limit = conn.ProjectID, 50
		p.Page.CountLimit = 10_000
		walk := storesql.EventListQuery(p, dialect, eventCols, eventFrom, many)
		plan := explain(t, s, walk.Page, walk.PageArgs)
		if !strings.Contains(plan, "USING INDEX events_project_") || strings.Contains(plan, "TEMP B-TREE") ||
			!strings.Contains(plan, "deliveries_event") {
			t.Errorf("filters %+v: the walk's plan is\n%s\nwant the project's events in order, each probed through deliveries_event", f, plan)
		}
		few := storesql.EventListQuery(p, dialect, eventCols, eventFrom, storesql.Routes{Deliveries: 600})
		got, _, err := readList(t.Context(), s.read, walk, scanEvent)
		if err != nil {
			t.Fatal(err)
		}
		want, total, err := readList(t.Context(), s.read, few, scanEvent)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 50 || !slices.EqualFunc(got, want, func(a, b volley.Event) bool { return a.ID == b.ID }) {
			t.Errorf("filters %+v: the walk lists %d events, the list %d, or other ones", f, len(got), len(want))
		}
		if f.Status == "" {
			var walkTotal int64
			if err := s.read.QueryRowContext(t.Context(), walk.Count, walk.CountArgs...).Scan(&walkTotal); err != nil || walkTotal != 10_001 {
				t.Errorf("filters %+v: the walk's count = %d, %v; want 10001 (more than the cap)", f, walkTotal, err)
			}
			if total != 600 {
				t.Errorf("filters %+v: the list's count = %d, want 600", f, total)
			}
		}
	}
}
