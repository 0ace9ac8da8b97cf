package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func leaseTests() []test {
	return []test{
		{"Queue/LeaseDueOldestFirst", testLeaseDue},
		{"Queue/LeaseSkipDestinations", testLeaseSkipDestinations},
		{"Queue/LeaseExpiry", testLeaseExpiry},
		{"Queue/LeaseHandedToWorker", testLeaseHanded},
		{"Queue/ResetLeases", testResetLeases},
		{"Queue/NextDue", testNextDue},
	}
}

// lease leases up to limit deliveries due at at to owner until until.
func lease(t *testing.T, s store.Store, owner string, at, until time.Time, limit int, skip ...uint64) []store.Job {
	t.Helper()
	jobs, err := s.DeliveryLease(t.Context(), store.LeaseParams{Owner: owner, Now: at, Until: until, Limit: limit, SkipDestinations: skip})
	noErr(t, "DeliveryLease", err)
	return jobs
}

// wantJobs checks that jobs lease exactly want, one delivery each, to owner
// until until, each with a token above the one it had, and returns the
// leased deliveries in the order of want. The contract orders which due
// deliveries are leased first, not the slice they come back in.
func wantJobs(t *testing.T, jobs []store.Job, owner string, until time.Time, want ...stored) []volley.Delivery {
	t.Helper()
	if len(jobs) != len(want) {
		t.Fatalf("DeliveryLease leased %d deliveries, want %d: %+v", len(jobs), len(want), jobs)
	}
	byID := map[uint64]store.Job{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j
	}
	out := make([]volley.Delivery, len(want))
	for i, w := range want {
		if len(w.Deliveries) != 1 {
			t.Fatalf("test bug: want job %d names %d deliveries", i, len(w.Deliveries))
		}
		d := w.Deliveries[0]
		j, ok := byID[d.ID]
		if !ok {
			t.Fatalf("DeliveryLease did not lease delivery %d of %s: %+v", d.ID, d.EventUID, jobs)
		}
		if j.Delivery.LeaseToken <= d.LeaseToken {
			t.Errorf("delivery %d lease token = %d, want more than %d", d.ID, j.Delivery.LeaseToken, d.LeaseToken)
		}
		d.LeaseOwner, d.LeaseToken, d.NextAttemptAt = owner, j.Delivery.LeaseToken, until
		same(t, fmt.Sprintf("job of delivery %d: Delivery", d.ID), j.Delivery, d)
		same(t, fmt.Sprintf("job of delivery %d: Event", d.ID), normalEvent(j.Event), normalEvent(w.Event))
		out[i] = d
	}
	return out
}

// one returns st with only its i-th delivery, for wantJobs.
func one(st stored, i int) stored {
	st.Deliveries = st.Deliveries[i : i+1]
	return st
}

// withDelivery returns st with d as its only delivery, for wantJobs.
func withDelivery(st stored, d volley.Delivery) stored {
	st.Deliveries = []volley.Delivery{d}
	return st
}

func testLeaseDue(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	// Stored first, due last: leases go by due time.
	late := insertOne(t, s, newEvent(w.A, "evt_late", minute(0)), due(w.AX, minute(9)))
	pair := insertOne(t, s, newEvent(w.A, "evt_pair", minute(1)), due(w.AX, minute(6)), due(w.AY, minute(7)))
	edge := insertOne(t, s, newEvent(w.B, "evt_edge", minute(2)), due(w.BX, minute(10)))
	future := insertOne(t, s, newEvent(w.A, "evt_future", minute(3)), due(w.AX, minute(11)))
	insertOne(t, s, newEvent(w.A, "evt_held", minute(3)), held(w.AX))
	done := insertOne(t, s, newEvent(w.A, "evt_done", minute(3)), handed(w.AX, minute(4)))
	settle(t, s, done.Deliveries[0], volley.DeliverySuccess, minute(4))
	insertOne(t, s, newEvent(w.A, "evt_dropped", minute(3)))

	at, until := minute(10), minute(15)
	leased := wantJobs(t, lease(t, s, "w1", at, until, 2), "w1", until, one(pair, 0), one(pair, 1))
	wantDeliveries(t, s, pair.Event, leased...)
	wantJobs(t, lease(t, s, "w2", at, until, 10), "w2", until, late, edge)
	if jobs := lease(t, s, "w3", at, until, 10); len(jobs) != 0 {
		t.Fatalf("DeliveryLease with nothing due = %+v", jobs)
	}
	wantJobs(t, lease(t, s, "w1", minute(11), until, 10), "w1", until, future)
}

// deliveryOf returns the i-th delivery of e as stored.
func deliveryOf(t *testing.T, s store.Store, e volley.Event, i int) volley.Delivery {
	t.Helper()
	ds := deliveriesOf(t, s, e)
	if len(ds) <= i {
		t.Fatalf("DeliveryListByEvent %s = %+v, want more than %d", e.UID, ds, i)
	}
	return ds[i]
}

func testLeaseSkipDestinations(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	x1 := insertOne(t, s, newEvent(w.A, "evt_x1", minute(0)), due(w.AX, minute(1)))
	y := insertOne(t, s, newEvent(w.A, "evt_y", minute(0)), due(w.AY, minute(2)))
	x2 := insertOne(t, s, newEvent(w.B, "evt_x2", minute(0)), due(w.BX, minute(3)))
	at, until := minute(5), minute(6)
	if jobs := lease(t, s, "w1", at, until, 10, w.X.ID, w.Y.ID); len(jobs) != 0 {
		t.Fatalf("DeliveryLease skipping every destination = %+v", jobs)
	}
	if jobs := lease(t, s, "w1", at, until, 0); len(jobs) != 0 {
		t.Fatalf("DeliveryLease with Limit 0 = %+v", jobs)
	}
	wantJobs(t, lease(t, s, "w1", at, until, 10, w.X.ID), "w1", until, y)
	wantJobs(t, lease(t, s, "w1", at, until, 1), "w1", until, x1)
	wantJobs(t, lease(t, s, "w1", at, until, 10, w.Y.ID+1000), "w1", until, x2)
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	st := insertOne(t, s, newEvent(w.A, "evt_expiry", minute(0)), due(w.AX, minute(0)))
	first := wantJobs(t, lease(t, s, "w1", minute(0), minute(1), 10), "w1", minute(1), st)
	if jobs := lease(t, s, "w2", minute(1).Add(-time.Microsecond), minute(2), 10); len(jobs) != 0 {
		t.Fatalf("DeliveryLease before the lease expired = %+v", jobs)
	}
	second := wantJobs(t, lease(t, s, "w2", minute(1), minute(2), 10), "w2", minute(2), withDelivery(st, first[0]))
	wantDeliveries(t, s, st.Event, second[0])
	third := wantJobs(t, lease(t, s, "w3", minute(5), minute(6), 10), "w3", minute(6), withDelivery(st, second[0]))
	wantDeliveries(t, s, st.Event, third[0])
}

// testLeaseHanded leases a delivery that EventInsert handed straight
// to a worker: it is leased like any other until its lease expires.
func testLeaseHanded(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	d := handed(w.AX, minute(1))
	d.LeaseToken = 7
	st := insertOne(t, s, newEvent(w.A, "evt_handed", minute(0)), d)
	wantDeliveries(t, s, st.Event, st.Deliveries...)
	if jobs := lease(t, s, "w1", minute(0), minute(5), 10); len(jobs) != 0 {
		t.Fatalf("DeliveryLease of a delivery handed to a worker = %+v", jobs)
	}
	if next, err := s.DeliveryNextDue(t.Context()); err != nil || !next.Equal(minute(1)) {
		t.Errorf("DeliveryNextDue = %v, %v; want the handed lease's expiry %v", next, err, minute(1))
	}
	leased := wantJobs(t, lease(t, s, "w1", minute(1), minute(5), 10), "w1", minute(5), st)

	// The worker it was handed to is fenced off.
	finish(t, s, outcome(st.Deliveries[0], volley.DeliverySuccess, newAttempt(st.Deliveries[0], 1, 200, 5, minute(2)), minute(2)))
	wantDeliveries(t, s, st.Event, leased...)
	wantStatus(t, s, ada.Org.ID, st.Event, volley.EventPending)
}

func testResetLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	leased := insertOne(t, s, newEvent(w.A, "evt_leased", minute(0)), due(w.AX, minute(0)))
	l := wantJobs(t, lease(t, s, "w1", minute(0), minute(5), 10), "w1", minute(5), leased)[0]
	handedTo := insertOne(t, s, newEvent(w.A, "evt_handed", minute(0)), handed(w.AY, minute(6)))
	idle := insertOne(t, s, newEvent(w.A, "evt_idle", minute(0)), due(w.AX, minute(30)))
	parked := insertOne(t, s, newEvent(w.A, "evt_held", minute(0)), held(w.AX))
	done := insertOne(t, s, newEvent(w.B, "evt_done", minute(0)), handed(w.BX, minute(1)))
	settled := settle(t, s, done.Deliveries[0], volley.DeliverySuccess, minute(1))

	n, err := s.DeliveryResetLeases(ctx, minute(2))
	noErr(t, "DeliveryResetLeases", err)
	if n != 2 {
		t.Errorf("DeliveryResetLeases = %d, want 2", n)
	}
	reset := func(d volley.Delivery) volley.Delivery {
		d.LeaseOwner, d.NextAttemptAt = "", minute(2)
		return d
	}
	wantDeliveries(t, s, leased.Event, reset(l))
	wantDeliveries(t, s, handedTo.Event, reset(handedTo.Deliveries[0]))
	wantDeliveries(t, s, idle.Event, idle.Deliveries...)
	wantDeliveries(t, s, parked.Event, parked.Deliveries...)
	wantDeliveries(t, s, done.Event, settled)
	if n, err := s.DeliveryResetLeases(ctx, minute(3)); err != nil || n != 0 {
		t.Errorf("DeliveryResetLeases with no lease = %d, %v; want 0", n, err)
	}

	// Both are due at once, and a new lease fences the old ones off.
	jobs := lease(t, s, "w2", minute(2), minute(7), 10)
	wantJobs(t, jobs, "w2", minute(7), withDelivery(leased, l), handedTo)
	finish(t, s, outcome(l, volley.DeliverySuccess, nil, minute(3)), outcome(handedTo.Deliveries[0], volley.DeliverySuccess, nil, minute(3)))
	for _, j := range jobs {
		if got := deliveryOf(t, s, j.Event, 0); got.State != volley.DeliveryPending || got.LeaseOwner != "w2" {
			t.Errorf("delivery %d finished with the token of a reset lease: %+v", got.ID, got)
		}
	}
}

func testNextDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	wantNext := func(what string, want time.Time) {
		t.Helper()
		got, err := s.DeliveryNextDue(ctx)
		noErr(t, "DeliveryNextDue", err)
		if !got.Equal(want) || (!want.IsZero() && got.Location() != time.UTC) {
			t.Fatalf("DeliveryNextDue %s = %v, want %v", what, got, want)
		}
	}
	wantNext("of an empty store", time.Time{})
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	insertOne(t, s, newEvent(w.A, "evt_held", minute(0)), held(w.AX))
	insertOne(t, s, newEvent(w.A, "evt_dropped", minute(0)))
	done := insertOne(t, s, newEvent(w.A, "evt_done", minute(0)), handed(w.AX, minute(1)))
	settle(t, s, done.Deliveries[0], volley.DeliverySuccess, minute(0))
	wantNext("with nothing pending", time.Time{})

	later := insertOne(t, s, newEvent(w.A, "evt_later", minute(0)), due(w.AX, minute(5)))
	sooner := insertOne(t, s, newEvent(w.A, "evt_sooner", minute(0)), due(w.AY, minute(3)))
	wantNext("of two pending", minute(3))
	a := wantJobs(t, lease(t, s, "w1", minute(3), minute(10), 1), "w1", minute(10), sooner)[0]
	wantNext("with the sooner leased", minute(5))
	b := wantJobs(t, lease(t, s, "w1", minute(5), minute(8), 1), "w1", minute(8), later)[0]
	wantNext("with both leased", minute(8))
	finish(t, s, outcome(b, volley.DeliverySuccess, nil, minute(6)))
	wantNext("with one left", minute(10))
	finish(t, s, outcome(a, volley.DeliveryFailed, nil, minute(7)))
	wantNext("with both finished", time.Time{})
}
