package delivery

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
)

// sweepSpy is the real store, with the fake time of each sweep batch that
// changed deliveries recorded.
type sweepSpy struct {
	store.Traffic
	clock *clock.Fake
	mu    sync.Mutex
	at    []time.Time
}

func (s *sweepSpy) DeliverySweep(ctx context.Context, p store.SweepParams) (int, error) {
	n, err := s.Traffic.DeliverySweep(ctx, p)
	if err == nil && n > 0 {
		s.mu.Lock()
		s.at = append(s.at, s.clock.Now())
		s.mu.Unlock()
	}
	return n, err
}

func (s *sweepSpy) batches() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...)
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
	spy := &sweepSpy{Traffic: st, clock: fc}
	e, err := New(Config{Store: spy, Routes: &fakeRoutes{}, Owner: "node-a", Clock: fc, Yield: sig,
		SweepBatch: 2, SweepInterval: time.Hour, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	fc.Advance(time.Millisecond)
	sig.Committed(time.Second)
	fc.Advance(yield.Adjust)
	t1 := fc.Now()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Stop(ctx)
	})

	// Three batches of two: the first at once (the clock stands still until
	// it has run), then the clock moves on by a tenth of the gap until the
	// third has.
	gap := 2 * time.Second / sweepFloor
	deadline := time.Now().Add(10 * time.Second)
	for len(spy.batches()) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no sweep batch within 10s")
		}
		time.Sleep(time.Millisecond)
	}
	for len(spy.batches()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("sweep batches at %v after 10s, want 3", spy.batches())
		}
		fc.Advance(gap / 10)
		time.Sleep(time.Millisecond)
	}
	// The throttle keeps the average (a batch may follow a late one
	// sooner): batch k no earlier than k gaps after the first.
	at := spy.batches()
	if !at[0].Equal(t1) {
		t.Fatalf("first batch at %v, want at once (%v)", at[0], t1)
	}
	for k := 1; k < len(at); k++ {
		if earliest := t1.Add(time.Duration(k) * gap); at[k].Before(earliest) {
			t.Fatalf("batches at %v: batch %d before %v", at, k+1, earliest)
		}
	}
}
