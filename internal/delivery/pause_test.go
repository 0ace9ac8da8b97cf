package delivery_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// deliveryStates returns the states of an event's deliveries, read from the
// store: "held" is not visible through the API.
func (e *env) deliveryStates(t *testing.T, eventID uint64) []string {
	t.Helper()
	ds, err := e.srv.Store.DeliveryListByEvent(t.Context(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.State
	}
	return out
}

// consistently checks cond every few milliseconds for d and fails the test
// the first time it does not hold.
func consistently(t *testing.T, d time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatal(msg())
		}
		<-tick.C
	}
}

func TestHoldAndRelease(t *testing.T) {
	t.Parallel()
	type ids struct{ dest, conn uint64 }
	tests := []struct {
		name          string
		hold, release func(e *env, t *testing.T, id ids)
	}{
		{
			name: "paused connection",
			hold: func(e *env, t *testing.T, id ids) {
				e.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", id.conn), map[string]any{"status": "paused"})
			},
			release: func(e *env, t *testing.T, id ids) {
				e.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", id.conn), map[string]any{"status": "enabled"})
			},
		},
		{
			name: "disabled destination",
			hold: func(e *env, t *testing.T, id ids) {
				e.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", id.dest), map[string]any{"status": "disabled"})
			},
			release: func(e *env, t *testing.T, id ids) {
				e.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", id.dest), map[string]any{"status": "active"})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const n = 5
			e := setup(t, fastConfig())
			s := newSink(t, nil)
			src, destID, connID := e.route(t, s.URL, nil, nil)
			tt.hold(e, t, ids{destID, connID})

			uids := e.ingestMany(t, src.IngestionID, n)
			for _, uid := range uids {
				ev := e.event(t, uid)
				if ev.Status != volley.EventPending {
					t.Errorf("event %s: status %q while held, want pending", uid, ev.Status)
				}
				// Held deliveries are not due: the engine cannot send them.
				if st := e.deliveryStates(t, ev.ID); len(st) != 1 || st[0] != volley.DeliveryHeld {
					t.Errorf("event %s: deliveries %v, want one held", uid, st)
				}
			}
			if got := s.count(); got != 0 {
				t.Fatalf("the sink received %d requests while deliveries were held", got)
			}

			tt.release(e, t, ids{destID, connID})
			s.awaitCount(t, n, 5*time.Second)
			for _, uid := range uids {
				e.awaitStatus(t, uid, volley.EventProcessed)
			}
			if got := s.count(); got != n {
				t.Errorf("the sink received %d requests, want %d", got, n)
			}
		})
	}
}

func TestDeleteConnectionCancelsRetries(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Retry = delivery.RetryPolicy{Schedule: []time.Duration{time.Second}}
	// The node's clock stands still until the test moves it, so the retry
	// cannot fall due before the delete however slow the machine is.
	clk := clock.NewFake(time.Now())
	srv := testserver.Start(t, testserver.Options{Delivery: cfg, NowFunc: clk.Now})
	e := newEnv(t, srv, srv.AdminAccount().ProjectID)
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	src, _, connID := e.route(t, s.URL, nil, map[string]any{"max_retries": 5})
	uid := e.ingest(t, src.IngestionID, `{}`)
	var ev eventJSON
	eventually(t, 5*time.Second, func() bool {
		ev = e.event(t, uid)
		return len(ev.Attempts) == 1
	}, func() string { return fmt.Sprintf("%d attempts recorded, want the first", len(ev.Attempts)) })
	if ev.Status != volley.EventPending {
		t.Fatalf("after a failed first attempt: status %q, want pending (a retry is due)", ev.Status)
	}

	e.api(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/api/connections/%d", connID), nil)
	// The engine's sweeper cancels it in the background, right after the
	// change.
	var st []string
	eventually(t, 10*time.Second, func() bool {
		st = e.deliveryStates(t, ev.ID)
		return len(st) == 1 && st[0] == volley.DeliveryCancelled
	}, func() string { return fmt.Sprintf("deliveries after the delete: %v, want one cancelled", st) })
	// Its only delivery is cancelled: the event was, in effect, routed
	// nowhere.
	if got := e.event(t, uid).Status; got != volley.EventDropped {
		t.Errorf("event status %q after the delete, want %q", got, volley.EventDropped)
	}
	// The retry would now be due; the engine looks for due work every
	// PollInterval, and finds none.
	clk.Advance(2 * time.Second)
	consistently(t, 1500*time.Millisecond, func() bool { return s.count() == 1 },
		func() string { return fmt.Sprintf("the sink received %d requests after the delete", s.count()-1) })
	if got := e.event(t, uid); len(got.Attempts) != 1 {
		t.Errorf("%d attempts recorded, want only the first", len(got.Attempts))
	}
}
