// Package retention deletes old traffic in the background: events (with
// their deliveries and attempts) older than the retention period, the
// traffic of deleted projects, expired idempotency keys, and the per-minute
// connection metrics of the retention period's past. It works in
// small batches with pauses between them, so it never holds the database
// for long and never slows ingestion or delivery.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/store"
)

// Config configures a Sweeper.
type Config struct {
	Store store.Traffic
	// Period is how long events are kept; 0 means 720h (30 days).
	Period time.Duration
	// Interval is the wait between sweeps once nothing is left; 0 means 1m.
	Interval time.Duration
	// Batch bounds the rows deleted per transaction; 0 means 500.
	Batch int
	// Pause separates batches within a sweep; 0 means 50ms.
	Pause  time.Duration
	Clock  clock.Clock
	Logger *slog.Logger
}

// DefaultPeriod is the default retention period.
const DefaultPeriod = 30 * 24 * time.Hour

// Sweeper runs retention in the background.
type Sweeper struct {
	cfg  Config
	stop chan struct{}
	done chan struct{}
}

// New returns a Sweeper; Start runs it.
func New(cfg Config) *Sweeper {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Pause <= 0 {
		cfg.Pause = 50 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs sweeps until Stop.
func (s *Sweeper) Start() { go s.run() }

// Stop ends the sweeper and waits for it.
func (s *Sweeper) Stop() {
	close(s.stop)
	<-s.done
}

func (s *Sweeper) run() {
	defer close(s.done)
	wait := time.Duration(0)
	for {
		t := s.cfg.Clock.NewTimer(wait)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C():
		}
		wait = s.cfg.Interval
		n, err := s.Sweep(context.Background())
		switch {
		case err != nil:
			s.cfg.Logger.Error("retention sweep", "err", err)
		case n > 0:
			wait = s.cfg.Pause // more may be left
		}
	}
}

// Sweep runs one batch and returns how many rows it deleted.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	now := s.cfg.Clock.Now()
	p := store.RetentionParams{Before: now.Add(-s.cfg.Period), Now: now, Limit: s.cfg.Batch}
	n, err := s.cfg.Store.RetentionDelete(ctx, p)
	if err != nil {
		return 0, err
	}
	// Connection metrics of the minutes whose events went: a transaction of
	// its own, so neither batch grows.
	m, err := s.cfg.Store.ConnectionMetricsDelete(ctx, p)
	return n + m, err
}
