package retention_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/retention"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
)

// roundClock is the real store, with the fake time of each retention round
// that deleted events recorded.
type roundClock struct {
	store.Traffic
	clock *clock.Fake
	mu    sync.Mutex
	at    []time.Time
}

func (r *roundClock) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	res, err := r.Traffic.RetentionDelete(ctx, p)
	if err == nil && res.Deleted > 0 {
		r.mu.Lock()
		r.at = append(r.at, r.clock.Now())
		r.mu.Unlock()
	}
	return res, err
}

func (r *roundClock) rounds() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

// TestRoundsWaitWhileIngestCommitsSlowly: once an ingest commit was slow,
// a purge's rounds are spaced at retention.Floor events a second on the
// sweeper's clock, instead of following each other at once.
func TestRoundsWaitWhileIngestCommitsSlowly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []store.NewEvent
	for i := range 30 {
		events = append(events, store.NewEvent{Event: volley.Event{UID: "evt_old" + string(rune('a'+i)), ProjectID: 1, SourceID: 1, Method: "POST", CreatedAt: start}})
	}
	if _, err := st.EventInsert(ctx, events); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(start.Add(45 * 24 * time.Hour))
	sig := yield.NewSignal(fc, 10*time.Millisecond)
	spy := &roundClock{Traffic: st, clock: fc}
	sw := retention.New(retention.Config{Store: spy, Period: 30 * 24 * time.Hour, Batch: 10, Interval: time.Hour, Clock: fc, Yield: sig})
	fc.Advance(time.Millisecond)
	sig.Committed(time.Second)
	fc.Advance(yield.Adjust)
	t1 := fc.Now()
	sw.Start()
	defer sw.Stop()

	// 10 events at 500 a second: each round waits 20 ms for the next.
	gap := 10 * time.Second / retention.Floor
	for i := 1; i <= 3; i++ {
		awaitTimer(t, fc)
		if got := spy.rounds(); len(got) != i {
			t.Fatalf("after %d waits of the sweeper: rounds at %v, want %d", i-1, got, i)
		}
		if i < 3 {
			fc.Advance(gap)
		}
	}
	want := []time.Time{t1, t1.Add(gap), t1.Add(2 * gap)}
	got := spy.rounds()
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("rounds at %v, want %v", got, want)
		}
	}
}

// awaitTimer waits until the sweeper waits on the fake clock.
func awaitTimer(t *testing.T, fc *clock.Fake) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for fc.Timers() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper never waited on its clock")
		}
		time.Sleep(time.Millisecond)
	}
}
