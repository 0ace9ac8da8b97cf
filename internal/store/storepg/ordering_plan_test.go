package storepg_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store/storetest"
)

// TestOrderingPlan checks that the ordering key lookups (is a key busy,
// which parked delivery is next) seek deliveries_ordering, never scan
// deliveries, with whatever statistics autovacuum has gathered and after
// ANALYZE, over a store of unordered deliveries and a few busy keys.
func TestOrderingPlan(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	for i := range 8 {
		events := storetest.Events(500, i, conn, time.Now())
		if i < 2 {
			for j := range events {
				events[j].Deliveries[0].OrderingKey = fmt.Sprintf("k%d", j%20)
			}
		}
		if _, err := s.EventInsert(t.Context(), events); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if err := s.Analyze(t.Context()); err != nil {
				t.Fatalf("ANALYZE: %v", err)
			}
		}
		busy, promote, err := s.ExplainOrdering(t.Context(), conn.ID, []uint64{1, 2, 3})
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		for name, plan := range map[string]string{"busy check": busy, "promotion": promote} {
			if !strings.Contains(plan, "deliveries_ordering") || strings.Contains(plan, "Seq Scan on deliveries") {
				t.Errorf("analyzed %v: %s plan\n%s\nwant deliveries_ordering and no scan of deliveries", analyzed, name, plan)
			}
			// Every read of the index seeks one key: none reads the
			// index's other keys or a key's parked backlog.
			lines := strings.Split(plan, "\n")
			for i, l := range lines {
				if !strings.Contains(l, "using deliveries_ordering") {
					continue
				}
				if i+1 == len(lines) || !strings.Contains(lines[i+1], "(connection_id = ") ||
					!strings.Contains(lines[i+1], "(ordering_key = ") ||
					(name == "promotion" && !strings.Contains(lines[i+1], "(state = ")) {
					t.Errorf("analyzed %v: %s plan\n%s\nwant each deliveries_ordering read by connection and key (and state)", analyzed, name, plan)
				}
			}
		}
		if !strings.Contains(promote, "deliveries_pkey") {
			t.Errorf("analyzed %v: promotion plan\n%s\nwant the finished deliveries read by id", analyzed, promote)
		}
	}
}
