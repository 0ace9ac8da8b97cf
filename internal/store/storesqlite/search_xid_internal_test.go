package storesqlite

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// xidEvents stores n events of conn whose external id (a Webhook-Id
// header) is ext-<first+i>, but the last, whose id is "shared" like the
// one before it.
func xidEvents(t *testing.T, s *Store, conn *volley.Connection, n, first int) []store.InsertedEvent {
	t.Helper()
	events := storetest.Events(n, first+1, conn, time.Now())
	for i := range events {
		id := fmt.Sprintf("ext-%d", first+i)
		if i >= n-2 {
			id = fmt.Sprintf("shared-%d", first)
		}
		events[i].Event.Headers = http.Header{"Webhook-Id": {id}}
		events[i].Event.Body = []byte(`{"note":"no id here"}`)
	}
	ins, err := s.EventInsert(t.Context(), events)
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	return ins
}

// xidRows returns how many external ids the parts' tables hold, and the
// tables.
func xidRows(t *testing.T, s *Store) (int, []string) {
	t.Helper()
	return tablesRows(t, s, `event_xid_[0-9]*`)
}

// aheadRows returns how many external ids the tables of ids copied ahead
// of the index hold, and the tables.
func aheadRows(t *testing.T, s *Store) (int, []string) {
	t.Helper()
	return tablesRows(t, s, `event_xid_ahead_[0-9]*`)
}

// tablesRows returns how many rows the tables whose names match glob hold,
// and the tables, by name.
func tablesRows(t *testing.T, s *Store, glob string) (int, []string) {
	t.Helper()
	tables := queryStrings(t, s, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB '`+glob+`' ORDER BY name`)
	var n int
	for _, table := range tables {
		n += count(t, s, table)
	}
	return n, tables
}

// findsByExternalID checks that a search for each of ids (external ids)
// lists exactly the events want[id], and that a search of a text without
// words or of an "evt_…" id no Volley id matches does the same.
func findsByExternalID(t *testing.T, s *Store, projectID uint64, when string, want map[string][]uint64) {
	t.Helper()
	for id, events := range want {
		got, total := searchIDs(t, s, projectID, id, 10)
		slices.Sort(got)
		if total != int64(len(events)) || !slices.Equal(got, events) {
			t.Errorf("%s: search %q = %v (total %d), want %v", when, id, got, total, events)
		}
	}
}

// TestExternalIDsInParts checks that a search finds an event by its
// external id before the indexer reaches it, once its part holds it, and
// across parts, and no more once retention has deleted it and its part
// has gone with its table of external ids.
func TestExternalIDsInParts(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	s.search.events = 10
	old := xidEvents(t, s, conn, 12, 0)
	want := map[string][]uint64{
		"ext-3":    {old[3].ID},
		"ext-9":    {old[9].ID},
		"shared-0": {old[10].ID, old[11].ID},
		"ext-99":   nil,
		"ext":      nil, // ids match whole
	}
	findsByExternalID(t, s, conn.ProjectID, "not indexed", want)
	if n, tables := xidRows(t, s); n != 0 || len(tables) != 1 {
		t.Errorf("before indexing: %d external ids in %v, want part 1's table, empty", n, tables)
	}
	indexAll(t, s)
	recent := xidEvents(t, s, conn, 5, 100) // not indexed: past the parts
	want["ext-100"] = []uint64{recent[0].ID}
	want["shared-100"] = []uint64{recent[3].ID, recent[4].ID}
	findsByExternalID(t, s, conn.ProjectID, "indexed and not", want)
	if n, tables := xidRows(t, s); n != 12 || len(tables) != 2 {
		t.Errorf("after indexing 12 events in parts of 10: %d external ids in %v, want 12 in 2 tables", n, tables)
	}

	// The first part's events deleted (created now, but their deliveries
	// are pending: deleted as a project's would be), its part and table go.
	ids := make([]int64, 10)
	for i := range ids {
		ids[i] = int64(old[i].ID)
	}
	if _, err := s.txHeld(t.Context(), background(writeRetention), func(tx *sql.Tx) error {
		return deleteEvents(t.Context(), s.hot(tx), ids)
	}); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	dropSteps(t, s, 3)
	parts := s.search.set.Load().parts
	if n, tables := xidRows(t, s); n != 2+5 || len(parts) != 1 || !slices.Equal(tables, []string{parts[0].xidTable()}) {
		t.Errorf("after the first part's events went: %d external ids in %v (parts %+v), want 7 in the last part's table", n, tables, parts)
	}
	want["ext-3"], want["ext-9"] = nil, nil
	findsByExternalID(t, s, conn.ProjectID, "after the first part went", want)
}

// TestExternalIDsMigration checks migration 0021 both ways: down, the
// index of events.external_id is back and the parts' tables are gone;
// up, each part's table holds the external ids of the events it indexes,
// the index is gone, and searches find every event by its id.
func TestExternalIDsMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	s.search.events = 10
	conn := storetest.Graph(t, s)
	indexed := xidEvents(t, s, conn, 25, 0)
	indexAll(t, s)
	recent := xidEvents(t, s, conn, 3, 100)
	for v := 0; v != 21; {
		if v, err = s.MigrateDown(t.Context()); err != nil || v < 21 {
			t.Fatalf("MigrateDown = %d, %v; want 21 undone", v, err)
		}
	}
	if n, tables := xidRows(t, s); n != 0 || len(tables) != 0 {
		t.Errorf("down: %d external ids in %v, want no table", n, tables)
	}
	if idx := queryStrings(t, s, `SELECT name FROM sqlite_schema WHERE name = 'events_external_id'`); len(idx) != 1 {
		t.Errorf("down: events_external_id = %v, want the index back", idx)
	}
	s.Close()

	if s, err = Open(t.Context(), Config{Path: path}); err != nil {
		t.Fatalf("Open (migrates up): %v", err)
	}
	defer s.Close()
	if n, tables := xidRows(t, s); n != 25 || len(tables) != 3 {
		t.Errorf("up: %d external ids in %v, want the 25 indexed in 3 tables", n, tables)
	}
	if idx := queryStrings(t, s, `SELECT name FROM sqlite_schema WHERE name = 'events_external_id'`); len(idx) != 0 {
		t.Errorf("up: events_external_id = %v, want it gone", idx)
	}
	// Migrating gave the index's pages back (MigrateUp's settle).
	if free := queryStrings(t, s, `PRAGMA freelist_count`); len(free) != 1 || free[0] != "0" {
		t.Errorf("up: PRAGMA freelist_count = %v, want 0", free)
	}
	findsByExternalID(t, s, conn.ProjectID, "up", map[string][]uint64{
		"ext-0": {indexed[0].ID}, "ext-12": {indexed[12].ID}, "shared-0": {indexed[23].ID, indexed[24].ID},
		"ext-100": {recent[0].ID}, "shared-100": {recent[1].ID, recent[2].ID},
	})
	indexAll(t, s)
	if n, _ := xidRows(t, s); n != 28 {
		t.Errorf("after indexing the rest: %d external ids, want 28", n)
	}
}

// TestExternalIDsAhead checks that, with the indexer far behind, the
// external ids of the events past it are copied ahead of it in steps, a
// table per chunk of event ids, until no more than xidAheadMin events are
// left to read, that a lookup finds those events by their copies (not by
// reading them), and that indexing drops each table once past it, the
// parts' tables holding the ids then.
func TestExternalIDsAhead(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	s.search.events = 10
	s.xidAheadMin, s.xidAheadChunk = 4, 8
	ins := xidEvents(t, s, conn, 24, 0)
	newest := int64(ins[len(ins)-1].ID)
	steps := 0
	for {
		cur, err := s.readXidCursors(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ahead, err := s.xidAhead(t.Context(), cur)
		if err != nil {
			t.Fatal(err)
		}
		if !ahead {
			break
		}
		if steps++; steps > 100 {
			t.Fatal("xidAhead never stopped")
		}
	}
	var through int64
	if err := s.read.QueryRowContext(t.Context(), `SELECT xid_through FROM search_index`).Scan(&through); err != nil {
		t.Fatal(err)
	}
	if steps == 0 || through < newest-s.xidAheadMin || through > newest {
		t.Fatalf("after %d steps: xid_through %d, want within %d of the newest event %d", steps, through, s.xidAheadMin, newest)
	}
	var copied int
	for _, e := range ins {
		if int64(e.ID) <= through {
			copied++
		}
	}
	n, tables := aheadRows(t, s)
	if chunks := int((through + s.xidAheadChunk - 1) / s.xidAheadChunk); n != copied || len(tables) != chunks {
		t.Errorf("%d external ids copied ahead in %v, want the %d of the events up to %d in %d tables", n, tables, copied, through, chunks)
	}

	want := map[string][]uint64{"ext-3": {ins[3].ID}, "ext-21": {ins[21].ID}, "shared-0": {ins[22].ID, ins[23].ID}, "ext-99": nil}
	findsByExternalID(t, s, conn.ProjectID, "copied ahead", want)
	// The lookup finds the events up to xid_through by their copies: with
	// their own external ids cleared, it finds them still.
	write := func(q string, args ...any) {
		t.Helper()
		if _, err := s.execBackground(t.Context(), writeUpkeep, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	write(`UPDATE events SET external_id = NULL WHERE id = ?`, ins[3].ID)
	if got, err := s.externalIDs(t.Context(), "ext-3"); err != nil || !slices.Equal(got, []int64{int64(ins[3].ID)}) {
		t.Errorf("lookup of ext-3 with the event's own id cleared = %v, %v; want [%d]", got, err, ins[3].ID)
	}
	write(`UPDATE events SET external_id = 'ext-3' WHERE id = ?`, ins[3].ID)

	indexAll(t, s)
	_, tables = aheadRows(t, s)
	for _, name := range tables {
		k, _ := strconv.ParseInt(strings.TrimPrefix(name, "event_xid_ahead_"), 10, 64)
		if (k+1)*s.xidAheadChunk <= newest {
			t.Errorf("after indexing every event: %s is left, want the tables the index passed dropped", name)
		}
	}
	if n, _ := xidRows(t, s); n != len(ins) {
		t.Errorf("after indexing: the parts' tables hold %d external ids, want %d", n, len(ins))
	}
	findsByExternalID(t, s, conn.ProjectID, "indexed", want)
}

// TestExternalIDsAheadMigration checks migration 0022 down with ids
// copied ahead of the index: their tables and the cursor go, and up again
// a search finds every event.
func TestExternalIDsAheadMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	s.xidAheadMin, s.xidAheadChunk = 2, 4
	conn := storetest.Graph(t, s)
	ins := xidEvents(t, s, conn, 10, 0)
	cur, err := s.readXidCursors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ahead, err := s.xidAhead(t.Context(), cur); err != nil || !ahead {
		t.Fatalf("xidAhead = %v, %v; want a step", ahead, err)
	}
	if _, tables := aheadRows(t, s); len(tables) == 0 {
		t.Fatal("no table of ids copied ahead to migrate down")
	}
	migrateDownThrough(t, s, 22)
	if _, tables := aheadRows(t, s); len(tables) != 0 {
		t.Errorf("down: tables of ids copied ahead %v, want none", tables)
	}
	if cols := queryStrings(t, s, `SELECT name FROM pragma_table_info('search_index') WHERE name = 'xid_through'`); len(cols) != 0 {
		t.Errorf("down: search_index.xid_through is still there")
	}
	s.Close()

	if s, err = Open(t.Context(), Config{Path: path}); err != nil {
		t.Fatalf("Open (migrates up): %v", err)
	}
	defer s.Close()
	findsByExternalID(t, s, conn.ProjectID, "up again", map[string][]uint64{
		"ext-0": {ins[0].ID}, "ext-7": {ins[7].ID}, "shared-0": {ins[8].ID, ins[9].ID},
	})
}

// migrateDownThrough reverts migrations, the latest first, until version
// is undone.
func migrateDownThrough(t *testing.T, s *Store, version int) {
	t.Helper()
	for {
		v, err := s.MigrateDown(t.Context())
		switch {
		case err != nil:
			t.Fatalf("MigrateDown: %v", err)
		case v < version:
			t.Fatalf("MigrateDown undid %d, past %d", v, version)
		case v == version:
			return
		}
	}
}
