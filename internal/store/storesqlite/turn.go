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
	durable bool      // commits with synchronous=FULL (see the package comment)
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
	h := s.lockWriter(t)
	defer h.end()
	durable, err := s.syncFor(ctx, t)
	if err != nil {
		return 0, err
	}
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
	s.committed(durable, h.elapsed())
	hold := h.end()
	if hold >= slowHold {
		s.log.Warn("sqlite: a write held the writer long", "kind", writeKindNames[t.kind], "hold", hold,
			"statements", work, "commit", hold-work, "synced", durable, "waited", h.got.Sub(h.asked))
	}
	return hold, nil
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

// syncDebtMax bounds how long background transactions committed with
// synchronous=NORMAL may hold the writer between two synced commits. The
// next synced commit writes their pages to disk with its own: without a
// bound, an ingest after a run of retention rounds synced megabytes and
// held every other ingest behind it for seconds. Past it, the background
// transaction commits synced itself, inside its own hold.
const syncDebtMax = 8 * time.Millisecond

// syncFor sets the write connection's synchronous mode for a write of t
// and reports whether the write is synced. The caller holds the writer.
func (s *Store) syncFor(ctx context.Context, t turn) (bool, error) {
	durable := t.durable || s.syncDebt >= syncDebtMax
	return durable, s.syncMode(ctx, durable)
}

// committed records a commit that held the writer for held: a synced one
// pays every debt, an unsynced one adds to it. The caller holds the writer.
func (s *Store) committed(durable bool, held time.Duration) {
	if durable {
		s.syncDebt = 0
	} else {
		s.syncDebt += held
	}
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
	h := s.lockWriter(t)
	defer h.end()
	durable, err := s.syncFor(ctx, t)
	if err != nil {
		return nil, err
	}
	r, err := s.write.ExecContext(ctx, query, args...)
	if err == nil {
		s.committed(durable, h.elapsed())
	}
	return r, err
}

// syncMode switches the write connection to synchronous=FULL (durable) or
// NORMAL before a write, when it is not there already. The caller holds
// the writer. In WAL mode NORMAL skips the commit's fsync only: a FULL
// commit after it syncs the WAL up to itself, NORMAL commits included.
// (A connection database/sql opens again starts FULL, from the DSN: at
// worst one background write is synced that need not be.)
func (s *Store) syncMode(ctx context.Context, durable bool) error {
	if s.syncNormal == !durable {
		return nil
	}
	mode := "FULL"
	if !durable {
		mode = "NORMAL"
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA synchronous = `+mode); err != nil {
		return fmt.Errorf("set synchronous=%s: %w", mode, err)
	}
	s.syncNormal = !durable
	return nil
}
