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
// counter table's primary key (project_hours of migration 0012,
// connection_minutes and connection_backlog of 0006, backlog_hours of
// 0018) or one seek of the events' (project_id, status, created_at) index.
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
	if p.ConnectionID != 0 {
		return out, nil
	}
	err = add(sqlBacklogHistory, []any{p.ProjectID, fromMin, stepMin, toMin}, func(rows *sql.Rows) error {
		var b, n, age int64
		if err := rows.Scan(&b, &n, &age); err != nil {
			return err
		}
		if b >= 0 && b < int64(len(periods)) {
			pp := &out.Periods[b]
			pp.BacklogSampled, pp.BacklogMax, pp.OldestPendingAgeMax = true, n, time.Duration(age)*time.Second
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("project traffic: backlog: %w", err)
	}
	return out, nil
}

// sqlBacklogHistory reads a project's (?1) backlog samples per period (from
// minute ?2, ?3 minutes long, until minute ?4) and the sampler's marks
// (project 0): two ranges of backlog_hours' primary key.
const sqlBacklogHistory = `SELECT (hour * 60 - ?2) / ?3, max(CASE WHEN project_id = ?1 THEN backlog ELSE 0 END),
	max(CASE WHEN project_id = ?1 THEN oldest_age ELSE 0 END)
FROM backlog_hours WHERE project_id IN (0, ?1) AND hour >= ?2 / 60 AND hour < ?4 / 60 GROUP BY 1`

// sqlBacklogNow reads the backlog of every project that has one: the
// counter rows of the connections (one per connection, each looking its
// connection up by primary key), summed per project, and for each such
// project one seek of the events' (project_id, status, created_at) index
// for its oldest pending event. Counters of deleted connections are left
// out. (A join let SQLite's planner scan the connections once per counter
// row on a small store.)
const sqlBacklogNow = `SELECT project_id, sum(n),
	(SELECT min(e.created_at) FROM events e WHERE e.project_id = b.project_id AND e.status = 'pending')
FROM (SELECT (SELECT c.project_id FROM connections c WHERE c.id = connection_backlog.connection_id) AS project_id, n
	FROM connection_backlog) b
WHERE project_id IS NOT NULL GROUP BY project_id HAVING sum(n) > 0`

// BacklogSample implements store.Traffic. The read runs outside the
// writer; the upserts then take it behind every urgent writer (ingest,
// outcomes), one row per project with a backlog and the hour's mark.
func (s *Store) BacklogSample(ctx context.Context, p store.BacklogSampleParams) (int, error) {
	type sample struct{ project, n, age int64 }
	var samples []sample
	rows, err := s.read.QueryContext(ctx, sqlBacklogNow)
	if err != nil {
		return 0, fmt.Errorf("sample backlog: %w", err)
	}
	now := micros(p.Now)
	for rows.Next() {
		var sm sample
		var oldest sql.NullInt64
		if err := rows.Scan(&sm.project, &sm.n, &oldest); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sample backlog: %w", err)
		}
		if oldest.Valid && oldest.Int64 < now {
			sm.age = (now - oldest.Int64) / 1e6
		}
		samples = append(samples, sm)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sample backlog: %w", err)
	}
	hour := p.Now.Unix() / 3600
	err = s.txBackground(ctx, writeUpkeep, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO backlog_hours (project_id, hour, backlog, oldest_age) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET backlog = max(backlog, excluded.backlog), oldest_age = max(oldest_age, excluded.oldest_age)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, sm := range append(samples, sample{}) { // project 0: the hour was sampled
			if _, err := stmt.ExecContext(ctx, sm.project, hour, sm.n, sm.age); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sample backlog: %w", err)
	}
	return len(samples), nil
}
