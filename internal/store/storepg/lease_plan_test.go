package storepg_test

import (
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestLeaseSkippingPlan checks that a lease skipping destinations reads
// the other destinations' due deliveries through
// deliveries_destination_due, never by walking deliveries_due past the
// skipped destinations' backlog (which made each such lease cost the whole
// backlog), with whatever statistics autovacuum has gathered and after
// ANALYZE.
func TestLeaseSkippingPlan(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	for i := range 10 {
		if _, err := s.EventInsert(t.Context(), storetest.Events(500, i, conn, time.Now())); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if err := s.Analyze(t.Context()); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		plan, err := s.ExplainLeaseSkipping(t.Context(), time.Now(), []uint64{conn.DestinationID})
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		// What picks the deliveries comes before the update; the rest is
		// the plain lease's.
		pick, _, _ := strings.Cut(plan, "CTE leased")
		if !strings.Contains(pick, "Index Scan using deliveries_destination_due") || !strings.Contains(pick, "Index Only Scan using deliveries_destination_due") || strings.Contains(pick, "deliveries_due ") ||
			strings.Contains(pick, "Seq Scan on deliveries") {
			t.Errorf("analyzed %v: plan\n%s\nwant deliveries_destination_due only", analyzed, plan)
		}
	}
}

// TestDeliveryDuePlan checks that the earliest due delivery and the due
// count are read from the start of deliveries_due, never by reading every
// pending delivery through deliveries_destination_due, also with
// statistics gathered while no delivery was pending (an ANALYZE while the
// backlog was held): with those, min(next_attempt_at) read the whole
// backlog at every call.
func TestDeliveryDuePlan(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	insert := func(seq int, state string) { insertInState(t, s, conn, seq, state) }
	for i := range 5 {
		insert(i, volley.DeliveryHeld)
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if err := s.Analyze(t.Context()); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
			for i := 5; i < 10; i++ {
				insert(i, volley.DeliveryPending)
			}
		}
		next, backlog, err := s.ExplainDeliveryDue(t.Context(), time.Now())
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		for _, plan := range []string{next, backlog} {
			if !strings.Contains(plan, "deliveries_due on deliveries") || strings.Contains(plan, "deliveries_destination_due") ||
				strings.Contains(plan, "Seq Scan on deliveries") {
				t.Errorf("analyzed %v: plan\n%s\nwant deliveries_due only", analyzed, plan)
			}
		}
	}
}

// TestResumedHeldPlan checks that every statement that looks for a
// resumed connection's held deliveries (the lease, the next due time, the
// backlog gauge, the sweeper's pick and its look for stranded ones, all
// through sqlHeld) seeks them in deliveries_connection rather than reading
// the table, with whatever statistics autovacuum has gathered and after
// ANALYZE: they run after every lease of a drain, the backlog millions of
// rows.
func TestResumedHeldPlan(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	for i := range 5 {
		insertInState(t, s, conn, i, volley.DeliveryHeld)
	}
	// Paused and enabled again: a sweep recorded for a connection that is
	// enabled, its backlog still held.
	for _, status := range []string{volley.ConnectionPaused, volley.ConnectionEnabled} {
		c := *conn
		c.Status, c.UpdatedAt = status, time.Now()
		if err := s.ConnectionUpdate(t.Context(), &c); err != nil {
			t.Fatalf("ConnectionUpdate %s: %v", status, err)
		}
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if err := s.Analyze(t.Context()); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		now := time.Now().Add(time.Second)
		lease, nextSweep, err := s.ExplainResumedLookups(t.Context(), now)
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		next, backlog, err := s.ExplainDeliveryDue(t.Context(), now)
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		stranded, err := s.ExplainSweepStranded(t.Context(), now)
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		// The lease's pick comes before its update (planned by the size
		// of the pick, a hash join on a small table).
		pick, _, _ := strings.Cut(lease, "CTE leased")
		for name, plan := range map[string]string{"lease": pick, "next sweep": nextSweep, "next due": next, "backlog": backlog,
			"stranded held": stranded} {
			if !strings.Contains(plan, "using deliveries_connection on deliveries") || strings.Contains(plan, "Seq Scan on deliveries") {
				t.Errorf("analyzed %v: %s plan\n%s\nwant the held deliveries sought in deliveries_connection", analyzed, name, plan)
			}
		}
	}
}

// insertInState inserts 1,000 events (storetest.Events' batch seq) of
// connection conn, each with its delivery in state.
func insertInState(t *testing.T, s store.Store, conn *volley.Connection, seq int, state string) {
	t.Helper()
	events := storetest.Events(1000, seq, conn, time.Now())
	for i := range events {
		events[i].Deliveries[0].State = state
	}
	if _, err := s.EventInsert(t.Context(), events); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
}
