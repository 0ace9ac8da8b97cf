package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// The counters read here are kept in the transaction of every change to
// deliveries and attempts: by the triggers of migrations 0006, 0015 and
// 0023, and for delivery outcomes and attempts by this driver (tally.go).
// SQLite has one writer, so one row per connection and minute is no
// contention point.

// unixMinute is how the counters name a minute.
func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

// ConnectionMetrics implements store.Traffic.
func (s *Store) ConnectionMetrics(ctx context.Context, connectionID uint64, since time.Time) (*volley.ConnectionMetrics, error) {
	since = storesql.MetricsSince(since)
	m := &volley.ConnectionMetrics{Since: since}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one snapshot for every figure
	if err != nil {
		return nil, fmt.Errorf("connection metrics: %w", err)
	}
	defer tx.Rollback()
	var last sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(sum(routed), 0) FROM connection_minutes WHERE connection_id = ?1 AND minute >= ?2),
		(SELECT coalesce(sum(delivered), 0) FROM connection_minutes WHERE connection_id = ?1 AND minute >= ?2),
		(SELECT coalesce(sum(failed), 0) FROM connection_minutes WHERE connection_id = ?1 AND minute >= ?2),
		(SELECT coalesce(sum(n), 0) FROM connection_backlog WHERE connection_id = ?1),
		(SELECT max(created_at) FROM attempts WHERE connection_id = ?1)`, connectionID, unixMinute(since)).
		Scan(&m.EventsRouted, &m.Delivered, &m.Failed, &m.Pending, &last)
	if err != nil {
		return nil, fmt.Errorf("connection metrics: %w", err)
	}
	m.LastDeliveryAt = fromMicros(last.Int64)
	rows, err := tx.QueryContext(ctx, `SELECT bucket_ms, sum(n) FROM connection_latency
		WHERE connection_id = ? AND minute >= ? GROUP BY bucket_ms ORDER BY bucket_ms`, connectionID, unixMinute(since))
	if err != nil {
		return nil, fmt.Errorf("connection latency: %w", err)
	}
	defer rows.Close()
	var buckets []storesql.LatencyBucket
	for rows.Next() {
		var b storesql.LatencyBucket
		if err := rows.Scan(&b.UpperMS, &b.N); err != nil {
			return nil, fmt.Errorf("connection latency: %w", err)
		}
		buckets = append(buckets, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("connection latency: %w", err)
	}
	m.LatencyP50MS = storesql.Percentile(buckets, 50)
	m.LatencyP95MS = storesql.Percentile(buckets, 95)
	return m, nil
}

// ConnectionMetricsList implements store.Traffic: ConnectionMetrics's
// subqueries for each connection of the project (through
// connections_project), and the latency buckets of all of them in one
// grouped read, in one read transaction.
func (s *Store) ConnectionMetricsList(ctx context.Context, p store.ConnectionMetricsListParams) (map[uint64]*volley.ConnectionMetrics, error) {
	since := storesql.MetricsSince(p.Since)
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("connection metrics list: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT c.id,
		(SELECT coalesce(sum(routed), 0) FROM connection_minutes WHERE connection_id = c.id AND minute >= ?2),
		(SELECT coalesce(sum(delivered), 0) FROM connection_minutes WHERE connection_id = c.id AND minute >= ?2),
		(SELECT coalesce(sum(failed), 0) FROM connection_minutes WHERE connection_id = c.id AND minute >= ?2),
		(SELECT coalesce(sum(n), 0) FROM connection_backlog WHERE connection_id = c.id),
		(SELECT max(created_at) FROM attempts WHERE connection_id = c.id)
		FROM connections c WHERE c.project_id = ?1`, p.ProjectID, unixMinute(since))
	if err != nil {
		return nil, fmt.Errorf("connection metrics list: %w", err)
	}
	out := map[uint64]*volley.ConnectionMetrics{}
	for rows.Next() {
		var id uint64
		var last sql.NullInt64
		m := &volley.ConnectionMetrics{Since: since}
		if err := rows.Scan(&id, &m.EventsRouted, &m.Delivered, &m.Failed, &m.Pending, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("connection metrics list: %w", err)
		}
		m.LastDeliveryAt = fromMicros(last.Int64)
		out[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("connection metrics list: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT connection_id, bucket_ms, sum(n) FROM connection_latency
		WHERE connection_id IN (SELECT id FROM connections WHERE project_id = ?) AND minute >= ?
		GROUP BY connection_id, bucket_ms ORDER BY connection_id, bucket_ms`, p.ProjectID, unixMinute(since))
	if err != nil {
		return nil, fmt.Errorf("connection latency list: %w", err)
	}
	defer rows.Close()
	buckets := map[uint64][]storesql.LatencyBucket{}
	for rows.Next() {
		var id uint64
		var b storesql.LatencyBucket
		if err := rows.Scan(&id, &b.UpperMS, &b.N); err != nil {
			return nil, fmt.Errorf("connection latency list: %w", err)
		}
		buckets[id] = append(buckets[id], b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("connection latency list: %w", err)
	}
	for id, m := range out {
		m.LatencyP50MS = storesql.Percentile(buckets[id], 50)
		m.LatencyP95MS = storesql.Percentile(buckets[id], 95)
	}
	return out, nil
}

// ConnectionMetricsDelete implements store.Traffic. Each table is trimmed
// through its minute index, oldest first, Limit rows at a time.
func (s *Store) ConnectionMetricsDelete(ctx context.Context, p store.RetentionParams) (int, error) {
	var n int64
	err := s.txBackground(ctx, writeRetention, func(tx *sql.Tx) error {
		for _, t := range []struct{ table, key, unit string }{
			{"connection_minutes", "connection_id, minute", "minute"},
			{"connection_latency", "connection_id, minute, bucket_ms", "minute"},
			{"project_hours", "project_id, hour", "hour"},
			{"backlog_hours", "project_id, hour", "hour"},
		} {
			before := unixMinute(p.Before)
			if t.unit == "hour" {
				before /= 60 // hours wholly before the cut
			}
			// The tables have no rowid: rows are named by their primary key.
			r, err := tx.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE (`+t.key+`) IN (
				SELECT `+t.key+` FROM `+t.table+` WHERE `+t.unit+` < ? ORDER BY `+t.unit+` LIMIT ?)`, before, p.Limit)
			if err != nil {
				return fmt.Errorf("%s: %w", t.table, err)
			}
			d, _ := r.RowsAffected()
			n += d
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete connection metrics: %w", err)
	}
	return int(n), nil
}

// DeliveryBacklog implements store.Traffic. The total sums one counter row
// per connection; the due count and the earliest due time read the
// deliveries_due index, at most DueLimit entries of it, and the held
// deliveries of resumed connections, which the lease takes as due
// (lease.go), at most DueLimit of them.
func (s *Store) DeliveryBacklog(ctx context.Context, p store.BacklogParams) (store.Backlog, error) {
	var b store.Backlog
	var oldest sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(sum(n), 0) FROM connection_backlog),
		(SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 LIMIT ?2))
		+ (SELECT count(*) FROM (SELECT 1 FROM (`+sqlResumed+`) r JOIN deliveries x ON x.connection_id = r.connection_id
			WHERE x.state = 'held' LIMIT ?2)),
		(SELECT min(t) FROM (SELECT min(next_attempt_at) AS t FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1
			UNION ALL SELECT min(r.created_at) FROM (`+sqlResumed+`) r
			WHERE EXISTS (SELECT 1 FROM deliveries x WHERE x.connection_id = r.connection_id AND x.state = 'held')))`,
		micros(p.Now), p.DueLimit).Scan(&b.Total, &b.Due, &oldest)
	if err != nil {
		return store.Backlog{}, fmt.Errorf("delivery backlog: %w", err)
	}
	b.Due = min(b.Due, int64(p.DueLimit))
	b.OldestDue = fromMicros(oldest.Int64)
	return b, nil
}
