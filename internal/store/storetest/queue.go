package storetest

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func queueTests() []test {
	return []test{
		{"Queue/Finish", testFinish},
		{"Queue/FinishStaleLease", testFinishStale},
		{"Queue/FinishCancelled", testFinishCancelled},
		{"Queue/FinishHeldAfterResume", testFinishHeldAfterResume},
		{"Queue/Replayed", testReplayed},
		{"Queue/DeliveryCreate", testDeliveryCreate},
	}
}

// newAttempt returns attempt n of delivery d, made at at: a success for a
// 2xx code, otherwise a failure (code 0: no response).
func newAttempt(d volley.Delivery, n, code int, ms int64, at time.Time) *volley.Attempt {
	a := &volley.Attempt{
		DeliveryID:    d.ID,
		EventID:       d.EventID,
		EventUID:      d.EventUID,
		ProjectID:     d.ProjectID,
		SourceID:      d.SourceID,
		ConnectionID:  d.ConnectionID,
		DestinationID: d.DestinationID,
		Number:        n,
		Trigger:       volley.AttemptAuto,
		Status:        volley.AttemptFailed,
		StatusCode:    code,
		ErrorReason:   fmt.Sprintf("HTTP %d", code),
		DurationMS:    ms,
		CreatedAt:     at,
	}
	switch {
	case code >= 200 && code < 300:
		a.Status, a.ErrorReason = volley.AttemptSuccess, ""
	case code == 0:
		a.ErrorReason = "timeout after 15s"
		return a
	}
	a.ResponseHeaders = http.Header{"Content-Type": {"text/plain"}, "X-Request-Id": {"r1", "r2"}}
	a.ResponseBody = []byte{'H', 'T', 'T', 'P', ' ', byte('0' + code/100), 0xff, 0x00}
	return a
}

// outcome returns the outcome of the leased delivery d: state at at, with
// the attempt a (nil for none), naming d's connection and whether it is
// ordered, as the engine does.
func outcome(d volley.Delivery, state string, a *volley.Attempt, at time.Time) store.Outcome {
	return store.Outcome{DeliveryID: d.ID, LeaseToken: d.LeaseToken, EventID: d.EventID, Attempt: a, State: state, Now: at,
		Ordered: d.OrderingKey != "", ConnectionID: d.ConnectionID}
}

// anonymous returns o without the connection it names: a store reads it.
func anonymous(o store.Outcome) store.Outcome {
	o.ConnectionID = 0
	return o
}

// retry returns the outcome of the leased delivery d that failed with a
// and is due again at next.
func retry(d volley.Delivery, a *volley.Attempt, next time.Time) store.Outcome {
	o := outcome(d, volley.DeliveryPending, a, a.CreatedAt)
	o.NextAttemptAt = next
	return o
}

// after returns d as it is once o has been applied to it.
func after(d volley.Delivery, o store.Outcome) volley.Delivery {
	d.State, d.LeaseOwner = o.State, ""
	if o.Attempt != nil {
		d.Attempts++
	}
	switch o.State {
	case volley.DeliveryPending:
		d.NextAttemptAt = o.NextAttemptAt
	case volley.DeliverySuccess, volley.DeliveryFailed, volley.DeliveryCancelled:
		d.FinishedAt = o.Now
	}
	return d
}

// finish applies outcomes in one DeliveryFinish call.
func finish(t *testing.T, s store.Store, outcomes ...store.Outcome) {
	t.Helper()
	noErr(t, "DeliveryFinish", s.DeliveryFinish(t.Context(), outcomes))
}

// settle finishes the leased delivery d in state with one attempt made at
// at, and returns it as stored then.
func settle(t *testing.T, s store.Store, d volley.Delivery, state string, at time.Time) volley.Delivery {
	t.Helper()
	code := 200
	if state != volley.DeliverySuccess {
		code = 500
	}
	o := outcome(d, state, newAttempt(d, d.Attempts+1, code, 25, at), at)
	finish(t, s, o)
	return after(d, o)
}

func testFinish(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	h := func(c volley.Connection) volley.Delivery { return handed(c, minute(5)) }
	evs := insert(t, s,
		routed(newEvent(w.A, "evt_ok", minute(0)), h(w.AX), h(w.AY)),
		routed(newEvent(w.A, "evt_fail", minute(0)), h(w.AX), h(w.AY)),
		routed(newEvent(w.A, "evt_retry", minute(0)), h(w.AX), h(w.AY)),
		routed(newEvent(w.A, "evt_hold", minute(0)), h(w.AX), h(w.AY)),
		routed(newEvent(w.A, "evt_cancel", minute(0)), h(w.AX), h(w.AY)),
		routed(newEvent(w.B, "evt_untouched", minute(0)), h(w.BX)),
	)
	ok, fail, rtry, hold, cancel, untouched := evs[0], evs[1], evs[2], evs[3], evs[4], evs[5]
	// A worker holds a delivery when it finds its connection paused. The
	// pause leaves leased deliveries to their workers.
	setConnection(t, s, w.AY, volley.ConnectionPaused, minute(1))
	wantDeliveries(t, s, hold.Event, hold.Deliveries...)
	at := minute(1)
	a := func(d volley.Delivery, code int, sec int) *volley.Attempt {
		return newAttempt(d, 1, code, int64(100+sec), at.Add(time.Duration(sec)*time.Second))
	}
	outcomes := []store.Outcome{
		outcome(ok.Deliveries[0], volley.DeliverySuccess, a(ok.Deliveries[0], 200, 1), at),
		outcome(ok.Deliveries[1], volley.DeliverySuccess, a(ok.Deliveries[1], 204, 2), at),
		outcome(fail.Deliveries[0], volley.DeliveryFailed, a(fail.Deliveries[0], 410, 3), at),
		outcome(fail.Deliveries[1], volley.DeliverySuccess, a(fail.Deliveries[1], 200, 4), at),
		retry(rtry.Deliveries[0], a(rtry.Deliveries[0], 0, 5), minute(20)),
		outcome(rtry.Deliveries[1], volley.DeliveryFailed, a(rtry.Deliveries[1], 503, 6), at),
		outcome(hold.Deliveries[0], volley.DeliverySuccess, a(hold.Deliveries[0], 200, 7), at),
		outcome(hold.Deliveries[1], volley.DeliveryHeld, nil, at),
		outcome(cancel.Deliveries[0], volley.DeliveryCancelled, nil, at),
		outcome(cancel.Deliveries[1], volley.DeliveryCancelled, nil, at),
	}
	finish(t, s, outcomes...)
	for i, ev := range evs[:5] {
		for j, d := range ev.Deliveries {
			ev.Deliveries[j] = after(d, outcomes[2*i+j])
		}
		wantDeliveries(t, s, ev.Event, ev.Deliveries...)
	}
	wantDeliveries(t, s, untouched.Event, untouched.Deliveries...)
	for _, tc := range []struct {
		ev     stored
		status string
	}{
		{ok, volley.EventProcessed}, {fail, volley.EventFailed}, {rtry, volley.EventPending},
		{hold, volley.EventPending}, {cancel, volley.EventDropped}, {untouched, volley.EventPending},
	} {
		wantStatus(t, s, ada.Org.ID, tc.ev.Event, tc.status)
	}
	wantAttempts(t, s, ok.Event, *outcomes[0].Attempt, *outcomes[1].Attempt)
	wantAttempts(t, s, rtry.Event, *outcomes[4].Attempt, *outcomes[5].Attempt)
	wantAttempts(t, s, hold.Event, *outcomes[6].Attempt)
	wantAttempts(t, s, cancel.Event)

	// The retry comes due; its second attempt succeeds, and the event is
	// failed because its other delivery is.
	next, err := s.DeliveryNextDue(t.Context())
	noErr(t, "DeliveryNextDue", err)
	same(t, "DeliveryNextDue", next, minute(5)) // untouched's lease
	jobs := lease(t, s, "w1", minute(20), minute(21), 10)
	rd := wantJobs(t, jobs, "w1", minute(21), one(rtry, 0), untouched)
	o := outcome(rd[0], volley.DeliverySuccess, newAttempt(rd[0], 2, 200, 30, minute(20)), minute(20))
	finish(t, s, o)
	wantDeliveries(t, s, rtry.Event, after(rd[0], o), rtry.Deliveries[1])
	wantStatus(t, s, ada.Org.ID, rtry.Event, volley.EventFailed)
	wantAttempts(t, s, rtry.Event, *outcomes[4].Attempt, *outcomes[5].Attempt, *o.Attempt)
	if got := deliveryOf(t, s, rtry.Event, 0).Attempts; got != 2 {
		t.Errorf("Attempts after two attempts = %d, want 2", got)
	}
}

// testFinishStale finishes a delivery with the token of a lease that expired
// and was taken by another worker: the attempt is kept, the delivery is not
// touched.
func testFinishStale(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	st := insertOne(t, s, newEvent(w.A, "evt_stale", minute(0)), due(w.AX, minute(0)))
	first := wantJobs(t, lease(t, s, "w1", minute(0), minute(1), 10), "w1", minute(1), st)[0]
	second := wantJobs(t, lease(t, s, "w2", minute(1), minute(2), 10), "w2", minute(2), withDelivery(st, first))[0]
	late := newAttempt(first, 1, 200, 70, minute(1).Add(time.Second))
	finish(t, s, outcome(first, volley.DeliverySuccess, late, minute(1).Add(time.Second)))
	wantDeliveries(t, s, st.Event, second)
	wantStatus(t, s, ada.Org.ID, st.Event, volley.EventPending)
	wantAttempts(t, s, st.Event, *late)

	o := outcome(second, volley.DeliveryFailed, newAttempt(second, 1, 500, 80, minute(1).Add(2*time.Second)), minute(1).Add(2*time.Second))
	finish(t, s, o)
	wantDeliveries(t, s, st.Event, after(second, o))
	wantStatus(t, s, ada.Org.ID, st.Event, volley.EventFailed)
	wantAttempts(t, s, st.Event, *late, *o.Attempt)
}

// testFinishCancelled finishes a delivery cancelled while it was in flight:
// it stays cancelled.
func testFinishCancelled(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	st := insertOne(t, s, newEvent(w.A, "evt_cancelled", minute(0)), due(w.AX, minute(0)))
	d := wantJobs(t, lease(t, s, "w1", minute(0), minute(5), 10), "w1", minute(5), st)[0]
	noErr(t, "ConnectionDelete", s.ConnectionDelete(ctx, ada.Org.ID, w.AX.ID, minute(1)))
	sweep(t, s, minute(1))
	cancelled := after(d, outcome(d, volley.DeliveryCancelled, nil, minute(1)))
	wantDeliveries(t, s, st.Event, cancelled)
	wantStatus(t, s, ada.Org.ID, st.Event, volley.EventDropped)

	var attempts []volley.Attempt
	for i, state := range []string{volley.DeliverySuccess, volley.DeliveryPending, volley.DeliveryHeld} {
		at := minute(2).Add(time.Duration(i) * time.Second)
		a := newAttempt(d, 1, 200, 10, at)
		o := outcome(d, state, a, at)
		o.NextAttemptAt = minute(3)
		finish(t, s, o)
		wantDeliveries(t, s, st.Event, cancelled)
		wantStatus(t, s, ada.Org.ID, st.Event, volley.EventDropped)
		attempts = append(attempts, *a)
	}
	wantAttempts(t, s, st.Event, attempts...)
	if jobs := lease(t, s, "w1", minute(10), minute(11), 10); len(jobs) != 0 {
		t.Errorf("DeliveryLease of a cancelled delivery = %+v", jobs)
	}
}

func testReplayed(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	st := insertOne(t, s, newEvent(w.A, "evt_replay", minute(0)), handed(w.AX, minute(1)), handed(w.AY, minute(1)))
	failed := settle(t, s, st.Deliveries[0], volley.DeliveryFailed, minute(1))
	ok := settle(t, s, st.Deliveries[1], volley.DeliverySuccess, minute(1))
	wantStatus(t, s, ada.Org.ID, st.Event, volley.EventFailed)
	attempts := attemptsOf(t, s, st.Event)

	replay := func(d volley.Delivery, code int, at time.Time) volley.Attempt {
		a := newAttempt(d, d.Attempts+1, code, 40, at)
		a.Trigger = volley.AttemptReplay
		noErr(t, "DeliveryReplayed", s.DeliveryReplayed(ctx, a))
		return *a
	}
	attempts = append(attempts, replay(failed, 502, minute(2)))
	wantDeliveries(t, s, st.Event, failed, ok)
	wantStatus(t, s, ada.Org.ID, st.Event, volley.EventFailed)
	wantAttempts(t, s, st.Event, attempts...)

	attempts = append(attempts, replay(failed, 200, minute(3)))
	wantStatus(t, s, ada.Org.ID, st.Event, volley.EventProcessed)
	wantAttempts(t, s, st.Event, attempts...)
	got := deliveryOf(t, s, st.Event, 0)
	if got.State != volley.DeliverySuccess || got.Attempts != failed.Attempts || got.FinishedAt.IsZero() {
		t.Errorf("delivery after a successful replay = %+v, want success with %d attempts (replays excluded), finished", got, failed.Attempts)
	}

	// A held delivery, and a pending one, succeed by replay too.
	for _, d := range []volley.Delivery{held(w.AX), due(w.AX, minute(30))} {
		ev := insertOne(t, s, newEvent(w.A, "evt_replay_"+d.State, minute(4)), d)
		replay(ev.Deliveries[0], 201, minute(5))
		wantStatus(t, s, ada.Org.ID, ev.Event, volley.EventProcessed)
		if got := deliveryOf(t, s, ev.Event, 0); got.State != volley.DeliverySuccess || got.Attempts != 0 {
			t.Errorf("%s delivery after a successful replay = %+v, want success with 0 attempts", d.State, got)
		}
	}
	if next, err := s.DeliveryNextDue(ctx); err != nil || !next.IsZero() {
		t.Errorf("DeliveryNextDue after replays = %v, %v; want nothing pending", next, err)
	}
}

func testDeliveryCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	done := insertOne(t, s, newEvent(w.A, "evt_done", minute(0)), handed(w.AX, minute(1)))
	first := settle(t, s, done.Deliveries[0], volley.DeliverySuccess, minute(1))
	wantStatus(t, s, ada.Org.ID, done.Event, volley.EventProcessed)
	dropped := insertOne(t, s, newEvent(w.A, "evt_dropped", minute(0)))

	create := func(e volley.Event, c volley.Connection, at time.Time) volley.Delivery {
		d := due(c, at)
		d.EventID, d.CreatedAt = e.ID, minute(4)
		created := d
		noErr(t, "DeliveryCreate", s.DeliveryCreate(ctx, &created))
		if created.ID == 0 || created.ID == first.ID {
			t.Fatalf("DeliveryCreate ID = %d, want a new one", created.ID)
		}
		d.ID, d.EventUID = created.ID, e.UID
		return d
	}
	second := create(done.Event, w.AY, minute(5))
	wantDeliveries(t, s, done.Event, first, second)
	wantStatus(t, s, ada.Org.ID, done.Event, volley.EventPending)
	third := create(dropped.Event, w.AX, minute(6))
	wantDeliveries(t, s, dropped.Event, third)
	wantStatus(t, s, ada.Org.ID, dropped.Event, volley.EventPending)

	wantJobs(t, lease(t, s, "w1", minute(6), minute(7), 10), "w1", minute(7),
		stored{Event: asPending(done.Event), Deliveries: []volley.Delivery{second}},
		stored{Event: asPending(dropped.Event), Deliveries: []volley.Delivery{third}})

	missing := due(w.AX, minute(5))
	missing.EventID, missing.CreatedAt = dropped.Event.ID+1000, minute(4)
	wantErr(t, "DeliveryCreate for an unknown event", s.DeliveryCreate(ctx, &missing), store.ErrNotFound)
}

// released returns d pending and due at at.
func released(d volley.Delivery, at time.Time) volley.Delivery {
	d.State, d.NextAttemptAt, d.LeaseOwner = volley.DeliveryPending, at, ""
	return d
}

// asPending returns e with the status of an event with a pending delivery.
func asPending(e volley.Event) volley.Event {
	e.Status = volley.EventPending
	return e
}

// testFinishHeldAfterResume holds deliveries whose workers saw their
// connection paused. One connection was enabled again before the outcome
// was applied, when there was nothing held to release: DeliveryFinish
// releases that delivery, due at Now, instead of stranding it. The others
// stay held, for a paused connection and for a disabled destination.
func testFinishHeldAfterResume(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	v := newSite(t, s, ada.Project.ID, "v")
	resumed := insertOne(t, s, newEvent(w.A, "evt_resumed", minute(0)), handed(w.AX, minute(5)))
	paused := insertOne(t, s, newEvent(w.A, "evt_paused", minute(0)), handed(w.AY, minute(5)))
	blocked := insertOne(t, s, newEvent(v.A, "evt_blocked", minute(0)), handed(v.AX, minute(5)))
	setConnection(t, s, w.AX, volley.ConnectionPaused, minute(1))
	setConnection(t, s, w.AY, volley.ConnectionPaused, minute(1))
	setDestination(t, s, v.X, volley.DestinationDisabled, minute(1))
	setConnection(t, s, w.AX, volley.ConnectionEnabled, minute(2))

	var outcomes []store.Outcome
	for _, st := range []stored{resumed, paused, blocked} {
		outcomes = append(outcomes, outcome(st.Deliveries[0], volley.DeliveryHeld, nil, minute(3)))
	}
	finish(t, s, outcomes...)
	wantDeliveries(t, s, resumed.Event, released(resumed.Deliveries[0], minute(3)))
	wantDeliveries(t, s, paused.Event, after(paused.Deliveries[0], outcomes[1]))
	wantDeliveries(t, s, blocked.Event, after(blocked.Deliveries[0], outcomes[2]))
	for _, st := range []stored{resumed, paused, blocked} {
		wantStatus(t, s, ada.Org.ID, st.Event, volley.EventPending)
	}
}
