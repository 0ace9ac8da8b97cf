package storesqlite

import (
	"context"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/searchindex"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkSearchMergeStep measures how long the steps of the search
// index's merges hold the writer while one part of n events
// (VOLLEY_BENCH_MERGE_EVENTS, default 65,536, searchPartEvents) is filled
// as the indexer fills it: n events of searchBody indexed in the
// indexer's batches into a part big enough for all, each batch followed
// by the merge steps it makes due, as SearchIndex runs them, sized by
// their hold. FTS5 checks a step's page budget only when the term
// changes, so a step writes at least one word's whole list of the level it
// merges, and a word every event holds lists the whole level: the longest
// step grows with the part. It reports the steps' count and their hold's
// mean and max.
//
//	for n in 16384 65536 262144; do VOLLEY_BENCH_MERGE_EVENTS=$n go test -run '^$' -bench BenchmarkSearchMergeStep -benchtime 1x ./internal/store/storesqlite; done
func BenchmarkSearchMergeStep(b *testing.B) {
	n := storetest.EnvInt(b, "VOLLEY_BENCH_MERGE_EVENTS", searchPartEvents)
	for b.Loop() {
		steps, mean, most := mergeStepHolds(b, n)
		b.ReportMetric(float64(steps), "steps")
		b.ReportMetric(float64(mean.Microseconds())/1000, "ms-mean/step")
		b.ReportMetric(float64(most.Microseconds())/1000, "ms-max/step")
	}
}

// mergeStepHolds fills the part of BenchmarkSearchMergeStep, returning
// the merge steps and their holds' mean and max.
func mergeStepHolds(b *testing.B, n int) (steps int, mean, most time.Duration) {
	ctx := context.Background()
	s, _ := benchStore(b, n, searchBody)
	s.search.events = int64(n) + 1 // every event in the first part the indexer makes
	var run mergeRun
	for {
		res, err := s.indexBatch(ctx, searchindex.DefaultBatch)
		if err != nil {
			b.Fatal(err)
		}
		parts := s.search.set.Load().parts
		r, err := s.mergePart(ctx, parts[len(parts)-1], false)
		if err != nil {
			b.Fatal(err)
		}
		run.steps, run.total, run.most = run.steps+r.steps, run.total+r.total, max(run.most, r.most)
		if res.Done {
			break
		}
	}
	if len(s.search.set.Load().parts) != 2 { // part 1 of the migration, empty, and the one filled
		b.Fatalf("the events went into %d parts, want one", len(s.search.set.Load().parts)-1)
	}
	if run.steps == 0 {
		b.Fatal("no merge step found work")
	}
	return run.steps, run.total / time.Duration(run.steps), run.most
}
