package storesqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

const attemptCols = `a.id, a.delivery_id, a.event_id, a.event_uid, a.project_id, a.source_id, a.connection_id,
	a.destination_id, a.number, a.trigger, a.status, a.status_code, a.error_reason, a.duration_ms, a.created_at`

func scanAttempt(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	var created int64
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &created); err != nil {
		return nil, notFound(err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

func scanAttemptFull(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	var created int64
	var headers string
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &created,
		&headers, &a.ResponseBody); err != nil {
		return nil, notFound(err)
	}
	var err error
	if a.ResponseHeaders, err = decodeHTTPHeader(headers); err != nil {
		return nil, fmt.Errorf("attempt %d: %w", a.ID, err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// AttemptList implements store.Traffic.
func (s *Store) AttemptList(ctx context.Context, p store.AttemptListParams) ([]volley.Attempt, int64, error) {
	q, err := storesql.AttemptListQuery(p, dialect, attemptCols)
	if err != nil {
		return nil, 0, fmt.Errorf("list attempts: %w", err)
	}
	list, total, err := readList(ctx, s.read, q, scanAttempt)
	if err != nil {
		return nil, 0, fmt.Errorf("list attempts: %w", err)
	}
	return list, total, nil
}

// AttemptListByEvent implements store.Traffic.
func (s *Store) AttemptListByEvent(ctx context.Context, eventID uint64) ([]volley.Attempt, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+attemptCols+`, a.response_headers, a.response_body
		FROM attempts a WHERE a.event_id = ? ORDER BY a.id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list event attempts: %w", err)
	}
	return collect(rows, scanAttemptFull)
}

// AttemptListByConnection implements store.Traffic.
func (s *Store) AttemptListByConnection(ctx context.Context, connectionID uint64, limit int) ([]volley.Attempt, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+attemptCols+` FROM attempts a WHERE a.connection_id = ?
		ORDER BY a.created_at DESC, a.id DESC LIMIT ?`, connectionID, limit)
	if err != nil {
		return nil, fmt.Errorf("list connection attempts: %w", err)
	}
	return collect(rows, scanAttempt)
}

// retentionWindow bounds how far past the oldest event one retention round
// looks, so a round costs the same on a store of any size.
const retentionWindow = 10_000

// sqlRetentionSweep deletes up to ?2 finished events created before ?1.
// Events are stored in time order, so the old ones are the lowest ids: it
// looks at the first ?3 events only and stops at the first recent one. (Old
// events with unfinished deliveries stay and are skipped.) The window
// subquery selects created_at itself: without it, "created_at < ?1" would
// bind to the outer row and the window would be computed again for every
// candidate (a correlated subquery over the whole table, which held the
// writer for tens of seconds on a large store).
const sqlRetentionSweep = `DELETE FROM events WHERE id IN (
	SELECT e.id FROM events e WHERE e.id <= (
		SELECT coalesce(max(w.id), 0) FROM (SELECT id, created_at FROM events ORDER BY id LIMIT ?3) w WHERE w.created_at < ?1)
	AND e.created_at < ?1
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN ('pending', 'held'))
	ORDER BY e.id LIMIT ?2)`

// RetentionDelete implements store.Traffic.
func (s *Store) RetentionDelete(ctx context.Context, p store.RetentionParams) (int, error) {
	var n int64
	err := s.txBackground(ctx, func(tx *sql.Tx) error {
		// Traffic of deleted projects first, one project at a time.
		var project uint64
		err := tx.QueryRowContext(ctx, `SELECT project_id FROM project_tombstones ORDER BY deleted_at LIMIT 1`).Scan(&project)
		switch {
		case err == nil:
			r, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE project_id = ? LIMIT ?)`, project, p.Limit)
			if err != nil {
				return err
			}
			if n, _ = r.RowsAffected(); n == 0 {
				_, err = tx.ExecContext(ctx, `DELETE FROM project_tombstones WHERE project_id = ?`, project)
				n = 1 // more may be left to do
			}
			return err
		case err != sql.ErrNoRows:
			return err
		}
		r, err := tx.ExecContext(ctx, sqlRetentionSweep, micros(p.Before), p.Limit, retentionWindow)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		r, err = tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE (source_id, key) IN (
			SELECT source_id, key FROM idempotency_keys WHERE expires_at < ? LIMIT ?)`, micros(p.Now), p.Limit)
		if err != nil {
			return err
		}
		keys, _ := r.RowsAffected()
		n += keys
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	return int(n), nil
}
