package storesqlite

import (
	"path/filepath"
	"testing"
)

// TestPageCacheBudget checks each read connection's page cache and that
// nothing is memory-mapped: both count in resident memory, and a read
// connection's cache is readCache whatever the number of readers (the page
// buffer is sized for the default number; pages past it come from the
// allocator).
func TestPageCacheBudget(t *testing.T) {
	t.Parallel()
	for _, conns := range []int{1, 4, 64} {
		s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "volley.db"), ReadConns: conns})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		var cache, mmap int
		if err := s.read.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&cache); err != nil {
			t.Fatalf("read cache_size: %v", err)
		}
		if err := s.read.QueryRowContext(t.Context(), `PRAGMA mmap_size`).Scan(&mmap); err != nil {
			t.Fatalf("read mmap_size: %v", err)
		}
		if cache != -readCache() || mmap != 0 {
			t.Errorf("%d readers: cache_size %d, mmap_size %d; want %d, 0", conns, cache, mmap, -readCache())
		}
		if err := s.write.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&cache); err != nil || cache != -writeCacheKiB {
			t.Errorf("writer cache_size %d, %v; want %d", cache, err, -writeCacheKiB)
		}
		s.Close()
	}
}
