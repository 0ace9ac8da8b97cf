package storepg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExplainLeaseSkipping returns PostgreSQL's plan (EXPLAIN, without costs)
// of a lease that skips the destinations skip, for tests of index use.
func (s *Store) ExplainLeaseSkipping(ctx context.Context, now time.Time, skip []uint64) (string, error) {
	return s.explain(ctx, sqlLeaseSkipping, []any{"w", ts(now), ts(now.Add(time.Hour)), skip, 100})
}

// ExplainDeliveryDue returns PostgreSQL's plans (EXPLAIN, without costs)
// of DeliveryNextDue's query and of DeliveryBacklog's at now, for tests of
// index use.
func (s *Store) ExplainDeliveryDue(ctx context.Context, now time.Time) (next, backlog string, err error) {
	if next, err = s.explain(ctx, sqlNextDue, nil); err != nil {
		return "", "", err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlIndexOrder); err != nil {
			return err
		}
		backlog, err = explainIn(ctx, tx, sqlBacklog, []any{ts(now), 1000})
		return err
	})
	return next, backlog, err
}
