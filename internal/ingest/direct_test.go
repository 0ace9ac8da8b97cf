package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/ingest"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// The tests in this file run an ingest.Handler of their own beside a test
// node, on the node's store, for settings the node does not expose (a
// small body limit) and to watch the group commit from the store's side.

// directHandler is an ingest.Handler served on its own test server.
type directHandler struct {
	url    string
	src    source
	route  *routing.Source // what the handler resolves src to
	engine *fakeEngine
}

// direct starts a Handler with cfg on n's store (unless cfg.Store is set)
// for a new source of n, which it resolves to d.route.
func (n *node) direct(t *testing.T, cfg ingest.Config, engine *fakeEngine) *directHandler {
	t.Helper()
	s := n.newSource(t, nil)
	d := &directHandler{src: s, engine: engine, route: &routing.Source{Source: volley.Source{
		ID: s.ID, ProjectID: n.acct.ProjectID, Slug: s.Slug, IngestionID: s.IngestionID,
		Type: volley.SourceTypeWebhook, Status: volley.SourceActive, AuthType: volley.AuthNone,
	}}}
	if d.engine == nil {
		d.engine = &fakeEngine{}
	}
	if cfg.Store == nil {
		cfg.Store = n.srv.Store
	}
	cfg.Sources = sourcesFunc(func(_ context.Context, id string) (*routing.Source, error) {
		if id != s.IngestionID {
			return nil, store.ErrNotFound
		}
		return d.route, nil
	})
	cfg.Engine = d.engine
	h := ingest.New(cfg)
	h.Start()
	t.Cleanup(h.Stop) // after the server below has closed
	mux := http.NewServeMux()
	mux.Handle("/hook/{ingestion_id}", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	d.url = ts.URL
	return d
}

// sourcesFunc is an ingest.Sources.
type sourcesFunc func(ctx context.Context, ingestionID string) (*routing.Source, error)

func (f sourcesFunc) Source(ctx context.Context, id string) (*routing.Source, error) {
	return f(ctx, id)
}

// fakeEngine is an ingest.Dispatcher that records what ingestion hands it.
// With Accept set it takes every delivery offered and leases it for an
// hour, so the node's own engine leaves them alone.
type fakeEngine struct {
	Accept bool

	mu         sync.Mutex
	reserved   int
	unreserved int
	wakes      int
	jobs       []store.Job
}

func (e *fakeEngine) Reserve(n int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.Accept {
		return false
	}
	e.reserved += n
	return true
}

func (e *fakeEngine) Unreserve(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.unreserved += n
}

func (e *fakeEngine) Submit(jobs []store.Job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.jobs = append(e.jobs, jobs...)
}

func (e *fakeEngine) Wake() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wakes++
}

func (e *fakeEngine) Owner() string { return "direct-test" }

func (e *fakeEngine) LeaseUntil(now time.Time) time.Time { return now.Add(time.Hour) }

func (e *fakeEngine) reservedSoFar() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reserved
}

// gatedStore holds every EventInsert until open is closed and records the
// size of each batch.
type gatedStore struct {
	store.Traffic
	open chan struct{}

	mu      sync.Mutex
	batches []int
}

func (g *gatedStore) EventInsert(ctx context.Context, events []store.NewEvent) ([]store.InsertedEvent, error) {
	<-g.open
	g.mu.Lock()
	g.batches = append(g.batches, len(events))
	g.mu.Unlock()
	return g.Traffic.EventInsert(ctx, events)
}

func TestGroupCommitSharesTransactionsAndMapsResults(t *testing.T) {
	t.Parallel()
	n := setup(t)
	k := newSink(t)
	dst := n.newDestination(t, k.URL())
	gate := &gatedStore{Traffic: n.srv.Store, open: make(chan struct{})}
	d := n.direct(t, ingest.Config{Store: gate}, &fakeEngine{Accept: true})
	conn := n.connect(t, d.src.ID, dst, "")
	d.route.Connections = []volley.Connection{{
		ID: conn, SourceID: d.src.ID, DestinationID: dst, Status: volley.ConnectionEnabled, DestinationStatus: volley.DestinationActive,
	}}

	// While the first commit is held, every other request queues behind it
	// (Reserve is the last step before a request joins the queue); they
	// must then share a few transactions, not take 199.
	const total = 200
	results := make([]hookResponse, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	for i := range total {
		wg.Go(func() {
			results[i], errs[i] = tryHook(d.url, d.src.IngestionID, hookRequest{Body: bytes.NewReader(fmt.Appendf(nil, `{"request":%d}`, i))})
		})
	}
	t.Cleanup(wg.Wait) // a failure below must not leave requests blocked on the gate
	release := sync.OnceFunc(func() { close(gate.open) })
	defer release()
	eventually(t, "every request to reach the commit queue", func() bool { return d.engine.reservedSoFar() == total })
	release()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	gate.mu.Lock()
	batches := append([]int(nil), gate.batches...)
	gate.mu.Unlock()
	sum := 0
	for _, b := range batches {
		sum += b
	}
	t.Logf("%d events committed in %d transactions: %v", total, len(batches), batches)
	if sum != total || len(batches) > 10 {
		t.Errorf("commits of %v events: want %d events in a few transactions", batches, total)
	}

	// Each request got its own event: the one holding its body.
	ctx := context.Background()
	byUID := map[string]*volley.Event{}
	for i, r := range results {
		a := accepted(t, r)
		if byUID[a.EventID] != nil {
			t.Fatalf("event id %s returned twice", a.EventID)
		}
		e, err := n.srv.Store.EventGetByUID(ctx, n.acct.OrgID, a.EventID)
		if err != nil {
			t.Fatalf("request %d: event %s: %v", i, a.EventID, err)
		}
		if want := fmt.Sprintf(`{"request":%d}`, i); string(e.Body) != want {
			t.Fatalf("request %d was answered with the event of %s", i, e.Body)
		}
		byUID[a.EventID] = e
	}

	// Each delivery was stored leased to the engine and handed over once,
	// with the ids the store gave it.
	eng := d.engine
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if eng.reserved != total || eng.unreserved != 0 || len(eng.jobs) != total {
		t.Fatalf("engine: reserved %d, unreserved %d, %d jobs; want %d, 0, %d", eng.reserved, eng.unreserved, len(eng.jobs), total, total)
	}
	seen := map[uint64]bool{}
	for _, j := range eng.jobs {
		e := byUID[j.Event.UID]
		if e == nil {
			t.Fatalf("job for unknown event %s", j.Event.UID)
		}
		ds, err := n.srv.Store.DeliveryListByEvent(ctx, e.ID)
		if err != nil || len(ds) != 1 {
			t.Fatalf("event %s: deliveries %v, %v", e.UID, ds, err)
		}
		got := j.Delivery
		if got.ID != ds[0].ID || got.EventID != e.ID || got.ConnectionID != conn || seen[got.ID] {
			t.Fatalf("job %+v does not match stored delivery %+v of event %d", got, ds[0], e.ID)
		}
		if ds[0].LeaseOwner != "direct-test" || got.LeaseOwner != "direct-test" {
			t.Fatalf("delivery %d not leased to the engine: stored owner %q", got.ID, ds[0].LeaseOwner)
		}
		seen[got.ID] = true
	}
}
