package storepg_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/volley"
)

// sql runs a statement on schema directly, for test setups the store does
// not offer (ageing a heartbeat).
func sql(t *testing.T, schema, query string, args ...any) {
	t.Helper()
	if _, err := rawConn(t, schema).Exec(context.Background(), query, args...); err != nil {
		t.Fatal(err)
	}
}

func TestRateReserveSpacesStartsAcrossNodes(t *testing.T) {
	databaseURL(t)
	t.Parallel()
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	limits := []store.RateLimit{{Key: "d:1", EPS: 20}, {Key: "c:1", EPS: 0}}
	var mu sync.Mutex
	var starts []time.Time
	var wg sync.WaitGroup
	for _, s := range []*storepg.Store{a, b, a, b} {
		wg.Go(func() {
			for range 10 {
				t0, err := s.RateReserve(ctx, limits, now)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				starts = append(starts, t0)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// 40 reservations at eps 20 from two pools: starts exactly 50 ms apart.
	seen := map[time.Time]bool{}
	for _, s := range starts {
		seen[s] = true
	}
	for i := range 40 {
		if !seen[now.Add(time.Duration(i)*50*time.Millisecond)] {
			t.Fatalf("no reservation at slot %d; starts %v", i, starts)
		}
	}
	// A second limit makes the later of the two win.
	t0, err := a.RateReserve(ctx, []store.RateLimit{{Key: "d:1", EPS: 20}, {Key: "c:9", EPS: 1}}, now)
	if err != nil || !t0.Equal(now.Add(2*time.Second)) {
		t.Fatalf("combined = %v, %v", t0, err)
	}
	t1, _ := a.RateReserve(ctx, []store.RateLimit{{Key: "c:9", EPS: 1}}, now)
	if !t1.Equal(t0.Add(time.Second)) {
		t.Fatalf("c:9 next = %v, want %v", t1, t0.Add(time.Second))
	}
	if t2, err := a.RateReserve(ctx, []store.RateLimit{{Key: "x", EPS: 0}}, now); err != nil || !t2.Equal(now) {
		t.Fatalf("unlimited = %v, %v", t2, err)
	}
}

func TestSourceRateAllowHoldsAcrossNodes(t *testing.T) {
	databaseURL(t)
	t.Parallel()
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	accepted := 0
	var wg sync.WaitGroup
	for _, s := range []*storepg.Store{a, b, a, b} {
		wg.Go(func() {
			for range 5 {
				ok, wait, err := s.SourceRateAllow(ctx, 7, 6, now)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok && (wait <= 0 || wait > 1100*time.Millisecond) {
					t.Errorf("refused with wait %v", wait)
				}
				if ok {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if accepted != 6 {
		t.Fatalf("accepted %d of 20 at eps 6 in one instant", accepted)
	}
	if ok, _, _ := a.SourceRateAllow(ctx, 8, 6, now); !ok {
		t.Fatal("another source is limited by the first one's traffic")
	}
	if ok, _, _ := a.SourceRateAllow(ctx, 7, 6, now.Add(time.Second)); ok {
		t.Fatal("accepted within the same window")
	}
	if ok, _, _ := b.SourceRateAllow(ctx, 7, 6, now.Add(1100*time.Millisecond)); !ok {
		t.Fatal("refused once the window passed")
	}
}

func TestNodeReapReleasesLeasesOfSilentNodes(t *testing.T) {
	databaseURL(t)
	t.Parallel()
	schema := freshSchema(t)
	s := open(t, schema)
	ctx := context.Background()
	for _, owner := range []string{"alive", "dead"} {
		if err := s.NodeHeartbeat(ctx, owner); err != nil {
			t.Fatal(err)
		}
	}
	sql(t, schema, `WITH e AS (
			INSERT INTO events (event_id, project_id, source_id, method, created_at)
			SELECT 'evt_' || g, 1, 1, 'POST', now() FROM generate_series(1, 3) AS g
			RETURNING id, event_id, created_at), p AS (
			INSERT INTO event_payloads (event_id, query, headers, body) SELECT id, '', '{}', '' FROM e), st AS (
			INSERT INTO event_states (event_id, project_id, status, created_at) SELECT id, 1, 'pending', created_at FROM e)
		INSERT INTO deliveries (event_id, project_id, source_id, connection_id, destination_id, state,
			next_attempt_at, lease_owner, lease_token, created_at)
		SELECT e.id, 1, 1, 1, 1, 'pending', now() + interval '1 minute',
			CASE WHEN e.event_id = 'evt_1' THEN 'alive' ELSE 'dead' END, 1, now() FROM e`)
	if n, err := s.NodeReap(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("reap with fresh heartbeats = %d, %v", n, err)
	}
	sql(t, schema, `UPDATE nodes SET heartbeat_at = now() - interval '1 hour' WHERE owner = 'dead'`)
	n, err := s.NodeReap(ctx, time.Minute)
	if err != nil || n != 2 {
		t.Fatalf("reap = %d, %v; want the dead node's 2 deliveries", n, err)
	}
	jobs, err := s.DeliveryLease(ctx, store.LeaseParams{Owner: "alive", Now: time.Now().Add(time.Second), Until: time.Now().Add(time.Minute), Limit: 10})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("leased %d after the reap (%v), want 2", len(jobs), err)
	}
	// A node reaped by mistake comes back with its next heartbeat.
	if err := s.NodeHeartbeat(ctx, "dead"); err != nil {
		t.Fatal(err)
	}
}

func TestListenRelaysNotifications(t *testing.T) {
	databaseURL(t)
	t.Parallel()
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	ctx, cancel := context.WithCancel(context.Background())
	work, config := make(chan struct{}, 10), make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- a.Listen(ctx, func() { work <- struct{}{} }, func() { config <- struct{}{} })
	}()
	deadline := time.After(10 * time.Second)
	// Notify until the listener is up and relays it.
	for got := false; !got; {
		if err := b.NotifyConfig(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-config:
			got = true
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("no configuration notification")
		}
	}
	// Deliveries stored without a lease are work for any node.
	_, err := b.EventInsert(context.Background(), []store.NewEvent{{
		Event:      volley.Event{UID: "evt_work", ProjectID: 1, SourceID: 1, Method: "POST", CreatedAt: time.Now()},
		Deliveries: []volley.Delivery{{ConnectionID: 1, DestinationID: 1, State: volley.DeliveryPending, NextAttemptAt: time.Now()}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-work:
	case <-deadline:
		t.Fatal("no work notification")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Listen returned %v after cancel", err)
	}
}
