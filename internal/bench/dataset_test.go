package bench

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	sdk "github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// setupDataset starts a node, creates phase (d)'s configuration through its
// API and returns the node and that configuration.
func setupDataset(t *testing.T) (*testserver.Server, *listGraph) {
	t.Helper()
	ts := testserver.Start(t, testserver.Options{})
	g, err := setupListGraph(t.Context(), sdk.NewClient(testserver.AdminToken, sdk.WithBaseURL(ts.URL)))
	if err != nil {
		t.Fatal(err)
	}
	return ts, g
}

func TestBuildDataset(t *testing.T) {
	t.Parallel()
	ts, g := setupDataset(t)
	ctx := t.Context()
	const n = 250
	end := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	ds, err := buildDataset(ctx, ts.Store, datasetConfig{ProjectID: g.projectID, Routes: g.routes, Events: n, End: end, Batch: 60})
	if err != nil {
		t.Fatal(err)
	}
	var failed, retrying int
	for i := range n {
		switch datasetKind(i) {
		case kindFailed:
			failed++
		case kindRetrying:
			retrying++
		}
	}
	if ds.Events != n || ds.Failed != failed || ds.Retrying != retrying || ds.Processed != n-failed-retrying || failed == 0 || retrying == 0 {
		t.Errorf("dataset %+v, want %d events, %d failed, %d retrying", ds, n, failed, retrying)
	}
	if !ds.Newest.Equal(end) || ds.Oldest.Before(end.Add(-7*24*time.Hour)) {
		t.Errorf("dataset spans %s to %s, want (%s, %s]", ds.Oldest, ds.Newest, end.Add(-7*24*time.Hour), end)
	}

	total := func(p store.EventListParams) int64 {
		t.Helper()
		p.ProjectID, p.Limit = g.projectID, n
		_, total, err := ts.Store.EventList(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return total.N
	}
	for _, tc := range []struct {
		p    store.EventListParams
		want int64
	}{
		{store.EventListParams{}, n},
		{store.EventListParams{Status: volley.EventProcessed}, int64(ds.Processed)},
		{store.EventListParams{Status: volley.EventFailed}, int64(ds.Failed)},
		{store.EventListParams{Status: volley.EventPending}, int64(ds.Retrying)},
		{store.EventListParams{SourceID: g.routes[1].SourceID}, n / 5},
		{store.EventListParams{Search: ds.MiddleUID}, 1},
		{store.EventListParams{Search: datasetCustomer(7)}, n/datasetCustomers + 1},
	} {
		if got := total(tc.p); got != tc.want {
			t.Errorf("EventList %+v: total %d, want %d", tc.p, got, tc.want)
		}
	}

	// Ids sort by creation time, as ingested ones do.
	list, _, err := ts.Store.EventList(ctx, store.EventListParams{ProjectID: g.projectID, Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(list); i++ {
		if list[i].UID >= list[i-1].UID {
			t.Fatalf("ids out of time order: %s (%s) before %s (%s)", list[i-1].UID, list[i-1].CreatedAt, list[i].UID, list[i].CreatedAt)
		}
	}

	_, attempts, err := ts.Store.AttemptList(ctx, store.AttemptListParams{ProjectID: g.projectID, Status: volley.AttemptFailed, Limit: 1})
	if err != nil || attempts != int64(failed+retrying) {
		t.Errorf("failed attempts: %d, %v; want %d", attempts, err, failed+retrying)
	}
	// Nothing is due during a run: a node on the store stays idle.
	if due, err := ts.Store.DeliveryNextDue(ctx); err != nil || !due.Equal(end.Add(24*time.Hour)) {
		t.Errorf("DeliveryNextDue = %s, %v; want %s", due, err, end.Add(24*time.Hour))
	}
}

// TestBuildDatasetBacklog: the newest Backlog events are held, without an
// attempt, and nothing else is left to deliver; Kind and Body are used
// for the others; batches stored by several workers lose nothing.
func TestBuildDatasetBacklog(t *testing.T) {
	t.Parallel()
	ts, g := setupDataset(t)
	ctx := t.Context()
	const n, backlog = 120, 45
	ds, err := buildDataset(ctx, ts.Store, datasetConfig{ProjectID: g.projectID, Routes: g.routes[:1], Events: n,
		Backlog: backlog, End: time.Now().Add(-time.Minute), Batch: 10, Workers: 3, Kind: scaleKind,
		Body: func(i int) []byte { return realisticBody(i, 1024) }})
	if err != nil {
		t.Fatal(err)
	}
	var failed int
	for i := range n - backlog {
		if scaleKind(i) == kindFailed {
			failed++
		}
	}
	if ds.Backlog != backlog || ds.Failed != failed || ds.Processed != n-backlog-failed || ds.Retrying != 0 {
		t.Errorf("dataset %+v, want %d held, %d failed", ds, backlog, failed)
	}
	list, total, err := ts.Store.EventList(ctx, store.EventListParams{ProjectID: g.projectID, Status: volley.EventPending, Limit: n})
	if err != nil || total.N != backlog {
		t.Fatalf("pending events: %d, %v; want %d", total.N, err, backlog)
	}
	for _, e := range list {
		if !e.CreatedAt.After(ds.CreatedAt(n - backlog - 1)) {
			t.Errorf("pending event %s created %s, older than the backlog", e.UID, e.CreatedAt)
		}
		ds, err := ts.Store.DeliveryListByEvent(ctx, e.ID)
		if err != nil || len(ds) != 1 || ds[0].State != volley.DeliveryHeld {
			t.Errorf("deliveries of backlog event %s: %+v, %v; want one held", e.UID, ds, err)
		}
	}
	_, attempts, err := ts.Store.AttemptList(ctx, store.AttemptListParams{ProjectID: g.projectID, Limit: 1})
	if err != nil || attempts != n-backlog {
		t.Errorf("attempts: %d, %v; want %d", attempts, err, n-backlog)
	}
	if due, err := ts.Store.DeliveryNextDue(ctx); err != nil || !due.IsZero() {
		t.Errorf("DeliveryNextDue = %s, %v; want nothing due", due, err)
	}
	if e, err := ts.Store.EventGetByUID(ctx, 1, ds.MiddleUID); err != nil || string(e.Body) != string(realisticBody(n/2, 1024)) {
		t.Errorf("middle event body: %v", err)
	}
}

// TestBuildDatasetTrains checks that Train runs once, after the batches
// holding the first TrainAfter events are stored, and before the others.
func TestBuildDatasetTrains(t *testing.T) {
	t.Parallel()
	ts, g := setupDataset(t)
	ctx := t.Context()
	var stored []int
	cfg := datasetConfig{ProjectID: g.projectID, Routes: g.routes[:1], Events: 250, End: time.Now(), Batch: 60,
		TrainAfter: 100, Train: func(ctx context.Context) error {
			_, total, err := ts.Store.EventList(ctx, store.EventListParams{ProjectID: g.projectID, Limit: 1})
			stored = append(stored, int(total.N))
			return err
		}}
	if _, err := buildDataset(ctx, ts.Store, cfg); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] != 120 {
		t.Errorf("Train saw %v events stored, want one call after two batches of 60", stored)
	}
	_, total, err := ts.Store.EventList(ctx, store.EventListParams{ProjectID: g.projectID, Limit: 1})
	if err != nil || total.N != 250 {
		t.Errorf("built %d events (%v), want 250", total.N, err)
	}
}

// finishCounter is a trafficWriter that records the size of each
// DeliveryFinish it passes on.
type finishCounter struct {
	trafficWriter
	mu    sync.Mutex
	sizes []int
}

func (f *finishCounter) DeliveryFinish(ctx context.Context, outcomes []store.Outcome) error {
	f.mu.Lock()
	f.sizes = append(f.sizes, len(outcomes))
	f.mu.Unlock()
	return f.trafficWriter.DeliveryFinish(ctx, outcomes)
}

// TestBuildDatasetFinishBatch checks that FinishBatch splits each batch's
// outcomes into finishes of at most that many, and that every attempt is
// still recorded and every delivery settled.
func TestBuildDatasetFinishBatch(t *testing.T) {
	t.Parallel()
	ts, g := setupDataset(t)
	ctx := t.Context()
	const n, backlog, batch, finish = 130, 30, 50, 20
	w := &finishCounter{trafficWriter: ts.Store}
	ds, err := buildDataset(ctx, w, datasetConfig{ProjectID: g.projectID, Routes: g.routes[:1], Events: n,
		Backlog: backlog, End: time.Now().Add(-time.Minute), Batch: batch, FinishBatch: finish, Workers: 2, Kind: scaleKind})
	if err != nil {
		t.Fatal(err)
	}
	// Batches of 50, 50 and 30 events, the last 30 held: 50 outcomes, 50
	// and none, each in finishes of 20, 20 and 10.
	slices.Sort(w.sizes)
	if want := []int{10, 10, 20, 20, 20, 20}; !slices.Equal(w.sizes, want) {
		t.Errorf("DeliveryFinish sizes %v, want %v", w.sizes, want)
	}
	_, attempts, err := ts.Store.AttemptList(ctx, store.AttemptListParams{ProjectID: g.projectID, Limit: 1})
	if err != nil || attempts != n-backlog {
		t.Errorf("attempts: %d, %v; want %d", attempts, err, n-backlog)
	}
	_, pending, err := ts.Store.EventList(ctx, store.EventListParams{ProjectID: g.projectID, Status: volley.EventPending, Limit: 1})
	if err != nil || pending.N != int64(ds.Backlog) {
		t.Errorf("pending events: %d, %v; want the backlog, %d", pending.N, err, ds.Backlog)
	}
}
