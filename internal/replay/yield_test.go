package replay_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/replay"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
)

// sentReplayer answers every replay with a success, at once.
type sentReplayer struct{ clock clock.Clock }

func (r sentReplayer) ReplayLowPriority(_ context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error) {
	return &volley.Attempt{DeliveryID: d.ID, EventID: ev.ID, EventUID: ev.UID, ProjectID: ev.ProjectID, SourceID: ev.SourceID,
		ConnectionID: d.ConnectionID, DestinationID: d.DestinationID, Trigger: volley.AttemptReplay,
		Status: volley.AttemptSuccess, StatusCode: 200, CreatedAt: r.clock.Now()}, nil
}

// progressClock is the real store, with the fake time of each batch's
// progress recorded.
type progressClock struct {
	store.Store
	clock *clock.Fake
	mu    sync.Mutex
	at    []time.Time
}

func (p *progressClock) ReplayProgress(ctx context.Context, pp store.ReplayProgressParams) (*volley.Replay, error) {
	r, err := p.Store.ReplayProgress(ctx, pp)
	if err == nil && pp.Processed > 0 {
		p.mu.Lock()
		p.at = append(p.at, p.clock.Now())
		p.mu.Unlock()
	}
	return r, err
}

func (p *progressClock) batches() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.at...)
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
	spy := &progressClock{Store: st, clock: fc}
	r, err := replay.New(replay.Config{Store: spy, Replayer: sentReplayer{fc}, Owner: "node-a", Batch: 2,
		PollInterval: time.Hour, Clock: fc, Yield: sig})
	if err != nil {
		t.Fatal(err)
	}
	fc.Advance(time.Millisecond)
	sig.Committed(time.Second)
	fc.Advance(yield.Adjust)
	t1 := fc.Now()
	r.Start()
	t.Cleanup(r.Stop)

	// Three batches of two: the first at once (the clock stands still until
	// it has run), then the clock moves on by a tenth of the gap until the
	// third has.
	gap := 2 * time.Second / replay.Floor
	deadline := time.Now().Add(10 * time.Second)
	for len(spy.batches()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("replay batches at %v after 10s, want 3", spy.batches())
		}
		if len(spy.batches()) > 0 {
			fc.Advance(gap / 10)
		}
		time.Sleep(time.Millisecond)
	}
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
