package storesqlite

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// partRows counts the rows holding word in each part searches read, by
// part, and in all.
func partRows(t *testing.T, s *Store, word string) int64 {
	t.Helper()
	var total int64
	for _, p := range s.search.set.Load().parts {
		total += int64(len(partIDs(t, s, p, word)))
	}
	return total
}

// partIDs returns the rowids of part p holding word.
func partIDs(t *testing.T, s *Store, p searchPart, word string) []int64 {
	t.Helper()
	ids, err := queryIDs(t.Context(), s.read, `SELECT rowid FROM `+p.table()+` WHERE `+p.table()+` MATCH ?`, word)
	if err != nil {
		t.Fatalf("read part %d: %v", p.n, err)
	}
	return ids
}

// partTables lists the search index parts' tables in the file, dropping
// ones included.
func partTables(t *testing.T, s *Store) []string {
	t.Helper()
	return queryStrings(t, s, `SELECT name FROM sqlite_schema
		WHERE name GLOB 'event_search_[0-9]*' AND sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`)
}

// queryStrings returns the one text column query selects, read on the
// write connection.
func queryStrings(t *testing.T, s *Store, query string) []string {
	t.Helper()
	rows, err := s.write.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// searchWith runs an event list of project searching text through the
// parts ps, as a search that read them earlier would.
func searchWith(t *testing.T, s *Store, ps *partSet, project uint64, text string) ([]volley.Event, store.Total, error) {
	t.Helper()
	p := store.EventListParams{ProjectID: project, Search: text, Limit: 50}
	p.Page.CountLimit = 1000
	cands, _, err := s.searchCandidates(t.Context(), ps, text)
	if err != nil {
		return nil, store.Total{}, err
	}
	return s.indexSearch(t.Context(), p, storesql.NoRoutes, cands)
}

// shadowRows counts the rows of part p's tables that its drop empties.
func shadowRows(t *testing.T, s *Store, p searchPart) (n int64) {
	t.Helper()
	tables, err := partShadows(t.Context(), s.read, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range tables {
		var c int64
		if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM `+sh.name).Scan(&c); err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// dropSteps runs SearchIndex once with steps emptying parts of at most
// rows rows, and returns how many steps it took.
func dropSteps(t *testing.T, s *Store, rows int) (steps int64) {
	t.Helper()
	s.batchFunc = func(op string) {
		if op == OpSearchDrop {
			steps++
		}
	}
	s.search.dropRows = rows
	if _, err := s.SearchIndex(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	return steps
}

// TestSearchPartsRollOver checks that the indexer fills parts of
// contiguous ranges, each event in the one part whose range holds it,
// that searches find events in every part, and that a search holding the
// set read before the parts were made still finds their events (it checks
// the bodies of the events past its newest part).
func TestSearchPartsRollOver(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	s.search.events = 20
	ins := searchEvents(t, s, conn, 100)
	stale, release := s.readParts() // part 1 of the migration alone, covering no event
	defer release()
	indexAll(t, s)

	parts := s.search.set.Load().parts
	if len(parts) != 5 {
		t.Fatalf("100 events in parts of 20 ids: %d parts %+v, want 5", len(parts), parts)
	}
	for i, p := range parts {
		if p.last-p.first+1 != 20 || (i > 0 && p.first != parts[i-1].last+1) {
			t.Errorf("part %d covers %d..%d after %+v: want 20 ids from the end of the one before", p.n, p.first, p.last, parts[:i])
		}
		ids := partIDs(t, s, p, "common")
		if len(ids) != 20 || slices.ContainsFunc(ids, func(id int64) bool { return id < p.first || id > p.last }) {
			t.Errorf("part %d (%d..%d) holds %v, want the 20 events of its range", p.n, p.first, p.last, ids)
		}
	}
	if ids, total := searchIDs(t, s, conn.ProjectID, "tenth", 20); total != 10 || ids[0] != ins[90].ID || ids[9] != ins[0].ID {
		t.Errorf("search tenth = %v (total %d), want the 10 tenths, newest first", ids, total)
	}
	if ids, total := searchIDs(t, s, conn.ProjectID, "rare30", 20); total != 1 || ids[0] != ins[30].ID {
		t.Errorf("search rare30 = %v (total %d), want [%d]", ids, total, ins[30].ID)
	}

	// Part 1 is out of the set, and still in the file: a search reads it.
	if tables := partTables(t, s); !slices.Contains(tables, "event_search_1") {
		t.Errorf("part tables %v: part 1 is gone while a search holds a set naming it", tables)
	}
	list, total, err := searchWith(t, s, stale, conn.ProjectID, "rare70")
	if err != nil || total.N != 1 || len(list) != 1 || list[0].ID != ins[70].ID {
		t.Errorf("search rare70 with the set before the parts = %d events (total %d, %v), want [%d]", len(list), total.N, err, ins[70].ID)
	}
	release()
	if _, err := s.SearchIndex(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	if tables := partTables(t, s); slices.Contains(tables, "event_search_1") {
		t.Errorf("part tables %v: part 1 is left once no search reads it", tables)
	}
}

// TestRetentionDropsSearchParts checks that a part goes once retention
// has deleted every event of its range: out of the searches' set at once,
// emptied in several steps once no search holds a set naming it, then
// dropped; and that the parts of events kept stay and are searched.
func TestRetentionDropsSearchParts(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	s.search.events = 50
	conn := storetest.Graph(t, s)
	storetest.OldEvents(t, s, conn, 300, 0) // 60 days old, delivered
	kept := searchEvents(t, s, conn, 30)    // the last 30 minutes
	indexAll(t, s)
	before := s.search.set.Load().parts
	if len(before) != 7 {
		t.Fatalf("330 events in parts of 50: %d parts %+v, want 7", len(before), before)
	}

	held, release := s.readParts()
	retentionPass(t, s, store.RetentionParams{Before: time.Now().Add(-24 * time.Hour), Now: time.Now(), Limit: 100}, 20)
	if _, err := s.SearchIndex(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	after := s.search.set.Load().parts
	if len(after) != 1 || after[0] != before[6] {
		t.Fatalf("parts searched after the purge: %+v, want the last alone, %+v", after, before[6])
	}
	if tables := partTables(t, s); len(tables) != 7 {
		t.Errorf("part tables while a search holds the set before: %v, want all 7", tables)
	}
	// The held set's search reads the dropping parts whole.
	if _, total, err := searchWith(t, s, held, conn.ProjectID, "common"); err != nil || total.N != 30 {
		t.Errorf("search with the set before the purge: total %d, %v; want 30", total.N, err)
	}
	release()

	var rows int64
	for _, p := range before[:6] {
		rows += shadowRows(t, s, p)
	}
	steps := dropSteps(t, s, 3)
	if tables := partTables(t, s); !slices.Equal(tables, []string{after[0].table()}) {
		t.Errorf("part tables after the drop: %v, want [%s]", tables, after[0].table())
	}
	var registered int
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM search_parts`).Scan(&registered); err != nil || registered != 1 {
		t.Errorf("search_parts holds %d parts (%v), want 1", registered, err)
	}
	if steps < rows/3 || steps < 2*6 {
		t.Errorf("6 parts of %d rows emptied in %d steps, want steps of 3 rows at most", rows, steps)
	}
	if ids, total := searchIDs(t, s, conn.ProjectID, "common", 50); total != 30 || ids[0] != kept[29].ID {
		t.Errorf("search after the drop = %d events from %v, want the 30 kept", total, ids[:1])
	}
}

// TestSearchPartsUpgrade checks that the migration to parts keeps the
// index a store has (searched at once, without a backfill), that new
// events go to a new part and that the old index goes, emptied in steps,
// once its events are deleted; and that going down drops every part.
func TestSearchPartsUpgrade(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s, conn, old := indexedStoreDown(t, path, 60, 20) // through the parts' migration
	if tables := partTables(t, s); len(tables) != 0 {
		t.Fatalf("part tables after going down past the parts: %v, want none", tables)
	}
	// Fill the one index as the version before did.
	bodies, err := s.pendingBodies(t.Context(), 0, 1000)
	if err != nil || len(bodies) != 60 {
		t.Fatalf("pendingBodies = %d, %v; want 60", len(bodies), err)
	}
	for _, b := range bodies {
		if _, err := s.write.ExecContext(t.Context(), `INSERT INTO event_search (rowid, body) VALUES (?, ?)`, b.id, b.text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.write.ExecContext(t.Context(), `UPDATE search_index SET indexed_through = ?`, old[59].ID); err != nil {
		t.Fatal(err)
	}
	s.Close()

	if s, err = Open(t.Context(), Config{Path: path}); err != nil {
		t.Fatalf("Open (migrates up): %v", err)
	}
	defer s.Close()
	if parts := s.search.set.Load().parts; len(parts) != 1 || parts[0] != (searchPart{n: 1, first: 0, last: int64(old[59].ID)}) {
		t.Fatalf("parts after the upgrade: %+v, want part 1 over the events indexed", parts)
	}
	if _, walks, err := s.searchCandidates(t.Context(), s.search.set.Load(), "rare50"); err != nil || walks {
		t.Errorf("a rare word after the upgrade walks = %v (%v), want a search through part 1", walks, err)
	}
	if n := partRows(t, s, "common"); n != 60 {
		t.Errorf("part 1 holds %d events, want the 60 indexed before", n)
	}
	if ids, total := searchIDs(t, s, conn.ProjectID, "rare50", 10); total != 1 || ids[0] != old[50].ID {
		t.Errorf("search rare50 after the upgrade = %v (total %d), want [%d]", ids, total, old[50].ID)
	}

	events := storetest.Events(10, 100, conn, time.Now()) // uids after the 60 first
	for i := range events {
		events[i].Event.Body = []byte(`{"note":"common and recent"}`)
	}
	recent, err := s.EventInsert(t.Context(), events)
	if err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	if parts := s.search.set.Load().parts; len(parts) != 2 || parts[1].first != int64(old[59].ID)+1 {
		t.Fatalf("parts after new events: %+v, want part 1 and one from %d", parts, old[59].ID+1)
	}
	if _, total := searchIDs(t, s, conn.ProjectID, "common", 10); total != 70 {
		t.Errorf("search common total = %d, want 70 across both parts", total)
	}

	ids := make([]int64, len(old))
	for i, e := range old {
		ids[i] = int64(e.ID)
	}
	if _, err := s.txHeld(t.Context(), background(writeRetention), func(tx *sql.Tx) error {
		return deleteEvents(t.Context(), s.hot(tx), ids)
	}); err != nil {
		t.Fatal(err)
	}
	rows := shadowRows(t, s, searchPart{n: 1})
	steps := dropSteps(t, s, 16)
	if tables := partTables(t, s); len(tables) != 1 || tables[0] == "event_search_1" {
		t.Errorf("part tables once part 1's events are deleted: %v, want the new part alone", tables)
	}
	if rows < 60 || steps < rows/16 {
		t.Errorf("part 1 (%d rows, its word counts among them) emptied in %d steps, want steps of 16 rows at most", rows, steps)
	}
	if got, total := searchIDs(t, s, conn.ProjectID, "common", 10); total != 10 || got[0] != recent[9].ID {
		t.Errorf("search common after part 1 went = %v (total %d), want the 10 recent", got, total)
	}
}
