package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Space reuse. Deleting rows frees pages inside the file; SQLite reuses
// them for new rows but never gives them back to the file system by
// itself. A file created by this version has auto_vacuum = INCREMENTAL
// (see dsn), and each retention round ends with vacuumStep, which moves up
// to vacuumPages pages from the end of the file into free ones and
// truncates it, in the round's transaction (one commit, one fsync): the
// file shrinks as retention deletes, without a long lock. A file created
// before keeps auto_vacuum = NONE: it reuses its free pages but keeps its
// size until converted with VACUUM (docs/operations.md).

// OpRetention and OpDeliverySweep name the background batches passed to
// Config.BatchFunc.
const (
	OpRetention     = "retention"
	OpDeliverySweep = "delivery_sweep"
)

const (
	// vacuumPages bounds the pages one step gives back: 1,024 pages of
	// 4 KiB (4 MiB), more than a round of 1,000 events of 1 KiB frees,
	// took 2-10 ms on the development machine.
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
// at most vacuumPages of them, in tx, and reports whether more are left to
// give.
func (s *Store) vacuumStep(ctx context.Context, tx *sql.Tx) (more bool, err error) {
	if !s.incrementalVacuum {
		return false, nil
	}
	var free int64
	if err := tx.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return false, fmt.Errorf("vacuum: %w", err)
	}
	if free <= s.vacuumReserve {
		return false, nil
	}
	n := min(free-s.vacuumReserve, s.vacuumPages)
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, n)); err != nil {
		return false, fmt.Errorf("vacuum: %w", err)
	}
	return free-n > s.vacuumReserve, nil
}

// batchHook calls Config.BatchFunc, if any.
func (s *Store) batchHook(op string) {
	if s.batchFunc != nil {
		s.batchFunc(op)
	}
}
