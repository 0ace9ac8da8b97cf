package storesqlite

import (
	"os"
	"path/filepath"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
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

// pageSlotsUsed is how many slots of the page buffer SQLite uses now.
func pageSlotsUsed(t *testing.T) int64 {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	p := libc.Xmalloc(tls, 16)
	defer libc.Xfree(tls, p)
	if rc := sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_PAGECACHE_USED, p, p+8, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sqlite3_status64: %d", rc)
	}
	return *(*int64)(offHeap(p))
}

// TestPagesFromTheBuffer checks that a store's connections take their
// pages from the page buffer (pagecache.go) and give them back. Not
// parallel: the buffer is the process's, and parallel tests start only
// after this one ends.
func TestPagesFromTheBuffer(t *testing.T) {
	if os.Getenv("VOLLEY_SQLITE_PAGE_MEMORY") == "malloc" {
		t.Skip("VOLLEY_SQLITE_PAGE_MEMORY=malloc: SQLite's pages come from the allocator")
	}
	before := pageSlotsUsed(t)
	s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var n int
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	used := pageSlotsUsed(t)
	if used <= before {
		t.Errorf("open store: %d page slots used, %d before; want more", used, before)
	}
	// What the node's metrics show: the buffer's slots, some used, and
	// no page beyond it (the store's caches fit; its checkpointer may
	// take a page meanwhile, so the count is not compared exactly).
	slots, _ := pageBuffer()
	if pm := s.PageMemory(); slots == 0 || pm.Slots != int64(slots) || pm.Used <= before || pm.Used > pm.UsedMax || pm.UsedMax > pm.Slots || pm.OverflowBytes != 0 {
		t.Errorf("PageMemory() = %+v, want %d slots, more than %d used, at most UsedMax, no overflow", pm, slots, before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if used := pageSlotsUsed(t); used != before {
		t.Errorf("closed store: %d page slots used, want %d as before it", used, before)
	}
}
