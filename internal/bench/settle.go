package bench

import (
	"context"
	"fmt"
	"time"
)

// settleDisk writes back what a build left for the disk to write before
// anything is measured on the store. A store that grew over days has no
// gigabytes of dirty pages waiting; one built in minutes does: on
// PostgreSQL the build's buffers and the VACUUM after it (which rewrites
// every page it marks all-visible) wait for a checkpoint, and on both
// drivers the page cache holds the files' writeback. Measured beside
// them, an ingest's commit waited behind that writeback (WAL syncs of
// 100-200 ms in the pause step, docs/benchmarks.md). So PostgreSQL
// checkpoints (checkpoint nil on SQLite), then the page cache is synced.
// It returns what it did, for the run's log.
func settleDisk(ctx context.Context, checkpoint func(context.Context) error) string {
	var done string
	if checkpoint != nil {
		start := time.Now()
		if err := checkpoint(ctx); err != nil {
			// A managed server may refuse it (PostgreSQL 15: superuser
			// or pg_checkpoint): the run goes on, and says so.
			done = fmt.Sprintf("CHECKPOINT refused (%v), ", err)
		} else {
			done = fmt.Sprintf("CHECKPOINT in %.1f s, ", time.Since(start).Seconds())
		}
	}
	start := time.Now()
	syncDisks()
	return done + fmt.Sprintf("page cache synced in %.1f s", time.Since(start).Seconds())
}
