package storepg

import (
	"context"
	"time"
)

// ExplainLeaseSkipping returns PostgreSQL's plan (EXPLAIN, without costs)
// of a lease that skips the destinations skip, for tests of index use.
func (s *Store) ExplainLeaseSkipping(ctx context.Context, now time.Time, skip []uint64) (string, error) {
	return s.explain(ctx, sqlLeaseSkipping, []any{"w", ts(now), ts(now.Add(time.Hour)), skip, 100})
}
