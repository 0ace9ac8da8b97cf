package storepg_test

import (
	"context"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storetest"
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
