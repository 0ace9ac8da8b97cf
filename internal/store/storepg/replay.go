package storepg

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

const replayCols = `r.id, r.project_id, r.filter, r.connection_id, r.status, r.matched, r.matched_is_estimate,
	r.processed, r.succeeded, r.failed, r.skipped, r.cursor_key, r.cursor_id, r.error, r.created_by,
	r.created_at, r.updated_at, r.finished_at, r.lease_owner, r.lease_until`

func scanReplay(row scanner) (*volley.Replay, error) {
	var r volley.Replay
	var filter string
	if err := row.Scan(&r.ID, &r.ProjectID, &filter, &r.ConnectionID, &r.Status, &r.Matched, &r.MatchedIsEstimate,
		&r.Processed, &r.Succeeded, &r.Failed, &r.Skipped, &r.CursorKey, &r.CursorID, &r.Error, &r.CreatedBy,
		&r.CreatedAt, &r.UpdatedAt, &r.FinishedAt, &r.LeaseOwner, &r.LeaseUntil); err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(filter), &r.Filter); err != nil {
		return nil, fmt.Errorf("replay %d: filter: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt, r.FinishedAt, r.LeaseUntil = ts(r.CreatedAt), ts(r.UpdatedAt), ts(r.FinishedAt), ts(r.LeaseUntil)
	r.Filter.Start, r.Filter.End = ts(r.Filter.Start), ts(r.Filter.End)
	return &r, nil
}

// ReplayCreate implements store.Replays.
func (s *Store) ReplayCreate(ctx context.Context, r *volley.Replay) error {
	filter, err := json.Marshal(r.Filter)
	if err != nil {
		return fmt.Errorf("create replay: filter: %w", err)
	}
	r.Status, r.CreatedAt = volley.ReplayQueued, ts(r.CreatedAt)
	r.UpdatedAt = r.CreatedAt
	err = s.pool.QueryRow(ctx, `INSERT INTO replays (project_id, filter, connection_id, status, matched,
		matched_is_estimate, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		r.ProjectID, string(filter), r.ConnectionID, r.Status, r.Matched, r.MatchedIsEstimate, r.CreatedBy,
		r.CreatedAt, r.UpdatedAt).Scan(&r.ID)
	return wrap(err, "create replay")
}

// ReplayGet implements store.Replays.
func (s *Store) ReplayGet(ctx context.Context, orgID, id uint64) (*volley.Replay, error) {
	r, err := scanReplay(s.pool.QueryRow(ctx, `SELECT `+replayCols+` FROM replays r
		JOIN projects p ON p.id = r.project_id WHERE r.id = $1 AND p.org_id = $2`, id, orgID))
	if err != nil {
		return nil, wrap(err, "get replay")
	}
	return r, nil
}

// ReplayList implements store.Replays.
func (s *Store) ReplayList(ctx context.Context, p store.ReplayListParams) ([]volley.Replay, error) {
	before := uint64(math.MaxInt64)
	if p.BeforeID != 0 {
		before = p.BeforeID
	}
	rows, err := s.pool.Query(ctx, `SELECT `+replayCols+` FROM replays r
		WHERE r.project_id = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT $3`, p.ProjectID, before, p.Limit)
	list, err := collect(rows, err, scanReplay)
	if err != nil {
		return nil, wrap(err, "list replays")
	}
	return list, nil
}

// ReplayClaim implements store.Replays. The row lock of the chosen job,
// taken with SKIP LOCKED, makes nodes claiming at once pick different jobs
// rather than wait for each other.
func (s *Store) ReplayClaim(ctx context.Context, p store.ReplayClaimParams) (*volley.Replay, error) {
	r, err := scanReplay(s.pool.QueryRow(ctx, `UPDATE replays r SET status = 'running', lease_owner = $1, lease_until = $2
		WHERE r.id = (SELECT id FROM replays WHERE status IN ('queued', 'running') AND lease_until <= $3
			ORDER BY updated_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+replayCols, p.Owner, ts(p.Until), ts(p.Now)))
	if err != nil {
		return nil, wrap(err, "claim replay")
	}
	return r, nil
}

// ReplayProgress implements store.Replays.
func (s *Store) ReplayProgress(ctx context.Context, p store.ReplayProgressParams) (*volley.Replay, error) {
	owner, until := p.Owner, ts(p.Until)
	if p.Release {
		owner, until = "", time.Time{}
	}
	var finished time.Time
	if p.Status == volley.ReplayDone || p.Status == volley.ReplayFailed {
		finished, owner, until = ts(p.Now), "", time.Time{}
	}
	var r *volley.Replay
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE replays SET processed = processed + $1, succeeded = succeeded + $2,
			failed = failed + $3, skipped = skipped + $4,
			cursor_key = CASE WHEN $5::bigint <> 0 THEN $6 ELSE cursor_key END,
			cursor_id = CASE WHEN $5::bigint <> 0 THEN $5 ELSE cursor_id END,
			status = $7, error = $8, updated_at = $9, finished_at = $10, lease_owner = $11, lease_until = $12
			WHERE id = $13 AND lease_owner = $14 AND status IN ('queued', 'running')`,
			p.Processed, p.Succeeded, p.Failed, p.Skipped, p.CursorID, p.CursorKey,
			p.Status, validText(p.Error), ts(p.Now), finished, owner, until, p.ID, p.Owner)
		if err != nil {
			return err
		}
		r, err = scanReplay(tx.QueryRow(ctx, `SELECT `+replayCols+` FROM replays r WHERE r.id = $1`, p.ID))
		return err
	})
	if err != nil {
		return nil, wrap(err, "record replay progress")
	}
	return r, nil
}

// ReplayCancel implements store.Replays.
func (s *Store) ReplayCancel(ctx context.Context, orgID, id uint64, now time.Time) (*volley.Replay, error) {
	var r *volley.Replay
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		r, err = scanReplay(tx.QueryRow(ctx, `SELECT `+replayCols+` FROM replays r
			JOIN projects p ON p.id = r.project_id WHERE r.id = $1 AND p.org_id = $2 FOR UPDATE OF r`, id, orgID))
		if err != nil || r.Finished() {
			return err
		}
		r, err = scanReplay(tx.QueryRow(ctx, `UPDATE replays r SET status = 'cancelled', updated_at = $1, finished_at = $1,
			lease_owner = '', lease_until = $2 WHERE id = $3 RETURNING `+replayCols, ts(now), time.Time{}, id))
		return err
	})
	if err != nil {
		return nil, wrap(err, "cancel replay")
	}
	return r, nil
}
