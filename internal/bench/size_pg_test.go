package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkStoreSizePG builds a store as `volley bench --scale` does (1 KiB
// realisticBody events, half held, half with one attempt) in a fresh
// PostgreSQL schema, vacuums and analyses it as autovacuum would, and
// logs the bytes per event of every table, its TOAST data and its indexes:
//
//	VOLLEY_TEST_DATABASE_URL=… VOLLEY_BENCH_SIZE_EVENTS=100000 go test -run '^$' -bench StoreSizePG -benchtime 1x ./internal/bench
//
// The default is 20,000 events.
func BenchmarkStoreSizePG(b *testing.B) {
	dbURL := os.Getenv("VOLLEY_TEST_DATABASE_URL")
	if dbURL == "" {
		b.Skip("VOLLEY_TEST_DATABASE_URL is not set: no PostgreSQL to measure")
	}
	n := storetest.EnvInt(b, "VOLLEY_BENCH_SIZE_EVENTS", 20_000)
	for b.Loop() {
		schemaURL, schema, drop, err := freshSchema(b.Context(), dbURL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(drop)
		bulkURL, err := bulkSessionURL(schemaURL)
		if err != nil {
			b.Fatal(err)
		}
		s, err := storepg.Open(b.Context(), storepg.Config{URL: bulkURL})
		if err != nil {
			b.Fatal(err)
		}
		conn := storetest.Graph(b, s)
		_, err = buildDataset(b.Context(), s, datasetConfig{ProjectID: conn.ProjectID,
			Routes: []datasetRoute{{conn.SourceID, conn.ID, conn.DestinationID}},
			Events: n, Backlog: n / 2, End: time.Now().Add(-time.Minute), Span: scaleSpan,
			Batch: scaleBatch, Seed: 1, Kind: scaleKind, Workers: 2, FinishBatch: pgFinishBatch,
			Body: func(i int) []byte { return realisticBody(i, 1024) }})
		s.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(logSchemaSize(b, schemaURL, schema, n), "bytes/event")
	}
}

// logSchemaSize vacuums and analyses the tables of schema, logs the bytes
// per event of each table (heap, TOAST, indexes) and returns the schema's
// bytes per event.
func logSchemaSize(b *testing.B, schemaURL, schema string, n int) float64 {
	conn, err := pgx.Connect(b.Context(), schemaURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	if _, err := conn.Exec(b.Context(), `VACUUM (ANALYZE)`); err != nil {
		b.Fatal(err)
	}
	rows, err := conn.Query(b.Context(), `SELECT c.relname, pg_relation_size(c.oid),
			coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0), pg_indexes_size(c.oid)
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE ns.nspname = $1 AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC`, schema)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var total int64
	var report strings.Builder // one log line: the benchmark output keeps only ten
	per := func(v int64) float64 { return float64(v) / float64(n) }
	for rows.Next() {
		var name string
		var heap, toast, indexes int64
		if err := rows.Scan(&name, &heap, &toast, &indexes); err != nil {
			b.Fatal(err)
		}
		total += heap + toast + indexes
		if heap+toast+indexes >= int64(n) {
			fmt.Fprintf(&report, "\n%-24s heap %7.1f, toast %6.1f, indexes %6.1f bytes/event", name, per(heap), per(toast), per(indexes))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	idx, err := conn.Query(b.Context(), `SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace ns ON ns.oid = i.relnamespace
		WHERE ns.nspname = $1 ORDER BY 2 DESC`, schema)
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	for idx.Next() {
		var name string
		var size int64
		if err := idx.Scan(&name, &size); err != nil {
			b.Fatal(err)
		}
		if size >= 8*int64(n) {
			fmt.Fprintf(&report, "\n  index %-36s %7.1f bytes/event", name, per(size))
		}
	}
	if err := idx.Err(); err != nil {
		b.Fatal(err)
	}
	// What lz4 made of the bodies (migration 0006 asks for it on every row
	// longer than 128 bytes).
	var raw, stored float64
	var compressed int64
	if err := conn.QueryRow(b.Context(), `SELECT avg(octet_length(body)), avg(pg_column_size(body)),
		count(pg_column_compression(body)) FROM event_payloads`).Scan(&raw, &stored, &compressed); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(&report, "\nbodies: %.0f bytes on average, %.0f stored; %d of %d compressed", raw, stored, compressed, n)
	b.Log(report.String())
	return per(total)
}
