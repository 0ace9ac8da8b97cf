// Package replay runs bulk replay jobs (POST /api/projects/{id}/replays)
// in the background: each job pages through the events its filter matches
// and sends each of them again through the delivery engine's low-priority
// replays (delivery.Engine.ReplayLowPriority), which wait for live work and
// take their share of every rate limit.
//
// A job is worked on in batches of Config.Batch events, read from the event
// list by cursor (newest first, as the list shows them; never by offset).
// After each batch its attempts are recorded in one transaction, then the
// job's cursor and counts are stored and its lease freed, so that:
//   - a job survives restarts and node deaths: it goes on from its cursor
//     once its lease has run out (Stop frees it at once). The batch in
//     progress when a node died is sent again: a replay job is
//     at-least-once, like every delivery;
//   - the jobs of every project take turns, one batch each: the next claim
//     takes the unfinished job that progressed least recently;
//   - a cancel is seen within one batch, and sooner: the lease, renewed
//     every third of its length while a batch runs, reports it.
//
// The package lives beside delivery rather than in it: it is a client of
// the engine (one method) and of the store, with a loop of its own, like
// retention.
package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/periodic"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
)

// Replayer sends one delivery of an event again, at low priority, and
// returns the attempt without recording it (the delivery engine).
type Replayer interface {
	ReplayLowPriority(ctx context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error)
}

// Config configures a Runner. Zero values take the documented defaults.
type Config struct {
	Store    store.Store
	Replayer Replayer
	// Owner names this node in job leases; unique among the nodes sharing
	// the store (the delivery engine's Owner).
	Owner string
	// Batch is how many events a batch reads and sends before the job's
	// progress is stored; 0 means 50.
	Batch int
	// Concurrency bounds the replay attempts in flight on this node; 0
	// means 2. Replays are low priority: this stays small whatever the
	// engine's own concurrency.
	Concurrency int
	// Lease is how long a job stays claimed without news from its node; 0
	// means 2m. It is renewed every third of it while a batch runs.
	Lease time.Duration
	// PollInterval is how often an idle runner looks for jobs it was not
	// told about (another node's, or a taken-over one); 0 means 2s.
	PollInterval time.Duration
	Clock        clock.Clock // nil means the system clock
	Logger       *slog.Logger
	// Yield spaces batches while the node's ingestion commits slowly
	// (package yield), down to Floor events a second; nil never does.
	Yield *yield.Signal
}

// Floor is the events a second a replay keeps however slowly ingestion
// commits.
const Floor = 100

// Runner works on replay jobs until stopped.
type Runner struct {
	cfg   Config
	clock clock.Clock
	log   *slog.Logger
	loop  *periodic.Loop
	yield *yield.Throttle
}

// New returns a Runner; Start runs it. It does no I/O.
func New(cfg Config) (*Runner, error) {
	if cfg.Store == nil || cfg.Replayer == nil || cfg.Owner == "" {
		return nil, errors.New("replay: Store, Replayer and Owner are required")
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, yield: cfg.Yield.Throttle("replay", Floor)}
	r.loop = periodic.New(cfg.Clock, r.round)
	return r, nil
}

// Start runs the runner in the background.
func (r *Runner) Start() { r.loop.Start() }

// Stop abandons the batch in progress (its events are sent again by
// whoever resumes the job), frees the job's lease and returns once the
// runner's goroutines have ended.
func (r *Runner) Stop() { r.loop.Stop() }

// Wake tells the runner that a job was created.
func (r *Runner) Wake() { r.loop.Wake() }

// round runs one batch of a job, and the next at once while there was
// one; idle, it looks again after PollInterval or a Wake.
func (r *Runner) round(ctx context.Context) time.Duration {
	worked, err := r.once(ctx)
	if err != nil && ctx.Err() == nil {
		r.log.Error("replay job", "err", err)
	}
	if worked && err == nil {
		return r.yield.Delay()
	}
	return r.cfg.PollInterval
}

// once claims a job and runs one batch of it; false means there was none.
func (r *Runner) once(ctx context.Context) (bool, error) {
	if ctx.Err() != nil {
		return false, nil
	}
	now := r.clock.Now()
	job, err := r.cfg.Store.ReplayClaim(ctx, store.ReplayClaimParams{Owner: r.cfg.Owner, Now: now, Until: now.Add(r.cfg.Lease)})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p, batchErr := r.batch(ctx, job)
	r.yield.Done(int(p.Processed))
	if batchErr != nil || ctx.Err() != nil {
		// The batch failed (the job is tried again after a wait, and the
		// other jobs meanwhile) or was abandoned because the runner stops:
		// no progress, and the job is free for whoever comes next.
		p = store.ReplayProgressParams{}
	}
	p.ID, p.Owner, p.Now = job.ID, r.cfg.Owner, r.clock.Now()
	if p.Status != volley.ReplayDone && p.Status != volley.ReplayFailed {
		p.Status, p.Release = volley.ReplayRunning, true
	}
	if _, err := r.cfg.Store.ReplayProgress(context.WithoutCancel(ctx), p); err != nil {
		return true, fmt.Errorf("replay %d: record progress: %w", job.ID, err)
	}
	if batchErr != nil {
		return true, fmt.Errorf("replay %d: %w", job.ID, batchErr)
	}
	return true, nil
}
