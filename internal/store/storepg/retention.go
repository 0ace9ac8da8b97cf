package storepg

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
)

// Retention deletes a batch of events table by table, children first, each
// table in one statement over the batch's ids ($1), instead of leaving
// the children to ON DELETE CASCADE, whose trigger runs a delete per event
// and per child table. (The foreign keys stay, to catch a child row written
// for an event that is going away; their triggers then find nothing to
// delete.) A table that hangs off events gets its statement here, before
// the events one.
var retentionDeletes = []string{
	`DELETE FROM attempts WHERE event_id = ANY ($1)`,
	`DELETE FROM deliveries WHERE event_id = ANY ($1)`,
	`DELETE FROM event_states WHERE event_id = ANY ($1)`,
	`DELETE FROM events WHERE id = ANY ($1)`,
}

// sqlRetentionBound returns the highest id, among the first $2 events after
// the cursor $1, of an event created before $3; NULL when there is none
// (the pass has reached recent events). Events are stored in time order,
// so a round looks at a window of the oldest ids left and never scans
// further.
const sqlRetentionBound = `SELECT max(id) FROM (
	SELECT id, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2) w
	WHERE created_at < $3`

// sqlRetentionBatch selects and locks the events of the window ($1, $2]
// created before $3 whose deliveries have all finished. The others are
// skipped for the rest of the pass (the cursor moves past them), and so are
// events another node is sweeping or recording an attempt on.
const sqlRetentionBatch = `SELECT e.id FROM events e WHERE e.id > $1 AND e.id <= $2 AND e.created_at < $3
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN ('pending', 'held', 'parked'))
	ORDER BY e.id FOR UPDATE SKIP LOCKED`

// RetentionDelete implements store.Traffic.
func (s *Store) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	var res store.RetentionResult
	err := s.bgTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = retentionRound(ctx, tx, p)
		if err == nil {
			s.batchHook(OpRetention)
		}
		return err
	})
	if err != nil {
		return store.RetentionResult{}, wrap(err, "retention")
	}
	return res, nil
}

func retentionRound(ctx context.Context, tx pgx.Tx, p store.RetentionParams) (store.RetentionResult, error) {
	res := store.RetentionResult{After: p.After}
	// Traffic of deleted projects first, one project at a time, whatever
	// its age. Nodes sweeping at once take different projects (SKIP
	// LOCKED): two on one project could see the other's deletions as
	// "nothing left" and drop its tombstone early.
	var project uint64
	err := tx.QueryRow(ctx, `SELECT project_id FROM project_tombstones ORDER BY deleted_at LIMIT 1
		FOR UPDATE SKIP LOCKED`).Scan(&project)
	switch {
	case err == nil:
		// Not SKIP LOCKED: finding only locked events left must not read
		// as "nothing left". The lock keeps attempts of the batch's events
		// from being written until they are gone.
		ids, err := queryIDs(ctx, tx, `SELECT id FROM events WHERE project_id = $1 LIMIT $2 FOR UPDATE`,
			project, p.Limit)
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			_, err = tx.Exec(ctx, `DELETE FROM project_tombstones WHERE project_id = $1`, project)
			return res, err // not Done: other projects or old events may be left
		}
		res.Deleted = len(ids)
		return res, deleteEvents(ctx, tx, ids)
	case !errors.Is(err, pgx.ErrNoRows):
		return res, err
	}

	var bound *int64
	if err := tx.QueryRow(ctx, sqlRetentionBound, int64(p.After), p.Limit, ts(p.Before)).Scan(&bound); err != nil {
		return res, err
	}
	eventsDone := bound == nil
	if !eventsDone {
		ids, err := queryIDs(ctx, tx, sqlRetentionBatch, int64(p.After), *bound, ts(p.Before))
		if err != nil {
			return res, err
		}
		if err := deleteEvents(ctx, tx, ids); err != nil {
			return res, err
		}
		res.Deleted, res.After = len(ids), uint64(*bound)
	}

	// The expiry is checked again on the row as deleted: an event
	// inserted meanwhile may have taken the key for a new window.
	tag, err := tx.Exec(ctx, `WITH batch AS MATERIALIZED (
			SELECT source_id, key FROM idempotency_keys WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
		DELETE FROM idempotency_keys k USING batch b
		WHERE k.source_id = b.source_id AND k.key = b.key AND k.expires_at < $1`,
		ts(p.Now), p.Limit)
	if err != nil {
		return res, err
	}
	res.Deleted += int(tag.RowsAffected())
	res.Done = eventsDone && tag.RowsAffected() == 0
	return res, nil
}

// deleteEvents deletes the events ids, locked by the caller, with
// everything that hangs off them.
func deleteEvents(ctx context.Context, tx pgx.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	for _, q := range retentionDeletes {
		if _, err := tx.Exec(ctx, q, ids); err != nil {
			return err
		}
	}
	return nil
}

// queryIDs returns the ids query selects.
func queryIDs(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// OpRetention and OpDeliverySweep name the background batches passed to
// Config.BatchFunc.
const (
	OpRetention     = "retention"
	OpDeliverySweep = "delivery_sweep"
)

// batchHook calls Config.BatchFunc, if any.
func (s *Store) batchHook(op string) {
	if s.batchFunc != nil {
		s.batchFunc(op)
	}
}
