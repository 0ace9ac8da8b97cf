package storepg_test

import (
	"strings"
	"testing"
	"time"

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
	insert := func(seq int, state string) {
		events := storetest.Events(1000, seq, conn, time.Now())
		for i := range events {
			events[i].Deliveries[0].State = state
		}
		if _, err := s.EventInsert(t.Context(), events); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
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
