package storesqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// searchEvents stores n events of conn, one minute apart, whose bodies
// hold "common" and, for every tenth, "rare<i>" and "tenth".
func searchEvents(t *testing.T, s *Store, conn *volley.Connection, n int) []store.InsertedEvent {
	t.Helper()
	events := storetest.Events(n, 0, conn, time.Now())
	start := time.Now().Add(-time.Duration(n) * time.Minute)
	for i := range events {
		e := &events[i].Event
		e.CreatedAt = start.Add(time.Duration(i) * time.Minute)
		body := fmt.Sprintf(`{"note":"common word %d"}`, i)
		if i%10 == 0 {
			body = fmt.Sprintf(`{"note":"common tenth rare%d"}`, i)
		}
		e.Body = []byte(body)
	}
	ins, err := s.EventInsert(t.Context(), events)
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	return ins
}

// indexAll runs the indexer until it is done.
func indexAll(t *testing.T, s *Store) {
	t.Helper()
	for {
		res, err := s.SearchIndex(t.Context(), 7)
		if err != nil {
			t.Fatalf("SearchIndex: %v", err)
		}
		if res.Done {
			return
		}
	}
}

// indexedStore opens a store with one connection and n searchEvents,
// every one indexed.
func indexedStore(t *testing.T, n int) (*Store, *volley.Connection, []store.InsertedEvent) {
	t.Helper()
	s, conn := planStore(t)
	ins := searchEvents(t, s, conn, n)
	indexAll(t, s)
	return s, conn, ins
}

// searchIDs returns the ids of a search's page and its total.
func searchIDs(t *testing.T, s *Store, projectID uint64, text string, limit int) ([]uint64, int64) {
	t.Helper()
	list, total, err := s.EventList(t.Context(), store.EventListParams{ProjectID: projectID, Search: text, Limit: limit})
	if err != nil {
		t.Fatalf("EventList %q: %v", text, err)
	}
	ids := make([]uint64, len(list))
	for i, e := range list {
		ids[i] = e.ID
	}
	if total.Estimated {
		t.Errorf("EventList %q: total %d is a lower bound, want it exact", text, total.N)
	}
	return ids, total.N
}

// TestSearchWalksCommonWords checks that a word with more candidates than
// the index lookup takes is searched by reading the project's events, with
// the same answers as the index gives, and a rare one through the index.
func TestSearchWalksCommonWords(t *testing.T) {
	t.Parallel()
	s, conn, ins := indexedStore(t, 200)
	s.searchCandidateMax = 50
	for _, tc := range []struct {
		text  string
		walks bool
		total int64
	}{
		{"common", true, 200},
		{"tenth", false, 20},
		{"common tenth", false, 20},
		{"rare190", false, 1},
	} {
		_, walks, err := s.searchCandidates(t.Context(), s.search.set.Load(), tc.text)
		if err != nil {
			t.Fatal(err)
		}
		if walks != tc.walks {
			t.Errorf("search %q walks = %v, want %v", tc.text, walks, tc.walks)
		}
		ids, total := searchIDs(t, s, conn.ProjectID, tc.text, 5)
		if total != tc.total || len(ids) != min(5, int(tc.total)) || ids[0] != lastMatch(ins, tc.text) {
			t.Errorf("search %q = %v (total %d), want %d in all, newest first from %d", tc.text, ids, total, tc.total, lastMatch(ins, tc.text))
		}
	}
	// Events past the cursor count as candidates: once they are many, a
	// rare word walks too (the backfill after an upgrade).
	if _, err := s.write.ExecContext(t.Context(), `UPDATE search_index SET indexed_through = 0`); err != nil {
		t.Fatal(err)
	}
	if _, walks, err := s.searchCandidates(t.Context(), s.search.set.Load(), "rare190"); err != nil || !walks {
		t.Errorf("search of a rare word before the backfill walks = %v (err %v), want true", walks, err)
	}
	if ids, total := searchIDs(t, s, conn.ProjectID, "rare190", 5); total != 1 || ids[0] != ins[190].ID {
		t.Errorf("search of a rare word before the backfill = %v (total %d), want [%d]", ids, total, ins[190].ID)
	}
}

// cursorAt returns pg with the cursor of event id: After it, or Before it
// when id is negative; pg as it is when id is 0.
func cursorAt(t *testing.T, s *Store, id int64, pg store.PageParams) store.PageParams {
	t.Helper()
	if id == 0 {
		return pg
	}
	c := &store.Cursor{ID: uint64(max(id, -id))}
	if err := s.read.QueryRowContext(t.Context(), `SELECT created_at FROM events WHERE id = ?`, c.ID).Scan(&c.Key); err != nil {
		t.Fatal(err)
	}
	if id < 0 {
		pg.Before = c
	} else {
		pg.After = c
	}
	return pg
}

// TestSearchWalkCountsTheNewestEvents checks that a walk's count reads at
// most walkMax events, the newest: past them its total is what it found, a
// lower bound; and that its page, read walkMax events at a time, goes on
// until it is full or the list ends, from its cursor.
func TestSearchWalkCountsTheNewestEvents(t *testing.T) {
	t.Parallel()
	s, conn, ins := indexedStore(t, 200)                    // "common" 200, "word" 180, "tenth" 20: every tenth
	s.searchCandidateMax, s.searchCheckedMax = 10, 10       // every search below walks
	tenth := func(k int) uint64 { return ins[190-10*k].ID } // the k-th newest tenth event
	for _, tc := range []struct {
		text       string
		walkMax    int
		countLimit int
		cursor     int64 // the cursor's event id: the page comes after it, or before it when negative
		want       store.Total
		page       []uint64
	}{
		{"tenth", 500, 0, 0, store.Total{N: 20}, []uint64{tenth(0), tenth(1), tenth(2)}},
		{"tenth", 200, 0, 0, store.Total{N: 20}, []uint64{tenth(0), tenth(1), tenth(2)}}, // every event read: exact
		{"tenth", 20, 0, 0, store.Total{N: 2, Estimated: true}, []uint64{tenth(0), tenth(1), tenth(2)}},
		{"tenth", 20, 1, 0, store.Total{N: 2}, []uint64{tenth(0), tenth(1), tenth(2)}}, // past the cap: the cap's answer
		{"common", 50, 0, 0, store.Total{N: 50, Estimated: true}, []uint64{ins[199].ID, ins[198].ID, ins[197].ID}},
		{"common", 50, 10, 0, store.Total{N: 11}, []uint64{ins[199].ID, ins[198].ID, ins[197].ID}},
		// The page reads from its cursor: the count still from the newest.
		{"tenth", 20, 0, int64(ins[185].ID), store.Total{N: 2, Estimated: true}, []uint64{tenth(1), tenth(2), tenth(3)}},
		{"tenth", 20, 0, int64(ins[15].ID), store.Total{N: 2, Estimated: true}, []uint64{tenth(18), tenth(19)}},
		{"tenth", 20, 0, -int64(ins[15].ID), store.Total{N: 2, Estimated: true}, []uint64{tenth(15), tenth(16), tenth(17)}},
		{"tenth", 20, 0, -int64(ins[185].ID), store.Total{N: 2, Estimated: true}, []uint64{tenth(0)}},
		// Both words are in 180 events, the text in none: the page reads
		// them all.
		{"word common", 20, 0, 0, store.Total{Estimated: true}, nil},
		{"word common", 500, 0, 0, store.Total{}, nil},
	} {
		s.walkMax = tc.walkMax
		p := store.EventListParams{ProjectID: conn.ProjectID, Search: tc.text, Limit: 3, Page: store.PageParams{CountLimit: tc.countLimit}}
		p.Page = cursorAt(t, s, tc.cursor, p.Page)
		list, total, err := s.EventList(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]uint64, len(list))
		for i, e := range list {
			got[i] = e.ID
		}
		if total != tc.want || !slices.Equal(got, tc.page) {
			t.Errorf("search %q, %d events read at most, cap %d, cursor %d: page %v, total %+v; want %v, %+v",
				tc.text, tc.walkMax, tc.countLimit, tc.cursor, got, total, tc.page, tc.want)
		}
	}
}

// TestSearchChecksManyCandidatesRatherThanWalk checks that a search whose
// candidates' bodies are checked walks only past searchCheckedMax of them:
// a walk for a text in few events reads the project's events until it
// finds enough, all of them for one in none.
func TestSearchChecksManyCandidatesRatherThanWalk(t *testing.T) {
	t.Parallel()
	s, conn, _ := indexedStore(t, 200) // "common" 200, "word" 180 (apart from "tenth")
	s.searchCandidateMax = 50
	for _, tc := range []struct {
		text       string
		checkedMax int
		walks      bool
	}{
		{"word common", 500, false}, // 180 hold both words, none the text
		{"word common", 100, true},
		{"common", 500, true}, // one word: its candidates match, a walk fills a page at once
	} {
		s.searchCheckedMax = tc.checkedMax
		_, walks, err := s.searchCandidates(t.Context(), s.search.set.Load(), tc.text)
		if err != nil || walks != tc.walks {
			t.Errorf("search %q, %d checked at most: walks %v (%v), want %v", tc.text, tc.checkedMax, walks, err, tc.walks)
		}
		if ids, total := searchIDs(t, s, conn.ProjectID, tc.text, 5); tc.text == "word common" && (len(ids) != 0 || total != 0) {
			t.Errorf("search %q, %d checked at most: %v (total %d), want none", tc.text, tc.checkedMax, ids, total)
		}
	}
}

// TestSearchLooksUpARareWordAlone checks that a search of several words
// takes the events holding one that few events hold as its candidates,
// the longest such word first, and the events holding every word only
// when each is common; either way the bodies decide.
func TestSearchLooksUpARareWordAlone(t *testing.T) {
	t.Parallel()
	s, conn, _ := indexedStore(t, 200) // "common" 200, "word" 180, "tenth" 20 (none with "word")
	s.searchCandidateMax = 50
	for _, tc := range []struct {
		text       string
		rareMax    int
		candidates int
		total      int64
	}{
		{"tenth word", 50, 20, 0},    // tenth alone; no body holds both
		{"common tenth", 50, 20, 20}, // tenth alone
		{"tenth word", 10, 0, 0},     // both common: the events holding both, none
		{"common tenth", 10, 20, 20}, // both common: the events holding both
	} {
		s.searchRareMax = tc.rareMax
		c, walks, err := s.searchCandidates(t.Context(), s.search.set.Load(), tc.text)
		if err != nil || walks {
			t.Fatalf("searchCandidates(%q) walks %v, err %v", tc.text, walks, err)
		}
		var ids []uint64
		if err := json.Unmarshal([]byte(c.ids), &ids); err != nil {
			t.Fatal(err)
		}
		if len(ids) != tc.candidates {
			t.Errorf("search %q (rare up to %d): %d candidates, want %d", tc.text, tc.rareMax, len(ids), tc.candidates)
		}
		if _, total := searchIDs(t, s, conn.ProjectID, tc.text, 5); total != tc.total {
			t.Errorf("search %q (rare up to %d): total %d, want %d", tc.text, tc.rareMax, total, tc.total)
		}
	}
}

// TestSearchTakesAWordWhoseEventsHoldTheText checks that a search of
// several words takes the events holding one that more than searchRareMax
// events hold as its candidates when the text is in enough of them (a
// sample's share, rareShareMin), and the events holding every word when it
// is not.
func TestSearchTakesAWordWhoseEventsHoldTheText(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	events := storetest.Events(40, 0, conn, time.Now())
	for i := range events {
		events[i].Event.Body = []byte(`{"note":"alpha beta"}`) // 30
		if i%4 == 0 {
			events[i].Event.Body = []byte(`{"note":"alpha gamma"}`) // 10
		}
	}
	if _, err := s.EventInsert(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	for _, tc := range []struct {
		text              string
		rareMax           int
		candidates, total int
	}{
		{"alpha beta", 50, 40, 30}, // alpha in at most rareMax events: taken alone
		{"alpha beta", 5, 40, 30},  // alpha in more, but three quarters of them hold the text: taken alone
		{"beta alpha", 5, 30, 0},   // no event holds the text: the events holding both words
		{"gamma alpha", 5, 10, 0},  // neither word's events hold it: both words, the ten holding gamma
	} {
		s.searchRareMax = tc.rareMax
		c, walks, err := s.searchCandidates(t.Context(), s.search.set.Load(), tc.text)
		if err != nil || walks {
			t.Fatalf("searchCandidates(%q) walks %v, err %v", tc.text, walks, err)
		}
		if len(c.list) != tc.candidates {
			t.Errorf("search %q (rare up to %d): %d candidates, want %d", tc.text, tc.rareMax, len(c.list), tc.candidates)
		}
		if _, total := searchIDs(t, s, conn.ProjectID, tc.text, 5); total != int64(tc.total) {
			t.Errorf("search %q (rare up to %d): total %d, want %d", tc.text, tc.rareMax, total, tc.total)
		}
	}
}

// TestWordFrequencyEstimate checks the estimate of how many events hold a
// word from the first ids a lookup found: a word whose first ten are in
// the first fifth of the span is in about fifty.
func TestWordFrequencyEstimate(t *testing.T) {
	t.Parallel()
	span := idSpan{first: 101, last: 200}
	for _, tc := range []struct {
		ids  string
		want int64
	}{
		{"[101,102,104,106,108,110,112,114,116,120]", 50},
		{"[191,200]", 2},
		{"[150]", 2},
		{"[]", math.MaxInt64},
		{"[50]", math.MaxInt64}, // before the span: no estimate
	} {
		found := strings.Count(tc.ids, ",") + 1
		if got := span.holders(found, tc.ids); got != tc.want {
			t.Errorf("holders(%d, %s) = %d, want %d", found, tc.ids, got, tc.want)
		}
	}
}

// lastMatch is the newest of ins whose body (see searchEvents) holds text.
func lastMatch(ins []store.InsertedEvent, text string) uint64 {
	switch text {
	case "common":
		return ins[len(ins)-1].ID
	case "tenth", "common tenth":
		return ins[(len(ins)-1)/10*10].ID
	}
	var i int
	fmt.Sscanf(text, "rare%d", &i)
	return ins[i].ID
}

// TestSearchIndexPlan checks that a search through the index looks its
// candidates' keys up by id (and sorts only those), and that a walk reads
// the project's (or the filtered source's or connection's) events in the
// list's order, without sorting them.
func TestSearchIndexPlan(t *testing.T) {
	t.Parallel()
	s, conn, _ := indexedStore(t, 500)
	cands, walks, err := s.searchCandidates(t.Context(), s.search.set.Load(), "rare120")
	if err != nil || walks {
		t.Fatalf("searchCandidates(rare120) = %v, %v; want candidates", walks, err)
	}
	type query struct {
		sql  string
		args []any
	}
	for _, also := range []store.EventListParams{{}, {SourceID: conn.SourceID}, {ConnectionID: conn.ID}} {
		p := also
		p.ProjectID, p.Search, p.Limit = conn.ProjectID, "rare120", 50
		p.Page.CountLimit = 10_000
		keys, keyArgs := keysQuery(p, storesql.NoRoutes, cands)
		walk, walkArgs := walkKeysQuery(p, storesql.NoRoutes, store.PageParams{}, walkMax+1)
		after, afterArgs := walkKeysQuery(p, storesql.NoRoutes, store.PageParams{After: &store.Cursor{Key: 1, ID: 1}}, walkMax+1)
		for _, tc := range []struct {
			name      string
			queries   []query
			want, not []string
		}{
			{"index", []query{{keys, keyArgs}},
				[]string{"SCAN json_each VIRTUAL TABLE INDEX", "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"}, []string{"SCAN e\n", "SCAN events"}},
			{"walk", []query{{walk, walkArgs}, {after, afterArgs}},
				[]string{"SEARCH e USING ", "INDEX events_"}, []string{"SCAN e\n", "TEMP B-TREE", "event_search"}},
		} {
			for _, q := range tc.queries {
				plan := explain(t, s, q.sql, q.args)
				for _, w := range tc.want {
					if !strings.Contains(plan, w) {
						t.Errorf("%s, filters %+v: plan of\n%s\nis\n%s\nwant %q", tc.name, also, q.sql, plan, w)
					}
				}
				for _, w := range tc.not {
					if strings.Contains(plan, w) {
						t.Errorf("%s, filters %+v: plan of\n%s\nis\n%s\nwant no %q", tc.name, also, q.sql, plan, w)
					}
				}
			}
		}
	}
}

// TestSearchIndexAfterUpgrade migrates a store with events down past the
// index and up again: the migration creates it empty, searches find every
// event meanwhile, and the indexer fills it.
func TestSearchIndexAfterUpgrade(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s, conn, ins := indexedStoreDown(t, path, 100, 17) // through the index's migration
	s.Close()
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatalf("Open (migrates up): %v", err)
	}
	defer s.Close()
	indexed := func() (rows, cursor int64) {
		t.Helper()
		if err := s.read.QueryRowContext(t.Context(), `SELECT indexed_through FROM search_index`).Scan(&cursor); err != nil {
			t.Fatal(err)
		}
		return partRows(t, s, "common"), cursor
	}
	if rows, cursor := indexed(); rows != 0 || cursor != 0 {
		t.Fatalf("after the migration the index has %d rows, cursor %d; want an empty index", rows, cursor)
	}
	check := func(when string) {
		t.Helper()
		if ids, total := searchIDs(t, s, conn.ProjectID, "rare50", 10); total != 1 || ids[0] != ins[50].ID {
			t.Errorf("%s: search rare50 = %v (total %d), want [%d]", when, ids, total, ins[50].ID)
		}
		if _, total := searchIDs(t, s, conn.ProjectID, "tenth", 10); total != 10 {
			t.Errorf("%s: search tenth total = %d, want 10", when, total)
		}
	}
	check("before the backfill")
	indexAll(t, s)
	if rows, cursor := indexed(); rows != 100 || uint64(cursor) != ins[99].ID {
		t.Errorf("after the backfill the index has %d rows, cursor %d; want 100, %d", rows, cursor, ins[99].ID)
	}
	check("after the backfill")
}

// indexedStoreDown opens a store at path with n events of searchEvents,
// indexed, and migrates it down through migration version.
func indexedStoreDown(t *testing.T, path string, n, version int) (*Store, *volley.Connection, []store.InsertedEvent) {
	t.Helper()
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	conn := storetest.Graph(t, s)
	ins := searchEvents(t, s, conn, n)
	indexAll(t, s)
	for {
		v, err := s.MigrateDown(t.Context())
		if err != nil {
			t.Fatalf("MigrateDown: %v", err)
		}
		if v <= version {
			return s, conn, ins
		}
	}
}

// TestSearchLongWords checks that a word longer than the index keeps is
// found whether its event was indexed by its prefix or, as before the
// indexer cut words, whole, and that an event holding only the prefix, or
// a longer word of the same prefix, is not.
func TestSearchLongWords(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	events := storetest.Events(4, 0, conn, time.Now())
	for i, body := range []string{
		`{"id":"evt_Z9wulCd5gmjC69zGxn4gFsxP"}`, // indexed whole, as before
		`{"id":"evt_Z9wulCd5gmjC69zGxn4gFsxP"}`, // indexed by its prefix
		`{"id":"evt_Z9wulCd5gmjC"}`,             // the prefix alone
		`{"id":"evt_Z9wulCd5gmjC69zGxn4gFsxPQ"}`,
	} {
		events[i].Event.Body = []byte(body)
	}
	ins, err := s.EventInsert(t.Context(), events)
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	// As the indexer did before: the whole word, in the part that covers
	// the events indexed so far.
	if _, err := s.write.ExecContext(t.Context(), `INSERT INTO event_search_1 (rowid, body) VALUES (?, ?)`,
		ins[0].ID, string(events[0].Event.Body)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE search_index SET indexed_through = ?`, `UPDATE search_parts SET last_event = ? WHERE part = 1`} {
		if _, err := s.write.ExecContext(t.Context(), q, ins[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.loadSearchParts(t.Context()); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	for text, want := range map[string][]uint64{
		"Z9wulCd5gmjC69zGxn4gFsxP":          {ins[1].ID, ins[0].ID},
		`id":"evt_z9wulcd5gmjc69zgxn4gfsxp`: {ins[1].ID, ins[0].ID},
		"Z9wulCd5gmjC":                      {ins[2].ID},
		"Z9wulCd5gmjC69zGxn4gFsxPQ":         {ins[3].ID},
	} {
		if got, total := searchIDs(t, s, conn.ProjectID, text, 10); !slices.Equal(got, want) || total != int64(len(want)) {
			t.Errorf("search %q = %v (total %d), want %v", text, got, total, want)
		}
	}
}

// TestSearchIndexStatisticsPinned checks that event_search's shadow
// tables have only the pinned planner statistics after the store opens
// and after it closes (both run PRAGMA optimize), and that FTS5's range
// delete, which every merge of the index runs, seeks by key on the write
// connection. With the statistics PRAGMA optimize takes of a new store's
// two-row event_search_data, SQLite planned it as a scan of the table.
func TestSearchIndexStatisticsPinned(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		var want []string
		for _, p := range s.search.set.Load().parts {
			want = append(want, p.table()+"_data:"+searchDataRows)
		}
		stats := queryStrings(t, s, `SELECT tbl || ':' || coalesce(idx, '') || stat FROM sqlite_stat1
			WHERE tbl LIKE 'event_search%' ORDER BY tbl`)
		if !slices.Equal(stats, want) {
			t.Errorf("%s: sqlite_stat1 holds %q for the search index's tables, want %q", when, stats, want)
		}
		var plan []string
		rows, err := s.write.QueryContext(t.Context(), `EXPLAIN QUERY PLAN DELETE FROM `+s.search.set.Load().parts[0].table()+`_data WHERE id >= ? AND id <= ?`, 1, 2)
		if err != nil {
			t.Fatalf("%s: EXPLAIN: %v", when, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INTEGER PRIMARY KEY") {
			t.Errorf("%s: FTS5's range delete is planned as %q, want a search by the integer primary key", when, got)
		}
	}
	check("new store")
	searchEvents(t, s, storetest.Graph(t, s), 40)
	indexAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(t.Context(), Config{Path: path}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("reopened store")
}

// TestSearchIndexMergesInSteps checks that event_search does not merge as
// it flushes (automerge off) and that SearchIndex merges in steps of its
// own instead, so that however many small batches it indexes, no level
// of the index is left with segments to merge, and the merges are counted
// as holds of their own kind.
func TestSearchIndexMergesInSteps(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	const n = 15 // without merges: 15 segments on level 0 (crisismerge is 16)
	searchEvents(t, s, conn, n)
	s.mergeSize.perRow = holdTarget // merge steps of the fewest pages
	for i := range n {
		res, err := s.SearchIndex(t.Context(), 1) // a segment per event
		if err != nil || res.Indexed != 1 {
			t.Fatalf("batch %d: SearchIndex = %+v, %v; want 1 indexed", i, res, err)
		}
	}
	part := s.search.set.Load().parts[0] // the one the batches made
	var automerge int64
	if err := s.read.QueryRowContext(t.Context(), `SELECT v FROM `+part.table()+`_config WHERE k = 'automerge'`).Scan(&automerge); err != nil || automerge != 0 {
		t.Fatalf("automerge = %d, %v; want 0", automerge, err)
	}
	var merged bool
	if _, err := s.txHeld(t.Context(), background(writeUpkeep), func(tx *sql.Tx) (err error) {
		merged, err = mergeStep(t.Context(), tx, part, searchMergeMax)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if merged {
		t.Error("a merge found segments left to merge after SearchIndex")
	}
	if segments := partSegments(t, s, part); segments > 3 { // usermerge 4: a level of 4 is merged, and small segments go up a level
		t.Errorf("%d segments after %d batches, want ≤ 3: the merge steps did not keep up", segments, n)
	}
	if st := s.WriterStats()[writeMerge]; st.Kind != "merge" || st.Hold.Count == 0 {
		t.Errorf("writer stats of merges: %+v, want merge steps counted", st)
	}
	if ids, _ := searchIDs(t, s, conn.ProjectID, "tenth", 100); len(ids) != 2 {
		t.Errorf("search after the merges found %d events, want 2 (the 1st and the 11th)", len(ids))
	}
}

// partSegments counts the segments of part p.
func partSegments(t *testing.T, s *Store, p searchPart) int {
	t.Helper()
	// A segment's pages have rowids of its id shifted left 37 bits; ids
	// from 65,536 are tombstones.
	var segments int
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(DISTINCT id >> 37) FROM `+p.table()+`_data
		WHERE id >> 37 BETWEEN 1 AND 65535`).Scan(&segments); err != nil {
		t.Fatal(err)
	}
	return segments
}

// TestSealedSearchPartsAreOneSegment checks that a part the indexer has
// moved past is merged down to one segment once the index has caught up,
// and, as after a start with parts of several segments (a store
// upgraded), one such part at most by each call of SearchIndex, the
// calls reporting the index not done until every part is; and that
// searches find the same events.
func TestSealedSearchPartsAreOneSegment(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	s.search.events = 40
	ins := searchEvents(t, s, conn, 130)
	filler := func(p searchPart, i int) { // a segment of an event that does not exist
		t.Helper()
		if _, err := s.txHeld(t.Context(), background(writeUpkeep), func(tx *sql.Tx) error {
			_, err := tx.ExecContext(t.Context(), `INSERT INTO `+p.table()+` (rowid, body) VALUES (?, 'filler')`, 100_000+p.n*10+int64(i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The first part filled, its merges done, and two segments more: too
	// few for a merge of the newest part's kind (usermerge 4).
	var first searchPart
	for calls := 0; first.last == 0; calls++ {
		if calls == 130 {
			t.Fatalf("no part filled after %d calls: parts %+v", calls, s.search.set.Load().parts)
		}
		if _, err := s.SearchIndex(t.Context(), 10); err != nil {
			t.Fatalf("SearchIndex: %v", err)
		}
		parts := s.search.set.Load().parts
		var through int64
		if err := s.read.QueryRowContext(t.Context(), `SELECT indexed_through FROM search_index`).Scan(&through); err != nil {
			t.Fatal(err)
		}
		if newest := parts[len(parts)-1]; newest.first > 0 && through == newest.last {
			first = newest
		}
	}
	filler(first, 0)
	filler(first, 1)
	if n := partSegments(t, s, first); n < 3 {
		t.Fatalf("part %d: %d segments after two inserts, want 3 or more", first.n, n)
	}
	var calls []store.SearchIndexResult
	for {
		res, err := s.SearchIndex(t.Context(), 10)
		if err != nil {
			t.Fatalf("SearchIndex: %v", err)
		}
		calls = append(calls, res)
		if res.Done {
			break
		}
		// The index's batches go first: a sealed part is rewritten once
		// the index has caught up, not after a full batch.
		if n := partSegments(t, s, first); res.Indexed == 10 && n < 3 {
			t.Fatalf("part %d: %d segments while the index is behind (calls %+v), want it left as it was", first.n, n, calls)
		}
	}
	parts := s.search.set.Load().parts
	if len(parts) != 4 { // the migration's, empty, is dropped
		t.Fatalf("130 events in parts of 40 ids: %d parts %+v, want 4", len(parts), parts)
	}
	sealed := parts[:3]
	segments := func() (n []int) {
		for _, p := range sealed {
			n = append(n, partSegments(t, s, p))
		}
		return n
	}
	if n := segments(); slices.Max(n) != 1 {
		t.Errorf("segments of the sealed parts %v (part %d the first), want 1 each once indexed: calls %+v", n, first.n, calls)
	}

	// Marked whole, they are not merged again after a start: only the
	// newest part is to merge.
	if whole := queryStrings(t, s, `SELECT part FROM search_parts WHERE whole = 1 ORDER BY part`); !slices.Equal(whole, []string{
		strconv.FormatInt(sealed[0].n, 10), strconv.FormatInt(sealed[1].n, 10), strconv.FormatInt(sealed[2].n, 10)}) {
		t.Errorf("parts marked whole %v, want the sealed ones %+v", whole, sealed)
	}
	if err := s.loadSearchParts(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := map[int64]bool{parts[3].n: true}; !maps.Equal(s.search.unmerged, want) {
		t.Errorf("parts to merge after a start %v, want only the newest %v", s.search.unmerged, want)
	}

	// Two segments more in each (a search drops their events as it drops
	// deleted ones), not marked whole: the parts to merge as after a start
	// on a store from before the mark (migration 0024).
	for _, p := range sealed {
		filler(p, 2)
		filler(p, 3)
	}
	if n := segments(); slices.Min(n) < 3 {
		t.Fatalf("segments of the sealed parts %v, want 3 each after two inserts", n)
	}
	if _, err := s.write.ExecContext(t.Context(), `UPDATE search_parts SET whole = 0`); err != nil {
		t.Fatal(err)
	}
	if err := s.loadSearchParts(t.Context()); err != nil {
		t.Fatal(err)
	}
	for call := 1; call <= len(sealed); call++ {
		res, err := s.SearchIndex(t.Context(), 1)
		if err != nil {
			t.Fatalf("SearchIndex: %v", err)
		}
		n := segments()
		if ones := len(slices.DeleteFunc(slices.Clone(n), func(v int) bool { return v != 1 })); ones != call {
			t.Errorf("after call %d: segments of the sealed parts %v, want %d of them at 1", call, n, call)
		}
		if res.Done != (call == len(sealed)) {
			t.Errorf("call %d: Done %v with parts %v", call, res.Done, n)
		}
	}

	if ids, total := searchIDs(t, s, conn.ProjectID, "tenth", 20); total != 13 || ids[0] != ins[120].ID || ids[12] != ins[0].ID {
		t.Errorf("search tenth = %v (total %d), want the 13 tenths, newest first", ids, total)
	}
	for _, i := range []int{0, 40, 70, 120} {
		word := fmt.Sprintf("rare%d", i)
		if ids, total := searchIDs(t, s, conn.ProjectID, word, 20); total != 1 || ids[0] != ins[i].ID {
			t.Errorf("search %s = %v (total %d), want [%d]", word, ids, total, ins[i].ID)
		}
	}
	if ids, total := searchIDs(t, s, conn.ProjectID, "filler", 20); total != 0 {
		t.Errorf("search filler = %v (total %d), want none: no event holds it", ids, total)
	}
}

// TestSearchCandidateWalk checks the list of a search with more candidates
// than it counts exactly (searchExactMax): its page is read by a walk of
// the project's events restricted to the candidates, or, when the walk
// reaches its bound first, by looking every candidate up, and either way
// it is the page of the exact list; its count is estimated from a sample
// of the candidates (store.Total.Estimated) unless the walk read every
// event of the list.
func TestSearchCandidateWalk(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	ins := searchEvents(t, s, conn, 200) // "common" 200, "tenth" 20: every tenth
	// An event whose external id is the text and whose body is not.
	extra := storetest.Events(1, 1, conn, time.Now())
	extra[0].Event.UID = "evt_extra"
	extra[0].Event.Headers = http.Header{"Webhook-Id": {"common tenth"}}
	extra[0].Event.Body = []byte(`{"note":"nothing"}`)
	more, err := s.EventInsert(t.Context(), extra)
	if err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	tenth := func(k int) uint64 { return ins[190-10*k].ID } // the k-th newest tenth event
	for _, tc := range []struct {
		name    string
		text    string
		walkMax int // events a walk reads at a time
		bound   int // candidateWalkMax
		offset  int
		cursor  int64 // the cursor's event id: the page comes after it, or before it when negative
		want    store.Total
		page    []uint64
	}{
		// One word: the index's candidates match unchecked; 20 candidates
		// sampled 4 (one in 5), every one a match.
		{"one word", "tenth", 30, 1000, 0, 0, store.Total{N: 20, Estimated: true}, []uint64{tenth(0), tenth(1), tenth(2)}},
		{"one chunk: exact", "tenth", 500, 1000, 0, 0, store.Total{N: 20}, []uint64{tenth(0), tenth(1), tenth(2)}},
		{"offset", "tenth", 30, 1000, 2, 0, store.Total{N: 20, Estimated: true}, []uint64{tenth(2), tenth(3), tenth(4)}},
		{"after", "tenth", 30, 1000, 0, int64(ins[15].ID), store.Total{N: 20, Estimated: true}, []uint64{tenth(18), tenth(19)}},
		{"before", "tenth", 30, 1000, 0, -int64(ins[15].ID), store.Total{N: 20, Estimated: true}, []uint64{tenth(15), tenth(16), tenth(17)}},
		// The walk gives up after one chunk: every candidate looked up.
		{"bound", "tenth", 30, 30, 5, 0, store.Total{N: 20}, []uint64{tenth(5), tenth(6), tenth(7)}},
		// Two words: bodies checked, and the event found by its external
		// id (newest of all) counted one for one.
		{"checked", "common tenth", 30, 1000, 0, 0, store.Total{N: 21, Estimated: true}, []uint64{more[0].ID, tenth(0), tenth(1)}},
		{"checked, bound", "common tenth", 30, 30, 5, 0, store.Total{N: 21, Estimated: true}, []uint64{tenth(4), tenth(5), tenth(6)}},
		// Both words in 20 bodies, the text in none: the walk gives up at
		// 8 events per candidate, and the candidates' sample finds none.
		{"no match", "tenth common", 30, 1000, 0, 0, store.Total{Estimated: true}, nil},
	} {
		p := store.EventListParams{ProjectID: conn.ProjectID, Search: tc.text, Limit: 3, Offset: tc.offset}
		p.Page = cursorAt(t, s, tc.cursor, p.Page)
		ids := func(exactMax int) ([]uint64, store.Total) {
			// Every word looked up: "common tenth" has the 20 tenth
			// events as candidates, not the 200 of "common" alone.
			s.searchRareMax = 0
			s.searchExactMax, s.searchSample, s.walkMax, s.candidateWalkMax = exactMax, 4, tc.walkMax, tc.bound
			list, total, err := s.EventList(t.Context(), p)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := make([]uint64, len(list))
			for i, e := range list {
				got[i] = e.ID
			}
			return got, total
		}
		exact, exactTotal := ids(1000)
		got, total := ids(5)
		if total != tc.want || !slices.Equal(got, tc.page) || !slices.Equal(got, exact) {
			t.Errorf("%s: search %q: page %v, total %+v; want %v, %+v (exact list: %v, %+v)",
				tc.name, tc.text, got, total, tc.page, tc.want, exact, exactTotal)
		}
	}
}

// TestSearchSkipsAWalkFarFromItsCandidates checks that a search whose
// newest candidates are far behind the project's newest events looks its
// candidates up without walking first (candidatesFar), with the same
// answer.
func TestSearchSkipsAWalkFarFromItsCandidates(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	// "tenth" in every tenth of 200 events, then 100 newer events without.
	ins := searchEvents(t, s, conn, 200)
	quiet := storetest.Events(100, 2, conn, time.Now().Add(time.Hour))
	for i := range quiet {
		quiet[i].Event.Body = []byte(`{"note":"quiet"}`)
	}
	if _, err := s.EventInsert(t.Context(), quiet); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	ps := s.search.set.Load()
	c, walks, err := s.searchCandidates(t.Context(), ps, "tenth")
	if err != nil || walks || len(c.list) != 20 {
		t.Fatalf("searchCandidates(tenth): %d candidates, walks %v, err %v; want 20", len(c.list), walks, err)
	}
	// The page of 5 ends at the fifth newest tenth event, ins[150]: 49
	// events of the 200 and the 100 quiet ones are newer.
	p := store.EventListParams{ProjectID: conn.ProjectID, Search: "tenth", Limit: 5}
	for _, tc := range []struct {
		most int
		far  bool
	}{{100, true}, {148, true}, {149, false}, {1000, false}} {
		tx, err := s.read.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		far, err := candidatesFar(t.Context(), tx, p, storesql.NoRoutes, c, tc.most)
		tx.Rollback()
		if err != nil || far != tc.far {
			t.Errorf("candidatesFar(most %d) = %v (%v), want %v", tc.most, far, err, tc.far)
		}
	}
	s.searchExactMax, s.candidateWalkMax = 5, 100 // a walk of 100 at most: skipped
	got, total := searchIDs(t, s, conn.ProjectID, "tenth", 5)
	want := []uint64{ins[190].ID, ins[180].ID, ins[170].ID, ins[160].ID, ins[150].ID}
	if !slices.Equal(got, want) || total != 20 {
		t.Errorf("search tenth: page %v, total %d; want %v, 20", got, total, want)
	}
}

// TestSearchSampleEstimate checks a count estimated from a sample of
// candidates of which some match: "common" alone finds every event, and
// the text "common tenth" is in one in ten. A sample taken at a fixed
// stride sees every tenth event or none of them; sampleAt's does not.
func TestSearchSampleEstimate(t *testing.T) {
	t.Parallel()
	s, conn, _ := indexedStore(t, 200)
	s.searchExactMax, s.walkMax = 5, 30 // a walk, then a sample of 40
	s.searchSample = 40
	_, total, err := s.EventList(t.Context(), store.EventListParams{ProjectID: conn.ProjectID, Search: "common tenth", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	// 40 draws, each a tenth event with odds 1 in 10, each counting for 5.
	if !total.Estimated || total.N < 5 || total.N > 60 {
		t.Errorf("total %+v; want an estimate of 20 (5 to 60)", total)
	}
	for _, n := range []int{1, 7, 200, 201} {
		at := sampleAt(n, 40)
		if len(at) == 0 || len(at) > 40 || !slices.IsSorted(at) || at[0] < 0 || at[len(at)-1] >= n || len(slices.Compact(slices.Clone(at))) != len(at) {
			t.Errorf("sampleAt(%d, 40) = %v: want at most 40 distinct indexes of 0 to %d, ascending", n, at, n-1)
		}
	}
}

func TestParseIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int64
		ok   bool
	}{
		{"[]", []int64{}, true},
		{"[7]", []int64{7}, true},
		{"[1,22,-3]", []int64{1, 22, -3}, true},
		{"", nil, false},
		{"[1,]", nil, false},
		{"[1,x]", nil, false},
		{"1,2", nil, false},
	} {
		got, err := parseIDs(tc.in)
		if (err == nil) != tc.ok || tc.ok && !slices.Equal(got, tc.want) {
			t.Errorf("parseIDs(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
