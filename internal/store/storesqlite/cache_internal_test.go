package storesqlite

import (
	"path/filepath"
	"testing"
)

// TestPageCacheBudget checks that the read connections share the read
// cache budget and that nothing is memory-mapped: both count in resident
// memory, and neither may grow with the number of CPUs or the store.
func TestPageCacheBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		conns, mib int
		want       int // KiB per read connection
	}{
		{4, 16, 4 << 10},
		{8, 0, 8 << 10},   // the default 64 MiB
		{64, 16, 2 << 10}, // at least 2 MiB each
	} {
		s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "volley.db"), ReadConns: tc.conns, ReadCacheMiB: tc.mib})
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
		if cache != -tc.want || mmap != 0 {
			t.Errorf("%d readers, %d MiB: cache_size %d, mmap_size %d; want %d, 0", tc.conns, tc.mib, cache, mmap, -tc.want)
		}
		if err := s.write.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&cache); err != nil || cache != -writeCacheKiB {
			t.Errorf("writer cache_size %d, %v; want %d", cache, err, -writeCacheKiB)
		}
		s.Close()
	}
}
