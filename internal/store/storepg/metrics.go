package storepg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// The counters read here are kept by the triggers of migration 0006, in the
// transaction of every change to deliveries and attempts, in up to eight
// shards per counter (one per transaction id modulo 8) so that nodes writing
// at once seldom wait on the same row; reads sum the shards.

// sqlConnectionMetrics reads every figure in one statement, so they come
// from one snapshot. Each subquery is a range of a primary key.
const sqlConnectionMetrics = `SELECT
	(SELECT coalesce(sum(routed), 0)::bigint FROM connection_minutes WHERE connection_id = $1 AND minute >= $2),
	(SELECT coalesce(sum(delivered), 0)::bigint FROM connection_minutes WHERE connection_id = $1 AND minute >= $2),
	(SELECT coalesce(sum(failed), 0)::bigint FROM connection_minutes WHERE connection_id = $1 AND minute >= $2),
	(SELECT coalesce(sum(n), 0)::bigint FROM connection_backlog WHERE connection_id = $1),
	(SELECT coalesce(max(created_at), ` + zeroTime + `) FROM attempts WHERE connection_id = $1),
	coalesce(l.bounds, '{}'), coalesce(l.counts, '{}')
FROM (SELECT array_agg(bucket_ms::bigint ORDER BY bucket_ms) AS bounds, array_agg(n ORDER BY bucket_ms) AS counts
	FROM (SELECT bucket_ms, sum(n)::bigint AS n FROM connection_latency WHERE connection_id = $1 AND minute >= $2
		GROUP BY bucket_ms) b) l`

// ConnectionMetrics implements store.Traffic.
func (s *Store) ConnectionMetrics(ctx context.Context, connectionID uint64, since time.Time) (*volley.ConnectionMetrics, error) {
	since = storesql.MetricsSince(since)
	m := &volley.ConnectionMetrics{Since: since}
	var bounds, counts []int64
	err := s.pool.QueryRow(ctx, sqlConnectionMetrics, connectionID, ts(since)).
		Scan(&m.EventsRouted, &m.Delivered, &m.Failed, &m.Pending, &m.LastDeliveryAt, &bounds, &counts)
	if err != nil {
		return nil, wrap(err, "connection metrics")
	}
	buckets := make([]storesql.LatencyBucket, len(bounds))
	for i := range bounds {
		buckets[i] = storesql.LatencyBucket{UpperMS: bounds[i], N: counts[i]}
	}
	m.LatencyP50MS = storesql.Percentile(buckets, 50)
	m.LatencyP95MS = storesql.Percentile(buckets, 95)
	return m, nil
}

// sqlConnectionMetricsList is sqlConnectionMetrics for each connection of
// a project ($1, through connections_project), in one statement and so one
// snapshot.
const sqlConnectionMetricsList = `SELECT c.id, m.routed, m.delivered, m.failed, b.n, a.last, coalesce(l.bounds, '{}'), coalesce(l.counts, '{}')
FROM connections c
CROSS JOIN LATERAL (SELECT coalesce(sum(routed), 0)::bigint AS routed, coalesce(sum(delivered), 0)::bigint AS delivered,
	coalesce(sum(failed), 0)::bigint AS failed FROM connection_minutes WHERE connection_id = c.id AND minute >= $2) m
CROSS JOIN LATERAL (SELECT coalesce(sum(n), 0)::bigint AS n FROM connection_backlog WHERE connection_id = c.id) b
CROSS JOIN LATERAL (SELECT coalesce(max(created_at), ` + zeroTime + `) AS last FROM attempts WHERE connection_id = c.id) a
CROSS JOIN LATERAL (SELECT array_agg(bucket_ms::bigint ORDER BY bucket_ms) AS bounds, array_agg(n ORDER BY bucket_ms) AS counts
	FROM (SELECT bucket_ms, sum(n)::bigint AS n FROM connection_latency WHERE connection_id = c.id AND minute >= $2
		GROUP BY bucket_ms) x) l
WHERE c.project_id = $1`

// ConnectionMetricsList implements store.Traffic.
func (s *Store) ConnectionMetricsList(ctx context.Context, p store.ConnectionMetricsListParams) (map[uint64]*volley.ConnectionMetrics, error) {
	since := storesql.MetricsSince(p.Since)
	rows, err := s.pool.Query(ctx, sqlConnectionMetricsList, int64(p.ProjectID), ts(since))
	if err != nil {
		return nil, wrap(err, "connection metrics list")
	}
	defer rows.Close()
	out := map[uint64]*volley.ConnectionMetrics{}
	for rows.Next() {
		var id int64
		var bounds, counts []int64
		m := &volley.ConnectionMetrics{Since: since}
		if err := rows.Scan(&id, &m.EventsRouted, &m.Delivered, &m.Failed, &m.Pending, &m.LastDeliveryAt, &bounds, &counts); err != nil {
			return nil, wrap(err, "connection metrics list")
		}
		buckets := make([]storesql.LatencyBucket, len(bounds))
		for i := range bounds {
			buckets[i] = storesql.LatencyBucket{UpperMS: bounds[i], N: counts[i]}
		}
		m.LatencyP50MS = storesql.Percentile(buckets, 50)
		m.LatencyP95MS = storesql.Percentile(buckets, 95)
		out[uint64(id)] = m
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "connection metrics list")
	}
	return out, nil
}

// ConnectionMetricsDelete implements store.Traffic. Each table is trimmed
// through its minute index, oldest first, Limit rows at a time.
func (s *Store) ConnectionMetricsDelete(ctx context.Context, p store.RetentionParams) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		for _, t := range []struct{ table, unit string }{
			{"connection_minutes", "minute"}, {"connection_latency", "minute"}, {"project_hours", "hour"},
			{"backlog_hours", "hour"},
		} {
			// Hours wholly before the cut: an hour starts at or before it.
			before := storesql.MetricsSince(p.Before)
			if t.unit == "hour" {
				before = before.Truncate(time.Hour)
			}
			tag, err := tx.Exec(ctx, `DELETE FROM `+t.table+` WHERE ctid = ANY (ARRAY(
				SELECT ctid FROM `+t.table+` WHERE `+t.unit+` < $1 ORDER BY `+t.unit+` LIMIT $2))`,
				before, p.Limit)
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, wrap(err, "delete connection metrics")
	}
	return int(n), nil
}

// sqlBacklog reads DeliveryBacklog's figures ($1 now, $2 the due limit).
// The due count and the earliest due time read deliveries_due, at most $2
// entries of it, in its own order for the reason sqlNextDue gives. For the
// count that order is not enough: with statistics that see few pending
// deliveries, reading them all by a bitmap scan and sorting them looks
// cheaper, so it runs after sqlIndexOrder.
//
// The held deliveries of resumed connections count as due from the time
// their sweep was recorded (sqlLeaseTail), up to $2 of them too.
const sqlBacklog = `SELECT
	(SELECT coalesce(sum(n), 0)::bigint FROM connection_backlog),
	least($2, (SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1
		ORDER BY next_attempt_at, destination_id LIMIT $2) d)
		+ (SELECT count(*) FROM (SELECT 1 FROM ` + sqlResumedSweeps + ` CROSS JOIN LATERAL (` + sqlHeld + ` LIMIT $2) h
			WHERE ` + sqlResumed + ` AND s.created_at <= $1 LIMIT $2) r)),
	coalesce(least((SELECT next_attempt_at FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1
		ORDER BY next_attempt_at, destination_id LIMIT 1), (` + sqlResumedDue + ` AND s.created_at <= $1)), ` + zeroTime + `)`

// sqlIndexOrder makes the rest of a transaction read rows in an index's
// order where its statements ask for an order: it rules out sorting and
// bitmap scans (which lose the index's order), whatever the statistics.
const sqlIndexOrder = `SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)`

// DeliveryBacklog implements store.Traffic. The total sums the counter rows
// (a few shards per connection).
func (s *Store) DeliveryBacklog(ctx context.Context, p store.BacklogParams) (store.Backlog, error) {
	var b store.Backlog
	err := s.sendBatchAfter(ctx, sqlIndexOrder, func() *pgx.Batch {
		q := &pgx.Batch{}
		q.Queue(sqlBacklog, ts(p.Now), p.DueLimit)
		return q
	}, func(br pgx.BatchResults) error {
		return br.QueryRow().Scan(&b.Total, &b.Due, &b.OldestDue)
	})
	if err != nil {
		return store.Backlog{}, wrap(err, "delivery backlog")
	}
	if b.OldestDue.IsZero() {
		b.OldestDue = time.Time{} // the zero instant, without pgx's location
	} else {
		b.OldestDue = b.OldestDue.UTC()
	}
	return b, nil
}
