package delivery_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// TestDirectDeliveryWaitsForDisabledDestination: a direct delivery (a test
// send through no connection) whose destination is disabled is neither
// attempted, nor held (no connection would release it), nor lost: it stays
// pending, is looked at again a minute later, and goes out once the
// destination is active.
func TestDirectDeliveryWaitsForDisabledDestination(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	cfg := fastConfig()
	srv := testserver.Start(t, testserver.Options{NowFunc: clk.Now, Delivery: cfg})
	e := newEnv(t, srv, srv.AdminAccount().ProjectID)
	s := newSink(t, nil)
	src := e.source(t, "direct")
	dest := e.destination(t, "direct", s.URL, nil)
	e.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", dest), map[string]any{"status": "disabled"})

	// Stored as POST /api/webhooks stores a direct send, then found
	// disabled by the engine on its next poll.
	now := clk.Now()
	res, err := srv.Store.EventInsert(t.Context(), []store.NewEvent{{
		Event: volley.Event{UID: "evt_direct0000000000000001", ProjectID: e.pid, SourceID: src.ID, Method: "POST",
			Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`), CreatedAt: now},
		Deliveries: []volley.Delivery{{DestinationID: dest, State: volley.DeliveryPending, NextAttemptAt: now}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	delivery0 := func() volley.Delivery {
		ds, err := srv.Store.DeliveryListByEvent(t.Context(), res[0].ID)
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries: %v, %v", ds, err)
		}
		return ds[0]
	}
	eventually(t, 10*time.Second, func() bool {
		d := delivery0()
		return d.State == volley.DeliveryPending && d.LeaseOwner == "" && d.NextAttemptAt.Equal(now.Add(time.Minute))
	}, func() string { return fmt.Sprintf("delivery = %+v, want pending again in a minute", delivery0()) })
	if d := delivery0(); d.Attempts != 0 || s.count() != 0 {
		t.Fatalf("a direct delivery to a disabled destination was attempted: %+v, %d requests", d, s.count())
	}

	e.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", dest), map[string]any{"status": "active"})
	clk.Advance(time.Minute)
	eventually(t, 10*time.Second, func() bool { return delivery0().State == volley.DeliverySuccess },
		func() string {
			return fmt.Sprintf("delivery = %+v, want success once the destination is active", delivery0())
		})
	if got := s.count(); got != 1 {
		t.Errorf("destination got %d requests, want 1", got)
	}
}
