package storesqlite

import (
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestEventSearchPlan checks which index serves an event id search, with
// and without planner statistics (sqlite_stat1 exists only once something
// ran ANALYZE): a long prefix through the event_id index, a short one
// through the project's events in the time range it pins, "evt_" through
// the project's events, never the whole event_id index.
func TestEventSearchPlan(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	// Real ids, one second apart, so that a prefix is as selective as on a
	// real store.
	start := time.Now().Add(-time.Hour)
	var middle string
	for i := range 4 {
		events := storetest.Events(500, i, conn, time.Now())
		for j := range events {
			e := &events[j].Event
			e.CreatedAt = start.Add(time.Duration(i*500+j) * time.Second)
			e.UID, _ = volley.NewEventID(rand.Reader, e.CreatedAt)
			if i == 2 && j == 0 {
				middle = e.UID
			}
		}
		if _, err := s.EventInsert(t.Context(), events); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
	const (
		byID      = "USING INDEX sqlite_autoindex_events_1 (event_id>? AND event_id<?)"
		byProject = "(project_id=?)"
		// A short prefix of a real id: the time range it pins.
		byTime = "USING INDEX events_project_created (project_id=? AND created_at>? AND created_at<?)"
	)
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := s.write.ExecContext(t.Context(), `ANALYZE`); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		for _, tc := range []struct {
			search string
			also   store.EventListParams // other filters
			want   string
		}{
			{middle, store.EventListParams{}, byID},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{}, byID},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{SourceID: conn.SourceID}, byID},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{Status: volley.EventPending}, byID},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{ConnectionID: conn.ID}, byID},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{DestinationID: conn.DestinationID}, byID},
			{middle[:storesql.IndexedIDPrefix-1], store.EventListParams{}, byTime},
			{middle[:storesql.IndexedIDPrefix-3], store.EventListParams{}, byTime},
			{"evt_", store.EventListParams{}, byProject},
		} {
			p := tc.also
			p.ProjectID, p.Search, p.Limit = conn.ProjectID, tc.search, 50
			p.Page.CountLimit = 10_000 // as the API counts
			lq := storesql.EventListQuery(p, dialect, eventCols, eventFrom, storesql.NoRoutes)
			for _, q := range []struct {
				sql  string
				args []any
			}{{lq.Count, lq.CountArgs}, {lq.Page, lq.PageArgs}} {
				plan := explain(t, s, q.sql, q.args)
				if !strings.Contains(plan, tc.want) {
					t.Errorf("analyzed %v, search %q, filters %+v: plan of\n%s\nis\n%s\nwant %q", analyzed, tc.search, tc.also, q.sql, plan, tc.want)
				}
			}
		}
	}
}

// planStore opens an empty store with one connection (storetest.Graph)
// for a plan test.
func planStore(t *testing.T) (*Store, *volley.Connection) {
	t.Helper()
	s := tempStore(t)
	return s, storetest.Graph(t, s)
}

// tempStore opens a new store in a temporary directory, closed when the
// test ends.
func tempStore(t *testing.T) *Store {
	t.Helper()
	return tempStoreAt(t, filepath.Join(t.TempDir(), "volley.db"))
}

// tempStoreAt opens a store at path, closed when the test ends.
func tempStoreAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// explain returns the plan of query for args, one step a line.
func explain(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestBacklogSamplePlan checks that the backlog sampler reads one counter
// row per connection and one index seek per project with a backlog, never
// the events or deliveries, and that the overview reads the samples
// through backlog_hours' primary key.
func TestBacklogSamplePlan(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	if _, err := s.EventInsert(t.Context(), storetest.Events(2000, 0, conn, time.Now())); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	if _, err := s.write.ExecContext(t.Context(), `ANALYZE`); err != nil {
		t.Fatalf("ANALYZE: %v", err)
	}
	plan := explain(t, s, sqlBacklogNow, nil)
	for _, want := range []string{"SCAN connection_backlog", "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)",
		"SEARCH e USING COVERING INDEX events_project_status (project_id=? AND status=?)"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan of the backlog sample is\n%s\nwant %q", plan, want)
		}
	}
	if strings.Contains(plan, "SCAN e") || strings.Contains(plan, "deliveries") {
		t.Errorf("the backlog sample reads events or deliveries:\n%s", plan)
	}
	plan = explain(t, s, sqlBacklogHistory, []any{conn.ProjectID, 0, 60, 24 * 60})
	if want := "SEARCH backlog_hours USING PRIMARY KEY (project_id=? AND hour>? AND hour<?)"; !strings.Contains(plan, want) {
		t.Errorf("plan of the backlog history is\n%s\nwant %q", plan, want)
	}
}

// TestEventOffsetPlan checks that a page read at an offset skips events
// through the list's index alone (covering: no table row, no payload per
// event skipped) and reads the page's events and payloads by id.
func TestEventOffsetPlan(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	if _, err := s.EventInsert(t.Context(), storetest.Events(2000, 0, conn, time.Now())); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := s.write.ExecContext(t.Context(), `ANALYZE`); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		p := store.EventListParams{ProjectID: conn.ProjectID, Limit: 50, Offset: 1000}
		lq := storesql.EventListQuery(p, dialect, eventCols, eventFrom, storesql.NoRoutes)
		plan := explain(t, s, lq.Page, lq.PageArgs)
		for _, want := range []string{"SEARCH e USING COVERING INDEX events_project_created (project_id=?)",
			"SEARCH ep USING INTEGER PRIMARY KEY (rowid=?)", "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"} {
			if !strings.Contains(plan, want) {
				t.Errorf("analyzed %v: plan of\n%s\nis\n%s\nwant %q", analyzed, lq.Page, plan, want)
			}
		}
	}
}
