package delivery

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
	"github.com/volleyhq/volley/internal/yield/yieldtest"
)

// fakeRoutes serves fixed destinations and connections.
type fakeRoutes struct {
	dests map[uint64]*routing.Destination
	conns map[uint64]*volley.Connection
}

func (f *fakeRoutes) Destination(_ context.Context, id uint64) (*routing.Destination, error) {
	if d, ok := f.dests[id]; ok {
		return d, nil
	}
	return nil, store.ErrNotFound
}

func (f *fakeRoutes) Connection(_ context.Context, id uint64) (*volley.Connection, error) {
	if c, ok := f.conns[id]; ok {
		return c, nil
	}
	return nil, store.ErrNotFound
}

// Transformation finds none: these tests' connections run no code.
func (f *fakeRoutes) Transformation(_ context.Context, _ uint64) (*routing.Transformation, error) {
	return nil, store.ErrNotFound
}

// leaseCall is one DeliveryLease the engine made.
type leaseCall struct {
	now  time.Time
	jobs int
}

// spyTraffic is the real store, with the engine's lease calls recorded.
type spyTraffic struct {
	store.Traffic
	mu    sync.Mutex
	calls []leaseCall
}

func (s *spyTraffic) DeliveryLease(ctx context.Context, p store.LeaseParams) ([]store.Job, error) {
	jobs, err := s.Traffic.DeliveryLease(ctx, p)
	s.mu.Lock()
	s.calls = append(s.calls, leaseCall{now: p.Now, jobs: len(jobs)})
	s.mu.Unlock()
	return jobs, err
}

// leasedJobs returns how many jobs the engine's leases returned in all.
func (s *spyTraffic) leasedJobs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c.jobs
	}
	return n
}

// leasedAt reports whether the engine has run a lease at now, and how many
// jobs that lease returned.
func (s *spyTraffic) leasedAt(now time.Time) (jobs int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.now.Equal(now) {
			return c.jobs, true
		}
	}
	return 0, false
}

// engineSetup is an engine on a fake clock over a real SQLite store, with
// one destination whose answers the test controls and two connections to
// it: 1, shaped by engineOptions, and 2, without limits.
type engineSetup struct {
	t0      time.Time
	clock   *clock.Fake
	store   *storesqlite.Store
	spy     *spyTraffic
	engine  *Engine
	arrived chan int // the number of each request the sink receives
	events  int
	yield   *yield.Signal // nil unless engineOptions.yieldTarget
}

// engineOptions shape setupEngine's world.
type engineOptions struct {
	destEPS, connEPS, maxRetries int
	retry                        time.Duration // the one entry of the retry schedule
	concurrency                  int           // Config.Concurrency; 0 for the default
	// yieldTarget, when set, gives the engine a yield.Signal on the fake
	// clock with this target (engineSetup.yield).
	yieldTarget time.Duration
	// handler answers request number n (1-based); nil answers 200.
	handler func(n int, w http.ResponseWriter, r *http.Request)
}

func setupEngine(t *testing.T, o engineOptions) *engineSetup {
	t.Helper()
	s := &engineSetup{t0: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), arrived: make(chan int, 16)}
	s.clock = clock.NewFake(s.t0)
	if o.yieldTarget > 0 {
		s.yield = yield.NewSignal(s.clock, o.yieldTarget)
	}
	st, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.store, s.spy = st, &spyTraffic{Traffic: st}

	var mu sync.Mutex
	n := 0
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		num := n
		mu.Unlock()
		s.arrived <- num
		if o.handler != nil {
			o.handler(num, w, r)
		}
	}))
	t.Cleanup(sink.Close)

	_, key := newSecret(t)
	routes := &fakeRoutes{
		dests: map[uint64]*routing.Destination{1: {
			Destination: volley.Destination{ID: 1, URL: sink.URL, Status: volley.DestinationActive, EPS: o.destEPS},
			SigningKeys: [][]byte{key},
		}},
		conns: map[uint64]*volley.Connection{1: {
			ID: 1, SourceID: 1, DestinationID: 1, Status: volley.ConnectionEnabled, EPS: o.connEPS, MaxRetries: o.maxRetries,
		}, 2: {
			ID: 2, SourceID: 1, DestinationID: 1, Status: volley.ConnectionEnabled, MaxRetries: o.maxRetries,
		}},
	}
	s.engine, err = New(Config{
		Store: s.spy, Routes: routes, Owner: "node-a", Clock: s.clock,
		Egress:  egress.NewPolicy(egress.DefaultAllow()),
		Retry:   RetryPolicy{Schedule: []time.Duration{o.retry}},
		Timeout: 5 * time.Second, PollInterval: time.Minute, Concurrency: o.concurrency,
		Yield: s.yield,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Stop before the sink closes and the store closes; t.Context ends
	// first and frees handlers that wait on it.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.engine.Stop(ctx)
	})
	return s
}

// insert stores an event with one delivery on connection 1 due now on the
// fake clock, not leased, wakes the engine and returns the event's id.
func (s *engineSetup) insert(t *testing.T) uint64 {
	t.Helper()
	return s.insertOn(t, 1)
}

// insertOn is insert for connection connID.
func (s *engineSetup) insertOn(t *testing.T, connID uint64) uint64 {
	t.Helper()
	s.events++
	now := s.clock.Now()
	res, err := s.store.EventInsert(context.Background(), []store.NewEvent{{
		Event: volley.Event{UID: fmt.Sprintf("evt_fake%d", s.events), ProjectID: 1, SourceID: 1, Method: http.MethodPost,
			Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"n":1}`), CreatedAt: now},
		Deliveries: []volley.Delivery{{ConnectionID: connID, DestinationID: 1, State: volley.DeliveryPending, NextAttemptAt: now}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.engine.Wake() // as ingestion does after inserting unleased deliveries
	return res[0].ID
}

func (s *engineSetup) delivery(t *testing.T, eventID uint64) volley.Delivery {
	t.Helper()
	ds, err := s.store.DeliveryListByEvent(context.Background(), eventID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries of event %d: %v, %v", eventID, ds, err)
	}
	return ds[0]
}

// await waits for the sink's next request and returns its number.
func (s *engineSetup) await(t *testing.T) int {
	t.Helper()
	select {
	case n := <-s.arrived:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no request reached the destination within 5s")
		return 0
	}
}

// poll calls cond until it holds, failing the test after a few seconds.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		<-tick.C
	}
}

func TestLeaseTimingWithFakeClock(t *testing.T) {
	t.Parallel()
	const retryWait = 10 * time.Second
	release := make(chan struct{})
	s := setupEngine(t, engineOptions{maxRetries: 3, retry: retryWait, handler: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select {
			case <-release:
			case <-t.Context().Done():
			}
			w.WriteHeader(http.StatusInternalServerError)
		}
	}})
	ctx := context.Background()
	eventID := s.insert(t)

	if n := s.await(t); n != 1 {
		t.Fatalf("request %d arrived first", n)
	}
	// In flight: leased to this node until exactly now+LeaseDuration.
	d := s.delivery(t, eventID)
	if d.LeaseOwner != "node-a" || !d.NextAttemptAt.Equal(s.t0.Add(LeaseDuration)) {
		t.Fatalf("in flight: lease owner %q until %v, want node-a until %v", d.LeaseOwner, d.NextAttemptAt, s.t0.Add(LeaseDuration))
	}
	if LeaseDuration <= MaxTimeout {
		t.Fatalf("LeaseDuration %v does not outlive the longest attempt (%v)", LeaseDuration, MaxTimeout)
	}
	jobs, err := s.store.DeliveryLease(ctx, store.LeaseParams{
		Owner: "node-b", Now: s.t0.Add(LeaseDuration - time.Microsecond), Until: s.t0.Add(2 * LeaseDuration), Limit: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 0 {
		t.Fatalf("a second node leased the in-flight delivery 1µs before its lease expired: %+v", jobs[0].Delivery)
	}

	// The destination answers 500: a retry is due retryWait later on the
	// fake clock.
	close(release)
	poll(t, "the failed attempt to be recorded", func() bool {
		d = s.delivery(t, eventID)
		return d.Attempts == 1 && d.LeaseOwner == ""
	})
	due := s.t0.Add(retryWait)
	if d.State != volley.DeliveryPending || !d.NextAttemptAt.Equal(due) {
		t.Fatalf("after the failure: state %s due %v, want pending due %v", d.State, d.NextAttemptAt, due)
	}

	// Just before it is due, a lease finds nothing and nothing is sent.
	early := due.Add(-time.Millisecond)
	s.clock.Advance(early.Sub(s.t0))
	s.engine.Wake()
	poll(t, "a lease pass at "+early.String(), func() bool {
		_, ok := s.spy.leasedAt(early)
		return ok
	})
	if n, _ := s.spy.leasedAt(early); n != 0 {
		t.Fatalf("the lease 1ms before the retry is due returned %d jobs", n)
	}
	select {
	case n := <-s.arrived:
		t.Fatalf("request %d arrived before the retry was due", n)
	default:
	}

	// Once due, the retry is leased and sent.
	s.clock.Advance(time.Millisecond)
	s.engine.Wake()
	if n := s.await(t); n != 2 {
		t.Fatalf("request %d arrived, want the retry (2)", n)
	}
	poll(t, "the retry to be recorded", func() bool {
		d = s.delivery(t, eventID)
		return d.State == volley.DeliverySuccess
	})
	atts, err := s.store.AttemptListByEvent(ctx, eventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 2 {
		t.Fatalf("%d attempts recorded, want 2", len(atts))
	}
	for i, want := range []struct {
		number int
		status string
		code   int
		at     time.Time
	}{{1, volley.AttemptFailed, 500, s.t0}, {2, volley.AttemptSuccess, 200, due}} {
		a := atts[i]
		if a.Number != want.number || a.Status != want.status || a.StatusCode != want.code || !a.CreatedAt.Equal(want.at) {
			t.Errorf("attempt %d: number %d %s %d at %v, want number %d %s %d at %v",
				i, a.Number, a.Status, a.StatusCode, a.CreatedAt, want.number, want.status, want.code, want.at)
		}
	}
}

// TestLeaseWaitsWhileIngestCommitsSlowly: once an ingest commit was slow,
// leases are spaced at the lease floor's rate, on the engine's clock.
func TestLeaseWaitsWhileIngestCommitsSlowly(t *testing.T) {
	t.Parallel()
	s := setupEngine(t, engineOptions{yieldTarget: 10 * time.Millisecond})
	t1 := yieldtest.SlowCommit(s.clock, s.yield)

	// The first lease goes at once and caps leasing at the floor: one
	// delivery leased means the next lease waits 1/leaseFloor.
	s.insert(t)
	if n := s.await(t); n != 1 {
		t.Fatalf("request %d arrived first", n)
	}
	gap := time.Second / leaseFloor
	s.insert(t)
	s.clock.Advance(gap / 2)
	s.engine.Wake()
	select {
	case n := <-s.arrived:
		t.Fatalf("request %d arrived %v after the first lease, before the throttle allowed another (%v)", n, gap/2, gap)
	case <-time.After(100 * time.Millisecond):
	}
	s.clock.Advance(gap / 2)
	s.engine.Wake() // the leaser's timer may have been set from gap/2
	if n := s.await(t); n != 2 {
		t.Fatalf("request %d arrived second", n)
	}
	s.spy.mu.Lock()
	defer s.spy.mu.Unlock()
	var at []time.Time
	for _, c := range s.spy.calls {
		if c.jobs > 0 {
			at = append(at, c.now)
		}
	}
	if len(at) != 2 || !at[0].Equal(t1) || !at[1].Equal(t1.Add(gap)) {
		t.Fatalf("leases with jobs at %v, want at %v and %v", at, t1, t1.Add(gap))
	}
}
