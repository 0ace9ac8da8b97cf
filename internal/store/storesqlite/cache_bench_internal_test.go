package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkReaderCacheReset measures what a read connection's page cache
// costs under ingestion. In WAL mode a connection drops its whole cache
// when it starts a read after another connection committed, freeing every
// page under the page cache's process-wide mutex (which every
// connection's reads and commits take); pages freed to the allocator went
// back to the kernel page by page (docs/benchmarks.md "The first PUT's
// stall, found"), which the page buffer (pagecache.go) avoids:
// VOLLEY_SQLITE_PAGE_MEMORY=malloc in the environment measures without it.
// On one read connection with a cache of each size, over 60,000 indexed
// events of searchBody, each round runs three body searches, commits one
// event on the writer, and looks up the source by its ingestion id as
// ingestion does: it reports the searches' time, the lookup's mean and the
// slowest lookup.
//
//	go test -run '^$' -bench BenchmarkReaderCacheReset -benchtime 10x ./internal/store/storesqlite
func BenchmarkReaderCacheReset(b *testing.B) {
	ctx := context.Background()
	const n = 60_000
	path := filepath.Join(b.TempDir(), "volley.db")
	s, conn := benchStoreAt(b, path, n, searchBody)
	benchIndex(b, s)
	var ingestionID string
	if err := s.read.QueryRowContext(ctx, `SELECT ingestion_id FROM sources WHERE id = ?`, conn.SourceID).Scan(&ingestionID); err != nil {
		b.Fatal(err)
	}
	pool := s.read
	defer func() { s.read = pool }()
	uid := 0
	for _, kib := range []int{16 << 10, readCacheKiB, 2 << 10, readCacheMallocKiB, 256} {
		b.Run(fmt.Sprintf("cache=%dKiB", kib), func(b *testing.B) {
			r, err := sql.Open("sqlite", dsn(path, connRead, kib))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			r.SetMaxOpenConns(1) // one connection: the one the searches fill
			s.read = r
			var searching, lookups, slowest time.Duration
			for b.Loop() {
				t0 := time.Now()
				for _, q := range []string{"acct_0042", "invoice", "r42 pro"} {
					p := store.EventListParams{ProjectID: conn.ProjectID, Search: q, Limit: 50}
					p.Page.CountLimit = 10_000
					if _, _, err := s.EventList(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
				searching += time.Since(t0)
				uid++
				ev := storetest.Events(1, 0, conn, time.Now())
				ev[0].Event.UID, ev[0].Deliveries = fmt.Sprintf("evt_cache%017d", uid), nil
				if _, err := s.EventInsert(ctx, ev); err != nil {
					b.Fatal(err)
				}
				t0 = time.Now()
				if _, err := s.SourceGetByIngestionID(ctx, ingestionID); err != nil {
					b.Fatal(err)
				}
				d := time.Since(t0)
				lookups, slowest = lookups+d, max(slowest, d)
			}
			b.ReportMetric(float64(searching.Microseconds())/float64(b.N)/1000, "ms/3-searches")
			b.ReportMetric(float64(lookups.Microseconds())/float64(b.N)/1000, "ms/lookup")
			b.ReportMetric(float64(slowest.Microseconds())/1000, "ms-max/lookup")
		})
	}
}

// BenchmarkIndexFillReaderCache measures what the read connections' cache
// size does to the writer's (see readCacheKiB): for each size, a fresh
// store of VOLLEY_BENCH_FILL_EVENTS events of searchBody (default
// 200,000) has its search index filled in batches of 5,000, as the scale
// bench fills it, in parts of 1,024 events, so that the schema every
// reader reads again after a part is added is as big as a 10M-event
// store's with its parts of 65,536. It reports the fill's rate and the
// writer's cache when it ends (32 MiB when full).
//
//	go test -run '^$' -bench BenchmarkIndexFillReaderCache -benchtime 1x -count 2 ./internal/store/storesqlite
func BenchmarkIndexFillReaderCache(b *testing.B) {
	n := storetest.EnvInt(b, "VOLLEY_BENCH_FILL_EVENTS", 200_000)
	for _, kib := range []int{readCacheMallocKiB, readCacheKiB} {
		b.Run(fmt.Sprintf("cache=%dKiB", kib), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "volley.db")
			s, _ := benchStoreAt(b, path, n, searchBody)
			s.search.events = 1024
			r, err := sql.Open("sqlite", dsn(path, connRead, kib))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			r.SetMaxOpenConns(defaultReadConns())
			pool := s.read
			s.read = r
			defer func() { s.read = pool }()
			var took time.Duration
			for b.Loop() {
				took = benchIndexBy(b, s, 5000)
			}
			b.ReportMetric(float64(n)/took.Seconds(), "events/s")
			b.ReportMetric(float64(cacheUsed(b, s.write))/(1<<20), "writer-cache-MiB")
		})
	}
}
