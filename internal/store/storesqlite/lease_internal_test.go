package storesqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestLeaseSkipPlan checks that a lease skipping destinations reads the
// other destinations' due deliveries by index seeks, never by walking the
// work queue past the skipped destinations' backlog: that walk made each
// such lease cost the whole backlog, and a big drain crawl. A resumed
// connection's held deliveries are read by a seek too, and the lease's
// updates by ids seek each one, as does the sweep's look for held
// deliveries left on running connections.
func TestLeaseSkipPlan(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	now := time.Now()
	if _, err := s.EventInsert(t.Context(), storetest.Events(50, 0, conn, now)); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := s.write.ExecContext(t.Context(), `ANALYZE`); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		for _, tc := range []struct {
			sql  string
			args []any
			want []string
		}{
			{sqlPendingDestinations, nil, []string{
				"SEARCH deliveries USING COVERING INDEX deliveries_destination_due (destination_id>?)",
			}},
			{sqlDueOfDestination, []any{conn.DestinationID, micros(now), 10}, []string{
				"SEARCH deliveries USING COVERING INDEX deliveries_destination_due (destination_id=? AND next_attempt_at<?)",
			}},
			{sqlHeldOfConnection, []any{conn.ID, 10, micros(now)}, []string{
				"SEARCH deliveries USING COVERING INDEX deliveries_connection (connection_id=? AND state=?)",
			}},
			{sqlLeasePending, []any{"w", micros(now), "[1,2,3]"}, []string{
				"SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)",
			}},
			{sqlLeaseHeld, []any{"w", micros(now), "[1,2,3]"}, []string{
				"SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)",
			}},
			{`SELECT EXISTS (SELECT 1` + sqlStranded + `)`, nil, []string{
				"SEARCH x EXISTS USING COVERING INDEX deliveries_connection (connection_id=? AND state=?)",
			}},
			{sqlLeaseDue, []any{"w", micros(now), micros(now), 10}, []string{
				"SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)",
				"SEARCH deliveries USING COVERING INDEX deliveries_due (next_attempt_at<?)",
			}},
		} {
			plan := explain(t, s, tc.sql, tc.args)
			for _, want := range tc.want {
				if !strings.Contains(plan, want) {
					t.Errorf("analyzed %v: plan of\n%s\nis\n%s\nwant %q", analyzed, tc.sql, plan, want)
				}
			}
			if strings.Contains(plan, "SCAN deliveries") || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("analyzed %v: plan of\n%s\nis\n%s\nwant no scan or sort", analyzed, tc.sql, plan)
			}
		}
	}
	// And the lease itself still works through them.
	jobs, err := s.DeliveryLease(t.Context(), store.LeaseParams{Owner: "w", Now: now.Add(time.Hour), Until: now.Add(2 * time.Hour),
		Limit: 10, SkipDestinations: []uint64{conn.DestinationID + 1}})
	if err != nil || len(jobs) != 10 || jobs[0].Delivery.State != volley.DeliveryPending {
		t.Fatalf("DeliveryLease skipping another destination = %d jobs, %v; want 10", len(jobs), err)
	}
}
