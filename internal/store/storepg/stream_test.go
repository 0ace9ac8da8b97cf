package storepg_test

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// TestStreamOutOfOrderCommit holds a transaction that inserted an event
// (the lower id) open while another commits a later one: the stream must
// not hand out the later event before the earlier commits, or a reader
// that moved past it would never see the earlier one.
func TestStreamOutOfOrderCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := freshSchema(t)
	s := open(t, schema)
	head, err := s.EventStreamHead(ctx)
	if err != nil {
		t.Fatalf("EventStreamHead: %v", err)
	}

	conn := rawConn(t, schema)
	const ins = `WITH e AS (INSERT INTO events (event_id, project_id, source_id, method, created_at)
		VALUES ($1, 1, 7, 'POST', $2) RETURNING id, created_at), st AS (
		INSERT INTO event_states (event_id, project_id, status, created_at) SELECT id, 1, 'dropped', created_at FROM e)
		INSERT INTO event_payloads (event_id, query, headers, body) SELECT id, '', '{}', '' FROM e`
	slow, err := conn.Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer slow.Rollback(ctx)
	// Two hours apart, so that the two inserts never bump the same
	// project_hours counter row (sharded by txid % 8 within an hour): the
	// fast one would wait for the slow one's row lock, which this test only
	// releases after the fast one returns.
	if _, err := slow.Exec(ctx, ins, "evt_slow", time.Now().Add(-2*time.Hour)); err != nil {
		t.Fatalf("insert evt_slow: %v", err)
	}
	fast := rawConn(t, schema)
	if _, err := fast.Exec(ctx, ins, "evt_fast", time.Now()); err != nil {
		t.Fatalf("insert evt_fast: %v", err)
	}

	// evt_fast is committed with the greater id, evt_slow is not: nothing
	// may be handed out yet.
	got, err := s.EventStream(ctx, store.EventStreamParams{SourceIDs: []uint64{7}, After: head, Limit: 10})
	if err != nil {
		t.Fatalf("EventStream: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("EventStream while the older transaction runs = %v, want nothing", got)
	}

	if err := slow.Commit(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var uids []string
	for after := head; len(uids) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("EventStream gave %v before the deadline, want evt_slow and evt_fast", uids)
		}
		page, err := s.EventStream(ctx, store.EventStreamParams{SourceIDs: []uint64{7}, After: after, Limit: 10})
		if err != nil {
			t.Fatalf("EventStream: %v", err)
		}
		for _, e := range page {
			uids, after = append(uids, e.Event.UID), e.Pos
		}
		if len(page) == 0 {
			time.Sleep(time.Millisecond) // other tests' transactions hold xmin back; poll with a deadline
		}
	}
	if len(uids) != 2 || uids[0] != "evt_slow" || uids[1] != "evt_fast" {
		t.Fatalf("EventStream = %v, want [evt_slow evt_fast], each once", uids)
	}
}
