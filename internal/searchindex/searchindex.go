// Package searchindex fills a store's index of event bodies in the
// background, for a driver that does not index them as it writes them
// (store.SearchIndexer: SQLite, where an index kept in the ingest
// transaction cost ingestion its rate).
//
// It indexes in batches, each one short transaction of at most Batch
// events (the store runs each batch behind every waiting ingest), and
// checks again every Interval once it has caught up. While events are
// waiting, it rests after each batch as long as the batch took: a backfill
// of millions of events takes at most half of a core and of the writer's
// time, and a drain or ingestion running meanwhile keeps the other half
// (docs/benchmarks.md: back to back, a backfill halved a drain's rate). The store's search is complete at any lag: it reads the bodies
// of the events not yet indexed, so the lag costs searches time, never
// results. After an upgrade the first batches backfill every event stored
// before, oldest first.
package searchindex

import (
	"context"
	"log/slog"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/periodic"
	"github.com/volleyhq/volley/internal/store"
)

// Config configures an Indexer.
type Config struct {
	// Store is the store whose index to fill.
	Store store.SearchIndexer
	// Batch bounds the events one batch indexes; 0 means DefaultBatch.
	Batch int
	// Interval is the wait before looking for new events once every event
	// is indexed; 0 means DefaultInterval. A search reads the bodies of
	// the events ingested since, about Interval × the ingest rate.
	Interval time.Duration
	// Clock times the waits; nil means the real clock.
	Clock  clock.Clock
	Logger *slog.Logger
}

// DefaultBatch is the default number of events a batch indexes: the
// writer is held for the inserts of their words only (the bodies are read
// and decoded before), a few milliseconds on the development machine
// (docs/benchmarks.md).
const DefaultBatch = 500

// DefaultInterval is the default wait once the index has caught up.
const DefaultInterval = time.Second

// errorWait is the wait after a failed batch, so that a broken store is
// not retried in a loop.
const errorWait = 10 * time.Second

// Indexer runs the batches in the background.
type Indexer struct {
	cfg  Config
	loop *periodic.Loop
}

// New returns an Indexer; Start runs it.
func New(cfg Config) *Indexer {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	x := &Indexer{cfg: cfg}
	x.loop = periodic.New(cfg.Clock, x.Step)
	return x
}

// Start runs batches until Stop.
func (x *Indexer) Start() { x.loop.Start() }

// Stop ends the indexer, cancelling the batch it is running, and waits for
// it.
func (x *Indexer) Stop() { x.loop.Stop() }

// Step runs one batch and returns how long to wait before the next: as
// long as the batch took while events are waiting to be indexed.
func (x *Indexer) Step(ctx context.Context) time.Duration {
	start := x.cfg.Clock.Now()
	res, err := x.cfg.Store.SearchIndex(ctx, x.cfg.Batch)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			x.cfg.Logger.Error("search index batch", "err", err)
		}
		return errorWait
	case res.Done:
		return x.cfg.Interval
	}
	return x.cfg.Clock.Now().Sub(start)
}
