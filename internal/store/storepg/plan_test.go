package storepg_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestEventSearchPlan checks which index serves an event id search, with
// whatever statistics autovacuum has gathered and after ANALYZE: a long
// prefix through the event_id index, a short one never through it (it
// holds every project's events).
func TestEventSearchPlan(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	// Real ids, one second apart, so that a prefix is as selective as on a
	// real store.
	start := time.Now().Add(-time.Hour)
	var middle string
	for i := range 10 {
		events := storetest.Events(500, i, conn, time.Now())
		for j := range events {
			e := &events[j].Event
			e.CreatedAt = start.Add(time.Duration(i*500+j) * time.Second)
			e.UID, _ = volley.NewEventID(rand.Reader, e.CreatedAt)
			if i == 5 && j == 0 {
				middle = e.UID
			}
		}
		if _, err := s.EventInsert(t.Context(), events); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
	const byID = "events_event_id_key"
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if err := s.Analyze(t.Context()); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		for _, tc := range []struct {
			search string
			also   store.EventListParams // other filters
			useID  bool
		}{
			{middle, store.EventListParams{}, true},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{}, true},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{SourceID: conn.SourceID}, true},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{Status: volley.EventPending}, true},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{ConnectionID: conn.ID}, true},
			{middle[:storesql.IndexedIDPrefix], store.EventListParams{DestinationID: conn.DestinationID}, true},
			{middle[:storesql.IndexedIDPrefix-1], store.EventListParams{}, false},
			{"evt_", store.EventListParams{}, false},
		} {
			p := tc.also
			p.ProjectID, p.Search, p.Limit = conn.ProjectID, tc.search, 50
			p.Page.CountLimit = 10_000 // as the API counts
			count, page, err := s.ExplainEventList(t.Context(), p)
			if err != nil {
				t.Fatalf("EXPLAIN: %v", err)
			}
			for _, plan := range []string{count, page} {
				if strings.Contains(plan, byID) != tc.useID {
					t.Errorf("analyzed %v, search %q, filters %+v: plan\n%s\nuses %s: %v, want %v", analyzed, tc.search, tc.also, plan, byID, !tc.useID, tc.useID)
				}
			}
		}
	}
}

// TestBacklogSamplePlan checks that the backlog sampler reads the events
// by one seek of event_states_project_status per project with a backlog, never
// by a scan of events or deliveries, and that the overview reads the
// samples through backlog_hours' primary key.
func TestBacklogSamplePlan(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	for i := range 4 {
		if _, err := s.EventInsert(t.Context(), storetest.Events(500, i, conn, time.Now())); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatalf("ANALYZE: %v", err)
	}
	sample, history, err := s.ExplainBacklog(t.Context(), conn.ProjectID, time.Now())
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	if !strings.Contains(sample, "event_states_project_status") || strings.Contains(sample, "Seq Scan on event") ||
		strings.Contains(sample, "deliveries") {
		t.Errorf("plan of the backlog sample:\n%s\nwant event_states read through event_states_project_status only", sample)
	}
	if !strings.Contains(history, "backlog_hours_pkey") || strings.Contains(history, "Seq Scan on backlog_hours") {
		t.Errorf("plan of the project's traffic:\n%s\nwant backlog_hours read through its primary key", history)
	}
}
