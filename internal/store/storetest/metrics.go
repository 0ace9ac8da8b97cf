package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func metricsTests() []test {
	return []test{
		{"Metrics/CountersFollowRows", testMetricsFollowRows},
		{"Metrics/Delete", testMetricsDelete},
	}
}

// rowCounts are a connection's figures counted from its delivery rows.
type rowCounts struct{ routed, delivered, failed, backlog int64 }

// countRows counts the deliveries of events by connection, as count(*)
// over the rows would.
func countRows(t *testing.T, s store.Store, events []volley.Event) map[uint64]rowCounts {
	t.Helper()
	out := map[uint64]rowCounts{}
	for _, e := range events {
		ds, err := s.DeliveryListByEvent(t.Context(), e.ID)
		noErr(t, "DeliveryListByEvent", err)
		for _, d := range ds {
			c := out[d.ConnectionID]
			c.routed++
			switch d.State {
			case volley.DeliverySuccess:
				c.delivered++
			case volley.DeliveryFailed:
				c.failed++
			case volley.DeliveryPending, volley.DeliveryHeld:
				c.backlog++
			}
			out[d.ConnectionID] = c
		}
	}
	return out
}

// testMetricsFollowRows runs every kind of change to deliveries and checks
// after each that a connection's backlog equals the count of its pending
// and held rows and, until retention deletes rows, that its routed,
// delivered and failed counts equal the counts of its rows.
func testMetricsFollowRows(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	other := createProject(t, s, ada.Org.ID, ada.Account.ID, "Other", false)
	v := newSite(t, s, other.ID, "v")
	conns := []volley.Connection{w.AX, w.AY, w.BX, v.AX, v.AY, v.BX}
	var events []volley.Event
	deleted := false
	check := func(step string) {
		t.Helper()
		rows := countRows(t, s, events)
		for _, c := range conns {
			m, err := s.ConnectionMetrics(ctx, c.ID, minute(-1000))
			noErr(t, "ConnectionMetrics", err)
			want := rows[c.ID]
			got := rowCounts{m.EventsRouted, m.Delivered, m.Failed, m.Pending}
			if deleted {
				// Deleting rows keeps the per-minute counts (see
				// ConnectionMetricsDelete); the backlog stays exact.
				want.routed, want.delivered, want.failed = got.routed, got.delivered, got.failed
			}
			if got != want {
				t.Errorf("after %s: connection %d metrics (routed, delivered, failed, backlog) = %+v, rows say %+v",
					step, c.ID, got, want)
			}
		}
	}
	check("nothing")

	evs := insert(t, s,
		routed(newEvent(w.A, "evt_m0", minute(0)), due(w.AX, minute(0)), due(w.AY, minute(0))),
		routed(newEvent(w.A, "evt_m1", minute(0)), held(w.AX), due(w.AY, minute(0))),
		routed(newEvent(w.B, "evt_m2", minute(0)), due(w.BX, minute(0))),
		routed(newEvent(w.B, "evt_m3", minute(0)), due(w.BX, minute(0))),
		routed(newEvent(w.A, "evt_m4", minute(0)), handed(w.AX, minute(5))),
		routed(newEvent(v.A, "evt_v0", minute(0)), due(v.AX, minute(0)), held(v.AY)),
		routed(newEvent(v.B, "evt_v1", minute(0)), due(v.BX, minute(0))),
	)
	for _, e := range evs {
		events = append(events, e.Event)
	}
	check("insert")

	jobs, err := s.DeliveryLease(ctx, store.LeaseParams{Owner: "n", Now: minute(1), Until: minute(5), Limit: 100})
	noErr(t, "DeliveryLease", err)
	leased := map[uint64]volley.Delivery{}
	for _, j := range jobs {
		leased[j.Delivery.ID] = j.Delivery
	}
	if len(leased) != 7 {
		t.Fatalf("DeliveryLease leased %d deliveries, want the 7 due", len(leased))
	}
	check("lease")

	get := func(i, j int) volley.Delivery {
		d, ok := leased[evs[i].Deliveries[j].ID]
		if !ok {
			t.Fatalf("delivery %d of event %d was not leased", j, i)
		}
		return d
	}
	m0x, m0y, m2, m3 := get(0, 0), get(0, 1), get(2, 0), get(3, 0)
	m4 := evs[4].Deliveries[0]
	// Outcomes that name their connection and outcomes that do not, in one
	// batch: a store may count the former without reading the row.
	finish(t, s,
		outcome(m0x, volley.DeliverySuccess, newAttempt(m0x, 1, 200, 30, minute(2)), minute(2)),
		anonymous(outcome(m0y, volley.DeliveryFailed, newAttempt(m0y, 1, 500, 40, minute(2)), minute(2))),
		retry(m2, newAttempt(m2, 1, 503, 50, minute(2)), minute(10)),
		anonymous(outcome(m3, volley.DeliveryHeld, nil, minute(2))),
		outcome(m4, volley.DeliverySuccess, newAttempt(m4, 1, 200, 60, minute(3)), minute(3)),
	)
	check("finish")

	setConnection(t, s, w.BX, volley.ConnectionPaused, minute(11))
	check("hold")
	setConnection(t, s, w.BX, volley.ConnectionEnabled, minute(12))
	check("release")

	for _, d := range []volley.Delivery{m0y, get(1, 1)} {
		a := newAttempt(d, d.Attempts+1, 200, 20, minute(13))
		a.Trigger = volley.AttemptReplay
		noErr(t, "DeliveryReplayed", s.DeliveryReplayed(ctx, a))
	}
	extra := due(w.AX, minute(14))
	extra.EventID, extra.CreatedAt = evs[2].Event.ID, minute(14)
	noErr(t, "DeliveryCreate", s.DeliveryCreate(ctx, &extra))
	check("replay")

	noErr(t, "ConnectionDelete", s.ConnectionDelete(ctx, ada.Org.ID, w.BX.ID, minute(15)))
	sweep(t, s, minute(15))
	check("cancel by delete")

	deleted = true
	retain(t, s, store.RetentionParams{Before: minute(100), Now: minute(100), Limit: 100}, nil)
	check("retention")

	// A deleted project's traffic is purged with unfinished deliveries,
	// before any sweep cancels them.
	noErr(t, "ProjectDelete", s.ProjectDelete(ctx, ada.Org.ID, other.ID, minute(16)))
	retain(t, s, store.RetentionParams{Before: minute(-100), Now: minute(16), Limit: 100}, nil)
	check("project purge")
	if rows := countRows(t, s, events); rows[v.AX.ID].routed+rows[v.AY.ID].routed+rows[v.BX.ID].routed != 0 {
		t.Errorf("the deleted project's deliveries are still there: %+v", rows)
	}
}

// testMetricsDelete checks that ConnectionMetricsDelete removes the counts
// of minutes before its cut, in batches, and nothing else.
func testMetricsDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	var batch []store.NewEvent
	for i, at := range []time.Time{minute(-120), minute(-119), minute(-118), minute(0), minute(1)} {
		batch = append(batch, routed(newEvent(w.A, fmt.Sprintf("evt_d%d", i), at), handed(w.AX, minute(200))))
	}
	evs := insert(t, s, batch...)
	var outcomes []store.Outcome
	for i, e := range evs {
		d := e.Deliveries[0]
		at := e.Event.CreatedAt.Add(time.Second)
		outcomes = append(outcomes, outcome(d, volley.DeliverySuccess, newAttempt(d, 1, 200, int64(1000*(i+1)), at), at))
	}
	finish(t, s, outcomes...)
	insertOne(t, s, newEvent(w.A, "evt_waiting", minute(-110)), held(w.AX))

	cut := store.RetentionParams{Before: minute(-60), Now: minute(2), Limit: 2}
	for calls := 0; ; calls++ {
		n, err := s.ConnectionMetricsDelete(ctx, cut)
		noErr(t, "ConnectionMetricsDelete", err)
		if n > 3*cut.Limit { // minutes, latency buckets and project hours
			t.Fatalf("ConnectionMetricsDelete deleted %d rows, more than %d of each kind", n, cut.Limit)
		}
		if n == 0 {
			break
		}
		if calls > 20 {
			t.Fatal("ConnectionMetricsDelete never finished")
		}
	}
	got, err := s.ConnectionMetrics(ctx, w.AX.ID, minute(-1000))
	noErr(t, "ConnectionMetrics", err)
	same(t, "ConnectionMetrics after ConnectionMetricsDelete", *got, volley.ConnectionMetrics{
		Since: minute(-1000).Truncate(time.Minute), EventsRouted: 2, Delivered: 2, Pending: 1,
		LatencyP50MS: 5000, LatencyP95MS: 5000, LastDeliveryAt: minute(1).Add(time.Second),
	})
}
