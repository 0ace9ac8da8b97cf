package storepg_test

import (
	"context"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestBulkWorkYieldsToIngest holds a batch of each kind of bulk work open
// and checks that an ingest issued meanwhile commits while it is held: a
// batch locks only the rows it changes, none of which an ingest needs.
func TestBulkWorkYieldsToIngest(t *testing.T) {
	url := databaseURL(t)
	t.Parallel()
	for op, check := range map[string]func(*testing.T, store.Store, storetest.YieldConfig){
		storepg.OpRetention:     storetest.RetentionYields,
		storepg.OpDeliverySweep: storetest.SweepYields,
	} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			g := storetest.NewGate(op)
			s, err := storepg.Open(context.Background(), storepg.Config{URL: url, Schema: freshSchema(t), MaxConns: 4, BatchFunc: g.Hold})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			check(t, s, storetest.YieldConfig{Gate: g})
		})
	}
}

// TestChangeDuringSweep checks that a connection's change commits while a
// sweep batch of that connection is held open, and is applied after it.
func TestChangeDuringSweep(t *testing.T) {
	url := databaseURL(t)
	t.Parallel()
	g := storetest.NewGate(storepg.OpDeliverySweep)
	s, err := storepg.Open(context.Background(), storepg.Config{URL: url, Schema: freshSchema(t), MaxConns: 4, BatchFunc: g.Hold})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.ChangeDuringSweep(t, s, g)
}

// TestIngestBesideOutcomeCounters holds open background transactions that
// finished a delivery of a connection, as outcome batches do, on every
// counter shard they can fall on, and checks that ingests routed to that
// connection commit meanwhile: background transactions add to shards no
// ingest adds to (migration 0024). When every transaction added to shard
// txid % 8, the held ones covered the ingests' shards too.
func TestIngestBesideOutcomeCounters(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	if _, err := s.EventInsert(t.Context(), storetest.Events(40, 0, conn, time.Now())); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	shards, release, err := s.HoldBackgroundCounters(t.Context(), conn.ID, 40)
	if err != nil {
		t.Fatalf("hold counters: %v", err)
	}
	defer release()
	t.Logf("background transactions hold counter shards %v", shards)
	for i := range 4 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := s.EventInsert(ctx, storetest.Events(1, 100+i, conn, time.Now()))
		cancel()
		if err != nil {
			t.Fatalf("ingest %d beside held outcome counters: %v", i, err)
		}
	}
}

// TestOutcomeCounterShards checks that ingests add to counter shards 0-7
// and delivery outcomes, background work, to shards 8-15 (migration 0024).
func TestOutcomeCounterShards(t *testing.T) {
	t.Parallel()
	s := setup(t)
	conn := storetest.Graph(t, s)
	for i := range 8 {
		events := storetest.Events(1, i, conn, time.Time{}) // leased at once
		in, err := s.EventInsert(t.Context(), events)
		if err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
		d := events[0].Deliveries[0]
		err = s.DeliveryFinish(t.Context(), []store.Outcome{{DeliveryID: in[0].DeliveryIDs[0], LeaseToken: d.LeaseToken,
			EventID: in[0].ID, State: volley.DeliverySuccess, Now: time.Now()}})
		if err != nil {
			t.Fatalf("DeliveryFinish: %v", err)
		}
	}
	routed, delivered, err := s.CounterShards(t.Context(), conn.ID)
	if err != nil {
		t.Fatalf("counter shards: %v", err)
	}
	if len(routed) == 0 || len(delivered) == 0 {
		t.Fatalf("routed in shards %v, delivered in %v: want both counted", routed, delivered)
	}
	for _, sh := range routed {
		if sh > 7 {
			t.Errorf("routed in shards %v: want 0-7 (ingest)", routed)
		}
	}
	for _, sh := range delivered {
		if sh < 8 {
			t.Errorf("delivered in shards %v: want 8-15 (background)", delivered)
		}
	}
}

// TestBackgroundTransactionSettings: a background transaction commits
// without waiting for its WAL flush and adds to shards 8-15; the settings
// end with it, so the next transaction on the pool is an ordinary one.
func TestBackgroundTransactionSettings(t *testing.T) {
	t.Parallel()
	s := setup(t)
	for range 3 { // the pool reuses connections: the settings must not stick
		bg, other, err := s.TxSettings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if bg != [2]string{"off", "8"} {
			t.Fatalf("background transaction: synchronous_commit %q, volley.shard_base %q; want off and 8", bg[0], bg[1])
		}
		if other[0] != "on" || other[1] == "8" {
			t.Fatalf("ordinary transaction: synchronous_commit %q, volley.shard_base %q; want on and not 8", other[0], other[1])
		}
	}
}
