package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func backlogTests() []test {
	return []test{
		{"Queue/Backlog", testBacklog},
		{"Traffic/TraceParent", testTraceParent},
	}
}

// testBacklog checks DeliveryBacklog's total (pending and held, leased or
// not), its due count (capped at DueLimit) and the earliest due time as
// deliveries are inserted, leased, retried and finished.
func testBacklog(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := func(what string, at time.Time, limit int, total, due int64, oldest time.Time) {
		t.Helper()
		got, err := s.DeliveryBacklog(ctx, store.BacklogParams{Now: at, DueLimit: limit})
		noErr(t, "DeliveryBacklog", err)
		if got.Total != total || got.Due != due || !got.OldestDue.Equal(oldest) ||
			(!oldest.IsZero() && got.OldestDue.Location() != time.UTC) {
			t.Fatalf("DeliveryBacklog %s = %+v, want total %d, due %d, oldest due %v", what, got, total, due, oldest)
		}
	}
	want("of an empty store", minute(0), 10, 0, 0, time.Time{})
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	insertOne(t, s, newEvent(w.A, "evt_held", minute(0)), held(w.AX))
	insertOne(t, s, newEvent(w.A, "evt_dropped", minute(0)))
	done := insertOne(t, s, newEvent(w.A, "evt_done", minute(0)), handed(w.AX, minute(1)))
	settle(t, s, done.Deliveries[0], volley.DeliverySuccess, minute(0))
	want("with one held", minute(0), 10, 1, 0, time.Time{})

	first := insertOne(t, s, newEvent(w.A, "evt_first", minute(0)), due(w.AX, minute(1)), due(w.AY, minute(2)))
	insertOne(t, s, newEvent(w.B, "evt_later", minute(0)), due(w.BX, minute(9)))
	handedTo := insertOne(t, s, newEvent(w.A, "evt_handed", minute(0)), handed(w.AX, minute(30)))
	want("before anything is due", minute(0), 10, 5, 0, time.Time{})
	want("with one due", minute(1), 10, 5, 1, minute(1))
	want("with two due", minute(2), 10, 5, 2, minute(1))
	want("with two due, counting one", minute(2), 1, 5, 1, minute(1))
	want("with three due", minute(9), 10, 5, 3, minute(1))

	// A leased delivery is in the backlog but not due until its lease
	// expires; a retry is due again at its next attempt.
	jobs := lease(t, s, "w1", minute(2), minute(20), 1)
	a := wantJobs(t, jobs, "w1", minute(20), one(first, 0))[0]
	want("with the oldest leased", minute(2), 10, 5, 1, minute(2))
	att := &volley.Attempt{DeliveryID: a.ID, EventID: a.EventID, EventUID: a.EventUID, ProjectID: a.ProjectID,
		SourceID: a.SourceID, ConnectionID: a.ConnectionID, DestinationID: a.DestinationID, Number: 1,
		Trigger: volley.AttemptAuto, Status: volley.AttemptFailed, StatusCode: 500, ErrorReason: "HTTP 500", CreatedAt: minute(3)}
	finish(t, s, retry(a, att, minute(15)))
	want("with the oldest retrying", minute(9), 10, 5, 2, minute(2))
	want("with the retry due", minute(15), 10, 5, 3, minute(2))
	want("with the handed lease expired", minute(30), 10, 5, 4, minute(2))

	settle(t, s, handedTo.Deliveries[0], volley.DeliveryFailed, minute(3))
	want("with one finished", minute(30), 10, 4, 3, minute(2))
}

// testTraceParent checks that an event's trace context is stored with it
// and comes back wherever the event is read: by id, in lists and with a
// leased delivery.
func testTraceParent(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traced := newEvent(w.A, "evt_traced", minute(0))
	traced.TraceParent = tp
	untraced := newEvent(w.A, "evt_untraced", minute(1))
	untraced.TraceParent = ""
	got := insert(t, s, routed(traced, due(w.AX, minute(0))), routed(untraced, due(w.AY, minute(1))))
	wantEvent(t, s, ada.Org.ID, got[0].Event)
	wantEvent(t, s, ada.Org.ID, got[1].Event)
	list, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, Limit: 10})
	noErr(t, "EventList", err)
	for _, e := range list {
		if wantTP := map[string]string{"evt_traced": tp, "evt_untraced": ""}[e.UID]; e.TraceParent != wantTP {
			t.Errorf("EventList: %s has traceparent %q, want %q", e.UID, e.TraceParent, wantTP)
		}
	}
	wantJobs(t, lease(t, s, "w1", minute(1), minute(10), 10), "w1", minute(10), got[0], got[1])
}
