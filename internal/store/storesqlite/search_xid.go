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
// transaction (searchCandidates). A part's table
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
// text: from the tables of the parts ps, and among the events past them
// (not indexed yet: a second's worth while the indexer keeps up, every
// event until the backfill after an upgrade from before the index is
// done, which this then reads).
func xidLookup(ctx context.Context, tx *sql.Tx, ps *partSet, past int64, text string) ([]int64, error) {
	lookups := make([]string, 0, len(ps.parts)+1)
	for _, p := range ps.parts {
		lookups = append(lookups, `SELECT event_id FROM `+p.xidTable()+` WHERE external_id = ?1`)
	}
	lookups = append(lookups, `SELECT id FROM events WHERE id > ?2 AND external_id = ?1`)
	ids, err := queryIDs(ctx, tx, strings.Join(lookups, " UNION ALL "), text, past)
	if err != nil {
		return nil, fmt.Errorf("external ids: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
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
