package storepg_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// TestBodySearchInParallelPlan searches bodies with the planner told to
// use a parallel plan wherever it may, as it chooses to on a large events
// table. The body's text function opens a subtransaction, which no process
// can while a parallel plan runs, so statements calling it must not get one
// (migration 0022): before, the search failed with "cannot start
// subtransactions during a parallel operation".
func TestBodySearchInParallelPlan(t *testing.T) {
	t.Parallel()
	url := databaseURL(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	var version int
	err = conn.QueryRow(t.Context(), `SELECT current_setting('server_version_num')::int`).Scan(&version)
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	setting := "debug_parallel_query" // PostgreSQL 16 renamed force_parallel_mode
	if version < 160000 {
		setting = "force_parallel_mode"
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := storepg.Open(t.Context(), storepg.Config{URL: url + sep + setting + "=on", Schema: freshSchema(t), MaxConns: 2})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	c := storetest.Graph(t, s)
	if _, err := s.EventInsert(t.Context(), storetest.Events(3, 0, c, time.Now())); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	events, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: c.ProjectID, Search: "eur", Limit: 10})
	if err != nil {
		t.Fatalf("EventList with a body search in a parallel plan: %v", err)
	}
	if len(events) != 3 {
		t.Errorf("found %d events, want 3", len(events))
	}
}
