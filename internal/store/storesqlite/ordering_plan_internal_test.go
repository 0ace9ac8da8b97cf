package storesqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store/storetest"
)

// TestOrderingPlan checks that the ordering key lookups (is a key busy,
// which parked delivery is next, is its head still unfinished) seek
// deliveries_ordering and never scan deliveries, over a store of
// unordered deliveries and a few busy keys.
func TestOrderingPlan(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	for i := range 6 {
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
	if _, err := s.write.ExecContext(t.Context(), `ANALYZE`); err != nil {
		t.Fatalf("ANALYZE: %v", err)
	}
	for _, tc := range []struct {
		name    string
		q       string
		lookups int
	}{{"busy check", sqlKeyBusy, 1}, {"promotion", sqlPromote, 2}} {
		args := []any{conn.ID, "k1"}
		if tc.name == "promotion" {
			args = append(args, time.Now().UnixMicro())
		}
		name, plan := tc.name, explain(t, s, tc.q, args)
		if strings.Count(plan, "deliveries_ordering (connection_id=? AND ordering_key=? AND state=?)") < tc.lookups ||
			strings.Contains(plan, "SCAN deliveries") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s plan\n%s\nwant every lookup a seek of deliveries_ordering by connection, key and state, no scan or sort", name, plan)
		}
	}
}
