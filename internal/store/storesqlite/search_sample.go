package storesqlite

// The count of a body search with many candidates, estimated from a sample
// of them (store.Total.Estimated): checking every candidate's body cost
// about 25 µs each at 10M events (docs/benchmarks.md).

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
)

// sampleCount estimates how many of the candidates c match the list p:
// searchSample of them, spread over the index's (c.list, sampleAt), have
// their keys read through the list's filters and their bodies checked,
// and each match found counts for the candidates it stands for. The
// events past the index and those whose external id is the text are
// counted one for one.
func (s *Store) sampleCount(ctx context.Context, tx *sql.Tx, p store.EventListParams, routes storesql.Routes, c *searchCands) (store.Total, error) {
	at := sampleAt(len(c.list), s.searchSample)
	sample := make([]int64, len(at))
	for i, j := range at {
		sample[i] = c.list[j]
	}
	w, err := candidateKeys(ctx, tx, p, routes, &searchCands{ids: jsonIDs(sample), list: sample, past: c.past, external: c.external})
	if err != nil {
		return store.Total{}, fmt.Errorf("count sample: %w", err)
	}
	all := make([]int, len(w.keys))
	for j := range all {
		all[j] = j
	}
	if err := w.decide(all); err != nil {
		return store.Total{}, err
	}
	weight := float64(len(c.list)) / float64(len(sample))
	var n float64
	for j, k := range w.keys {
		switch _, sampled := slices.BinarySearch(sample, k.id); {
		case w.state[j] < 0:
		case sampled:
			n += weight
		default:
			n++ // past the index, or found by its external id
		}
	}
	return scaled(n, p.Page.CountLimit), nil
}

// estimate counts the matching keys from about n of them spread over all
// (sampleAt), each match found standing for the keys around it; at most
// limit+1 when limit > 0, as count.
func (w *searchWalk) estimate(n, limit int) (store.Total, error) {
	js := sampleAt(len(w.keys), n)
	if err := w.decide(js); err != nil {
		return store.Total{}, err
	}
	var matched int
	for _, j := range js {
		if w.state[j] > 0 {
			matched++
		}
	}
	return scaled(float64(matched)*float64(len(w.keys))/float64(max(1, len(js))), limit), nil
}

// sampleAt returns about size of the indexes 0 to n-1, ascending: one
// drawn at random from each run of n/size. Taking every (n/size)-th would
// see only one kind of event where events come in a pattern (every tenth
// event of a test, a job that sends three kinds of webhook in turn). The
// draws are seeded by n: the same list gives the same estimate.
func sampleAt(n, size int) []int {
	stride := max(1, (n+size-1)/max(1, size))
	rng := rand.New(rand.NewPCG(uint64(n), 0x5a3b1e))
	at := make([]int, 0, n/stride+1)
	for i := 0; i < n; i += stride {
		at = append(at, i+rng.IntN(min(stride, n-i)))
	}
	return at
}

// scaled is the estimated count n, at most limit+1 when limit > 0.
func scaled(n float64, limit int) store.Total {
	total := store.Total{N: int64(math.Round(n)), Estimated: true}
	if limit > 0 && total.N > int64(limit) {
		total.N = int64(limit) + 1
	}
	return total
}
