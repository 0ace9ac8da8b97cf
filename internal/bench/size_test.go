package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkStoreSizeSQLite stores a dataset of 1 KiB JSON events (each
// with one delivery and one attempt, as buildDataset makes them) and
// reports the database's bytes per event, every table and index included:
//
//	VOLLEY_BENCH_SIZE_EVENTS=200000 go test -run '^$' -bench StoreSizeSQLite -benchtime 1x ./internal/bench
//
// The default is 20,000 events; the figure is about the same from there.
func BenchmarkStoreSizeSQLite(b *testing.B) {
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
		end := time.Now().UTC().Truncate(time.Microsecond)
		_, err = buildDataset(b.Context(), s, datasetConfig{ProjectID: conn.ProjectID, Events: n, BodySize: 1024, End: end,
			Routes: []datasetRoute{{SourceID: conn.SourceID, ConnectionID: conn.ID, DestinationID: conn.DestinationID}}})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		b.ReportMetric(logStoreSize(b, path, n), "bytes/event")
	}
}
