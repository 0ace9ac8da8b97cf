package searchindex_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/searchindex"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// setup opens a SQLite store with a connection and n events not yet
// indexed.
func setup(t *testing.T, n int) (*storesqlite.Store, *volley.Connection) {
	t.Helper()
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := storetest.Graph(t, st)
	if n > 0 {
		if _, err := st.EventInsert(t.Context(), storetest.Events(n, 0, c, time.Time{})); err != nil {
			t.Fatal(err)
		}
	}
	return st, c
}

// caughtUp reports whether every event of st is indexed: a batch then
// finds nothing to do.
func caughtUp(t *testing.T, st *storesqlite.Store) bool {
	t.Helper()
	res, err := st.SearchIndex(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return res.Indexed == 0 && res.Done
}

func TestStepIndexesInBatchesThenWaits(t *testing.T) {
	t.Parallel()
	st, _ := setup(t, 25)
	fc := clock.NewFake(time.Now())
	x := searchindex.New(searchindex.Config{Store: slow{st, fc}, Batch: 10, Interval: time.Minute, Clock: fc})
	var waits []time.Duration
	for range 3 {
		waits = append(waits, x.Step(t.Context()))
	}
	// 10 and 10 with more to come, each followed by a rest as long as the
	// batch took, then the last 5: caught up, the interval.
	want := []time.Duration{batchTook, batchTook, time.Minute}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits after each batch = %v, want %v", waits, want)
		}
	}
	if !caughtUp(t, st) {
		t.Error("events are left to index after the batches")
	}
}

// batchTook is how long each batch of slow takes, on its fake clock.
const batchTook = 3 * time.Millisecond

// slow is the store, each batch taking batchTook on the fake clock.
type slow struct {
	st *storesqlite.Store
	fc *clock.Fake
}

func (s slow) SearchIndex(ctx context.Context, limit int) (store.SearchIndexResult, error) {
	s.fc.Advance(batchTook)
	return s.st.SearchIndex(ctx, limit)
}

func TestRunIndexesNewEventsAfterInterval(t *testing.T) {
	t.Parallel()
	st, c := setup(t, 30)
	fc := clock.NewFake(time.Now())
	n := counting{st: st, indexed: new(atomic.Int64)}
	x := searchindex.New(searchindex.Config{Store: n, Batch: 7, Interval: time.Minute, Clock: fc})
	x.Start()
	defer x.Stop()
	// The indexer runs its batches back to back, then waits on the clock.
	waitFor(t, "30 events indexed and a wait", func() bool { return n.indexed.Load() == 30 && fc.Timers() > 0 })
	if _, err := st.EventInsert(t.Context(), storetest.Events(3, 100, c, time.Time{})); err != nil {
		t.Fatal(err)
	}
	fc.Advance(time.Minute)
	waitFor(t, "the 3 new events indexed and a wait", func() bool { return n.indexed.Load() == 33 && fc.Timers() > 0 })
	if !caughtUp(t, st) {
		t.Error("events are left to index")
	}
}

// counting is the store, counting the events its batches index.
type counting struct {
	st      *storesqlite.Store
	indexed *atomic.Int64
}

func (c counting) SearchIndex(ctx context.Context, limit int) (store.SearchIndexResult, error) {
	res, err := c.st.SearchIndex(ctx, limit)
	c.indexed.Add(int64(res.Indexed))
	return res, err
}

// TestRunStopsOnABrokenStore checks that a failing store makes the indexer
// wait (not spin) and that Stop still returns.
func TestRunStopsOnABrokenStore(t *testing.T) {
	t.Parallel()
	st, _ := setup(t, 0)
	fc := clock.NewFake(time.Now())
	var calls int
	x := searchindex.New(searchindex.Config{Store: failing{st, &calls}, Clock: fc})
	x.Start()
	waitFor(t, "the indexer to wait after an error", func() bool { return fc.Timers() > 0 })
	x.Stop()
	if calls != 1 {
		t.Errorf("batches tried before the wait = %d, want 1", calls)
	}
}

// failing is a store whose batches fail (a closed database).
type failing struct {
	st    *storesqlite.Store
	calls *int
}

func (f failing) SearchIndex(ctx context.Context, limit int) (store.SearchIndexResult, error) {
	*f.calls++
	return f.st.SearchIndex(ctx, 0) // a limit of 0 is an error
}

// waitFor polls cond until it holds, failing the test after a bound far
// above what it takes on a loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
