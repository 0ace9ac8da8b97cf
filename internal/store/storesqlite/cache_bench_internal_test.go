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
	benchIndex(b, s, n)
	var ingestionID string
	if err := s.read.QueryRowContext(ctx, `SELECT ingestion_id FROM sources WHERE id = ?`, conn.SourceID).Scan(&ingestionID); err != nil {
		b.Fatal(err)
	}
	pool := s.read
	defer func() { s.read = pool }()
	uid := 0
	for _, kib := range []int{16 << 10, 2 << 10, readCacheKiB, 256} {
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
