package replay_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/replay"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
	"github.com/volleyhq/volley/internal/yield/yieldtest"
)

// sentReplayer answers every replay with a success, at once.
type sentReplayer struct{ clock clock.Clock }

func (r sentReplayer) ReplayLowPriority(_ context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error) {
	return &volley.Attempt{DeliveryID: d.ID, EventID: ev.ID, EventUID: ev.UID, ProjectID: ev.ProjectID, SourceID: ev.SourceID,
		ConnectionID: d.ConnectionID, DestinationID: d.DestinationID, Trigger: volley.AttemptReplay,
		Status: volley.AttemptSuccess, StatusCode: 200, CreatedAt: r.clock.Now()}, nil
}

// progressSpy is the real store, with the fake time of each batch's
// progress recorded.
type progressSpy struct {
	store.Store
	times *yieldtest.Times
}

func (p progressSpy) ReplayProgress(ctx context.Context, pp store.ReplayProgressParams) (*volley.Replay, error) {
	r, err := p.Store.ReplayProgress(ctx, pp)
	if err == nil && pp.Processed > 0 {
		p.times.Mark()
	}
	return r, err
}

// TestBatchesWaitWhileIngestCommitsSlowly: once an ingest commit was slow,
// a replay's batches are spaced at replay.Floor events a second on the
// runner's clock, instead of following each other at once.
func TestBatchesWaitWhileIngestCommitsSlowly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := storetest.Graph(t, st)
	if _, err := st.EventInsert(ctx, storetest.Events(6, 0, c, time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(time.Now().UTC())
	job := &volley.Replay{ProjectID: c.ProjectID, Filter: volley.ReplayFilter{SourceID: c.SourceID}, Status: volley.ReplayQueued,
		Matched: 6, CreatedAt: fc.Now(), UpdatedAt: fc.Now()}
	if err := st.ReplayCreate(ctx, job); err != nil {
		t.Fatal(err)
	}
	sig := yield.NewSignal(fc, 10*time.Millisecond)
	times := yieldtest.NewTimes(fc)
	spy := progressSpy{Store: st, times: times}
	r, err := replay.New(replay.Config{Store: spy, Replayer: sentReplayer{fc}, Owner: "node-a", Batch: 2,
		PollInterval: time.Hour, Clock: fc, Yield: sig})
	if err != nil {
		t.Fatal(err)
	}
	t1 := yieldtest.SlowCommit(fc, sig)
	r.Start()
	t.Cleanup(r.Stop)

	// Three batches of two, one every 2/replay.Floor seconds.
	yieldtest.Spaced(t, fc, times, 3, t1, 2*time.Second/replay.Floor)
}
