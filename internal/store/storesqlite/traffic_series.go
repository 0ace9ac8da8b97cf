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

// ProjectTraffic implements store.Traffic. Every figure is a range of a
// counter table's primary key (project_hours of migration 0011,
// connection_minutes and connection_backlog of 0006) or one seek of the
// events' (project_id, status, created_at) index.
func (s *Store) ProjectTraffic(ctx context.Context, p store.ProjectTrafficParams) (*volley.ProjectTraffic, error) {
	periods, err := storesql.TrafficWindow(p)
	if err != nil {
		return nil, err
	}
	out := &volley.ProjectTraffic{Periods: periods}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one snapshot for every figure
	if err != nil {
		return nil, fmt.Errorf("project traffic: %w", err)
	}
	defer tx.Rollback()
	// The connections counted: the project's, or the one asked for if it
	// is the project's.
	const conns = `connection_id IN (SELECT id FROM connections WHERE project_id = ?1 AND (?2 = 0 OR id = ?2))`
	var oldest sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(sum(n), 0) FROM connection_backlog WHERE `+conns+`),
		(SELECT min(created_at) FROM events WHERE project_id = ?1 AND status = 'pending')`,
		p.ProjectID, p.ConnectionID).Scan(&out.Backlog, &oldest)
	if err != nil {
		return nil, fmt.Errorf("project traffic: %w", err)
	}
	if oldest.Valid {
		out.OldestPending = fromMicros(oldest.Int64)
	}
	if len(periods) == 0 {
		return out, nil
	}
	start := periods[0].Start
	stepMin := int64(p.Step / time.Minute)
	fromMin := unixMinute(start)
	toMin := fromMin + stepMin*int64(len(periods))
	add := func(query string, args []any, scan func(rows *sql.Rows) error) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if p.ConnectionID == 0 {
		err := add(`SELECT (hour * 60 - ?2) / ?3, sum(received) FROM project_hours
			WHERE project_id = ?1 AND hour >= ?2 / 60 AND hour < ?4 / 60 GROUP BY 1`,
			[]any{p.ProjectID, fromMin, stepMin, toMin}, func(rows *sql.Rows) error {
				var b, n int64
				if err := rows.Scan(&b, &n); err != nil {
					return err
				}
				if b >= 0 && b < int64(len(periods)) {
					out.Periods[b].Received += n
				}
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("project traffic: received: %w", err)
		}
	}
	err = add(`SELECT (minute - ?3) / ?4, sum(routed), sum(delivered), sum(failed) FROM connection_minutes
		WHERE `+conns+` AND minute >= ?3 AND minute < ?5 GROUP BY 1`,
		[]any{p.ProjectID, p.ConnectionID, fromMin, stepMin, toMin}, func(rows *sql.Rows) error {
			var b, routed, delivered, failed int64
			if err := rows.Scan(&b, &routed, &delivered, &failed); err != nil {
				return err
			}
			if b >= 0 && b < int64(len(periods)) {
				pp := &out.Periods[b]
				pp.Routed, pp.Delivered, pp.Failed = pp.Routed+routed, pp.Delivered+delivered, pp.Failed+failed
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("project traffic: deliveries: %w", err)
	}
	return out, nil
}
