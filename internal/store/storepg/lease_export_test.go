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
	err = s.sendBatchAfter(ctx, sqlIndexOrder, func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(`EXPLAIN (COSTS OFF) `+sqlBacklog, ts(now), 1000)
		return b
	}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		backlog, err = planText(rows)
		return err
	})
	return next, backlog, err
}

// HoldBackgroundCounters opens tries background transactions
// (sqlBackground), each on a connection of its own and finishing one pending delivery of connection
// conn so that the counters' trigger locks its shard's rows, and keeps
// open every one that did not have to wait for another (a shard already
// held), until release is called. It returns the shards held.
func (s *Store) HoldBackgroundCounters(ctx context.Context, conn uint64, tries int) (shards []int, release func(), err error) {
	var held []*pgx.Conn
	release = func() {
		for _, c := range held {
			c.Close(context.Background()) // rolls back its transaction
		}
	}
	for range tries {
		c, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
		if err != nil {
			release()
			return nil, nil, err
		}
		var shard int
		_, err = c.Exec(ctx, `BEGIN; SET LOCAL lock_timeout = '100ms'; `+sqlBackground)
		if err == nil {
			_, err = c.Exec(ctx, `UPDATE deliveries SET state = 'success', finished_at = now() WHERE id = (
				SELECT id FROM deliveries WHERE connection_id = $1 AND state = 'pending' LIMIT 1 FOR UPDATE SKIP LOCKED)`, conn)
		}
		if err == nil {
			err = c.QueryRow(ctx, `SELECT metrics_shard()`).Scan(&shard)
		}
		if pgCode(err) == "55P03" { // lock_not_available: its shard is held already
			c.Close(ctx)
			continue
		}
		if err != nil {
			c.Close(ctx)
			release()
			return nil, nil, err
		}
		held, shards = append(held, c), append(shards, shard)
	}
	return shards, release, nil
}

// CounterShards returns the shards of connection conn's per-minute
// counters that count routed and delivered deliveries.
func (s *Store) CounterShards(ctx context.Context, conn uint64) (routed, delivered []int, err error) {
	rows, err := s.pool.Query(ctx, `SELECT shard, routed > 0, delivered > 0 FROM connection_minutes
		WHERE connection_id = $1 ORDER BY shard`, conn)
	if err != nil {
		return nil, nil, err
	}
	var shard int
	var r, d bool
	_, err = pgx.ForEachRow(rows, []any{&shard, &r, &d}, func() error {
		if r {
			routed = append(routed, shard)
		}
		if d {
			delivered = append(delivered, shard)
		}
		return nil
	})
	return routed, delivered, err
}

// TxSettings returns synchronous_commit and volley.shard_base as a
// background transaction (bgTx) and as any other (tx) sees them.
func (s *Store) TxSettings(ctx context.Context) (bg, other [2]string, err error) {
	read := func(out *[2]string) func(pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT current_setting('synchronous_commit'),
				coalesce(current_setting('volley.shard_base', true), '')`).Scan(&out[0], &out[1])
		}
	}
	if err = s.bgTx(ctx, read(&bg)); err == nil {
		err = s.tx(ctx, read(&other))
	}
	return bg, other, err
}

// ExplainResumedLookups returns PostgreSQL's plans (EXPLAIN, without
// costs) of a lease at now and of the sweeper's pick of its next sweep,
// for a test of how they find resumed connections' held deliveries.
func (s *Store) ExplainResumedLookups(ctx context.Context, now time.Time) (lease, nextSweep string, err error) {
	if lease, err = s.explain(ctx, sqlLease, []any{"w", ts(now), ts(now.Add(time.Hour)), []uint64{}, 100}); err != nil {
		return "", "", err
	}
	nextSweep, err = s.explain(ctx, sqlNextSweep, nil)
	return lease, nextSweep, err
}

// ExplainSweepStranded returns PostgreSQL's plan (EXPLAIN, without costs)
// of the sweep's look for stranded held deliveries (sqlSweepStranded) at
// now, for a test of index use.
func (s *Store) ExplainSweepStranded(ctx context.Context, now time.Time) (string, error) {
	return s.explain(ctx, sqlSweepStranded, []any{ts(now)})
}
