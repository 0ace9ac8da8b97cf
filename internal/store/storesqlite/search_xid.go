package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// External ids. A search finds an event by its provider's id
// (payload.ExternalID, kept in events.external_id) exactly. An index of
// that column cost retention half of what it wrote: provider ids are
// random, so the entries of the events a round deletes lie on as many
// random pages of an index as big as the store, 500 of the 1,100 pages a
// round of 500 events rewrote at 2M events, and dropping the index
// doubled the purge's rate (docs/benchmarks.md). So the ids are kept with
// the body search index instead, a table per part, event_xid_<n>: the
// indexer fills it as it indexes the part's bodies (indexBatch), and it
// goes whole with its part (dropPart), retention never deleting from it.
// A lookup reads every part's table and the events past the parts
// (xidLookup), like a body search reads their words, in the same
// transaction (searchCandidates). When the indexer is far behind (the
// backfill after an upgrade from before the index: every event), the ids
// of the events past it are copied ahead of it (xidAhead), so that a
// lookup reads a few thousand events at most. A part's table
// keeps the ids of events deleted since; the lists join what a lookup
// returns to events, which drops them.

// xidTable is the table of the external ids of the events of part p.
func (p searchPart) xidTable() string { return "event_xid_" + strconv.FormatInt(p.n, 10) }

// createXidTable creates part p's table of external ids in tx.
func createXidTable(ctx context.Context, tx *sql.Tx, p searchPart) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE `+p.xidTable()+` (
		external_id TEXT NOT NULL,
		event_id    INTEGER NOT NULL,
		PRIMARY KEY (external_id, event_id)) WITHOUT ROWID`)
	if err != nil {
		return fmt.Errorf("create external id table of search index part %d: %w", p.n, err)
	}
	return nil
}

// externalIDs returns the ids, ascending, of the events whose external id
// is text, in one read transaction of its own, through the parts searches
// read now (xidLookup): for a list with no body search to do.
func (s *Store) externalIDs(ctx context.Context, text string) ([]int64, error) {
	if s.search.set.Load() == nil {
		return nil, errors.New("external ids: the store was opened without migrating it (no search index parts)")
	}
	ps, release := s.readParts()
	defer release()
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("external ids: %w", err)
	}
	defer tx.Rollback()
	past, err := indexedPast(ctx, tx, ps)
	if err != nil {
		return nil, fmt.Errorf("external ids: %w", err)
	}
	return xidLookup(ctx, tx, ps, past, text)
}

// indexedPast returns the id past which no event is in a part of ps: the
// indexer's cursor, or the end of ps's newest part when the indexer has
// started one since ps was read.
func indexedPast(ctx context.Context, tx *sql.Tx, ps *partSet) (int64, error) {
	var cursor int64
	if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM search_index`).Scan(&cursor); err != nil {
		return 0, fmt.Errorf("read cursor: %w", err)
	}
	return min(cursor, ps.parts[len(ps.parts)-1].last), nil
}

// xidLookup returns the ids, ascending, of the events whose external id is
// text: from the tables of the parts ps, from the tables of the ids copied
// ahead of them (xidAhead) for the events past the parts, and among the
// events past both (not indexed yet and not copied ahead: xidAheadMin at
// most, and what arrived since the last copy, when the indexer is behind;
// a second's worth when it keeps up), which this reads.
func xidLookup(ctx context.Context, tx *sql.Tx, ps *partSet, past int64, text string) ([]int64, error) {
	var ahead int64
	if err := tx.QueryRowContext(ctx, `SELECT xid_through FROM search_index`).Scan(&ahead); err != nil {
		return nil, fmt.Errorf("external ids: read cursor: %w", err)
	}
	chunks, err := xidAheadTables(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("external ids: %w", err)
	}
	lookups := make([]string, 0, len(ps.parts)+len(chunks)+1)
	for _, p := range ps.parts {
		lookups = append(lookups, `SELECT event_id FROM `+p.xidTable()+` WHERE external_id = ?1`)
	}
	for _, t := range chunks {
		lookups = append(lookups, `SELECT event_id FROM `+t+` WHERE external_id = ?1 AND event_id > ?2`)
	}
	lookups = append(lookups, `SELECT id FROM events WHERE id > ?3 AND external_id = ?1`)
	ids, err := queryIDs(ctx, tx, strings.Join(lookups, " UNION ALL "), text, past, max(past, ahead))
	if err != nil {
		return nil, fmt.Errorf("external ids: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// xidAheadMin is how many events the index may be behind before their
// external ids are copied ahead of it (xidAhead): below it a lookup reads
// them from events, a few milliseconds, and a store whose indexer keeps up
// writes nothing more.
const xidAheadMin = 10_000

// xidAheadMax bounds the events one step of xidAhead reads.
const xidAheadMax = 8_192

// xidAheadChunk is how many event ids one table of ids copied ahead of the
// index covers: the ids of event n are in event_xid_ahead_<n/xidAheadChunk>.
// A table is dropped whole once the index has passed it: deleting its rows
// as the index went would rewrite a page per row, the ids being random.
const xidAheadChunk = 65_536

// xidAheadTable is the table of the ids copied ahead of the index of the
// events of chunk k: ids k*xidAheadChunk+1 to (k+1)*xidAheadChunk.
func xidAheadTable(k int64) string { return "event_xid_ahead_" + strconv.FormatInt(k, 10) }

// xidAheadTables lists the tables of ids copied ahead of the index.
func xidAheadTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	return queryList[string](ctx, tx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB 'event_xid_ahead_[0-9]*'`)
}

// xidCursors is what the indexer has done, for xidAhead and xidAheadDrop:
// its cursor, how far ids were copied ahead of it, and the newest event.
type xidCursors struct{ indexed, ahead, newest int64 }

// readXidCursors reads the cursors, once an indexer round.
func (s *Store) readXidCursors(ctx context.Context) (xidCursors, error) {
	var c xidCursors
	if err := s.read.QueryRowContext(ctx, `SELECT indexed_through, xid_through, (SELECT coalesce(max(id), 0) FROM events)
		FROM search_index`).Scan(&c.indexed, &c.ahead, &c.newest); err != nil {
		return c, fmt.Errorf("external ids ahead: read cursors: %w", err)
	}
	return c, nil
}

// xidAhead copies the external ids of the next events past both cursors
// c into the tables of ids copied ahead of the index, one step sized by
// its hold, when more than xidAheadMin events wait for the index: after an
// upgrade from before it, every event, for as long as the backfill takes
// (minutes at 10M events). It reports whether it did a step. The tables
// the index has passed are dropped (xidAheadDrop).
func (s *Store) xidAhead(ctx context.Context, c xidCursors) (bool, error) {
	from := max(c.indexed, c.ahead)
	if c.newest-from <= s.xidAheadMin {
		return false, nil
	}
	// One chunk's table at most per step.
	chunk := s.xidAheadChunk
	to := min(c.newest, from+int64(s.xidAheadSize.size(xidAheadMax)), (from/chunk+1)*chunk)
	t := xidAheadTable(from / chunk)
	hold, err := s.txHeld(ctx, background(writeIndex), func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE search_index SET xid_through = ? WHERE xid_through = ?`, to, c.ahead)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil // raced another step
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (
			external_id TEXT NOT NULL,
			event_id    INTEGER NOT NULL,
			PRIMARY KEY (external_id, event_id)) WITHOUT ROWID`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO `+t+` (external_id, event_id)
			SELECT external_id, id FROM events WHERE id > ? AND id <= ? AND external_id IS NOT NULL
			ORDER BY external_id, id`, from, to)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("external ids ahead: %w", err)
	}
	s.xidAheadSize.observe(int(to-from), hold)
	return true, nil
}

// xidAheadDrop drops the tables of ids copied ahead of the index whose
// events it has all passed, one a transaction:
// the parts' tables have their ids now. It looks for them once the cursor
// has entered a chunk it had not looked in, and at the first round (what
// a stop left), not every round. (A table the index has only partly
// passed when it catches up stays until it has passed it all; a lookup
// skips the ids of the events the index has passed.) The caller holds
// s.search.mu.
func (s *Store) xidAheadDrop(ctx context.Context) error {
	var indexed int64
	if err := s.read.QueryRowContext(ctx, `SELECT indexed_through FROM search_index`).Scan(&indexed); err != nil {
		return fmt.Errorf("drop external ids copied ahead: %w", err)
	}
	chunk := indexed / s.xidAheadChunk
	if s.search.aheadLooked && chunk == s.search.aheadChunk {
		return nil
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("drop external ids copied ahead: %w", err)
	}
	tables, err := xidAheadTables(ctx, tx)
	tx.Rollback()
	if err != nil {
		return fmt.Errorf("drop external ids copied ahead: %w", err)
	}
	for _, t := range tables {
		k, err := strconv.ParseInt(strings.TrimPrefix(t, "event_xid_ahead_"), 10, 64)
		if err != nil || (k+1)*s.xidAheadChunk > indexed {
			continue
		}
		if _, err := s.execBackground(ctx, writeIndex, `DROP TABLE IF EXISTS `+t); err != nil {
			return fmt.Errorf("drop external ids copied ahead: %w", err)
		}
	}
	s.search.aheadLooked, s.search.aheadChunk = true, chunk
	return nil
}

// dropXidAhead drops every table of ids copied ahead of the index, in tx:
// migration 0022's down step.
func dropXidAhead(ctx context.Context, tx *sql.Tx) error {
	tables, err := xidAheadTables(ctx, tx)
	if err != nil {
		return fmt.Errorf("read the tables of external ids copied ahead: %w", err)
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+t); err != nil {
			return fmt.Errorf("drop %s: %w", t, err)
		}
	}
	return nil
}

// externalCond is the condition, over `events e`, of the events ids (an
// externalIDs answer).
func externalCond(ids []int64) (string, []any) {
	return "e.id IN (SELECT value FROM json_each(?))", []any{jsonIDs(ids)}
}

// fillXidTables is migration 0021's first step (it drops the index of
// events.external_id after): every part searches read gets its table of
// external ids, filled with those of the events it indexes. One
// transaction, run once at start before the node serves: about a second
// per 500,000 events on the development machine (docs/benchmarks.md).
func fillXidTables(ctx context.Context, tx *sql.Tx) error {
	var cursor int64
	if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM search_index`).Scan(&cursor); err != nil {
		return fmt.Errorf("read the search index cursor: %w", err)
	}
	parts, err := queryParts(ctx, tx, `dropping = 0`)
	if err != nil {
		return fmt.Errorf("read search index parts: %w", err)
	}
	for _, p := range parts {
		if err := createXidTable(ctx, tx, p); err != nil {
			return err
		}
		// In the table's order: appended, not inserted at random.
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+p.xidTable()+` (external_id, event_id)
			SELECT external_id, id FROM events WHERE id BETWEEN ? AND ? AND external_id IS NOT NULL
			ORDER BY external_id, id`, p.first, min(p.last, cursor)); err != nil {
			return fmt.Errorf("fill the external ids of search index part %d: %w", p.n, err)
		}
	}
	return nil
}

// dropXidTables drops every part's table of external ids, in tx: migration
// 0021's down step, before its SQL indexes events.external_id again.
func dropXidTables(ctx context.Context, tx *sql.Tx) error {
	parts, err := queryParts(ctx, tx, `1`)
	if err != nil {
		return fmt.Errorf("read search index parts: %w", err)
	}
	for _, p := range parts {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+p.xidTable()); err != nil {
			return fmt.Errorf("drop the external ids of search index part %d: %w", p.n, err)
		}
	}
	return nil
}
