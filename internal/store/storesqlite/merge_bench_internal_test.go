package storesqlite

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/searchindex"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkSearchMergeStep measures how long one step of the search
// index's merge holds the writer when the level it merges holds n events
// (VOLLEY_BENCH_MERGE_EVENTS, default 200,000): n events of searchBody,
// indexed and optimized into one segment, three fifths of them deleted
// from the index as a purge deletes them (the oldest), then merged
// (deletemerge) in steps of the fewest pages the merge sizer asks for
// until none is left. FTS5 checks a step's page budget only when the term
// changes, so a step writes at least one word's whole list of events, and
// a word every event holds lists the whole level: the step's hold grows
// with the level, not with the pages asked for. It reports the steps'
// count and their hold's mean and max.
//
//	for n in 50000 200000 800000; do VOLLEY_BENCH_MERGE_EVENTS=$n go test -run '^$' -bench BenchmarkSearchMergeStep -benchtime 1x ./internal/store/storesqlite; done
func BenchmarkSearchMergeStep(b *testing.B) {
	n := storetest.EnvInt(b, "VOLLEY_BENCH_MERGE_EVENTS", 200_000)
	for b.Loop() {
		steps, mean, most := mergeStepHolds(b, n)
		b.ReportMetric(float64(steps), "steps")
		b.ReportMetric(float64(mean.Microseconds())/1000, "ms-mean/step")
		b.ReportMetric(float64(most.Microseconds())/1000, "ms-max/step")
	}
}

// mergeStepHolds builds the level of BenchmarkSearchMergeStep and merges
// it, returning the steps and their holds' mean and max.
func mergeStepHolds(b *testing.B, n int) (steps int, mean, most time.Duration) {
	ctx := context.Background()
	s, _ := benchStore(b, n, searchBody)
	for {
		res, err := s.SearchIndex(ctx, searchindex.DefaultBatch)
		if err != nil {
			b.Fatal(err)
		}
		if res.Done {
			break
		}
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO event_search (event_search) VALUES ('optimize')`); err != nil {
		b.Fatal(err)
	}
	var low int64
	if err := s.read.QueryRowContext(ctx, `SELECT min(id) FROM events`).Scan(&low); err != nil {
		b.Fatal(err)
	}
	for from := low; from < low+int64(n)*3/5; from += 1000 {
		if _, err := s.write.ExecContext(ctx, `DELETE FROM event_search WHERE rowid >= ? AND rowid < ?`,
			from, min(from+1000, low+int64(n)*3/5)); err != nil {
			b.Fatal(err)
		}
	}
	var total time.Duration
	for {
		var merged bool
		hold, err := s.txHeld(ctx, background(writeMerge), func(tx *sql.Tx) (err error) {
			merged, err = mergeStep(ctx, tx, holdMinRows)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if !merged {
			break
		}
		steps++
		total += hold
		most = max(most, hold)
	}
	if steps == 0 {
		b.Fatal("no merge step found work: the deleted rows did not make a level due")
	}
	return steps, total / time.Duration(steps), most
}
