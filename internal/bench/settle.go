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
// drivers the page cache holds the files' writeback. PostgreSQL's probe
// tail in the pause step was once put down to that writeback; settled,
// the tail stayed (the checkpoint found 2.3 s of work and the sync none:
// docs/benchmarks.md, "The disk settled after the build"), but the steps
// no longer depend on how the build's last minutes left the disk. So
// PostgreSQL checkpoints (checkpoint nil on SQLite), then the page cache
// is synced. It returns what it did, for the run's log.
func settleDisk(ctx context.Context, checkpoint func(context.Context) error) string {
	var done string
	if checkpoint != nil {
		start := time.Now()
		if err := checkpoint(ctx); err != nil {
			// A managed server may refuse it (PostgreSQL 15: superuser
			// or pg_checkpoint): the run goes on, and says so.
			done = fmt.Sprintf("CHECKPOINT failed (%v), ", err)
		} else {
			done = fmt.Sprintf("CHECKPOINT in %.1f s, ", time.Since(start).Seconds())
		}
	}
	start := time.Now()
	syncDisks()
	return done + fmt.Sprintf("page cache synced in %.1f s", time.Since(start).Seconds())
}
