package metrics_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/metrics"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
)

// gather scrapes m through its handler and parses the result.
func gather(t *testing.T, m *metrics.Metrics) map[string]family {
	t.Helper()
	srv := httptest.NewServer(m.Handler(""))
	defer srv.Close()
	_, body := scrape(t, srv.URL, "")
	return parse(t, body)
}

// TestDestinationLabelCap checks that only the first DestinationLabels
// destinations get a latency series of their own and the others share
// "other", so that the number of series stays bounded.
func TestDestinationLabelCap(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{DestinationLabels: 2})
	for _, id := range []uint64{7, 8, 9, 7, 10, 8, 9} {
		m.AttemptFinished(id, metrics.OutcomeSuccess, 3*time.Millisecond)
	}
	fams := gather(t, m)
	want := map[string]float64{"7": 2, "8": 2, metrics.OtherDestination: 3}
	got := map[string]float64{}
	for _, s := range fams["volley_attempt_duration_seconds"].GetMetric() {
		for _, l := range s.Label {
			if l.GetName() == "destination" {
				got[l.GetValue()] = float64(s.Histogram.GetSampleCount())
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("latency series by destination = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("destination %q: %v attempts, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if v, _ := value(fams, "volley_deliveries_total", "outcome=success"); v != 7 {
		t.Errorf("volley_deliveries_total{outcome=success} = %v, want 7", v)
	}
}

// TestBacklogGauges reads the backlog of a real store at a fixed clock:
// two deliveries due (the oldest 90 seconds ago), one scheduled later and
// one held.
func TestBacklogGauges(t *testing.T) {
	t.Parallel()
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	pending := func(conn uint64, at time.Time) volley.Delivery {
		return volley.Delivery{ConnectionID: conn, DestinationID: conn, State: volley.DeliveryPending, NextAttemptAt: at}
	}
	ev := func(uid string) volley.Event {
		return volley.Event{UID: uid, ProjectID: 1, SourceID: 1, Method: "POST", Body: []byte("{}"), CreatedAt: now.Add(-time.Hour)}
	}
	held := pending(3, time.Time{})
	held.State = volley.DeliveryHeld
	_, err = st.EventInsert(t.Context(), []store.NewEvent{
		{Event: ev("evt_a"), Deliveries: []volley.Delivery{pending(1, now.Add(-90*time.Second)), pending(2, now.Add(-time.Second))}},
		{Event: ev("evt_b"), Deliveries: []volley.Delivery{pending(1, now.Add(time.Hour)), held}},
	})
	if err != nil {
		t.Fatal(err)
	}
	fams := gather(t, metrics.New(metrics.Config{Backlog: st, NowFunc: func() time.Time { return now }}))
	for _, w := range []struct {
		name, label string
		want        float64
	}{
		{"volley_delivery_backlog", "state=due", 2},
		{"volley_delivery_backlog", "state=scheduled", 2},
		{"volley_delivery_oldest_due_age_seconds", "", 90},
	} {
		var labels []string
		if w.label != "" {
			labels = []string{w.label}
		}
		if got, ok := value(fams, w.name, labels...); !ok || got != w.want {
			t.Errorf("%s{%s} = %v (present %v), want %v", w.name, w.label, got, ok, w.want)
		}
	}
}

// BenchmarkObserve measures the observations the hot paths make per event
// and per attempt, run from every core at once.
func BenchmarkObserve(b *testing.B) {
	m := metrics.New(metrics.Config{})
	b.RunParallel(func(pb *testing.PB) {
		var i uint64
		for pb.Next() {
			i++
			m.EventIngested(false)
			m.AttemptFinished(i%50, metrics.OutcomeSuccess, time.Millisecond)
		}
	})
}

// TestBacklogUnreadable checks that a store that cannot be read leaves the
// backlog gauges out of a scrape but keeps every other metric.
func TestBacklogUnreadable(t *testing.T) {
	t.Parallel()
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // every read now fails
	m := metrics.New(metrics.Config{Backlog: st})
	m.EventIngested(false)
	srv := httptest.NewServer(m.Handler(""))
	defer srv.Close()
	status, body := scrape(t, srv.URL, "")
	if status != 200 {
		t.Fatalf("scrape with an unreadable store: status %d: %s", status, body)
	}
	fams := parse(t, body)
	if v, _ := value(fams, "volley_events_ingested_total"); v != 1 {
		t.Errorf("volley_events_ingested_total = %v, want 1", v)
	}
	if fams["volley_delivery_backlog"] != nil {
		t.Errorf("backlog gauges served although the store could not be read")
	}
}
