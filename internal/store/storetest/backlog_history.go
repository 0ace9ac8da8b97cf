package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func backlogHistoryTests() []test {
	return []test{
		{"BacklogSample/PerHourMax", testBacklogSamplePerHourMax},
		{"BacklogSample/Retention", testBacklogSampleRetention},
	}
}

// backlogAt samples the backlog at t and checks how many projects had one.
func backlogAt(t *testing.T, s store.Store, at time.Time, projects int) {
	t.Helper()
	n, err := s.BacklogSample(t.Context(), store.BacklogSampleParams{Now: at})
	noErr(t, "BacklogSample", err)
	if n != projects {
		t.Fatalf("BacklogSample at %v = %d projects with a backlog, want %d", at, n, projects)
	}
}

// backlogSeries reads a project's backlog history per step over the
// traffic fixture's three hours (02:00 to 05:00).
func backlogSeries(t *testing.T, s store.Store, projectID, connectionID uint64, step time.Duration) []volley.TrafficPeriod {
	t.Helper()
	got, err := s.ProjectTraffic(t.Context(), store.ProjectTrafficParams{ProjectID: projectID, ConnectionID: connectionID,
		Since: minute(-64), Until: minute(61), Step: step})
	noErr(t, "ProjectTraffic", err)
	return got.Periods
}

// backlogOnly keeps the backlog figures of periods.
func backlogOnly(periods []volley.TrafficPeriod) []volley.TrafficPeriod {
	out := make([]volley.TrafficPeriod, len(periods))
	for i, p := range periods {
		out[i] = volley.TrafficPeriod{Start: p.Start, BacklogSampled: p.BacklogSampled, BacklogMax: p.BacklogMax,
			OldestPendingAgeMax: p.OldestPendingAgeMax}
	}
	return out
}

// testBacklogSamplePerHourMax samples the traffic fixture's backlog
// (project w: 3 deliveries, the oldest pending event from 02:00:05;
// project v: 1, from 03:04:05) several times in hour 03 and once in hour
// 04, and checks that each hour keeps the highest backlog and age sampled
// in it, that sampling twice changes nothing, that a project without a
// backlog reads sampled hours as 0 and that a day is the maximum of its
// hours.
func testBacklogSamplePerHourMax(t *testing.T, s store.Store) {
	ada, w, v := trafficFixture(t, s)
	quiet := createProject(t, s, ada.Org.ID, ada.Account.ID, "Quiet", false)
	if got := backlogOnly(backlogSeries(t, s, ada.Project.ID, 0, time.Hour)); got[0].BacklogSampled || got[1].BacklogSampled {
		t.Fatalf("backlog history before any sample = %+v", got)
	}

	// 03:09:05: w's backlog is 4 for a while, its oldest event 69 minutes old.
	extra := insertOne(t, s, newEvent(w.A, "evt_extra", minute(5)), handed(w.AX, minute(100)))
	backlogAt(t, s, minute(5), 2)
	settle(t, s, extra.Deliveries[0], volley.DeliverySuccess, minute(6))
	// 03:24:05: the backlog is down to 3, the oldest event 84 minutes old;
	// a sample taken earlier in the hour but written later (another node's)
	// lowers neither figure, nor does the same sample twice.
	backlogAt(t, s, minute(20), 2)
	backlogAt(t, s, minute(1), 2)
	backlogAt(t, s, minute(20), 2)
	// 04:04:05, the next hour.
	backlogAt(t, s, minute(60), 2)

	same(t, "w's backlog per hour", backlogOnly(backlogSeries(t, s, ada.Project.ID, 0, time.Hour)), []volley.TrafficPeriod{
		{Start: hourAt(2)},
		{Start: hourAt(3), BacklogSampled: true, BacklogMax: 4, OldestPendingAgeMax: 84 * time.Minute},
		{Start: hourAt(4), BacklogSampled: true, BacklogMax: 3, OldestPendingAgeMax: 124 * time.Minute},
	})
	same(t, "v's backlog per hour", backlogOnly(backlogSeries(t, s, v.AX.ProjectID, 0, time.Hour)), []volley.TrafficPeriod{
		{Start: hourAt(2)},
		{Start: hourAt(3), BacklogSampled: true, BacklogMax: 1, OldestPendingAgeMax: 20 * time.Minute},
		{Start: hourAt(4), BacklogSampled: true, BacklogMax: 1, OldestPendingAgeMax: 60 * time.Minute},
	})
	same(t, "a quiet project's backlog per hour", backlogOnly(backlogSeries(t, s, quiet.ID, 0, time.Hour)), []volley.TrafficPeriod{
		{Start: hourAt(2)}, {Start: hourAt(3), BacklogSampled: true}, {Start: hourAt(4), BacklogSampled: true},
	})
	same(t, "w's backlog per day", backlogOnly(backlogSeries(t, s, ada.Project.ID, 0, 24*time.Hour)), []volley.TrafficPeriod{
		{Start: hourAt(0), BacklogSampled: true, BacklogMax: 4, OldestPendingAgeMax: 124 * time.Minute},
	})
	// The history is the project's: a connection's traffic carries none.
	for _, p := range backlogSeries(t, s, ada.Project.ID, w.AX.ID, time.Hour) {
		if p.BacklogSampled || p.BacklogMax != 0 || p.OldestPendingAgeMax != 0 {
			t.Errorf("a connection's traffic carries the project's backlog history: %+v", p)
		}
	}
}

// testBacklogSampleRetention checks that ConnectionMetricsDelete removes
// the samples of hours wholly before its cut, a batch at a time, and
// keeps the others.
func testBacklogSampleRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, _, _ := trafficFixture(t, s)
	backlogAt(t, s, minute(-60), 2)                                              // hour 02
	backlogAt(t, s, minute(0), 2)                                                // hour 03
	backlogAt(t, s, minute(60), 2)                                               // hour 04
	cut := store.RetentionParams{Before: minute(56), Now: minute(100), Limit: 1} // 04:00:05
	for calls := 0; ; calls++ {
		n, err := s.ConnectionMetricsDelete(ctx, cut)
		noErr(t, "ConnectionMetricsDelete", err)
		if n == 0 {
			break
		}
		if n > 4 { // at most Limit rows of each of the four tables
			t.Fatalf("ConnectionMetricsDelete deleted %d rows with a limit of 1", n)
		}
		if calls > 50 {
			t.Fatal("ConnectionMetricsDelete never finished")
		}
	}
	got := backlogOnly(backlogSeries(t, s, ada.Project.ID, 0, time.Hour))
	if got[0].BacklogSampled || got[1].BacklogSampled || !got[2].BacklogSampled || got[2].BacklogMax != 3 {
		t.Fatalf("backlog history after retention = %+v, want hour 04's samples only", got)
	}
}
