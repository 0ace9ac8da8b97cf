package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func orderingTests() []test {
	return []test{
		{"Connections/DelayAndOrdering", testConnectionDelayOrdering},
		{"Ordering/ParkAndPromote", testOrderingParkPromote},
		{"Ordering/FailedForGood", testOrderingFailedForGood},
		{"Ordering/HeldHeadHolds", testOrderingHeldHead},
		{"Ordering/ReplayFreesKey", testOrderingReplay},
		{"Ordering/CancelOnDelete", testOrderingCancel},
		{"Ordering/KeepsDelay", testOrderingDelay},
	}
}

// keyed returns d with an ordering key.
func withKey(d volley.Delivery, key string) volley.Delivery {
	d.OrderingKey = key
	return d
}

// insertParked stores events like insert and checks which deliveries came
// back parked (by event, then delivery index), returning them as stored.
func insertParked(t *testing.T, s store.Store, parked [][]bool, events ...store.NewEvent) []stored {
	t.Helper()
	res, err := s.EventInsert(t.Context(), events)
	noErr(t, "EventInsert", err)
	out := make([]stored, len(events))
	for i, ne := range events {
		r := res[i]
		e := ne.Event
		e.ID, e.Status = r.ID, volley.EventPending
		out[i].Event = e
		for j, d := range ne.Deliveries {
			want := parked[i][j]
			got := r.Parked != nil && r.Parked[j]
			if got != want {
				t.Fatalf("EventInsert %s delivery %d parked = %v, want %v (Parked %v)", e.UID, j, got, want, r.Parked)
			}
			d.ID, d.EventID, d.EventUID = r.DeliveryIDs[j], e.ID, e.UID
			if want {
				if d.LeaseOwner != "" {
					d.NextAttemptAt = e.CreatedAt
				}
				d.State, d.LeaseOwner, d.LeaseToken = volley.DeliveryParked, "", 0
			}
			out[i].Deliveries = append(out[i].Deliveries, d)
		}
		if r.Parked != nil && len(r.Parked) != len(ne.Deliveries) {
			t.Fatalf("EventInsert %s Parked %v for %d deliveries", e.UID, r.Parked, len(ne.Deliveries))
		}
	}
	return out
}

// wantState checks the state (and, when pending, the due time) of a
// stored delivery.
func wantState(t *testing.T, s store.Store, d volley.Delivery, state string, dueAt time.Time) {
	t.Helper()
	list, err := s.DeliveryListByEvent(t.Context(), d.EventID)
	noErr(t, "DeliveryListByEvent", err)
	for _, got := range list {
		if got.ID != d.ID {
			continue
		}
		if got.State != state || (state == volley.DeliveryPending && got.LeaseOwner == "" && !got.NextAttemptAt.Equal(dueAt)) {
			t.Fatalf("delivery %d of %s is %s due %v, want %s due %v", d.ID, d.EventUID, got.State, got.NextAttemptAt, state, dueAt)
		}
		if got.OrderingKey != d.OrderingKey {
			t.Fatalf("delivery %d ordering key = %q, want %q", d.ID, got.OrderingKey, d.OrderingKey)
		}
		return
	}
	t.Fatalf("delivery %d of %s not found", d.ID, d.EventUID)
}

func testConnectionDelayOrdering(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	src := createSource(t, s, newSource(ada.Project.ID, "shop"))
	dst := createDestination(t, s, newDestination(ada.Project.ID, "crm"))
	c := newConnection(src, dst)
	c.DelayMS, c.Ordering, c.OrderingKey = 90_000, volley.OrderingFIFO, "$.customer.id"
	noErr(t, "ConnectionCreate", s.ConnectionCreate(ctx, &c))
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, joined(c, src, dst))

	c.DelayMS, c.Ordering, c.OrderingKey, c.UpdatedAt = 0, volley.OrderingNone, "", minute(1)
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &c))
	got, err := s.ConnectionGetByID(ctx, c.ID)
	noErr(t, "ConnectionGetByID", err)
	same(t, "ConnectionGetByID after clearing", *got, joined(c, src, dst))

	// An unset ordering is stored as none.
	c.Ordering, c.UpdatedAt = "", minute(2)
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &c))
	if got, _ = s.ConnectionGetByID(ctx, c.ID); got.Ordering != volley.OrderingNone {
		t.Errorf("unset ordering came back %q, want %q", got.Ordering, volley.OrderingNone)
	}
}

// testOrderingParkPromote: deliveries of one key wait behind the first,
// whether stored in the same batch or later, a retry keeps the key, and
// each finish lets the next one go; other keys and unkeyed deliveries are
// not held, and parked ones are pending in their event and the backlog.
func testOrderingParkPromote(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	h := func(key string) volley.Delivery { return withKey(handed(w.AX, minute(100)), key) }
	first := insertParked(t, s, [][]bool{{false}, {true}, {false}, {false}},
		routed(newEvent(w.A, "evt_a1", minute(0)), h("a")),
		routed(newEvent(w.A, "evt_a2", minute(0)), h("a")),
		routed(newEvent(w.A, "evt_b1", minute(0)), withKey(due(w.AX, minute(0)), "b")),
		routed(newEvent(w.A, "evt_n1", minute(0)), due(w.AX, minute(0))),
	)
	a1, a2, b1 := first[0].Deliveries[0], first[1].Deliveries[0], first[2].Deliveries[0]
	// The same key on another connection is another key.
	later := insertParked(t, s, [][]bool{{true, false}, {false}},
		routed(newEvent(w.A, "evt_a3", minute(1)), withKey(due(w.AX, minute(1)), "a"), withKey(due(w.AY, minute(1)), "a")),
		routed(newEvent(w.A, "evt_b2", minute(1)), withKey(filtered(w.AX), "b")),
	)
	a3 := later[0].Deliveries[0]
	wantDeliveries(t, s, first[1].Event, a2)
	wantStatus(t, s, ada.Org.ID, first[1].Event, volley.EventPending)
	wantStatus(t, s, ada.Org.ID, later[1].Event, volley.EventFiltered)
	backlog, err := s.DeliveryBacklog(ctx, store.BacklogParams{Now: minute(2), DueLimit: 100})
	noErr(t, "DeliveryBacklog", err)
	if backlog.Total != 6 || backlog.Due != 3 {
		t.Errorf("DeliveryBacklog = %+v, want total 6 (parked included), due 3 (b1, n1, a3 on y)", backlog)
	}
	m, err := s.ConnectionMetrics(ctx, w.AX.ID, minute(-10))
	noErr(t, "ConnectionMetrics", err)
	if m.Pending != 5 {
		t.Errorf("ConnectionMetrics pending = %d, want 5 (parked included)", m.Pending)
	}

	// Parked deliveries are never leased.
	jobs := lease(t, s, "n1", minute(2), minute(50), 10)
	for _, j := range jobs {
		if j.Delivery.ID == a2.ID || j.Delivery.ID == a3.ID {
			t.Fatalf("DeliveryLease leased parked delivery %d", j.Delivery.ID)
		}
	}
	if len(jobs) != 3 {
		t.Fatalf("DeliveryLease leased %d deliveries, want 3", len(jobs))
	}

	// A retry keeps the key: a2 stays parked.
	a1.LeaseOwner = "ingest"
	finish(t, s, retry(a1, newAttempt(a1, 1, 503, 5, minute(3)), minute(4)))
	wantState(t, s, a2, volley.DeliveryParked, time.Time{})
	// b's head finishing frees b only.
	for _, j := range jobs {
		if j.Delivery.ID == b1.ID {
			settle(t, s, j.Delivery, volley.DeliverySuccess, minute(3))
		}
	}
	wantState(t, s, a2, volley.DeliveryParked, time.Time{})

	// a1 succeeds: a2 (lowest id) is due then, a3 still waits.
	jobs = lease(t, s, "n1", minute(4), minute(50), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != a1.ID {
		t.Fatalf("DeliveryLease = %+v, want a1 again", jobs)
	}
	settle(t, s, jobs[0].Delivery, volley.DeliverySuccess, minute(5))
	wantState(t, s, a2, volley.DeliveryPending, minute(5))
	wantState(t, s, a3, volley.DeliveryParked, time.Time{})
	wantStatus(t, s, ada.Org.ID, first[1].Event, volley.EventPending)

	jobs = lease(t, s, "n1", minute(5), minute(50), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != a2.ID || jobs[0].Delivery.OrderingKey != "a" {
		t.Fatalf("DeliveryLease = %+v, want a2 with its key", jobs)
	}
	settle(t, s, jobs[0].Delivery, volley.DeliverySuccess, minute(6))
	wantState(t, s, a3, volley.DeliveryPending, minute(6))
	wantStatus(t, s, ada.Org.ID, first[1].Event, volley.EventProcessed)
}

// testOrderingFailedForGood: a head that fails after its last retry (or is
// cancelled by its worker) lets the next one go.
func testOrderingFailedForGood(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	evs := insertParked(t, s, [][]bool{{false}, {true}, {true}},
		routed(newEvent(w.A, "evt_k1", minute(0)), withKey(handed(w.AX, minute(100)), "k")),
		routed(newEvent(w.A, "evt_k2", minute(0)), withKey(handed(w.AX, minute(100)), "k")),
		routed(newEvent(w.A, "evt_k3", minute(0)), withKey(handed(w.AX, minute(100)), "k")),
	)
	k1, k2, k3 := evs[0].Deliveries[0], evs[1].Deliveries[0], evs[2].Deliveries[0]
	k1.LeaseOwner = "ingest"
	settle(t, s, k1, volley.DeliveryFailed, minute(1))
	wantStatus(t, s, ada.Org.ID, evs[0].Event, volley.EventFailed)
	wantState(t, s, k2, volley.DeliveryPending, minute(1))
	wantState(t, s, k3, volley.DeliveryParked, time.Time{})
	jobs := lease(t, s, "n1", minute(1), minute(50), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != k2.ID {
		t.Fatalf("DeliveryLease = %+v, want k2", jobs)
	}
	finish(t, s, outcome(jobs[0].Delivery, volley.DeliveryCancelled, nil, minute(2)))
	wantState(t, s, k3, volley.DeliveryPending, minute(2))
	// A stale outcome for a finished delivery frees nothing twice.
	finish(t, s, outcome(jobs[0].Delivery, volley.DeliverySuccess, nil, minute(3)))
	wantState(t, s, k3, volley.DeliveryPending, minute(2))
}

// testOrderingHeldHead: a head held by its paused connection keeps its key;
// parked deliveries are neither held nor released by sweeps.
func testOrderingHeldHead(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	w.AX = setConnection(t, s, w.AX, volley.ConnectionPaused, minute(0))
	evs := insertParked(t, s, [][]bool{{false}, {true}},
		routed(newEvent(w.A, "evt_h1", minute(1)), withKey(held(w.AX), "k")),
		routed(newEvent(w.A, "evt_h2", minute(1)), withKey(held(w.AX), "k")),
	)
	h1, h2 := evs[0].Deliveries[0], evs[1].Deliveries[0]
	wantState(t, s, h1, volley.DeliveryHeld, time.Time{})
	w.AX = setConnection(t, s, w.AX, volley.ConnectionEnabled, minute(2))
	wantState(t, s, h1, volley.DeliveryHeld, time.Time{}) // until a lease takes it
	wantState(t, s, h2, volley.DeliveryParked, time.Time{})
	w.AX = setConnection(t, s, w.AX, volley.ConnectionPaused, minute(3))
	wantState(t, s, h1, volley.DeliveryHeld, time.Time{})
	wantState(t, s, h2, volley.DeliveryParked, time.Time{})
	w.AX = setConnection(t, s, w.AX, volley.ConnectionEnabled, minute(4))
	jobs := lease(t, s, "n1", minute(4), minute(50), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != h1.ID {
		t.Fatalf("DeliveryLease = %+v, want h1", jobs)
	}
	settle(t, s, jobs[0].Delivery, volley.DeliverySuccess, minute(5))
	wantState(t, s, h2, volley.DeliveryPending, minute(5))
}

// testOrderingReplay: a replay that succeeds finishes a retrying head and
// frees its key.
func testOrderingReplay(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	evs := insertParked(t, s, [][]bool{{false}, {true}},
		routed(newEvent(w.A, "evt_r1", minute(0)), withKey(due(w.AX, minute(0)), "k")),
		routed(newEvent(w.A, "evt_r2", minute(0)), withKey(due(w.AX, minute(0)), "k")),
	)
	r1, r2 := evs[0].Deliveries[0], evs[1].Deliveries[0]
	// A failed replay changes nothing.
	failed := newAttempt(r1, 1, 500, 5, minute(1))
	failed.Trigger = volley.AttemptReplay
	noErr(t, "DeliveryReplayed", s.DeliveryReplayed(t.Context(), failed))
	wantState(t, s, r2, volley.DeliveryParked, time.Time{})
	ok := newAttempt(r1, 1, 200, 5, minute(2))
	ok.Trigger = volley.AttemptReplay
	noErr(t, "DeliveryReplayed", s.DeliveryReplayed(t.Context(), ok))
	wantState(t, s, r2, volley.DeliveryPending, minute(2))
}

// testOrderingCancel: deleting the connection cancels its parked
// deliveries with the others.
func testOrderingCancel(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	var events []store.NewEvent
	var parked [][]bool
	for i, uid := range []string{"evt_c1", "evt_c2", "evt_c3", "evt_c4", "evt_c5"} {
		events = append(events, routed(newEvent(w.A, uid, minute(0)), withKey(due(w.AX, minute(0)), "k")))
		parked = append(parked, []bool{i > 0})
	}
	evs := insertParked(t, s, parked, events...)
	noErr(t, "ConnectionDelete", s.ConnectionDelete(ctx, ada.Org.ID, w.AX.ID, minute(1)))
	sweep(t, s, minute(1))
	for _, e := range evs {
		wantState(t, s, e.Deliveries[0], volley.DeliveryCancelled, time.Time{})
		wantStatus(t, s, ada.Org.ID, e.Event, volley.EventDropped)
	}
	backlog, err := s.DeliveryBacklog(ctx, store.BacklogParams{Now: minute(2), DueLimit: 10})
	noErr(t, "DeliveryBacklog", err)
	if backlog.Total != 0 {
		t.Errorf("DeliveryBacklog total = %d after the cancel, want 0", backlog.Total)
	}
}

// testOrderingDelay: a parked delivery of a delayed connection, promoted
// before its delay is over, is due when the delay ends.
func testOrderingDelay(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	evs := insertParked(t, s, [][]bool{{false}, {true}},
		routed(newEvent(w.A, "evt_d1", minute(0)), withKey(due(w.AX, minute(10)), "k")),
		routed(newEvent(w.A, "evt_d2", minute(1)), withKey(due(w.AX, minute(11)), "k")),
	)
	d1, d2 := evs[0].Deliveries[0], evs[1].Deliveries[0]
	if jobs := lease(t, s, "n1", minute(9), minute(50), 10); len(jobs) != 0 {
		t.Fatalf("DeliveryLease leased %d deliveries before their delay ended", len(jobs))
	}
	jobs := lease(t, s, "n1", minute(10), minute(50), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != d1.ID {
		t.Fatalf("DeliveryLease = %+v, want d1", jobs)
	}
	settle(t, s, jobs[0].Delivery, volley.DeliverySuccess, minute(10))
	wantState(t, s, d2, volley.DeliveryPending, minute(11))
}
