package store

// WriterStats is implemented by a driver whose writes take turns on one
// writer (SQLite). It says, for each kind of write, how long writes waited
// for their turn and how long they held the writer: the hold of a
// background batch is what an ingest arriving meanwhile waits for, so these
// are where a slow ingest's time went. A driver whose writers run side by
// side (PostgreSQL) does not implement it.
type WriterStats interface {
	// WriterStats returns the counts since the store was opened, one entry
	// per kind of write, in a fixed order.
	WriterStats() []WriterStat
}

// WriterStat is one kind of write's waits and holds since the store opened.
type WriterStat struct {
	// Kind names the writes: "ingest", "api", "lease", "finish", "sweep",
	// "retention", "replay", "index", "merge", "checkpoint" or "upkeep".
	Kind string
	// Wait is how long each write waited for the writer; Hold how long it
	// then held it, its commit included.
	Wait, Hold Histogram
}

// Histogram counts durations in buckets, cumulatively (Prometheus's
// layout).
type Histogram struct {
	Count uint64
	// Sum is the total of the durations, in seconds.
	Sum float64
	// Buckets maps an upper bound, in seconds, to how many durations were
	// at most that long.
	Buckets map[float64]uint64
}
