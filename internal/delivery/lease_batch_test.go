package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
)

// smallLeases is a SQLite store that allows 3 deliveries per lease and
// records the largest lease asked of it.
type smallLeases struct {
	*storesqlite.Store
	largest
}

func (s *smallLeases) DeliveryLeaseBatch(int) int { return 3 }

func (s *smallLeases) DeliveryLease(ctx context.Context, p store.LeaseParams) ([]store.Job, error) {
	s.see(p.Limit)
	return s.Store.DeliveryLease(ctx, p)
}

// TestLeaserBatchSizedByStore checks that the leaser asks no more
// deliveries of one DeliveryLease than the store's DeliveryLeaseBatch
// allows, and still delivers a resumed backlog whole.
func TestLeaserBatchSizedByStore(t *testing.T) {
	t.Parallel()
	var st *smallLeases
	e, sk := onWrappedSQLite(t, func(sq *storesqlite.Store) store.Store {
		st = &smallLeases{Store: sq}
		return st
	})
	src, _, connID := e.route(t, sk.URL, nil, nil)
	path := fmt.Sprintf("/api/connections/%d", connID)
	e.api(t, http.StatusOK, "PUT", path, map[string]any{"status": "paused"})
	const n = 20
	uids := e.ingestMany(t, src.IngestionID, n) // held: only a lease can send them
	e.api(t, http.StatusOK, "PUT", path, map[string]any{"status": "enabled"})
	sk.awaitCount(t, n, 30*time.Second)
	for _, uid := range uids {
		e.awaitStatus(t, uid, "processed")
	}
	if most := st.most(); most > 3 || most == 0 {
		t.Errorf("the largest DeliveryLease asked for %d deliveries, want 1 to 3", most)
	}
}
