package bench

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/searchindex"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/trainer"
)

// BenchmarkStoreSizeSearchSQLite builds a store as `volley bench --scale`
// does (1 KiB realisticBody events, half held, half with one attempt, the
// source's payload dictionary trained after the first batch), fills the
// body search index to the end as internal/searchindex does, and logs
// dbstat's bytes per event of every table and index (the search index's
// shadow tables included) and their unused space:
//
//	VOLLEY_BENCH_SIZE_EVENTS=100000 go test -run '^$' -bench StoreSizeSearchSQLite -benchtime 1x ./internal/bench
//
// The default is 20,000 events. The indexer's time is reported per event.
func BenchmarkStoreSizeSearchSQLite(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("VOLLEY_BENCH_SIZE_EVENTS")); err == nil && v > 0 {
		n = v
	}
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "volley.db")
		s, err := storesqlite.Open(b.Context(), storesqlite.Config{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		conn := storetest.Graph(b, s)
		_, err = buildDataset(b.Context(), s, datasetConfig{ProjectID: conn.ProjectID,
			Routes: []datasetRoute{{conn.SourceID, conn.ID, conn.DestinationID}},
			Events: n, Backlog: n / 2, End: time.Now().Add(-time.Minute), Span: scaleSpan,
			Batch: scaleBatch, Seed: 1, Kind: scaleKind, TrainAfter: scaleBatch,
			Body: func(i int) []byte { return realisticBody(i, 1024) },
			Train: func(ctx context.Context) error {
				_, err := trainer.New(trainer.Config{Store: s}).Pass(ctx)
				return err
			}})
		if err != nil {
			b.Fatal(err)
		}
		start, cpu := time.Now(), cpuTime()
		for {
			res, err := s.SearchIndex(b.Context(), searchindex.DefaultBatch)
			if err != nil {
				b.Fatal(err)
			}
			if res.Done {
				break
			}
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n), "index_µs/event")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "index_cpu_µs/event")
		s.Close()
		b.ReportMetric(logStoreSize(b, path, n), "bytes/event")
	}
}

// logStoreSize logs dbstat's bytes per event of each table and index of
// the SQLite file at path (all its bytes, and of them unused space) and
// returns the file's bytes per event, free pages left out.
func logStoreSize(b *testing.B, path string, n int) float64 {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var pages, free, size int64
	for q, v := range map[string]*int64{`PRAGMA page_count`: &pages, `PRAGMA freelist_count`: &free, `PRAGMA page_size`: &size} {
		if err := db.QueryRow(q).Scan(v); err != nil {
			b.Fatal(err)
		}
	}
	rows, err := db.Query(`SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name ORDER BY 2 DESC`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var bytes, unused int64
		if err := rows.Scan(&name, &bytes, &unused); err != nil {
			b.Fatal(err)
		}
		if bytes >= int64(n) {
			b.Logf("%-36s %7.1f bytes/event, %6.1f unused", name, float64(bytes)/float64(n), float64(unused)/float64(n))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return float64((pages-free)*size) / float64(n)
}
