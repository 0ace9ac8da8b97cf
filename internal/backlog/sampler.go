// Package backlog keeps the history of each project's delivery backlog for
// the console's overview. The store keeps the backlog as current values
// only (a counter per connection, the oldest pending event); a Sampler
// reads them at a fixed period and the store merges each sample into the
// hour's maximum (store.Traffic.BacklogSample), which ProjectTraffic then
// returns per hour or per day beside the traffic counters.
//
// A sample costs a read of one counter row per connection and one index
// seek per project with a backlog, and on SQLite a write queued behind
// every urgent writer, so sampling never delays ingestion. Every node of a
// PostgreSQL cluster samples: samples merge by maximum, so sampling the
// same minute twice changes nothing.
package backlog

import (
	"context"
	"log/slog"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/periodic"
	"github.com/volleyhq/volley/internal/store"
)

// Store is the part of the store a Sampler writes to.
type Store interface {
	BacklogSample(ctx context.Context, p store.BacklogSampleParams) (int, error)
}

// Config configures a Sampler.
type Config struct {
	Store Store
	// Every is the time between samples; 0 means DefaultEvery. The
	// history keeps the highest sample of each hour, so a backlog shorter
	// than Every may be missed.
	Every time.Duration
	// Clock tells the time of each sample and waits between them; nil
	// means the system clock.
	Clock  clock.Clock
	Logger *slog.Logger
}

// DefaultEvery is the default time between samples.
const DefaultEvery = time.Minute

// Sampler samples the backlog in the background.
type Sampler struct {
	cfg  Config
	loop *periodic.Loop
}

// New returns a Sampler; Start runs it.
func New(cfg Config) *Sampler {
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sampler{cfg: cfg}
	s.loop = periodic.New(cfg.Clock, s.round)
	return s
}

// Start takes a sample at once, then one every cfg.Every, until Stop.
func (s *Sampler) Start() { s.loop.Start() }

// Stop ends the sampler, cancelling a sample under way, and waits for it.
func (s *Sampler) Stop() { s.loop.Stop() }

func (s *Sampler) round(ctx context.Context) time.Duration {
	if _, err := s.Sample(ctx); err != nil && ctx.Err() == nil {
		// The next sample retries; an hour with none reads as not
		// sampled, not as no backlog.
		s.cfg.Logger.Error("sample the backlog", "err", err)
	}
	return s.cfg.Every
}

// Sample takes one sample now and returns how many projects had a
// backlog.
func (s *Sampler) Sample(ctx context.Context) (int, error) {
	return s.cfg.Store.BacklogSample(ctx, store.BacklogSampleParams{Now: s.cfg.Clock.Now()})
}
