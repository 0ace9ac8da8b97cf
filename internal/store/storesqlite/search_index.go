package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
)

// The body search index: FTS5 indexes of the words of each event's body,
// in parts over ranges of event ids (search_parts.go), filled in the
// background by SearchIndex rather than at ingest: ingestion writes
// nothing to it and never waits for it. search_index.indexed_through is
// the indexer's cursor: every event with an id up to it is in a part (or
// was deleted), none past it is.
// Events get their ids in commit order (one writer, ids only grow), so no
// event can appear behind the cursor later.
//
// A body search (searchCandidates, indexSearch) reads the index up to the
// cursor and checks the bodies of the events past it: complete whatever the indexer's lag.
// The indexer keeps up with ingestion by far (docs/benchmarks.md), so the
// events past the cursor are a second's worth; after an upgrade they are
// every event until the backfill is done, and the search falls back to
// reading the project's events (walkSearch); the external ids of those
// events are copied ahead of the index meanwhile (xidAhead).

// OpSearchIndex names the indexer's batches passed to Config.BatchFunc.
const OpSearchIndex = "search_index"

// A part's insert (indexBatch) must stay a one-row VALUES insert, and
// nothing that can abort half-way may follow it in its transaction: SQLite
// opens a statement journal for such a statement (an INSERT … SELECT, an
// insert checking foreign keys), tells every virtual table written in the
// transaction (xSavepoint), and FTS5 then flushes what it holds in memory
// to disk as a new segment. An insert per event followed by such a
// statement writes a segment per event, and the merges of those segments
// grew with the index: that made ingest "quadratic" when the index was
// kept in the ingest transaction (docs/benchmarks.md).

// searchAutomerge is each part's automerge setting: off. FTS5 merges
// its segments as it flushes a transaction's words, and how much is due
// does not follow the transaction's size: every 64 leaf pages written, it
// merges 64 pages per level of the index (about 600 pages, 2.5 MiB, at 2M
// events in one index) in that transaction. One index batch in a few,
// however small, held the writer 64-128 ms so, with every ingest queued
// behind it (docs/benchmarks.md). With automerge off the indexer merges in
// steps of its own instead (mergeSearchIndex), each a background turn
// sized by its hold. FTS5 still merges at once a level that reaches
// crisismerge (16) segments: only if the steps fall that far behind.
const searchAutomerge = 0

// setSearchConfig turns automerge off in part 1, the index migration 0020
// kept, if it is still searched and automerge is not off yet (a store
// upgraded from before it was). Parts made since are created so
// (createPart).
func (s *Store) setSearchConfig(ctx context.Context) error {
	oldest := s.search.set.Load().parts[0]
	if oldest.n != 1 {
		return nil // dropped: its events are all gone
	}
	t := oldest.table()
	var v int64
	err := s.write.QueryRowContext(ctx, `SELECT v FROM `+t+`_config WHERE k = 'automerge'`).Scan(&v)
	switch {
	case err == nil && v == searchAutomerge:
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: read search index part 1 automerge: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO `+t+` (`+t+`, rank) VALUES ('automerge', ?)`, searchAutomerge); err != nil {
		return fmt.Errorf("sqlite: set search index part 1 automerge: %w", err)
	}
	return nil
}

// optimize runs pragma, a PRAGMA optimize, and then resets what it
// recorded about event_search's shadow tables (pinSearchStats).
func (s *Store) optimize(ctx context.Context, pragma string) error {
	if _, err := s.write.ExecContext(ctx, pragma); err != nil {
		return fmt.Errorf("sqlite: optimize: %w", err)
	}
	return s.pinSearchStats(ctx)
}

// searchDataRows is the row count the planner is told each part's _data
// table has, whatever it holds: large, so that every FTS5 statement on it
// seeks by key.
const searchDataRows = "1000000"

// pinSearchStats replaces the planner statistics of the parts' shadow
// tables by one fixed row count for each _data table. PRAGMA optimize
// analyses a table it has never analysed, so a new store got statistics
// of a two-row _data table, and a node that runs for weeks kept them while
// the index grew to millions of rows. With them SQLite planned FTS5's
// range delete (DELETE FROM …_data WHERE id>=? AND id<=?, run by every
// merge of the index) as a scan of the table: filling the index fell from
// 20,000 events/s to 2,000/s by 700,000 events and kept falling
// (docs/benchmarks.md). FTS5's statements all look rows up by key; a large
// count keeps them doing so. Deleting the statistics would not do: a
// connection keeps a table's last row count when its statistics go, until
// it reloads the schema. A part made since the last optimize has no
// statistics: the planner's default for such a table is about a million
// rows too.
func (s *Store) pinSearchStats(ctx context.Context) error {
	var exists bool
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_stat1'`).Scan(&exists); err != nil {
		return fmt.Errorf("sqlite: look for sqlite_stat1: %w", err)
	}
	if !exists {
		return nil // nothing analysed yet: the planner uses its defaults
	}
	var other int
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1
		WHERE tbl LIKE 'event\_search\_%' ESCAPE '\'
		AND NOT (tbl LIKE '%\_data' ESCAPE '\' AND idx IS NULL AND stat = '`+searchDataRows+`')`).Scan(&other); err != nil {
		return fmt.Errorf("sqlite: read search index statistics: %w", err)
	}
	if other == 0 {
		return nil
	}
	stmts := []string{
		`DELETE FROM sqlite_stat1 WHERE tbl LIKE 'event\_search\_%' ESCAPE '\'`,
		`INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT name, NULL, '` + searchDataRows + `' FROM sqlite_schema
			WHERE type = 'table' AND name LIKE 'event\_search\_%\_data' ESCAPE '\'`,
		// The planner reads the statistics when it loads the schema.
		`ANALYZE sqlite_schema`,
	}
	var stat4 bool
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&stat4); err != nil {
		return fmt.Errorf("sqlite: look for sqlite_stat4: %w", err)
	}
	if stat4 {
		stmts = append([]string{`DELETE FROM sqlite_stat4 WHERE tbl LIKE 'event\_search\_%' ESCAPE '\'`}, stmts...)
	}
	for _, q := range stmts {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: pin search index statistics: %w", err)
		}
	}
	return nil
}

// pendingBody is an event to index, its body's text and its external id
// ("" for none).
type pendingBody struct {
	id             int64
	text, external string
}

// SearchIndex implements store.SearchIndexer: a batch of events indexed
// into the newest part (indexBatch), the parts it wrote merged
// (mergeSearchIndex), and the parts whose events are all deleted dropped
// (retireSearchParts).
func (s *Store) SearchIndex(ctx context.Context, limit int) (store.SearchIndexResult, error) {
	if limit <= 0 {
		return store.SearchIndexResult{}, fmt.Errorf("search index: limit %d", limit)
	}
	s.search.mu.Lock()
	defer s.search.mu.Unlock()
	cur, err := s.readXidCursors(ctx)
	if err != nil {
		return store.SearchIndexResult{}, fmt.Errorf("search index: %w", err)
	}
	ahead, err := s.xidAhead(ctx, cur)
	if err != nil {
		return store.SearchIndexResult{}, fmt.Errorf("search index: %w", err)
	}
	res, err := s.indexBatch(ctx, limit)
	res.Done = res.Done && !ahead
	if err == nil {
		err = s.xidAheadDrop(ctx)
	}
	if err == nil {
		var left bool
		left, err = s.mergeSearchIndex(ctx, res.Done)
		res.Done = res.Done && !left
	}
	if err == nil {
		err = s.retireSearchParts(ctx)
	}
	if err != nil {
		return store.SearchIndexResult{}, fmt.Errorf("search index: %w", err)
	}
	return res, nil
}

// indexBatch indexes up to limit events past the cursor into the newest
// part, up to the end of its range; a batch past it starts the next part.
// The bodies are read and decoded from a read connection, outside the
// writer; the write transaction only inserts their words and moves the
// cursor, as a background writer (behind every waiting ingest, see
// writer.go).
func (s *Store) indexBatch(ctx context.Context, limit int) (store.SearchIndexResult, error) {
	// The batch is sized by its hold (holdsize.go), up to limit: on a big
	// store's uncached pages its inserts cost more per event.
	limit = s.indexSize.size(limit)
	var from int64
	if err := s.read.QueryRowContext(ctx, `SELECT indexed_through FROM search_index`).Scan(&from); err != nil {
		return store.SearchIndexResult{}, fmt.Errorf("read cursor: %w", err)
	}
	batch, err := s.pendingBodies(ctx, from, limit)
	if err != nil {
		return store.SearchIndexResult{}, err
	}
	res := store.SearchIndexResult{Done: len(batch) < limit}
	if len(batch) == 0 {
		return res, nil
	}
	parts := s.search.set.Load().parts
	part, next := parts[len(parts)-1], false
	if batch[0].id > part.last {
		// The next part starts where the last ends and covers a part's
		// worth of events from the batch's first (ids skipped are few, but
		// a range of none would make a part of nothing).
		part, next = searchPart{n: part.n + 1, first: part.last + 1, last: batch[0].id + s.search.events - 1}, true
	}
	if i := slices.IndexFunc(batch, func(b pendingBody) bool { return b.id > part.last }); i >= 0 {
		batch, res.Done = batch[:i], false
	}
	var created bool
	hold, err := s.txHeld(ctx, background(writeIndex), func(tx *sql.Tx) error {
		// The cursor moves only if it is where the batch read it: a batch
		// that raced another one leaves the work to it.
		r, err := tx.ExecContext(ctx, `UPDATE search_index SET indexed_through = ? WHERE indexed_through = ?`,
			batch[len(batch)-1].id, from)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Done = false
			return nil
		}
		if next {
			if err := createPart(ctx, tx, part); err != nil {
				return err
			}
			created = true
		}
		// Retention may have deleted some of the batch since it was read.
		kept, err := queryIDs(ctx, tx, `SELECT id FROM events WHERE id > ? AND id <= ?`, from, batch[len(batch)-1].id)
		if err != nil {
			return err
		}
		exists := make(map[int64]bool, len(kept))
		for _, id := range kept {
			exists[id] = true
		}
		// The external ids first: nothing may follow the part's inserts
		// (see above).
		xid, err := tx.PrepareContext(ctx, `INSERT INTO `+part.xidTable()+` (external_id, event_id) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer xid.Close()
		for _, b := range batch {
			if exists[b.id] && b.external != "" {
				if _, err := xid.ExecContext(ctx, b.external, b.id); err != nil {
					return fmt.Errorf("index the external id of event %d: %w", b.id, err)
				}
			}
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO `+part.table()+` (rowid, body) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, b := range batch {
			if !exists[b.id] {
				continue
			}
			if _, err := ins.ExecContext(ctx, b.id, b.text); err != nil {
				return fmt.Errorf("index event %d: %w", b.id, err)
			}
			res.Indexed++
		}
		s.batchHook(OpSearchIndex)
		return nil
	})
	if err != nil {
		return store.SearchIndexResult{}, err
	}
	if created {
		// Searches with the set before it check the bodies of the events
		// past its newest part (searchCandidates), this part's among them.
		s.publish(append(slices.Clip(parts), part))
		// The part before is sealed: it is to merge into one segment
		// (mergeSearchIndex), although its last batch's merge is done.
		s.search.unmerged[parts[len(parts)-1].n] = true
	}
	if res.Indexed > 0 { // else the batch raced another and wrote nothing
		s.search.unmerged[part.n] = true
		s.indexSize.observe(len(batch), hold)
	}
	return res, nil
}

// searchMergeMax bounds the leaf pages one merge step writes (4 MiB).
const searchMergeMax = 1024

// mergeSearchIndex merges the segments of the parts written since their
// last merge (automerge is off, see searchAutomerge) in steps, each a
// background turn of its own sized by its hold. The newest part, the one
// the indexer fills, is merged until no level of it has usermerge (4)
// segments left to merge: the shape automerge keeps, at the same total
// cost, spread over shorter holds. A level's merge of big segments takes
// many steps; FTS5 keeps the merge's progress in the index between them. A
// step is never shorter than one word, though: FTS5 checks its page budget
// only when the word changes, and a word every event holds lists every
// event of the level, so the longest step grows with the level whatever
// pages it asks for: 82 ms over a level of 800,000 events of one index,
// 256-512 ms at 2M (docs/benchmarks.md). The parts bound it: 14 ms at
// most while a part of 65,536 is filled (BenchmarkSearchMergeStep).
//
// A part the indexer has moved past (sealed) gets no more words, so it is
// merged down to one segment (mergePart with optimize), once: a lookup of
// a word seeks every segment of every part, and the 2-12 segments the
// merges leave in each made that most of a rare word's search at 10M
// events (12-13 ms in 153 parts, 4-5 once each was one segment:
// docs/benchmarks.md, "The read caches cleared; one segment a sealed
// part"). A sealed part is rewritten only by a call that found the index
// caught up (caughtUp), and at most one per call, so that the indexer's
// batches go first: with one part's rewrite (about 150 ms) after each
// batch, a node opening a 10M-event store whose 152 parts were to rewrite
// answered body searches in 1.3 s instead of 0.15 while it ingested
// (docs/benchmarks.md). It reports whether sealed parts are left to
// rewrite: the indexer's next call comes soon (SearchIndexResult.Done
// false). A part left as one segment already costs a step that writes
// nothing, once: it is marked whole then (mergePart).
func (s *Store) mergeSearchIndex(ctx context.Context, caughtUp bool) (left bool, err error) {
	parts := s.search.set.Load().parts
	newest := parts[len(parts)-1]
	if s.search.unmerged[newest.n] {
		if _, err := s.mergePart(ctx, newest, false); err != nil {
			return false, fmt.Errorf("merge part %d: %w", newest.n, err)
		}
		delete(s.search.unmerged, newest.n)
	}
	mayRewrite := caughtUp
	for _, p := range parts[:len(parts)-1] {
		if !s.search.unmerged[p.n] {
			continue
		}
		if !mayRewrite {
			return true, nil
		}
		run, err := s.mergePart(ctx, p, true)
		if err != nil {
			return false, fmt.Errorf("optimize part %d: %w", p.n, err)
		}
		delete(s.search.unmerged, p.n)
		mayRewrite = run.steps == 0 // one part rewritten a call; one found whole does not count
	}
	return false, nil
}

// mergeRun is what merging a part took: its steps and their holds.
type mergeRun struct {
	steps       int
	total, most time.Duration
}

// mergePart merges p's segments in steps until none is left to merge; with
// optimize, until p is one segment (FTS5's 'merge' with a negative page
// count: its incremental 'optimize'), and marks p whole in search_parts,
// so that the next start leaves it (loadSearchParts).
func (s *Store) mergePart(ctx context.Context, p searchPart, optimize bool) (mergeRun, error) {
	var run mergeRun
	for {
		pages := s.mergeSize.size(searchMergeMax)
		budget := pages
		if optimize {
			budget = -pages
		}
		var merged bool
		hold, err := s.txHeld(ctx, background(writeMerge), func(tx *sql.Tx) (err error) {
			merged, err = mergeStep(ctx, tx, p, budget)
			if err == nil && optimize && !merged { // one segment: say so for the next start
				_, err = tx.ExecContext(ctx, `UPDATE search_parts SET whole = 1 WHERE part = ?`, p.n)
			}
			return err
		})
		if err != nil || !merged {
			return run, err
		}
		s.mergeSize.observe(pages, hold)
		run.steps++
		run.total += hold
		run.most = max(run.most, hold)
	}
}

// pendingBodies reads up to limit events past the cursor from, in one read
// transaction, with the text their bodies feed the index (payload.IndexText)
// and their external ids.
func (s *Store) pendingBodies(ctx context.Context, from int64, limit int) ([]pendingBody, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT p.event_id, p.encoding, p.body, coalesce(e.external_id, '')
		FROM event_payloads p JOIN events e ON e.id = p.event_id
		WHERE p.event_id > ? ORDER BY p.event_id LIMIT ?`, from, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pendingBody
	for rows.Next() {
		var id int64
		var encoding int
		var stored []byte
		var external string
		if err := rows.Scan(&id, &encoding, &stored, &external); err != nil {
			return nil, err
		}
		body, err := payload.DecodeBody(encoding, stored)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", id, err)
		}
		out = append(out, pendingBody{id: id, text: payload.IndexText(body), external: external})
	}
	return out, rows.Err()
}

// mergeStep merges up to pages leaf pages of part p's segments in tx and
// reports whether it found any to merge; pages < 0 merges up to -pages of
// them towards one segment, whatever their levels.
func mergeStep(ctx context.Context, tx *sql.Tx, p searchPart, pages int) (bool, error) {
	// FTS5 tells whether a merge found work only by the rows it wrote: two
	// or more (the 'merge' command's documentation).
	var before, after int64
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
		return false, err
	}
	t := p.table()
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+t+` (`+t+`, rank) VALUES ('merge', ?)`, pages); err != nil {
		return false, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
		return false, err
	}
	return after-before >= 2, nil
}

// searchCandidateMax is the most candidates a body search reads through
// the index (searchCandidates): each costs a lookup of its event, and the
// list sorts those of the project by their keys. Past it the word is
// common, and reading the project's events newest first fills a page
// sooner (walkSearch).
const searchCandidateMax = 20_000

// searchCheckedMax is searchCandidateMax for a search whose candidates'
// bodies are checked (checksBodies): not every candidate matches, and a
// walk reads the project's events until its page is full, all of them for
// a text in few (two words many bodies hold apart but none together: 112 s
// at 10M events, docs/benchmarks.md). A candidate costs a check instead,
// about a second for this many at 10M.
const searchCheckedMax = 50_000

// searchRareMax is how many events may hold a word of a search of several
// for searchCandidates to take them as the candidates without the other
// words: the events holding every word are found by walking each word's
// list in every part, 136 ms at 10M events for a word every event holds,
// against a few milliseconds to read 10,000 candidates, whose bodies are
// checked anyway. More would cost more than the lookup saves where the
// words together are in few events and the text in fewer: at 2M events,
// `r42 pro` took 590 ms with `r42`'s 20,000 events as candidates against
// 110 ms with the 5,000 holding both (docs/benchmarks.md), the text being in
// none: oneWord takes more only where a sample finds the text in them.
const searchRareMax = 10_000

// searchCands is what a body search found in the index: the ids of the
// events whose bodies hold its words (some may be deleted since: a part
// keeps them until it goes), as a JSON array, and past, the id past which
// events were not in any part when they were read.
type searchCands struct {
	ids  string
	list []int64 // ids, ascending
	past int64
	// external are the events whose external id is the text, ascending
	// (xidLookup).
	external []int64
}

// searchCandidates reads the candidates of the body search text from the
// parts ps, once for the list's count and page (each part is an index of
// its own to look the words up in), with the indexer's cursor, in one
// snapshot, and the events whose external id is the text (xidLookup); text
// has words (payload.Terms) and is no id search. It reports walk, c holding
// only the external ids, when the list should read the project's events
// instead: when the candidates and the events past the parts are more than
// searchCandidateMax (searchCheckedMax when checksBodies). It reads at most
// that many.
func (s *Store) searchCandidates(ctx context.Context, ps *partSet, text string) (c *searchCands, walk bool, err error) {
	terms := payload.Terms(text)
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, fmt.Errorf("search candidates: %w", err)
	}
	defer tx.Rollback()
	past, err := indexedPast(ctx, tx, ps)
	if err != nil {
		return nil, false, fmt.Errorf("search candidates: %w", err)
	}
	c = &searchCands{past: past}
	if c.external, err = xidLookup(ctx, tx, ps, past, text); err != nil {
		return nil, false, fmt.Errorf("search candidates: %w", err)
	}
	most := s.searchCandidateMax
	if checksBodies(text) {
		most = s.searchCheckedMax
	}
	var unindexed int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM events WHERE id > ? LIMIT ?)`,
		c.past, most+1).Scan(&unindexed); err != nil {
		return nil, false, fmt.Errorf("search candidates: count events not indexed: %w", err)
	}
	if unindexed > most {
		return c, true, nil // after an upgrade, until the backfill is done
	}
	matches := make([]string, len(ps.parts))
	for i, p := range ps.parts {
		t := p.table()
		matches[i] = `SELECT rowid AS id FROM ` + t + ` WHERE ` + t + ` MATCH ?1`
	}
	query := `SELECT count(*), json_group_array(id) FROM (` + strings.Join(matches, " UNION ALL ") + ` LIMIT ?2)`
	room := most - unindexed
	if len(terms) > 1 {
		ids, ok, err := s.oneWord(ctx, tx, query, terms, text, room, idSpan{ps.parts[0].first, c.past})
		if err != nil {
			return nil, false, fmt.Errorf("search candidates: %w", err)
		}
		if ok {
			c.ids = ids
			return c, false, c.parse()
		}
	}
	var found int
	if err := tx.QueryRowContext(ctx, query, ftsQuery(terms), room+1).Scan(&found, &c.ids); err != nil {
		return nil, false, fmt.Errorf("search candidates: %w", err)
	}
	if found > room {
		c.ids = ""
		return c, true, nil
	}
	return c, false, c.parse()
}

// oneWord returns the candidates of a search of several words, text, as
// the events holding one of its words, when one is worth looking up alone:
// the events holding every word are found by walking each word's list in
// every part, and a word most events hold ("in", a JSON key) makes that
// cost the store's size, 136 ms at 10M events, however few events hold
// the other words; the check of the candidates' bodies (checksBodies) does
// the rest. The words are looked up the longest first: one in at most
// searchRareMax events is taken. Failing that, each word whose lookup
// suggests it is in at most room events (holders) is looked up again, up
// to room, and taken when the text is in at least one in rareShareMin of a
// sample of its events, whose page then fills after a few checks (a
// customer id, `cus_000500`, when `000500` is in some thousands of events
// more than searchRareMax and `cus` in every one, is the usual case). It
// reports false when no word is taken. parts are the ids the parts cover.
func (s *Store) oneWord(ctx context.Context, tx *sql.Tx, query string, terms []string, text string, room int, parts idSpan) (string, bool, error) {
	lookup := func(t string, most int) (found int, ids string, err error) {
		err = tx.QueryRowContext(ctx, query, ftsQuery([]string{t}), most+1).Scan(&found, &ids)
		return found, ids, err
	}
	rare := min(room, s.searchRareMax)
	var wide []string
	for _, t := range terms {
		found, ids, err := lookup(t, rare)
		if err != nil {
			return "", false, err
		}
		if found <= rare {
			return ids, true, nil
		}
		if parts.holders(found, ids) <= int64(room) {
			wide = append(wide, t)
		}
	}
	for _, t := range wide {
		found, ids, err := lookup(t, room)
		if err != nil {
			return "", false, err
		}
		if found > room {
			continue
		}
		list, err := parseIDs(ids)
		if err != nil {
			return "", false, err
		}
		held, sampled, err := textShare(ctx, tx, text, list)
		if err != nil {
			return "", false, err
		}
		if held*rareShareMin >= sampled {
			return ids, true, nil
		}
	}
	return "", false, nil
}

// idSpan is the event ids the parts of the index cover, both included:
// from the first part's first to the indexer's cursor.
type idSpan struct{ first, last int64 }

// holders estimates how many events of the span hold a word from its
// first found, ids (ascending, as a lookup reads the parts): as many as
// found for each stretch of ids as long as theirs.
func (sp idSpan) holders(found int, ids string) int64 {
	i := strings.LastIndexByte(ids, ',')
	last, err := strconv.ParseInt(strings.Trim(ids[i+1:], "[]"), 10, 64)
	if err != nil || last < sp.first {
		return math.MaxInt64
	}
	return int64(float64(found) * float64(sp.last-sp.first+1) / float64(last-sp.first+1))
}

// textShare returns how many of about rareSample of the events ids,
// spread over them (sampleAt), hold text, their bodies read in one query,
// and how many it checked.
func textShare(ctx context.Context, tx *sql.Tx, text string, ids []int64) (held, sampled int, err error) {
	at := sampleAt(len(ids), rareSample)
	w := &searchWalk{ctx: ctx, tx: tx, text: []byte(text), keys: make([]searchKey, len(at)), state: make([]int8, len(at))}
	js := make([]int, len(at))
	for i, j := range at {
		w.keys[i], js[i] = searchKey{id: ids[j]}, i
	}
	if err := w.checkKeys(js); err != nil {
		return 0, 0, err
	}
	for _, st := range w.state {
		if st > 0 {
			held++
		}
	}
	return held, len(at), nil
}

// rareSample is how many of a word's events oneWord checks for the text,
// in one read of their bodies (checkBatch), and rareShareMin the share of
// them that must hold it: a page of 50 then takes about 400 checks, 10 ms
// at 10M events, against 136 ms for the words' lists walked together.
const (
	rareSample   = checkBatch
	rareShareMin = 8
)

// parse reads c.ids into c.list.
func (c *searchCands) parse() error {
	var err error
	if c.list, err = parseIDs(c.ids); err != nil {
		return fmt.Errorf("search candidates: %w", err)
	}
	slices.Sort(c.list) // the parts' in order, each in rowid order: sorted already
	return nil
}
