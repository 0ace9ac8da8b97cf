package storesqlite

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// pragma returns the integer value of PRAGMA name on the write connection.
func pragma(t *testing.T, s *Store, name string) int64 {
	t.Helper()
	var v int64
	if err := s.write.QueryRowContext(t.Context(), `PRAGMA `+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// fillAndPurge stores n old events of 4 KiB, then runs a retention pass
// that deletes them all. The bodies are random bytes: compression would
// shrink repeated ones to a few bytes each.
func fillAndPurge(t *testing.T, s *Store, n int) {
	t.Helper()
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for first := 0; first < n; first += 100 {
		var events []store.NewEvent
		for i := first; i < first+100; i++ {
			body := make([]byte, 4096)
			rand.Read(body)
			events = append(events, store.NewEvent{Event: volley.Event{UID: fmt.Sprintf("evt_%d", i), ProjectID: 1, SourceID: 1,
				Method: "POST", Body: body, CreatedAt: old}})
		}
		if _, err := s.EventInsert(t.Context(), events); err != nil {
			t.Fatal(err)
		}
	}
	retentionPass(t, s, store.RetentionParams{Before: old.Add(time.Hour), Now: old, Limit: 100}, n)
}

// retentionPass runs retention rounds from p until the pass is done,
// failing the test after maxRounds.
func retentionPass(t *testing.T, s *Store, p store.RetentionParams, maxRounds int) {
	t.Helper()
	for rounds := 0; ; rounds++ {
		res, err := s.RetentionDelete(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		if res.Done {
			return
		}
		if rounds > maxRounds {
			t.Fatalf("retention is not done after %d rounds", rounds)
		}
		p.After = res.After
	}
}

// TestVacuumShrinksNewStores checks that a new file is created for
// incremental vacuum and that retention rounds give the pages they free
// back, in steps, down to the reserve.
func TestVacuumShrinksNewStores(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	if got := pragma(t, s, "auto_vacuum"); got != 2 || !s.incrementalVacuum {
		t.Fatalf("auto_vacuum of a new store = %d, want 2 (incremental)", got)
	}
	s.vacuumPages, s.vacuumReserve = 64, 32
	fillAndPurge(t, s, 2000)
	// Each step gives back at most 64 pages: the pass is not done until
	// it has given back all but the reserve.
	if free := pragma(t, s, "freelist_count"); free > s.vacuumReserve {
		t.Errorf("%d pages are still free, want at most the reserve of %d", free, s.vacuumReserve)
	}
	// 2,000 bodies of 4 KiB took some 2,000 pages; the empty store takes
	// a few dozen.
	if pages := pragma(t, s, "page_count"); pages > 200 {
		t.Errorf("the purged store still has %d pages", pages)
	}
}

// TestVacuumOldStores checks that a file made before incremental vacuum
// keeps working (its free pages are reused, never given back) and that
// the documented VACUUM converts it.
func TestVacuumOldStores(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`PRAGMA journal_mode = WAL; CREATE TABLE before_this_version (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if got := pragma(t, s, "auto_vacuum"); got != 0 || s.incrementalVacuum {
		t.Fatalf("auto_vacuum of an old store = %d, want 0", got)
	}
	fillAndPurge(t, s, 500)
	pages, free := pragma(t, s, "page_count"), pragma(t, s, "freelist_count")
	if free < 400 {
		t.Errorf("an old store has %d free pages of %d after the purge, want them kept", free, pages)
	}
	if _, err := s.write.ExecContext(t.Context(), `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(t.Context(), `VACUUM`); err != nil {
		t.Fatal(err)
	}
	if got := pragma(t, s, "auto_vacuum"); got != 2 {
		t.Errorf("auto_vacuum after VACUUM = %d, want 2 (incremental)", got)
	}
	if got := pragma(t, s, "page_count"); got > pages-400 {
		t.Errorf("VACUUM left %d pages of %d", got, pages)
	}
}
