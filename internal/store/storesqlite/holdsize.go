package storesqlite

import (
	"sync"
	"time"
)

// holdTarget is how long one batch of background bulk work (a sweep after
// a pause, resume or delete, a batch of delivery outcomes, a batch of the
// search index or a step of its merges, a retention round or a step of its
// vacuum) should hold the writer, its commit included. Such batches
// run back to back, so an ingest arriving meanwhile waits for the rest of
// the batch in progress: the batch's hold is the wait ingestion feels, and
// with it and a commit's fsync an ingest stays under 25 ms at p99.
const holdTarget = 4 * time.Millisecond

// holdMinRows is the fewest rows a sized batch takes: below it the batch's
// fixed cost (finding the work, the commit) outweighs its rows.
const holdMinRows = 16

// holdSizer sizes one kind of background batch by what its past batches
// cost per row, so that it holds the writer about holdTarget whatever the
// store's size and the machine: the same 1,000 deliveries take 10 ms on a
// small store and several times that on a big one whose pages are not
// cached.
type holdSizer struct {
	mu     sync.Mutex
	perRow time.Duration // moving average of the hold per row; 0 before the first batch
}

// size returns how many rows of want the next batch should take.
func (h *holdSizer) size(want int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perRow <= 0 {
		return max(1, min(want, holdMinRows*4))
	}
	return max(1, min(want, max(holdMinRows, int(holdTarget/h.perRow))))
}

// observe records a batch of rows that held the writer for took.
func (h *holdSizer) observe(rows int, took time.Duration) {
	if rows <= 0 {
		return
	}
	per := took / time.Duration(rows)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perRow <= 0 {
		h.perRow = per
		return
	}
	h.perRow = (h.perRow*3 + per) / 4
}
