package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The body search index is kept in parts: a series of FTS5 tables,
// event_search_<n>, each over a range of event ids (search_parts). One
// index of every event made each step of its upkeep grow with the store:
// a merge step is never shorter than one word's list over the level it
// merges, and at 2M events steps held the writer 256-512 ms
// (docs/benchmarks.md). A part holds at most
// searchPartEvents events, which bounds every step on it.
//
// The indexer fills the newest part and starts the next one once the
// newest's range is full. Retention does not delete from the index: a
// deleted event's id stays in its part, and searches drop it as they join
// their candidates to events (event ids are never handed out twice:
// AUTOINCREMENT). Once no event of a part's range is left, the part is
// dropped whole: taken out of the searches' set (marked dropping), then
// emptied in steps sized by their hold once no search reads it, then
// dropped.

// OpSearchDrop names the steps emptying a dropped part, passed to
// Config.BatchFunc.
const OpSearchDrop = "search_drop"

// searchPartEvents is how many event ids a new part covers.
const searchPartEvents = 1 << 16

// searchDropRows bounds the rows one step emptying a part deletes; the
// steps are sized by their hold below it.
const searchDropRows = 4096

// searchPart is one part of the index.
type searchPart struct {
	n           int64 // the table is event_search_<n>
	first, last int64 // the event ids it covers, both included
}

func (p searchPart) table() string { return "event_search_" + strconv.FormatInt(p.n, 10) }

// partSet is the parts searches read, oldest first (never empty: the
// newest part is never dropped), and how many searches read them now.
type partSet struct {
	parts []searchPart
	users atomic.Int64
}

// searchParts is a Store's parts: the set searches read, and the
// indexer's state, which only SearchIndex touches (under mu).
type searchParts struct {
	set atomic.Pointer[partSet]

	mu       sync.Mutex
	retired  []*partSet     // sets replaced, until no search reads them
	unmerged map[int64]bool // parts that may have segments left to merge
	events   int64          // searchPartEvents; tests lower it
	dropRows int            // searchDropRows; tests lower it
	// aheadLooked and aheadChunk say whether and in which chunk of event
	// ids the indexer's cursor was when xidAheadDrop last looked for
	// tables to drop.
	aheadLooked bool
	aheadChunk  int64
}

// readParts returns the set searches read for as long as they call
// release. A dropping part is emptied only once no search holds a set
// that names it (see retireSearchParts).
func (s *Store) readParts() (ps *partSet, release func()) {
	for {
		ps = s.search.set.Load()
		ps.users.Add(1)
		// Re-read after counting: a set replaced before the count was
		// seen may already be emptying a part it names.
		if s.search.set.Load() == ps {
			return ps, func() { ps.users.Add(-1) }
		}
		ps.users.Add(-1)
	}
}

// loadSearchParts reads the registry into the set searches read; every
// live part but those marked whole (mergePart) may have segments to merge.
func (s *Store) loadSearchParts(ctx context.Context) error {
	s.search.mu.Lock()
	defer s.search.mu.Unlock()
	parts, err := queryParts(ctx, s.write, `dropping = 0`)
	if err != nil {
		return fmt.Errorf("sqlite: read search index parts: %w", err)
	}
	if len(parts) == 0 {
		return errors.New("sqlite: the search index has no part (search_parts is empty)")
	}
	whole, err := queryParts(ctx, s.write, `dropping = 0 AND whole = 1`)
	if err != nil {
		return fmt.Errorf("sqlite: read search index parts: %w", err)
	}
	s.search.unmerged = map[int64]bool{}
	for i, p := range parts {
		// The newest is never whole: the indexer still fills it.
		if i == len(parts)-1 || !slices.Contains(whole, p) {
			s.search.unmerged[p.n] = true
		}
	}
	s.search.set.Store(&partSet{parts: parts})
	return nil
}

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryParts returns the registry's parts that meet where, oldest first.
func queryParts(ctx context.Context, q queryer, where string) ([]searchPart, error) {
	rows, err := q.QueryContext(ctx, `SELECT part, first_event, last_event FROM search_parts WHERE `+where+` ORDER BY part`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var parts []searchPart
	for rows.Next() {
		var p searchPart
		if err := rows.Scan(&p.n, &p.first, &p.last); err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, rows.Err()
}

// createPart creates part p in tx, with its table of external ids
// (search_xid.go), merging in steps of the indexer's own
// (searchAutomerge). Columnsize off: nothing reads a row's word count, and
// it cost 12 bytes per event.
func createPart(ctx context.Context, tx *sql.Tx, p searchPart) error {
	t := p.table()
	for _, q := range []string{
		`CREATE VIRTUAL TABLE ` + t + ` USING fts5(body, content='', columnsize=0, detail=none,
			tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co'")`,
		`INSERT INTO ` + t + ` (` + t + `, rank) VALUES ('automerge', ` + strconv.Itoa(searchAutomerge) + `)`,
		`INSERT INTO search_parts (part, first_event, last_event) VALUES (` +
			strconv.FormatInt(p.n, 10) + `, ` + strconv.FormatInt(p.first, 10) + `, ` + strconv.FormatInt(p.last, 10) + `)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create search index part %d: %w", p.n, err)
		}
	}
	return createXidTable(ctx, tx, p)
}

// publish makes parts the set searches read. The set it replaces is kept
// until no search reads it: it may name a part dropped since.
func (s *Store) publish(parts []searchPart) {
	s.search.retired = append(s.search.retired, s.search.set.Swap(&partSet{parts: parts}))
}

// retireSearchParts takes out of searches every part but the newest whose
// range holds no event any more, then empties and drops the parts taken
// out, once no search reads them.
func (s *Store) retireSearchParts(ctx context.Context) error {
	ps := s.search.set.Load()
	empty, err := queryParts(ctx, s.read, `dropping = 0 AND part < `+strconv.FormatInt(ps.parts[len(ps.parts)-1].n, 10)+`
		AND NOT EXISTS (SELECT 1 FROM events WHERE id BETWEEN first_event AND last_event)`)
	if err != nil {
		return fmt.Errorf("look for emptied parts: %w", err)
	}
	if len(empty) > 0 {
		if _, err := s.txHeld(ctx, background(writeMerge), func(tx *sql.Tx) error {
			for _, p := range empty {
				if _, err := tx.ExecContext(ctx, `UPDATE search_parts SET dropping = 1 WHERE part = ?`, p.n); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("retire parts: %w", err)
		}
		live := make([]searchPart, 0, len(ps.parts)-len(empty))
		for _, p := range ps.parts {
			if !slices.Contains(empty, p) {
				live = append(live, p)
			}
		}
		s.publish(live)
		for _, p := range empty {
			delete(s.search.unmerged, p.n)
		}
	}
	// A set replaced gains no search once none reads it (readParts).
	s.search.retired = slices.DeleteFunc(s.search.retired, func(old *partSet) bool { return old.users.Load() == 0 })
	if len(s.search.retired) > 0 {
		return nil // a search may read a part taken out: next time
	}
	dropping, err := queryParts(ctx, s.read, `dropping = 1`)
	if err != nil {
		return fmt.Errorf("read dropping parts: %w", err)
	}
	for _, p := range dropping {
		if err := s.dropPart(ctx, p); err != nil {
			return fmt.Errorf("drop part %d: %w", p.n, err)
		}
	}
	return nil
}

// dropPart empties part p's tables in steps, each a background turn sized
// by its hold, then drops it: a drop of a full part would free every page
// of it in one turn.
func (s *Store) dropPart(ctx context.Context, p searchPart) error {
	tables, err := partShadows(ctx, s.read, p)
	if err != nil {
		return err
	}
	for {
		limit := s.partDropSize.size(s.search.dropRows)
		var deleted int64
		hold, err := s.txHeld(ctx, background(writeMerge), func(tx *sql.Tx) error {
			for _, t := range tables {
				r, err := tx.ExecContext(ctx, `DELETE FROM `+t.name+` WHERE (`+t.key+`) IN (SELECT `+t.key+` FROM `+t.name+` LIMIT ?)`,
					limit-int(deleted))
				if err != nil {
					return err
				}
				n, _ := r.RowsAffected()
				if deleted += n; deleted >= int64(limit) {
					s.batchHook(OpSearchDrop)
					return nil
				}
			}
			s.batchHook(OpSearchDrop)
			// Every table is empty: the drops free their root pages alone.
			// (A part being dropped when migration 0021 ran has no table
			// of external ids.)
			for _, drop := range []string{`DROP TABLE ` + p.table(), `DROP TABLE IF EXISTS ` + p.xidTable()} {
				if _, err := tx.ExecContext(ctx, drop); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM search_parts WHERE part = ?`, p.n)
			return err
		})
		if err != nil {
			return err
		}
		if deleted < int64(limit) {
			return nil
		}
		s.partDropSize.observe(int(deleted), hold)
	}
}

// shadow is one of a part's FTS5 tables and the key (columns) its rows
// are deleted by.
type shadow struct{ name, key string }

// partShadows lists the tables of p holding rows per segment page or per
// event: _data (the segments), _idx (their pages' first words; WITHOUT
// ROWID), _docsize (only in part 1 of an upgraded store: parts made
// since have columnsize off) and its external ids (search_xid.go). _config
// holds a few settings.
func partShadows(ctx context.Context, q queryer, p searchPart) ([]shadow, error) {
	t := p.table()
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN (?, ?, ?, ?)`,
		t+"_data", t+"_idx", t+"_docsize", p.xidTable())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []shadow
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		key := "rowid"
		switch {
		case strings.HasSuffix(name, "_idx"):
			key = "segid, term"
		case name == p.xidTable():
			key = "external_id, event_id"
		}
		out = append(out, shadow{name: name, key: key})
	}
	return out, rows.Err()
}

// dropSearchParts drops every part of the index, in tx: the down
// migration of search_parts (0020) runs it first, as its SQL cannot name
// the parts' tables. It is one transaction however big the index: going
// down is done with the server stopped.
func dropSearchParts(ctx context.Context, tx *sql.Tx) error {
	parts, err := queryParts(ctx, tx, `1`)
	if err != nil {
		return fmt.Errorf("read search index parts: %w", err)
	}
	for _, p := range parts {
		for _, t := range []string{p.table(), p.xidTable()} {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+t); err != nil {
				return fmt.Errorf("drop search index part %d: %w", p.n, err)
			}
		}
	}
	return nil
}
