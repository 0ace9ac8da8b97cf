package backlog_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/backlog"
	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// start is the fake clock's time at the start of a test: 10:00:30.
var start = time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)

// setup opens a fresh SQLite store with one connection.
func setup(t *testing.T) (*storesqlite.Store, *volley.Connection) {
	t.Helper()
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, storetest.Graph(t, st)
}

// pending stores n events of conn created at created, each with a
// delivery due in a day.
func pending(t *testing.T, st store.Store, conn *volley.Connection, seq, n int, created time.Time) {
	t.Helper()
	events := storetest.Events(n, seq, conn, created.Add(24*time.Hour))
	for i := range events {
		events[i].Event.CreatedAt = created
	}
	if _, err := st.EventInsert(t.Context(), events); err != nil {
		t.Fatal(err)
	}
}

// waitSampled waits (bounded) until the sampler waits on the clock again,
// that is, until the sample the clock triggered is written.
func waitSampled(t *testing.T, fc *clock.Fake) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for fc.Timers() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the sampler did not wait for its next sample")
		}
		time.Sleep(time.Millisecond)
	}
}

// history reads a project's backlog per hour from 10:00 to 12:00.
func history(t *testing.T, st store.Store, projectID uint64) []volley.TrafficPeriod {
	t.Helper()
	got, err := st.ProjectTraffic(t.Context(), store.ProjectTrafficParams{ProjectID: projectID,
		Since: start, Until: start.Add(2 * time.Hour), Step: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return got.Periods
}

func wantPeriod(t *testing.T, what string, got volley.TrafficPeriod, sampled bool, n int64, age time.Duration) {
	t.Helper()
	if got.BacklogSampled != sampled || got.BacklogMax != n || got.OldestPendingAgeMax != age {
		t.Fatalf("%s: sampled %v, backlog %d, oldest %v; want %v, %d, %v", what,
			got.BacklogSampled, got.BacklogMax, got.OldestPendingAgeMax, sampled, n, age)
	}
}

// TestSamplerSamplesEveryPeriod drives the sampler with a fake clock: a
// sample at start, one per period after it, each merged into its hour's
// maximum, and none after Stop.
func TestSamplerSamplesEveryPeriod(t *testing.T) {
	t.Parallel()
	st, conn := setup(t)
	pending(t, st, conn, 0, 3, start.Add(-10*time.Minute))
	fc := clock.NewFake(start)
	s := backlog.New(backlog.Config{Store: st, Clock: fc, Every: time.Minute})
	s.Start()
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()

	waitSampled(t, fc)
	wantPeriod(t, "the first sample, at start", history(t, st, conn.ProjectID)[0], true, 3, 10*time.Minute)
	wantPeriod(t, "the next hour before it comes", history(t, st, conn.ProjectID)[1], false, 0, 0)

	// The backlog grows: the next period's sample raises the hour's figures.
	pending(t, st, conn, 10, 2, start)
	fc.Advance(30 * time.Second)
	if fc.Timers() != 1 {
		t.Fatal("the sampler sampled before its period")
	}
	fc.Advance(30 * time.Second)
	waitSampled(t, fc)
	wantPeriod(t, "after a minute", history(t, st, conn.ProjectID)[0], true, 5, 11*time.Minute)

	// The next hour has its own maximum.
	fc.Advance(time.Hour)
	waitSampled(t, fc)
	got := history(t, st, conn.ProjectID)
	wantPeriod(t, "the first hour, kept", got[0], true, 5, 11*time.Minute)
	wantPeriod(t, "the next hour", got[1], true, 5, 71*time.Minute)

	s.Stop()
	stopped = true
	if fc.Timers() != 0 {
		t.Fatal("the sampler left a timer behind after Stop")
	}
}

// TestSampleNow checks the one-off sample that the server's tests and
// tools call.
func TestSampleNow(t *testing.T) {
	t.Parallel()
	st, conn := setup(t)
	s := backlog.New(backlog.Config{Store: st, Clock: clock.NewFake(start)})
	if n, err := s.Sample(t.Context()); err != nil || n != 0 {
		t.Fatalf("Sample of an empty store = %d, %v; want 0 projects", n, err)
	}
	wantPeriod(t, "an empty store", history(t, st, conn.ProjectID)[0], true, 0, 0)
	pending(t, st, conn, 0, 1, start)
	if n, err := s.Sample(t.Context()); err != nil || n != 1 {
		t.Fatalf("Sample = %d, %v; want 1 project", n, err)
	}
	wantPeriod(t, "one pending event", history(t, st, conn.ProjectID)[0], true, 1, 0)
}
