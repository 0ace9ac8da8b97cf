package storesqlite

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain sets SQLite up as the store does before any test opens a
// connection of its own: SQLite takes its page memory only before its
// first connection in the process.
func TestMain(m *testing.M) {
	if err := registerFunctions(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestPagesFromTheBuffer checks that a store's connections take their
// pages from the page buffer (pagecache.go) and give them back. Not
// parallel: the buffer is the process's, and parallel tests start only
// after this one ends.
func TestPagesFromTheBuffer(t *testing.T) {
	if os.Getenv("VOLLEY_SQLITE_PAGE_MEMORY") == "malloc" {
		t.Skip("VOLLEY_SQLITE_PAGE_MEMORY=malloc: SQLite's pages come from the allocator")
	}
	before := pageMemory().Used
	s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var n int
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	// Through the store, as the node's metrics read it: the buffer's
	// slots, more of them used than before, and no page beyond it (the
	// store's caches fit).
	slots, _ := pageBuffer()
	pm := s.PageMemory()
	if pm.Used <= before {
		t.Errorf("open store: %d page slots used, %d before; want more", pm.Used, before)
	}
	if slots == 0 || pm.Slots != int64(slots) || pm.Used > pm.UsedMax || pm.UsedMax > pm.Slots || pm.OverflowBytes != 0 {
		t.Errorf("PageMemory() = %+v, want %d slots, Used at most UsedMax at most the slots, no overflow", pm, slots)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if used := pageMemory().Used; used != before {
		t.Errorf("closed store: %d page slots used, want %d as before it", used, before)
	}
}
