package storesqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// TestBulkWorkYieldsToIngest holds a batch of each kind of bulk work open
// and checks that an ingest issued meanwhile goes before the next batch.
func TestBulkWorkYieldsToIngest(t *testing.T) {
	t.Parallel()
	for op, check := range map[string]func(*testing.T, store.Store, storetest.YieldConfig){
		storesqlite.OpRetention:      storetest.RetentionYields,
		storesqlite.OpDeliverySweep:  storetest.SweepYields,
		storesqlite.OpSearchIndex:    storetest.SearchIndexYields,
		storesqlite.OpDeliveryFinish: storetest.FinishYields,
	} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			g := storetest.NewGate(op)
			s, err := storesqlite.Open(context.Background(), storesqlite.Config{
				Path: filepath.Join(t.TempDir(), "volley.db"), BatchFunc: g.Hold})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			s.YieldAtOnce()
			check(t, s, storetest.YieldConfig{Gate: g, IngestWaiting: s.UrgentWaiting})
		})
	}
}
