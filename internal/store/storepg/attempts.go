package storepg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

const attemptCols = `a.id, a.delivery_id, a.event_id, a.event_uid, a.project_id, a.source_id, a.connection_id,
	a.destination_id, a.number, a.trigger, a.status, a.status_code, a.error_reason, a.duration_ms, a.created_at`

func scanAttempt(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &a.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &a, nil
}

func scanAttemptFull(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	var headers string
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &a.CreatedAt,
		&headers, &a.ResponseBody); err != nil {
		return nil, mapErr(err)
	}
	var err error
	if a.ResponseHeaders, err = decodeHTTPHeader(headers); err != nil {
		return nil, fmt.Errorf("attempt %d: %w", a.ID, err)
	}
	return &a, nil
}

// AttemptList implements store.Traffic.
func (s *Store) AttemptList(ctx context.Context, p store.AttemptListParams) ([]volley.Attempt, int64, error) {
	q, err := storesql.AttemptListQuery(p, dialect, attemptCols)
	if err != nil {
		return nil, 0, wrap(err, "list attempts")
	}
	list, total, err := readList(ctx, s, q, scanAttempt)
	return list, total, wrap(err, "list attempts")
}

// AttemptListByEvent implements store.Traffic.
func (s *Store) AttemptListByEvent(ctx context.Context, eventID uint64) ([]volley.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+attemptCols+`, a.response_headers, a.response_body
		FROM attempts a WHERE a.event_id = $1 ORDER BY a.id`, eventID)
	list, err := collect(rows, err, scanAttemptFull)
	return list, wrap(err, "list event attempts")
}

// AttemptListByConnection implements store.Traffic.
func (s *Store) AttemptListByConnection(ctx context.Context, connectionID uint64, limit int) ([]volley.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+attemptCols+` FROM attempts a WHERE a.connection_id = $1
		ORDER BY a.created_at DESC, a.id DESC LIMIT $2`, connectionID, limit)
	list, err := collect(rows, err, scanAttempt)
	return list, wrap(err, "list connection attempts")
}

// retentionWindow bounds how far past the oldest event one retention round
// looks, so a round costs the same on a store of any size.
const retentionWindow = 10_000

// RetentionDelete implements store.Traffic.
func (s *Store) RetentionDelete(ctx context.Context, p store.RetentionParams) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		// Traffic of deleted projects first, one project at a time. Nodes
		// sweeping at once take different projects (SKIP LOCKED): two on one
		// project could see the other's deletions as "nothing left" and drop
		// its tombstone early.
		var project uint64
		err := tx.QueryRow(ctx, `SELECT project_id FROM project_tombstones ORDER BY deleted_at LIMIT 1
			FOR UPDATE SKIP LOCKED`).Scan(&project)
		switch {
		case err == nil:
			tag, err := tx.Exec(ctx, `DELETE FROM events WHERE id = ANY (ARRAY(
				SELECT id FROM events WHERE project_id = $1 LIMIT $2))`, project, p.Limit)
			if err != nil {
				return err
			}
			if n = tag.RowsAffected(); n == 0 {
				_, err = tx.Exec(ctx, `DELETE FROM project_tombstones WHERE project_id = $1`, project)
				n = 1 // more may be left to do
			}
			return err
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		// Events are stored in time order, so the old ones are the lowest
		// ids: scan from the start and stop at the first recent one. (Old
		// events with unfinished deliveries stay and are skipped, and so are
		// events another node is sweeping or recording an attempt on.)
		// ARRAY(…) runs the locking subquery once: as an IN subquery the
		// planner may rescan it per row, each rescan skipping the rows this
		// statement just deleted and locking the next ones past the LIMIT.
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE id = ANY (ARRAY(
			SELECT e.id FROM events e WHERE e.id <= (
				SELECT coalesce(max(id), 0) FROM (SELECT id, created_at FROM events ORDER BY id LIMIT $3) w WHERE created_at < $1)
			AND e.created_at < $1
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN ('pending', 'held'))
			ORDER BY e.id LIMIT $2
			FOR UPDATE SKIP LOCKED))`, ts(p.Before), p.Limit, retentionWindow)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		// The expiry is checked again on the row as deleted: an event
		// inserted meanwhile may have taken the key for a new window.
		tag, err = tx.Exec(ctx, `WITH batch AS MATERIALIZED (
				SELECT source_id, key FROM idempotency_keys WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
			DELETE FROM idempotency_keys k USING batch b
			WHERE k.source_id = b.source_id AND k.key = b.key AND k.expires_at < $1`,
			ts(p.Now), p.Limit)
		if err != nil {
			return err
		}
		n += tag.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, wrap(err, "retention")
	}
	return int(n), nil
}
