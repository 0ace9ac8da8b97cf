package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func trafficSeriesTests() []test {
	return []test{
		{"ProjectTraffic/Periods", testProjectTraffic},
		{"ProjectTraffic/Retention", testProjectTrafficRetention},
		{"Metrics/ListOfProject", testConnectionMetricsList},
	}
}

// testConnectionMetricsList checks that ConnectionMetricsList gives each
// connection of the project what ConnectionMetrics gives it, over two
// windows, and nothing of another project's connections.
func testConnectionMetricsList(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, w, v := trafficFixture(t, s)
	for _, since := range []time.Time{minute(-120), minute(3)} {
		got, err := s.ConnectionMetricsList(ctx, store.ConnectionMetricsListParams{ProjectID: ada.Project.ID, Since: since})
		noErr(t, "ConnectionMetricsList", err)
		if len(got) != 3 || got[v.AX.ID] != nil {
			t.Fatalf("ConnectionMetricsList since %v lists %d connections (another project's: %v), want w's 3", since, len(got), got[v.AX.ID] != nil)
		}
		for _, c := range []volley.Connection{w.AX, w.AY, w.BX} {
			want, err := s.ConnectionMetrics(ctx, c.ID, since)
			noErr(t, "ConnectionMetrics", err)
			if got[c.ID] == nil {
				t.Fatalf("ConnectionMetricsList since %v has no connection %d", since, c.ID)
			}
			same(t, fmt.Sprintf("ConnectionMetricsList since %v, connection %s", since, c.Name), *got[c.ID], *want)
		}
	}
	got, err := s.ConnectionMetricsList(ctx, store.ConnectionMetricsListParams{ProjectID: ada.Project.ID, Since: minute(-120)})
	noErr(t, "ConnectionMetricsList", err)
	if m := got[w.AX.ID]; m.EventsRouted != 3 || m.Delivered != 1 || m.Failed != 1 || m.Pending != 1 || m.LatencyP95MS != 10 {
		t.Errorf("ConnectionMetricsList of w.AX = %+v, want 3 routed, 1 delivered, 1 failed, 1 pending, p95 10 ms", *m)
	}
}

// trafficFixture stores the traffic of two projects over three hours and
// returns the first project's site. minute(0) is 03:04:05, so minute(-64)
// is in hour 02 and minute(60) in hour 04.
//
//	02:00:05  w.A  → AX succeeds at minute(2), AY stays pending
//	03:04:05  w.A  → AX fails at minute(3)
//	03:05:05  w.B  → BX held
//	04:04:05  w.A  → AX pending
//	03:04:05  v.A  → v.AX pending (another project)
func trafficFixture(t *testing.T, s store.Store) (fixture, site, site) {
	t.Helper()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	other := createProject(t, s, ada.Org.ID, ada.Account.ID, "Other", false)
	v := newSite(t, s, other.ID, "v")
	evs := insert(t, s,
		routed(newEvent(w.A, "evt_t0", minute(-64)), handed(w.AX, minute(100)), due(w.AY, minute(100))),
		routed(newEvent(w.A, "evt_t1", minute(0)), handed(w.AX, minute(100))),
		routed(newEvent(w.B, "evt_t2", minute(1)), held(w.BX)),
		routed(newEvent(w.A, "evt_t3", minute(60)), due(w.AX, minute(100))),
		routed(newEvent(v.A, "evt_t4", minute(0)), due(v.AX, minute(100))),
	)
	d0, d1 := evs[0].Deliveries[0], evs[1].Deliveries[0]
	finish(t, s,
		outcome(d0, volley.DeliverySuccess, newAttempt(d0, 1, 200, 10, minute(2)), minute(2)),
		outcome(d1, volley.DeliveryFailed, newAttempt(d1, 1, 500, 10, minute(3)), minute(3)),
	)
	return ada, w, v
}

func hourAt(h int) time.Time { return time.Date(2025, 1, 2, h, 0, 0, 0, time.UTC) }

func testProjectTraffic(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, w, v := trafficFixture(t, s)
	get := func(what string, p store.ProjectTrafficParams) *volley.ProjectTraffic {
		t.Helper()
		got, err := s.ProjectTraffic(ctx, p)
		noErr(t, "ProjectTraffic "+what, err)
		return got
	}

	got := get("per hour", store.ProjectTrafficParams{ProjectID: ada.Project.ID, Since: minute(-64), Until: minute(61), Step: time.Hour})
	same(t, "ProjectTraffic per hour", *got, volley.ProjectTraffic{
		Periods: []volley.TrafficPeriod{
			{Start: hourAt(2), Received: 1, Routed: 2},
			{Start: hourAt(3), Received: 2, Routed: 2, Delivered: 1, Failed: 1},
			{Start: hourAt(4), Received: 1, Routed: 1},
		},
		Backlog: 3, OldestPending: minute(-64),
	})

	got = get("per day", store.ProjectTrafficParams{ProjectID: ada.Project.ID, Since: minute(-64), Until: minute(61), Step: 24 * time.Hour})
	same(t, "ProjectTraffic per day", got.Periods, []volley.TrafficPeriod{
		{Start: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), Received: 4, Routed: 5, Delivered: 1, Failed: 1},
	})

	got = get("of one connection", store.ProjectTrafficParams{ProjectID: ada.Project.ID, ConnectionID: w.AX.ID,
		Since: minute(-64), Until: minute(61), Step: time.Hour})
	same(t, "ProjectTraffic of one connection", *got, volley.ProjectTraffic{
		Periods: []volley.TrafficPeriod{
			{Start: hourAt(2), Routed: 1},
			{Start: hourAt(3), Routed: 1, Delivered: 1, Failed: 1},
			{Start: hourAt(4), Routed: 1},
		},
		Backlog: 1, OldestPending: minute(-64),
	})

	// Another project's connection counts nothing in this one.
	got = get("of another project's connection", store.ProjectTrafficParams{ProjectID: ada.Project.ID, ConnectionID: v.AX.ID,
		Since: minute(-64), Until: minute(61), Step: time.Hour})
	for _, p := range got.Periods {
		if p.Routed+p.Delivered+p.Failed+p.Received != 0 {
			t.Errorf("another project's connection counts %+v", p)
		}
	}
	if got.Backlog != 0 {
		t.Errorf("another project's connection has a backlog of %d here", got.Backlog)
	}

	// The other project sees its own event only; a quiet window is zeros.
	got = get("of the other project", store.ProjectTrafficParams{ProjectID: v.AX.ProjectID, Since: minute(-64), Until: minute(61), Step: time.Hour})
	same(t, "ProjectTraffic of the other project", *got, volley.ProjectTraffic{
		Periods: []volley.TrafficPeriod{{Start: hourAt(2)}, {Start: hourAt(3), Received: 1, Routed: 1}, {Start: hourAt(4)}},
		Backlog: 1, OldestPending: minute(0),
	})
	got = get("of a quiet window", store.ProjectTrafficParams{ProjectID: ada.Project.ID, Since: minute(600), Until: minute(700), Step: time.Hour})
	if len(got.Periods) != 2 || got.Periods[0].Received+got.Periods[1].Received != 0 || got.Backlog != 3 {
		t.Errorf("ProjectTraffic of a quiet window = %+v", got)
	}

	for _, step := range []time.Duration{30 * time.Minute, 90 * time.Minute, 0} {
		if _, err := s.ProjectTraffic(ctx, store.ProjectTrafficParams{ProjectID: ada.Project.ID, Since: minute(0), Until: minute(60), Step: step}); err == nil {
			t.Errorf("ProjectTraffic with a step of %v: no error", step)
		}
	}
	if _, err := s.ProjectTraffic(ctx, store.ProjectTrafficParams{ProjectID: ada.Project.ID, Since: minute(-60 * 2000), Until: minute(0), Step: time.Hour}); err == nil {
		t.Error("ProjectTraffic of 2,000 periods: no error")
	}
}

// testProjectTrafficRetention checks that ConnectionMetricsDelete also
// removes the received counts of hours wholly before its cut.
func testProjectTrafficRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, _, _ := trafficFixture(t, s)
	cut := store.RetentionParams{Before: minute(26), Now: minute(100), Limit: 1} // 03:30:05
	for calls := 0; ; calls++ {
		n, err := s.ConnectionMetricsDelete(ctx, cut)
		noErr(t, "ConnectionMetricsDelete", err)
		if n == 0 {
			break
		}
		if calls > 50 {
			t.Fatal("ConnectionMetricsDelete never finished")
		}
	}
	got, err := s.ProjectTraffic(ctx, store.ProjectTrafficParams{ProjectID: ada.Project.ID, Since: minute(-64), Until: minute(61), Step: time.Hour})
	noErr(t, "ProjectTraffic", err)
	// Hour 02 is gone; hour 03 keeps its received count (the hour is not
	// wholly before the cut) and loses the minutes before 03:30.
	same(t, "ProjectTraffic after retention", got.Periods, []volley.TrafficPeriod{
		{Start: hourAt(2)},
		{Start: hourAt(3), Received: 2},
		{Start: hourAt(4), Received: 1, Routed: 1},
	})
}
