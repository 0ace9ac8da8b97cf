package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Gate holds a driver's background batches of one kind open: set the
// driver's Config.BatchFunc to its Hold method. Each batch of that kind
// blocks inside its transaction, after its writes, until the test calls
// Release (or Open, which lets every batch through from then on).
type Gate struct {
	op      string
	entered chan struct{}
	release chan struct{}
	opened  chan struct{}
}

// NewGate returns a closed gate for the batches named op.
func NewGate(op string) *Gate {
	return &Gate{op: op, entered: make(chan struct{}), release: make(chan struct{}), opened: make(chan struct{})}
}

// Hold is the BatchFunc.
func (g *Gate) Hold(op string) {
	if op != g.op {
		return
	}
	select {
	case g.entered <- struct{}{}:
		select {
		case <-g.release:
		case <-g.opened:
		}
	case <-g.opened:
	}
}

// wait waits until a batch is held.
func (g *Gate) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(waitLimit):
		t.Fatalf("no %s batch was held within %v (%s)", g.op, waitLimit, what)
	}
}

// waitLimit bounds every wait of the yield tests: far above what any step
// takes on a loaded machine, so that only a real hang fails them.
const waitLimit = 20 * time.Second

// YieldConfig says how a driver lets ingestion past bulk work.
type YieldConfig struct {
	// Gate holds the batches of the bulk work under test.
	Gate *Gate
	// IngestWaiting, for a driver with one writer (SQLite), reports that
	// an ingest is waiting for it: such a driver lets the ingest in
	// between two batches, not during one. nil for a driver whose batches
	// never block an ingest (PostgreSQL), which must then commit while a
	// batch is held open.
	IngestWaiting func() bool
}

// RetentionYields runs a retention pass of several rounds and checks that
// an ingest issued while it runs commits before the pass ends: while a
// round is held open, or else before the next round starts. The gate must
// hold OpRetention batches.
func RetentionYields(t *testing.T, s store.Store, cfg YieldConfig) {
	c := Graph(t, s)
	old := time.Now().Add(-90 * 24 * time.Hour)
	const limit, rounds = 10, 4
	evs := Events(limit*rounds, 0, c, time.Time{})
	for i := range evs {
		evs[i].Event.CreatedAt, evs[i].Deliveries = old, nil
	}
	if _, err := s.EventInsert(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context) (int, error) {
		p := store.RetentionParams{Before: time.Now().Add(-time.Hour), Now: time.Now(), Limit: limit}
		for n := 0; ; n++ {
			res, err := s.RetentionDelete(ctx, p)
			if err != nil || res.Done {
				return n, err
			}
			p.After = res.After
		}
	}
	yields(t, s, c, cfg, run, rounds)
}

// SweepYields pauses a connection with a backlog and checks, like
// RetentionYields, that an ingest issued while DeliverySweep holds the
// backlog batch by batch commits before the sweep ends. The gate must hold
// OpDeliverySweep batches.
func SweepYields(t *testing.T, s store.Store, cfg YieldConfig) {
	c := Graph(t, s)
	const limit, rounds = 10, 4
	if _, err := s.EventInsert(t.Context(), Events(limit*rounds, 0, c, time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	paused := *c
	paused.Status, paused.UpdatedAt = volley.ConnectionPaused, time.Now()
	if err := s.ConnectionUpdate(t.Context(), &paused); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context) (int, error) {
		for n := 0; ; n++ {
			m, err := s.DeliverySweep(ctx, store.SweepParams{Now: time.Now(), Limit: limit})
			if err != nil || m == 0 {
				return n, err
			}
		}
	}
	yields(t, s, c, cfg, run, rounds)
}

// FinishYields applies a batch of delivery outcomes with DeliveryFinish
// and checks, like RetentionYields, that an ingest issued while the first
// outcome is held open commits before the next outcome is applied: a driver
// with one writer stops a batch of outcomes between two rows for an
// ingest. Every outcome must still be applied. The gate must hold the
// driver's finish batches, one outcome at a time.
func FinishYields(t *testing.T, s store.Store, cfg YieldConfig) {
	c := Graph(t, s)
	const rounds = 4
	evs := Events(rounds, 0, c, time.Time{}) // leased at once
	in, err := s.EventInsert(t.Context(), evs)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := make([]store.Outcome, len(in))
	for i, e := range in {
		outcomes[i] = store.Outcome{DeliveryID: e.DeliveryIDs[0], LeaseToken: evs[i].Deliveries[0].LeaseToken,
			EventID: e.ID, State: volley.DeliverySuccess, Now: time.Now()}
	}
	// run reports the outcomes applied as its batches: the gate holds
	// each outcome as one step, and all of them must be applied.
	run := func(ctx context.Context) (int, error) {
		if err := s.DeliveryFinish(ctx, outcomes); err != nil {
			return 0, err
		}
		applied := 0
		for _, e := range in {
			ds, err := s.DeliveryListByEvent(ctx, e.ID)
			if err != nil {
				return applied, err
			}
			if len(ds) == 1 && ds[0].State == volley.DeliverySuccess {
				applied++
			}
		}
		return applied, nil
	}
	yields(t, s, c, cfg, run, rounds)
}

// yields runs run (bulk work of at least rounds batches) in the background,
// ingests an event while the first batch is held, and checks when it
// commits.
func yields(t *testing.T, s store.Store, c *volley.Connection, cfg YieldConfig, run func(context.Context) (int, error), rounds int) {
	t.Helper()
	g := cfg.Gate
	type result struct {
		batches int
		err     error
	}
	ran := make(chan result, 1)
	go func() {
		n, err := run(context.Background())
		ran <- result{n, err}
	}()
	defer func() {
		// Let the rest of the work through, whatever happened.
		close(g.opened)
		r := <-ran
		if r.err != nil {
			t.Errorf("bulk work: %v", r.err)
		}
		if r.batches < rounds {
			t.Errorf("the bulk work took %d batches, want at least %d", r.batches, rounds)
		}
	}()

	g.wait(t, "the first batch")
	ingested := make(chan error, 1)
	go func() {
		_, err := s.EventInsert(context.Background(), Events(1, 1_000_000, c, time.Time{}))
		ingested <- err
	}()
	if cfg.IngestWaiting == nil {
		// Nothing an ingest needs is locked by the held batch.
		select {
		case err := <-ingested:
			if err != nil {
				t.Fatalf("EventInsert: %v", err)
			}
		case <-time.After(waitLimit):
			t.Fatalf("an ingest did not commit within %v while a %s batch was held open", waitLimit, g.op)
		}
		g.release <- struct{}{}
		return
	}
	// One writer: the ingest waits for the held batch, and must go before
	// the next one.
	for deadline := time.Now().Add(waitLimit); !cfg.IngestWaiting(); {
		if time.Now().After(deadline) {
			t.Fatalf("the ingest is not waiting for the writer after %v", waitLimit)
		}
		select {
		case err := <-ingested:
			t.Fatalf("an ingest committed while a %s batch held the single writer (err %v)", g.op, err)
		case <-time.After(time.Millisecond):
		}
	}
	g.release <- struct{}{}
	g.wait(t, "the second batch")
	// The second batch now holds the writer. The ingest committed before
	// it, but EventInsert may not have returned yet (its goroutine runs
	// after the writer was handed on, and a driver may do more after its
	// commit): so wait for it. Had the batch taken the writer first, the
	// ingest could not commit while the batch is held, and this wait
	// would time out.
	select {
	case err := <-ingested:
		if err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("the next %s batch took the writer before the ingest waiting for it", g.op)
	}
	g.release <- struct{}{}
}

// ChangeDuringSweep pauses a connection with a backlog, holds the first
// batch of the pause's sweep open, and resumes the connection meanwhile:
// for a driver whose batches lock nothing a change needs (PostgreSQL), the
// resume must commit while the batch is held, and the sweep, let through,
// must end with every delivery due again (the lease takes them all): the
// resume is applied, not forgotten. The gate must hold OpDeliverySweep batches.
func ChangeDuringSweep(t *testing.T, s store.Store, g *Gate) {
	c := Graph(t, s)
	const limit, rounds = 10, 4
	ins, err := s.EventInsert(t.Context(), Events(limit*rounds, 0, c, time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	paused := *c
	paused.Status, paused.UpdatedAt = volley.ConnectionPaused, time.Now()
	if err := s.ConnectionUpdate(t.Context(), &paused); err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() {
		for {
			n, err := s.DeliverySweep(context.Background(), store.SweepParams{Now: time.Now(), Limit: limit})
			if err != nil || n == 0 {
				ran <- err
				return
			}
		}
	}()
	g.wait(t, "the first batch")
	changed := make(chan error, 1)
	go func() {
		resumed := paused
		resumed.Status, resumed.UpdatedAt = volley.ConnectionEnabled, time.Now()
		changed <- s.ConnectionUpdate(context.Background(), &resumed)
	}()
	select {
	case err := <-changed:
		close(g.opened)
		if err != nil {
			t.Fatalf("ConnectionUpdate: %v", err)
		}
	case <-time.After(waitLimit):
		close(g.opened)
		t.Fatalf("resuming a connection did not commit within %v while a sweep batch of it was held open", waitLimit)
	}
	if err := <-ran; err != nil {
		t.Fatalf("DeliverySweep: %v", err)
	}
	// Held or not, every delivery is due again: the lease takes them all.
	later := time.Now().Add(2 * time.Hour)
	jobs, err := s.DeliveryLease(t.Context(), store.LeaseParams{Owner: "w", Now: later, Until: later.Add(time.Hour), Limit: 2 * len(ins)})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != len(ins) {
		t.Fatalf("DeliveryLease after the resume took %d deliveries, want all %d", len(jobs), len(ins))
	}
	for _, j := range jobs {
		if j.Delivery.State != volley.DeliveryPending {
			t.Fatalf("delivery %+v leased, want it pending", j.Delivery)
		}
	}
}
