package storesqlite

import (
	"sync"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// writeKind says what a write is, for the writer's statistics
// (store.WriterStats).
type writeKind int

const (
	writeIngest     writeKind = iota // events accepted: an ingest's 202 waits on it
	writeAPI                         // every other write a client waits on
	writeLease                       // the engine takes due deliveries
	writeFinish                      // the engine records outcomes and attempts
	writeSweep                       // a pause, resume or delete applied to deliveries
	writeRetention                   // a round of the retention purge
	writeReplay                      // replays' deliveries and attempts
	writeIndex                       // the body search index filled
	writeMerge                       // the body search index's segments merged, its emptied parts dropped
	writeCheckpoint                  // the WAL checkpoint's held step
	writeUpkeep                      // the rest: rollups, dictionaries, touches, re-sealing, migrations
	writeKinds
)

var writeKindNames = [writeKinds]string{"ingest", "api", "lease", "finish", "sweep", "retention", "replay", "index", "merge", "checkpoint", "upkeep"}

// writerBuckets are the upper bounds, in seconds, of the wait and hold
// histograms: 0.25 ms to 4 s, doubling.
var writerBuckets = func() (b [15]float64) {
	for i := range b {
		b[i] = 0.00025 * float64(uint(1)<<i)
	}
	return b
}()

// durations counts durations in writerBuckets (not cumulatively; the
// last slot counts those past every bound).
type durations struct {
	count  uint64
	sum    time.Duration
	bucket [len(writerBuckets) + 1]uint64
}

func (d *durations) add(v time.Duration) {
	d.count++
	d.sum += v
	s := v.Seconds()
	i := 0
	for i < len(writerBuckets) && s > writerBuckets[i] {
		i++
	}
	d.bucket[i]++
}

func (d *durations) histogram() store.Histogram {
	h := store.Histogram{Count: d.count, Sum: d.sum.Seconds(), Buckets: make(map[float64]uint64, len(writerBuckets))}
	var n uint64
	for i, le := range writerBuckets {
		n += d.bucket[i]
		h.Buckets[le] = n
	}
	return h
}

// writerStats is the writer's waits and holds by kind of write.
type writerStats struct {
	mu   sync.Mutex
	wait [writeKinds]durations
	hold [writeKinds]durations
}

func (w *writerStats) observe(k writeKind, wait, hold time.Duration) {
	w.mu.Lock()
	w.wait[k].add(wait)
	w.hold[k].add(hold)
	w.mu.Unlock()
}

// WriterStats implements store.WriterStats.
func (s *Store) WriterStats() []store.WriterStat {
	w := &s.writerStats
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]store.WriterStat, writeKinds)
	for k := range writeKinds {
		out[k] = store.WriterStat{Kind: writeKindNames[k], Wait: w.wait[k].histogram(), Hold: w.hold[k].histogram()}
	}
	return out
}
