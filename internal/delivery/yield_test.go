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

// TestSweepsDoNotWaitForSlowIngest: sweeps do not yield (sweeper.go): with
// an ingest commit slow, a paused connection's backlog is still held batch
// after batch without the clock moving.
func TestSweepsDoNotWaitForSlowIngest(t *testing.T) {
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

	// Three batches of two, then none left: all at t1.
	deadline := time.Now().Add(10 * time.Second)
	for len(times.All()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("sweep batches at %v after 10s without the clock moving, want 3", times.All())
		}
		time.Sleep(time.Millisecond) // polling, bounded by the deadline
	}
	for _, at := range times.All() {
		if !at.Equal(t1) {
			t.Fatalf("sweep batches at %v, want all at %v", times.All(), t1)
		}
	}
}
