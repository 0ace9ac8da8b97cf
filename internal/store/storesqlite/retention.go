package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/volleyhq/volley/internal/store"
)

// Retention deletes a batch of events table by table, children first, each
// table in one statement over the batch's ids (the JSON array ?1), instead
// of leaving the children to ON DELETE CASCADE, which runs a delete per
// event and per child table. The foreign keys stay: they catch a child row
// written for an event that is going away. A table that hangs off events
// gets its statement here, before the events one. The body search index
// is not one of them: its parts go whole once their events are all
// deleted (search_parts.go).
var retentionDeletes = []string{
	`DELETE FROM attempts WHERE event_id IN (SELECT value FROM json_each(?1))`,
	`DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?1))`,
	`DELETE FROM event_payloads WHERE event_id IN (SELECT value FROM json_each(?1))`,
	`DELETE FROM events WHERE id IN (SELECT value FROM json_each(?1))`,
}

// sqlRetentionBound returns the highest id, among the first ?2 events after
// the cursor ?1, of an event created before ?3; NULL when there is none
// (the pass has reached recent events). Events are stored in time order,
// so a round looks at a window of the oldest ids left and never scans
// further. The window selects created_at itself: without it, "created_at <
// ?3" would bind to an outer row and make this a correlated subquery (which
// once held the writer for tens of seconds on a large store).
const sqlRetentionBound = `SELECT max(id) FROM (
	SELECT id, created_at FROM events WHERE id > ?1 ORDER BY id LIMIT ?2) w
	WHERE created_at < ?3`

// sqlRetentionBatch selects the events of the window (?1, ?2] created
// before ?3 whose deliveries have all finished. The others are skipped for
// the rest of the pass: the cursor moves past them.
const sqlRetentionBatch = `SELECT e.id FROM events e WHERE e.id > ?1 AND e.id <= ?2 AND e.created_at < ?3
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN ('pending', 'held', 'parked'))`

const (
	// sqlTombstoneFirst is the deleted project whose traffic goes first.
	sqlTombstoneFirst = `SELECT project_id FROM project_tombstones ORDER BY deleted_at LIMIT 1`
	// sqlIdemExpire deletes up to ?2 idempotency keys expired before ?1.
	sqlIdemExpire = `DELETE FROM idempotency_keys WHERE (source_id, key) IN (
		SELECT source_id, key FROM idempotency_keys WHERE expires_at < ? LIMIT ?)`
)

// retentionStatements are every round's statements: hot statements
// (traffic.go), for a purge runs them tens of thousands of times.
var retentionStatements = append([]string{sqlTombstoneFirst, sqlRetentionBound, sqlRetentionBatch, sqlIdemExpire},
	retentionDeletes...)

// RetentionDelete implements store.Traffic. A round looks at a window of
// at most p.Limit events, fewer when its sizer says so (holdsize.go): on a
// big store whose pages are not cached a round of 500 events held the
// writer tens of milliseconds. The pages the pass frees go back to the
// file system at its end (vacuumStep).
func (s *Store) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	p.Limit = s.retentionSize.size(p.Limit)
	var res store.RetentionResult
	hold, err := s.txHeld(ctx, background(writeRetention), func(tx *sql.Tx) error {
		var err error
		if res, err = s.retentionRound(ctx, s.hot(tx), p); err != nil {
			return err
		}
		s.batchHook(OpRetention)
		return nil
	})
	if err != nil {
		return store.RetentionResult{}, fmt.Errorf("retention: %w", err)
	}
	// A round that deleted little (the pass's last, one over events whose
	// deliveries are pending) says nothing of what a full one costs.
	if res.Deleted >= p.Limit/2 {
		s.retentionSize.observe(p.Limit, hold)
	}
	// Once the pass has deleted what it can, it gives the free pages back
	// to the file system, a step a round; it is not done while some are
	// left to give. Not before: the pages at the end of the file are the
	// newest events', and every one moved to a free page costs a rewrite
	// of the page pointing to it, which took a quarter of the writer's time
	// of a purge done a step a round (BenchmarkRetentionSteps); deferred, it
	// also leaves the pages ingestion would refill meanwhile.
	if res.Done {
		more, err := s.vacuumStep(ctx)
		if err != nil {
			return store.RetentionResult{}, fmt.Errorf("retention: %w", err)
		}
		res.Done = !more
	}
	return res, nil
}

func (s *Store) retentionRound(ctx context.Context, tx hotTx, p store.RetentionParams) (store.RetentionResult, error) {
	res := store.RetentionResult{After: p.After}
	// Traffic of deleted projects first, one project at a time, whatever
	// its age.
	var project uint64
	err := tx.QueryRowContext(ctx, sqlTombstoneFirst).Scan(&project)
	switch {
	case err == nil:
		ids, err := queryIDs(ctx, tx, `SELECT id FROM events WHERE project_id = ? LIMIT ?`, project, p.Limit)
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM project_tombstones WHERE project_id = ?`, project)
			return res, err // not Done: other projects or old events may be left
		}
		res.Deleted = len(ids)
		return res, deleteEvents(ctx, tx, ids)
	case !errors.Is(err, sql.ErrNoRows):
		return res, err
	}

	before := micros(p.Before)
	var bound sql.NullInt64
	if err := tx.QueryRowContext(ctx, sqlRetentionBound, p.After, p.Limit, before).Scan(&bound); err != nil {
		return res, err
	}
	eventsDone := !bound.Valid
	if !eventsDone {
		ids, err := queryIDs(ctx, tx, sqlRetentionBatch, p.After, bound.Int64, before)
		if err != nil {
			return res, err
		}
		if err := deleteEvents(ctx, tx, ids); err != nil {
			return res, err
		}
		res.Deleted, res.After = len(ids), uint64(bound.Int64)
	}

	r, err := tx.ExecContext(ctx, sqlIdemExpire, micros(p.Now), p.Limit)
	if err != nil {
		return res, err
	}
	keys, _ := r.RowsAffected()
	res.Deleted += int(keys)
	res.Done = eventsDone && keys == 0
	return res, nil
}

// deleteEvents deletes the events ids with everything that hangs off them.
func deleteEvents(ctx context.Context, tx hotTx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	list := jsonIDs(ids)
	for _, q := range retentionDeletes {
		if _, err := tx.ExecContext(ctx, q, list); err != nil {
			return err
		}
	}
	return nil
}

// queryIDs returns the ids query selects.
func queryIDs(ctx context.Context, q queryer, query string, args ...any) ([]int64, error) {
	return queryList[int64](ctx, q, query, args...)
}

// queryList runs a query of one column and returns its values.
func queryList[T any](ctx context.Context, q queryer, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Space reuse. Deleting rows frees pages inside the file; SQLite reuses
// them for new rows but never gives them back to the file system by
// itself. A file created by this version has auto_vacuum = INCREMENTAL
// (see dsn), and once a retention pass has deleted what it can, each of
// its rounds runs vacuumStep, which moves pages from the end of the file
// into free ones and truncates it, in a background turn of its own sized
// by its hold: the file shrinks after a purge, without a long lock. A file created before keeps
// auto_vacuum = NONE: it reuses its free pages but keeps its size until
// converted with VACUUM (docs/operations.md).

// OpRetention and OpDeliverySweep name the background batches passed to
// Config.BatchFunc.
const (
	OpRetention     = "retention"
	OpDeliverySweep = "delivery_sweep"
)

const (
	// vacuumPages bounds the pages one step gives back: 1,024 pages of
	// 4 KiB (4 MiB). Each page moved rewrites the page that points to it,
	// so on a big store a step of 1,024 held the writer up to 100 ms or
	// more; the steps are sized by their hold below that.
	vacuumPages = 1024
	// vacuumReserve is how many free pages (16 MiB) stay in the file for
	// ingestion to fill, so that a store deleting as fast as it ingests
	// does not shrink and grow its file by turns.
	vacuumReserve = 4096
)

// readVacuumMode records whether the file was created for incremental
// vacuum.
func (s *Store) readVacuumMode(ctx context.Context) error {
	var mode int
	if err := s.write.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: read auto_vacuum: %w", err)
	}
	s.incrementalVacuum = mode == 2
	s.vacuumPages, s.vacuumReserve = vacuumPages, vacuumReserve
	return nil
}

// vacuumStep gives free pages beyond vacuumReserve back to the file system,
// as many as its sizer allows up to vacuumPages, and reports whether more
// are left to give.
func (s *Store) vacuumStep(ctx context.Context) (more bool, err error) {
	if !s.incrementalVacuum {
		return false, nil
	}
	// Most rounds leave free pages for ingestion to fill, within the
	// reserve: a read says so without a turn of the writer.
	var free int64
	if err := s.read.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return false, fmt.Errorf("vacuum: %w", err)
	}
	if free <= s.vacuumReserve {
		return false, nil
	}
	var n int64
	hold, err := s.txHeld(ctx, background(writeRetention), func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return err
		}
		if free <= s.vacuumReserve {
			return nil
		}
		n = min(free-s.vacuumReserve, int64(s.vacuumSize.size(int(s.vacuumPages))))
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, n)); err != nil {
			return err
		}
		more = free-n > s.vacuumReserve
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("vacuum: %w", err)
	}
	if n > 0 {
		s.vacuumSize.observe(int(n), hold)
	}
	return more, nil
}

// batchHook calls Config.BatchFunc, if any.
func (s *Store) batchHook(op string) {
	if s.batchFunc != nil {
		s.batchFunc(op)
	}
}
