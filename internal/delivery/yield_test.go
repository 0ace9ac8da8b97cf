package delivery

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
	"github.com/volleyhq/volley/internal/yield/yieldtest"
)

// sweepSpy is the real store, with the fake time of each sweep batch that
// changed deliveries recorded.
type sweepSpy struct {
	store.Traffic
	times *yieldtest.Times
}

func (s sweepSpy) DeliverySweep(ctx context.Context, p store.SweepParams) (int, error) {
	n, err := s.Traffic.DeliverySweep(ctx, p)
	if err == nil && n > 0 {
		s.times.Mark()
	}
	return n, err
}

// TestSweepsWaitWhileIngestCommitsSlowly: once an ingest commit was slow,
// the batches that hold a paused connection's backlog are spaced at
// sweepFloor deliveries a second on the engine's clock, instead of
// following each other at once.
func TestSweepsWaitWhileIngestCommitsSlowly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := storetest.Graph(t, st)
	t0 := time.Now().UTC().Truncate(time.Second)
	if _, err := st.EventInsert(ctx, storetest.Events(6, 0, c, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	paused := *c
	paused.Status, paused.UpdatedAt = volley.ConnectionPaused, t0
	if err := st.ConnectionUpdate(ctx, &paused); err != nil {
		t.Fatal(err)
	}

	fc := clock.NewFake(t0)
	sig := yield.NewSignal(fc, 10*time.Millisecond)
	times := yieldtest.NewTimes(fc)
	spy := sweepSpy{Traffic: st, times: times}
	e, err := New(Config{Store: spy, Routes: &fakeRoutes{}, Owner: "node-a", Clock: fc, Yield: sig,
		SweepBatch: 2, SweepInterval: time.Hour, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t1 := yieldtest.SlowCommit(fc, sig)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Stop(ctx)
	})

	// Three batches of two, one every 2/sweepFloor seconds.
	yieldtest.Spaced(t, fc, times, 3, t1, 2*time.Second/sweepFloor)
}
