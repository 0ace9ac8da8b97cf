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
	"github.com/volleyhq/volley/internal/volley"
)

// TestEventStatusListPlan checks how a list by status reads a store of
// 50,000 events of 1 KiB of which 1 % are pending, the others processed:
// by either status through event_states' index in the list's own order
// (no sort, no scan of events), from a cursor either way too, and counted
// from event_states alone. With and without statistics.
func TestEventStatusListPlan(t *testing.T) {
	t.Parallel()
	schema := freshSchema(t)
	s := open(t, schema)
	conn := storetest.Graph(t, s)
	sql(t, schema, `WITH e AS (
			INSERT INTO events (event_id, project_id, source_id, method, created_at)
			SELECT 'evt_' || lpad(g::text, 22, '0'), $1, $2, 'POST', now() - interval '1 day' + g * interval '1 ms'
			FROM generate_series(1, 50000) AS g RETURNING id, project_id, created_at), p AS (
			INSERT INTO event_payloads (event_id, query, headers, body) SELECT id, '', '{}', convert_to(repeat('x', 1024), 'UTF8') FROM e)
		INSERT INTO event_states (event_id, project_id, status, created_at)
		SELECT id, project_id, CASE WHEN id % 100 = 0 THEN 'pending' ELSE 'processed' END, created_at FROM e`,
		conn.ProjectID, conn.SourceID)
	cursor := &store.Cursor{Key: time.Now().Add(-12 * time.Hour).UnixMicro(), ID: 25_000}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if err := s.Analyze(t.Context()); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		for _, status := range []string{volley.EventPending, volley.EventProcessed} {
			for _, pg := range []store.PageParams{{CountLimit: 10_000}, {After: cursor}, {Before: cursor}} {
				p := store.EventListParams{ProjectID: conn.ProjectID, Status: status, Limit: 100, Page: pg}
				count, page, err := s.ExplainEventList(t.Context(), p)
				if err != nil {
					t.Fatalf("EXPLAIN: %v", err)
				}
				if !strings.Contains(page, "Index Only Scan") || !strings.Contains(page, "event_states_project_status") ||
					strings.Contains(page, "Sort") || strings.Contains(page, "Seq Scan") || strings.Contains(page, "Hash") {
					t.Errorf("analyzed %v, %s, page %+v: plan of the list\n%s\nwant event_states_project_status in order, no sort, no scan",
						analyzed, status, pg, page)
				}
				// After is older (the list is newest first), Before newer.
				if pg.After != nil && !indexCond(page, "created_at <=") || pg.Before != nil && !indexCond(page, "created_at >=") {
					t.Errorf("analyzed %v, %s, page %+v: plan of the list\n%s\nwant the cursor's time in the index condition",
						analyzed, status, pg, page)
				}
				if !strings.Contains(count, "on event_states st") || strings.Contains(count, " on events") {
					t.Errorf("analyzed %v, %s: plan of the count\n%s\nwant event_states alone", analyzed, status, count)
				}
			}
		}
	}
}

// statusStore opens a fresh store with one connection, and a plain
// connection to its schema.
func statusStore(t *testing.T) (*storepg.Store, *pgx.Conn, *volley.Connection) {
	t.Helper()
	schema := freshSchema(t)
	s := open(t, schema)
	return s, rawConn(t, schema), storetest.Graph(t, s)
}

// pendingEvents returns n pending events with one delivery each through c,
// handed to "node" with lease token 1.
func pendingEvents(n int, c *volley.Connection) []store.NewEvent {
	events := storetest.Events(n, 0, c, time.Time{})
	for i := range events {
		events[i].Event.Status = volley.EventPending
	}
	return events
}

// indexCond reports whether a line of plan is an index condition holding
// cond.
func indexCond(plan, cond string) bool {
	for line := range strings.Lines(plan) {
		if strings.Contains(line, "Index Cond:") && strings.Contains(line, cond) {
			return true
		}
	}
	return false
}

// eventRows returns every event row's physical place and version.
func eventRows(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT ctid::text || ' ' || xmin::text FROM events ORDER BY id`)
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	return out
}

// eventStatuses returns the statuses of the project's events, by id.
func eventStatuses(t *testing.T, s store.Store, project uint64) map[uint64]string {
	t.Helper()
	list, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: project, Limit: 1000})
	if err != nil {
		t.Fatalf("EventList: %v", err)
	}
	out := map[uint64]string{}
	for _, e := range list {
		out[e.ID] = e.Status
	}
	return out
}

// TestEventStatusLeavesEventsRows checks that delivering events changes
// their status without writing their rows: each events row keeps its
// place and version, and each event keeps one status row.
func TestEventStatusLeavesEventsRows(t *testing.T) {
	t.Parallel()
	s, raw, c := statusStore(t)
	inserted, err := s.EventInsert(t.Context(), pendingEvents(20, c))
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	before := eventRows(t, raw)
	now := time.Now()
	var outcomes []store.Outcome
	for i, e := range inserted {
		o := store.Outcome{DeliveryID: e.DeliveryIDs[0], LeaseToken: 1, EventID: e.ID, State: volley.DeliverySuccess, Now: now}
		if i%4 == 0 {
			o.State = volley.DeliveryFailed
		}
		outcomes = append(outcomes, o)
	}
	if err := s.DeliveryFinish(t.Context(), outcomes); err != nil {
		t.Fatalf("DeliveryFinish: %v", err)
	}
	statuses := eventStatuses(t, s, c.ProjectID)
	for i, e := range inserted {
		want := volley.EventProcessed
		if i%4 == 0 {
			want = volley.EventFailed
		}
		if statuses[e.ID] != want {
			t.Errorf("event %d: status %q, want %q", e.ID, statuses[e.ID], want)
		}
	}
	if after := eventRows(t, raw); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("events rows (ctid xmin) before\n%v\nafter\n%v\nwant them untouched", before, after)
	}
	var n int
	if err := raw.QueryRow(t.Context(), `SELECT count(*) FROM event_states`).Scan(&n); err != nil || n != len(inserted) {
		t.Errorf("status rows = %d, %v; want %d, one per event", n, err, len(inserted))
	}
}

// TestEventStatusConcurrentFinish finishes an event's two deliveries in two
// transactions at once: the first (held open here) sees the second
// delivery pending, the second must wait for it and then see both
// finished, else the event would stay pending for good.
func TestEventStatusConcurrentFinish(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, raw, c := statusStore(t)
	events := pendingEvents(1, c)
	events[0].Deliveries = append(events[0].Deliveries, events[0].Deliveries[0])
	inserted, err := s.EventInsert(ctx, events)
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	e := inserted[0]

	first, err := raw.Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer first.Rollback(context.Background())
	var pid uint32
	if err := first.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatalf("pid: %v", err)
	}
	if _, err := first.Exec(ctx, `UPDATE deliveries SET state = 'success' WHERE id = $1`, e.DeliveryIDs[0]); err != nil {
		t.Fatalf("finish the first delivery: %v", err)
	}
	if err := storepg.UpdateEventStatus(ctx, first, []uint64{e.ID}); err != nil {
		t.Fatalf("first status update: %v", err)
	}

	done := make(chan error, 1)
	go func() {
		done <- s.DeliveryFinish(context.Background(), []store.Outcome{{DeliveryID: e.DeliveryIDs[1], LeaseToken: 1,
			EventID: e.ID, State: volley.DeliverySuccess, Now: time.Now()}})
	}()
	// The second finish must be waiting for the first transaction, on the
	// status lock.
	observer := rawConn(t, "public") // reads only pg_stat_activity
	for deadline := time.Now().Add(30 * time.Second); ; {
		var waiting int
		if err := observer.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE $1 = ANY(pg_blocking_pids(pid)) AND query = $2`, pid, storepg.SQLEventStatusLock).Scan(&waiting); err != nil {
			t.Fatalf("blocked: %v", err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the second finish did not wait for the first (err %v)", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the second finish never waited for the first")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("DeliveryFinish: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second finish did not end after the first committed")
	}
	if got := eventStatuses(t, s, c.ProjectID)[e.ID]; got != volley.EventProcessed {
		t.Errorf("status %q after both deliveries succeeded, want processed", got)
	}
}
