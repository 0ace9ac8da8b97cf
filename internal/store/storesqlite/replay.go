package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

const replayCols = `r.id, r.project_id, r.filter, r.connection_id, r.status, r.matched, r.matched_is_estimate,
	r.processed, r.succeeded, r.failed, r.skipped, r.cursor_key, r.cursor_id, r.error, r.created_by,
	r.created_at, r.updated_at, r.finished_at, r.lease_owner, r.lease_until`

func scanReplay(row scanner) (*volley.Replay, error) {
	var r volley.Replay
	var filter string
	var created, updated, finished, leaseUntil int64
	if err := row.Scan(&r.ID, &r.ProjectID, &filter, &r.ConnectionID, &r.Status, &r.Matched, &r.MatchedIsEstimate,
		&r.Processed, &r.Succeeded, &r.Failed, &r.Skipped, &r.CursorKey, &r.CursorID, &r.Error, &r.CreatedBy,
		&created, &updated, &finished, &r.LeaseOwner, &leaseUntil); err != nil {
		return nil, notFound(err)
	}
	if err := json.Unmarshal([]byte(filter), &r.Filter); err != nil {
		return nil, fmt.Errorf("replay %d: filter: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt, r.FinishedAt = fromMicros(created), fromMicros(updated), fromMicros(finished)
	r.LeaseUntil = fromMicros(leaseUntil)
	return &r, nil
}

// ReplayCreate implements store.Replays.
func (s *Store) ReplayCreate(ctx context.Context, r *volley.Replay) error {
	filter, err := json.Marshal(r.Filter)
	if err != nil {
		return fmt.Errorf("create replay: filter: %w", err)
	}
	r.Status, r.UpdatedAt = volley.ReplayQueued, r.CreatedAt
	res, err := s.exec(ctx, `INSERT INTO replays (project_id, filter, connection_id, status, matched,
		matched_is_estimate, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ProjectID, string(filter), r.ConnectionID, r.Status, r.Matched, r.MatchedIsEstimate, r.CreatedBy,
		micros(r.CreatedAt), micros(r.UpdatedAt))
	if foreignKeyViolation(err) {
		return fmt.Errorf("create replay: %w", store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create replay: %w", err)
	}
	id, _ := res.LastInsertId()
	r.ID = uint64(id)
	return nil
}

// ReplayGet implements store.Replays.
func (s *Store) ReplayGet(ctx context.Context, orgID, id uint64) (*volley.Replay, error) {
	r, err := scanReplay(s.read.QueryRowContext(ctx, `SELECT `+replayCols+` FROM replays r
		JOIN projects p ON p.id = r.project_id WHERE r.id = ? AND p.org_id = ?`, id, orgID))
	if err != nil {
		return nil, fmt.Errorf("get replay: %w", err)
	}
	return r, nil
}

// ReplayList implements store.Replays.
func (s *Store) ReplayList(ctx context.Context, p store.ReplayListParams) ([]volley.Replay, error) {
	before := int64(p.BeforeID)
	if p.BeforeID == 0 {
		before = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+replayCols+` FROM replays r
		WHERE r.project_id = ? AND r.id < ? ORDER BY r.id DESC LIMIT ?`, p.ProjectID, before, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}
	list, err := collect(rows, scanReplay)
	if err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}
	return list, nil
}

// ReplayClaim implements store.Replays. SQLite has one writer, so the
// choice and the lease are one statement nobody can interleave with.
func (s *Store) ReplayClaim(ctx context.Context, p store.ReplayClaimParams) (*volley.Replay, error) {
	var r *volley.Replay
	err := s.txBackground(ctx, writeReplay, func(tx *sql.Tx) error {
		var id uint64
		err := tx.QueryRowContext(ctx, `UPDATE replays SET status = 'running', lease_owner = ?, lease_until = ?
			WHERE id = (SELECT id FROM replays WHERE status IN ('queued', 'running') AND lease_until <= ?
				ORDER BY updated_at, id LIMIT 1)
			RETURNING id`, p.Owner, micros(p.Until), micros(p.Now)).Scan(&id)
		if err != nil {
			return notFound(err)
		}
		r, err = scanReplay(tx.QueryRowContext(ctx, `SELECT `+replayCols+` FROM replays r WHERE r.id = ?`, id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim replay: %w", err)
	}
	return r, nil
}

// ReplayProgress implements store.Replays.
func (s *Store) ReplayProgress(ctx context.Context, p store.ReplayProgressParams) (*volley.Replay, error) {
	owner, until := p.Owner, micros(p.Until)
	if p.Release {
		owner, until = "", 0
	}
	var finished int64
	if p.Status == volley.ReplayDone || p.Status == volley.ReplayFailed {
		finished = micros(p.Now)
		owner, until = "", 0
	}
	var r *volley.Replay
	err := s.txBackground(ctx, writeReplay, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE replays SET processed = processed + ?, succeeded = succeeded + ?,
			failed = failed + ?, skipped = skipped + ?,
			cursor_key = CASE WHEN ? <> 0 THEN ? ELSE cursor_key END,
			cursor_id = CASE WHEN ? <> 0 THEN ? ELSE cursor_id END,
			status = ?, error = ?, updated_at = ?, finished_at = ?, lease_owner = ?, lease_until = ?
			WHERE id = ? AND lease_owner = ? AND status IN ('queued', 'running')`,
			p.Processed, p.Succeeded, p.Failed, p.Skipped, p.CursorID, p.CursorKey, p.CursorID, p.CursorID,
			p.Status, p.Error, micros(p.Now), finished, owner, until, p.ID, p.Owner)
		if err != nil {
			return err
		}
		r, err = scanReplay(tx.QueryRowContext(ctx, `SELECT `+replayCols+` FROM replays r WHERE r.id = ?`, p.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record replay progress: %w", err)
	}
	return r, nil
}

// ReplayCancel implements store.Replays.
func (s *Store) ReplayCancel(ctx context.Context, orgID, id uint64, now time.Time) (*volley.Replay, error) {
	var r *volley.Replay
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = scanReplay(tx.QueryRowContext(ctx, `SELECT `+replayCols+` FROM replays r
			JOIN projects p ON p.id = r.project_id WHERE r.id = ? AND p.org_id = ?`, id, orgID))
		if err != nil || r.Finished() {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE replays SET status = 'cancelled', updated_at = ?, finished_at = ?,
			lease_owner = '', lease_until = 0 WHERE id = ?`, micros(now), micros(now), id); err != nil {
			return err
		}
		r.Status, r.UpdatedAt, r.FinishedAt = volley.ReplayCancelled, fromMicros(micros(now)), fromMicros(micros(now))
		r.LeaseOwner, r.LeaseUntil = "", time.Time{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cancel replay: %w", err)
	}
	return r, nil
}
