package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func retentionTests() []test {
	return []test{
		{"Retention/Delete", testRetention},
		{"Retention/IdempotencyKeys", testRetentionKeys},
		{"Retention/ProjectDelete", testSweepProject},
		{"Retention/OrgDelete", testSweepOrg},
		{"Retention/FinishAfterSweep", testFinishAfterSweep},
		{"Retention/SkipsUnfinishedOncePerPass", testRetentionSkipsOnce},
	}
}

// retain runs a retention pass: RetentionDelete from After 0, passing each
// round's cursor on, until Done. It returns how many rounds deleted
// something. after, if not nil, runs after every round but the last.
func retain(t *testing.T, s store.Store, p store.RetentionParams, after func(calls int)) int {
	t.Helper()
	p.After = 0
	deleting := 0
	for calls := 1; ; calls++ {
		res, err := s.RetentionDelete(t.Context(), p)
		noErr(t, "RetentionDelete", err)
		if res.Deleted < 0 || (res.After < p.After) {
			t.Fatalf("RetentionDelete %+v = %+v", p, res)
		}
		if res.Done {
			if res.Deleted != 0 {
				t.Fatalf("RetentionDelete %+v = %+v: done after deleting", p, res)
			}
			return deleting
		}
		if res.Deleted > 0 {
			deleting++
		}
		if after != nil {
			after(calls)
		}
		if calls > 100 {
			t.Fatalf("RetentionDelete %+v is not done after %d calls", p, calls)
		}
		p.After = res.After
	}
}

// wantSwept checks that an event is gone with its deliveries and attempts.
func wantSwept(t *testing.T, s store.Store, orgID uint64, e volley.Event) {
	t.Helper()
	_, err := s.EventGet(t.Context(), orgID, e.ID)
	wantErr(t, "EventGet of a swept event", err, store.ErrNotFound)
	wantDeliveries(t, s, e)
	wantAttempts(t, s, e)
}

func testRetention(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	h := func(c volley.Connection) volley.Delivery { return handed(c, minute(200)) }
	evs := insert(t, s,
		routed(newEvent(w.A, "evt_old_processed", minute(10)), h(w.AX)),
		routed(newEvent(w.A, "evt_old_failed", minute(11)), h(w.AX), h(w.AY)),
		routed(newEvent(w.A, "evt_old_dropped", minute(12))),
		routed(newEvent(w.A, "evt_old_cancelled", minute(13)), h(w.AY)),
		routed(newEvent(w.A, "evt_old_retrying", minute(14)), h(w.AY)),
		routed(newEvent(w.A, "evt_old_held", minute(15)), held(w.AY)),
		routed(newEvent(w.A, "evt_old_half_done", minute(16)), h(w.AX), due(w.AY, minute(300))),
		routed(newEvent(w.A, "evt_at_before", minute(100)), h(w.AX)),
		routed(newEvent(w.A, "evt_new", minute(101)), h(w.AX)),
	)
	settle(t, s, evs[0].Deliveries[0], volley.DeliverySuccess, minute(20))
	settle(t, s, evs[1].Deliveries[0], volley.DeliverySuccess, minute(20))
	settle(t, s, evs[1].Deliveries[1], volley.DeliveryFailed, minute(20))
	finish(t, s, outcome(evs[3].Deliveries[0], volley.DeliveryCancelled, nil, minute(20)))
	d := evs[4].Deliveries[0]
	finish(t, s, retry(d, newAttempt(d, 1, 503, 10, minute(20)), minute(300)))
	settle(t, s, evs[6].Deliveries[0], volley.DeliverySuccess, minute(20))
	settle(t, s, evs[7].Deliveries[0], volley.DeliverySuccess, minute(101))
	settle(t, s, evs[8].Deliveries[0], volley.DeliverySuccess, minute(101))
	old, kept := evs[:4], evs[4:]

	type snapshot struct {
		event      volley.Event
		deliveries []volley.Delivery
		attempts   []volley.Attempt
	}
	var before []snapshot
	var keptAttempts int64
	for _, st := range kept {
		e, err := s.EventGet(t.Context(), ada.Org.ID, st.Event.ID)
		noErr(t, "EventGet", err)
		ds, err := s.DeliveryListByEvent(t.Context(), st.Event.ID)
		noErr(t, "DeliveryListByEvent", err)
		as := attemptsOf(t, s, st.Event)
		before = append(before, snapshot{*e, ds, as})
		keptAttempts += int64(len(as))
	}

	const limit = 3
	p := store.RetentionParams{Before: minute(100), Now: minute(100), Limit: limit}
	calls := retain(t, s, p, func(calls int) {
		swept := 0
		for _, st := range old {
			if _, err := s.EventGet(t.Context(), ada.Org.ID, st.Event.ID); err != nil {
				swept++
			}
		}
		if swept > calls*limit {
			t.Errorf("%d calls of RetentionDelete with Limit %d deleted %d events", calls, limit, swept)
		}
	})
	if calls < 2 {
		t.Errorf("RetentionDelete deleted %d old events with Limit %d in %d calls", len(old), limit, calls)
	}
	for _, st := range old {
		wantSwept(t, s, ada.Org.ID, st.Event)
	}
	for _, b := range before {
		wantEvent(t, s, ada.Org.ID, b.event)
		wantDeliveries(t, s, b.event, b.deliveries...)
		wantAttempts(t, s, b.event, b.attempts...)
	}
	if n := eventTotal(t, s, ada.Project.ID); n != int64(len(kept)) {
		t.Errorf("EventList total after retention = %d, want %d", n, len(kept))
	}
	_, total, err := s.AttemptList(t.Context(), store.AttemptListParams{ProjectID: ada.Project.ID, Limit: 1})
	noErr(t, "AttemptList", err)
	if total != keptAttempts {
		t.Errorf("AttemptList total after retention = %d, want %d", total, keptAttempts)
	}
}

func testRetentionKeys(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	first := insert(t, s, keyed(routed(newEvent(w.A, "evt_keyed", minute(0))), "k", minute(60)))[0]
	long := insert(t, s, keyed(routed(newEvent(w.B, "evt_long", minute(0))), "k", minute(600)))[0]
	p := store.RetentionParams{Before: minute(-1000), Now: minute(30), Limit: 10}
	if calls := retain(t, s, p, nil); calls != 0 {
		t.Errorf("RetentionDelete with no expired key deleted something in %d calls", calls)
	}
	wantDuplicate(t, s, ada.Org.ID, keyed(routed(newEvent(w.A, "evt_dup", minute(40))), "k", minute(100)), first.Event)

	p.Now = minute(61)
	if calls := retain(t, s, p, nil); calls == 0 {
		t.Error("RetentionDelete deleted nothing, want the expired idempotency key")
	}
	// The key is forgotten: even an event from inside its old window is
	// stored. The unexpired key of the other source is kept.
	insert(t, s, keyed(routed(newEvent(w.A, "evt_again", minute(50))), "k", minute(110)))
	wantDuplicate(t, s, ada.Org.ID, keyed(routed(newEvent(w.B, "evt_long_dup", minute(70))), "k", minute(130)), long.Event)
	wantEvent(t, s, ada.Org.ID, first.Event)
}

// testSweepProject deletes a project with traffic in every state.
func testSweepProject(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	testSweep(t, s, ada, []uint64{staging.ID}, func(at time.Time) error {
		return s.ProjectDelete(t.Context(), ada.Org.ID, staging.ID, at)
	})
}

// testSweepOrg deletes an organization of two projects with traffic.
func testSweepOrg(t *testing.T, s store.Store) {
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	extra := createProject(t, s, bob.Org.ID, bob.Account.ID, "Extra", false)
	testSweep(t, s, ada, []uint64{bob.Project.ID, extra.ID}, func(at time.Time) error {
		return s.OrgDelete(t.Context(), bob.Org.ID, at)
	})
}

// testSweep fills the doomed projects and keep's default project with
// traffic, deletes the doomed ones with del and checks that their
// unfinished deliveries are cancelled by DeliverySweep and their events swept by
// RetentionDelete in batches of Limit, whatever their age, while keep's
// traffic stays.
func testSweep(t *testing.T, s store.Store, keep fixture, doomed []uint64, del func(time.Time) error) {
	k := newSite(t, s, keep.Project.ID, "keep")
	kp := insertOne(t, s, newEvent(k.A, "evt_keep_pending", minute(0)), due(k.AX, minute(0)))
	kd := insertOne(t, s, newEvent(k.A, "evt_keep_done", minute(0)), handed(k.AX, minute(1)))
	kd.Deliveries[0] = settle(t, s, kd.Deliveries[0], volley.DeliverySuccess, minute(1))
	kd.Event.Status = volley.EventProcessed

	var gone []stored
	for i, p := range doomed {
		w := newSite(t, s, p, fmt.Sprintf("doomed%d", i))
		uid := func(name string) string { return fmt.Sprintf("evt_doomed%d_%s", i, name) }
		evs := insert(t, s,
			routed(newEvent(w.A, uid("pending"), minute(0)), due(w.AX, minute(30))),
			routed(newEvent(w.A, uid("held"), minute(0)), held(w.AY)),
			routed(newEvent(w.B, uid("in_flight"), minute(0)), handed(w.BX, minute(5))),
			routed(newEvent(w.A, uid("done"), minute(0)), handed(w.AX, minute(1))),
			routed(newEvent(w.A, uid("half_done"), minute(0)), handed(w.AY, minute(1)), due(w.AX, minute(30))),
		)
		evs[3].Deliveries[0] = settle(t, s, evs[3].Deliveries[0], volley.DeliverySuccess, minute(1))
		evs[4].Deliveries[0] = settle(t, s, evs[4].Deliveries[0], volley.DeliveryFailed, minute(1))
		gone = append(gone, evs...)
	}

	at := minute(2)
	noErr(t, "delete", del(at))
	sweep(t, s, at)
	for _, ev := range gone {
		for i, d := range ev.Deliveries {
			ev.Deliveries[i] = cancelled(d, true, at)
		}
		wantDeliveries(t, s, ev.Event, ev.Deliveries...)
	}
	kl := wantJobs(t, lease(t, s, "w1", minute(60), minute(61), 100), "w1", minute(61), kp)

	const limit = 2
	p := store.RetentionParams{Before: minute(-1000), Now: at, Limit: limit}
	retain(t, s, p, func(calls int) {
		swept := 0
		for _, ev := range gone {
			if ds, err := s.DeliveryListByEvent(t.Context(), ev.Event.ID); err == nil && len(ds) == 0 {
				swept++
			}
		}
		if swept > calls*limit {
			t.Errorf("%d calls of RetentionDelete with Limit %d swept %d events", calls, limit, swept)
		}
	})
	for _, ev := range gone {
		wantDeliveries(t, s, ev.Event)
		wantAttempts(t, s, ev.Event)
	}
	for _, p := range doomed {
		if n := eventTotal(t, s, p); n != 0 {
			t.Errorf("EventList of a swept project total = %d", n)
		}
		_, n, err := s.AttemptList(t.Context(), store.AttemptListParams{ProjectID: p, Limit: 1})
		noErr(t, "AttemptList", err)
		if n != 0 {
			t.Errorf("AttemptList of a swept project total = %d", n)
		}
	}
	wantEvent(t, s, keep.Org.ID, kp.Event)
	wantDeliveries(t, s, kp.Event, kl...)
	wantEvent(t, s, keep.Org.ID, kd.Event)
	wantDeliveries(t, s, kd.Event, kd.Deliveries...)
}

// testFinishAfterSweep finishes, in one batch, a delivery still in flight
// when its project was deleted and swept, and a live one: the live outcome
// is applied.
func testFinishAfterSweep(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	w := newSite(t, s, staging.ID, "doomed")
	k := newSite(t, s, ada.Project.ID, "keep")
	doomed := insertOne(t, s, newEvent(w.A, "evt_doomed", minute(0)), handed(w.AX, minute(5)))
	kept := insertOne(t, s, newEvent(k.A, "evt_kept", minute(0)), handed(k.AX, minute(5)))
	noErr(t, "ProjectDelete", s.ProjectDelete(t.Context(), ada.Org.ID, staging.ID, minute(1)))
	retain(t, s, store.RetentionParams{Before: minute(-1000), Now: minute(1), Limit: 10}, nil)
	wantDeliveries(t, s, doomed.Event)

	gd, kd := doomed.Deliveries[0], kept.Deliveries[0]
	ko := outcome(kd, volley.DeliverySuccess, newAttempt(kd, 1, 200, 5, minute(2)), minute(2))
	finish(t, s,
		outcome(gd, volley.DeliverySuccess, newAttempt(gd, 1, 200, 5, minute(2)), minute(2)),
		ko,
	)
	wantDeliveries(t, s, kept.Event, after(kd, ko))
	wantStatus(t, s, ada.Org.ID, kept.Event, volley.EventProcessed)
	wantAttempts(t, s, kept.Event, *ko.Attempt)
	wantDeliveries(t, s, doomed.Event)

	// A replay that lost the same race fails or is ignored, but does not
	// bring the event back.
	r := newAttempt(gd, 2, 200, 5, minute(3))
	r.Trigger = volley.AttemptReplay
	_ = s.DeliveryReplayed(t.Context(), r)
	wantDeliveries(t, s, doomed.Event)
}
