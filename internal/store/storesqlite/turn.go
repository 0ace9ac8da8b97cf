package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Every write takes a turn on the one write connection (writer.go): a
// turn says its priority, whether its commit is synced, and its kind for
// the writer's statistics (writer_stats.go).

// turn is a write's place in the writer queue, its durability, and what
// it is for the writer's statistics.
type turn struct {
	urgent  bool      // ahead of background writers (see writer.go)
	exempt  bool      // a background writer the throttle does not hold (see writer.go)
	durable bool      // returns once the WAL is synced past its commit (walsync.go)
	kind    writeKind // what the write is (writer_stats.go)
}

var (
	// turnUrgent is a write a client waits on.
	turnUrgent = turn{urgent: true, durable: true, kind: writeAPI}
	// turnIngest is the write of accepted events.
	turnIngest = turn{urgent: true, durable: true, kind: writeIngest}
	// turnReseal is background work that must not be lost even with the
	// power: re-sealing secrets under a new key, which the operator may
	// then remove.
	turnReseal = turn{durable: true, kind: writeUpkeep}
	// turnCheckpoint is the checkpointer's round (checkpoint.go): what
	// the throttle waits for, so the throttle does not hold it.
	turnCheckpoint = turn{exempt: true, kind: writeCheckpoint}
)

// background is the turn of the engine's and the sweepers' work: its commit
// is not synced on its own.
func background(k writeKind) turn { return turn{kind: k} }

// tx runs fn in a write transaction, ahead of background writers: for
// writes a client is waiting on (an API change). It returns once the
// commit is on disk.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.txRun(ctx, turnUrgent, fn)
}

// txBackground runs fn in a write transaction after the urgent writers
// waiting: for the engine's outcomes and leases and for retention. Its
// commit is not synced on its own (see the package comment).
func (s *Store) txBackground(ctx context.Context, k writeKind, fn func(*sql.Tx) error) error {
	return s.txRun(ctx, background(k), fn)
}

func (s *Store) txRun(ctx context.Context, t turn, fn func(*sql.Tx) error) error {
	_, err := s.txHeld(ctx, t, fn)
	return err
}

// txHeld is txRun that also returns how long the transaction held the
// writer, its commit included, when it committed: what sizes bulk work's
// batches (holdsize.go).
func (s *Store) txHeld(ctx context.Context, t turn, fn func(*sql.Tx) error) (time.Duration, error) {
	if err := s.refused(t); err != nil {
		return 0, err
	}
	h := s.lockWriter(t)
	defer h.end()
	durable := s.syncs(t)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return 0, err
	}
	work := h.elapsed()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	n := s.committed(durable, h.elapsed())
	hold := h.end()
	if hold >= slowHold {
		s.log.Warn("sqlite: a write held the writer long", "kind", writeKindNames[t.kind], "hold", hold,
			"statements", work, "commit", hold-work, "synced", durable, "waited", h.got.Sub(h.asked))
	}
	return hold, s.synced(t, n)
}

// slowHold is the hold past which a write is logged: every other write
// waited for it, ingests included.
const slowHold = 500 * time.Millisecond

// heldTurn is a turn on the writer, from lockWriter.
type heldTurn struct {
	s          *Store
	kind       writeKind
	asked, got time.Time // the machine's clock: waits and holds are real time
	hold       time.Duration
	ended      bool
}

// lockWriter waits for t's turn on the writer.
func (s *Store) lockWriter(t turn) *heldTurn {
	h := &heldTurn{s: s, kind: t.kind, asked: time.Now()}
	s.writer.lockAs(t.urgent, t.exempt)
	h.got = time.Now()
	return h
}

// elapsed is how long the turn has held the writer so far.
func (h *heldTurn) elapsed() time.Duration { return time.Since(h.got) }

// end ends the turn, records its wait and hold, and returns the hold;
// called again, it only returns the hold.
func (h *heldTurn) end() time.Duration {
	if !h.ended {
		h.ended, h.hold = true, h.elapsed()
		h.s.writer.unlock()
		h.s.writerStats.observe(h.kind, h.got.Sub(h.asked), h.hold)
	}
	return h.hold
}

// syncDebtMax bounds how long background transactions committed without a
// sync may hold the writer between two synced commits. The next sync
// writes their pages to disk with the synced commit's, and its writer
// waits for it: without a bound, an ingest after a run of retention rounds
// synced megabytes. Past it, the background transaction waits for a sync
// of its own (after its turn, like any durable write).
const syncDebtMax = 8 * time.Millisecond

// syncs reports whether a write of t waits for the WAL's sync. The caller
// holds the writer.
func (s *Store) syncs(t turn) bool {
	return t.durable || s.syncDebt >= syncDebtMax
}

// committed records a commit that held the writer for held: a synced one
// pays every debt and is counted for the WAL's sync (its number for
// synced), an unsynced one adds to the debt. The caller holds the writer.
func (s *Store) committed(durable bool, held time.Duration) uint64 {
	if !durable {
		s.syncDebt += held
		return 0
	}
	s.syncDebt = 0
	return s.wal.commit()
}

// synced waits, after the writer's turn ended, for the WAL's sync past
// commit n when the write was synced (n > 0). A background write synced
// only to pay the debt does not fail for it: its commit stands, and the
// failure stops every acknowledged write from then on (walsync.go).
func (s *Store) synced(t turn, n uint64) error {
	if n == 0 {
		return nil
	}
	if err := s.wal.wait(n); err != nil && t.durable {
		return err
	}
	return nil
}

// refused is the error of a failed WAL sync for a durable write: it would
// commit and then fail, and the client retry it. Background writes go on.
func (s *Store) refused(t turn) error {
	if t.durable {
		return s.wal.failed()
	}
	return nil
}

// exec runs one urgent autocommit write.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.execRun(ctx, turnUrgent, query, args...)
}

// execBackground runs one background autocommit write, not synced on its
// own.
func (s *Store) execBackground(ctx context.Context, k writeKind, query string, args ...any) (sql.Result, error) {
	return s.execRun(ctx, background(k), query, args...)
}

func (s *Store) execRun(ctx context.Context, t turn, query string, args ...any) (sql.Result, error) {
	if err := s.refused(t); err != nil {
		return nil, err
	}
	h := s.lockWriter(t)
	defer h.end()
	durable := s.syncs(t)
	r, err := s.write.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	n := s.committed(durable, h.elapsed())
	h.end()
	return r, s.synced(t, n)
}
