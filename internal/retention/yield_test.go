package retention_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/retention"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
	"github.com/volleyhq/volley/internal/yield/yieldtest"
)

// roundSpy is the real store, with the fake time of each retention round
// that deleted events recorded.
type roundSpy struct {
	store.Traffic
	times *yieldtest.Times
}

func (r roundSpy) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	res, err := r.Traffic.RetentionDelete(ctx, p)
	if err == nil && res.Deleted > 0 {
		r.times.Mark()
	}
	return res, err
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
	times := yieldtest.NewTimes(fc)
	spy := roundSpy{Traffic: st, times: times}
	sw := retention.New(retention.Config{Store: spy, Period: 30 * 24 * time.Hour, Batch: 10, Interval: time.Hour, Clock: fc, Yield: sig})
	t1 := yieldtest.SlowCommit(fc, sig)
	sw.Start()
	defer sw.Stop()

	// Three rounds of 10, one every 10/retention.Floor seconds.
	yieldtest.Spaced(t, fc, times, 3, t1, 10*time.Second/retention.Floor)
}
