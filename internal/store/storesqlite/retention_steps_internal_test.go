package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkRetentionSteps shows where a retention round's time goes: it
// runs the statements of RetentionDelete one by one, over a store of
// VOLLEY_BENCH_RETENTION_EVENTS (default 100,000) old events of about
// 1 KiB, indexed for search, with a delivery and an attempt each, in rounds
// of VOLLEY_BENCH_RETENTION_BATCH events (default 500), and reports each
// statement's mean time per round in ms. Run it once: -benchtime 1x.
func BenchmarkRetentionSteps(b *testing.B) {
	n := storetest.EnvInt(b, "VOLLEY_BENCH_RETENTION_EVENTS", 100_000)
	batch := storetest.EnvInt(b, "VOLLEY_BENCH_RETENTION_BATCH", 500)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		s, err := Open(ctx, Config{Path: filepath.Join(b.TempDir(), "volley.db")})
		if err != nil {
			b.Fatal(err)
		}
		c := storetest.Graph(b, s)
		storetest.OldEvents(b, s, c, n, 0)
		storetest.IndexAll(b, s)
		b.StartTimer()
		steps := map[string]time.Duration{}
		timed := func(name string, f func() error) {
			t0 := time.Now()
			if err := f(); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			steps[name] += time.Since(t0)
		}
		before := micros(time.Now().Add(-24 * time.Hour))
		var after int64
		rounds := 0
		for ; ; rounds++ {
			s.writer.lock(false)
			tx, err := s.write.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			var bound sql.NullInt64
			timed("bound", func() error {
				return tx.QueryRowContext(ctx, sqlRetentionBound, after, batch, before).Scan(&bound)
			})
			if !bound.Valid {
				tx.Rollback()
				s.writer.unlock()
				break
			}
			var ids []int64
			timed("batch", func() (err error) {
				ids, err = queryIDs(ctx, tx, sqlRetentionBatch, after, bound.Int64, before)
				return err
			})
			list, _ := json.Marshal(ids)
			for _, q := range retentionDeletes {
				name := strings.Fields(q)[2]
				timed(name, func() error { _, err := tx.ExecContext(ctx, q, string(list)); return err })
			}
			timed("commit", tx.Commit)
			s.writer.unlock()
			timed("vacuum", func() error { _, err := s.vacuumStep(ctx); return err })
			after = bound.Int64
		}
		b.StopTimer()
		var total time.Duration
		for name, d := range steps {
			b.ReportMetric(ms(d)/float64(rounds), name+"-ms/round")
			total += d
		}
		b.ReportMetric(ms(total)/float64(rounds), "total-ms/round")
		b.ReportMetric(float64(n)/total.Seconds(), "events/s")
		s.Close()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
