// Package retention deletes old traffic in the background: events (with
// their deliveries and attempts) older than the retention period, the
// traffic of deleted projects, expired idempotency keys, and the per-minute
// connection metrics of the retention period's past; and, on a period of
// its own, the audit log.
//
// It works in passes of short rounds, each one transaction of at most Batch
// events; the store may take fewer (SQLite sizes each round by how long
// rounds hold its only writer, which every ingest waits for). A pass walks
// the events from the oldest with a cursor, so events it must keep (their
// deliveries are still pending or held) are read once per pass, not once
// per round. Rounds follow each other without sleeping: they yield to
// ingestion in the store instead (SQLite queues them behind every waiting
// ingest; on PostgreSQL they lock only the old rows they delete), so
// retention deletes far faster than events arrive without delaying an
// ingest by more than one round; and while ingestion commits slowly all the
// same (the machine is busy), rounds are spaced out (Config.Yield).
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/periodic"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/yield"
)

// Config configures a Sweeper.
type Config struct {
	Store store.Traffic
	// Period is how long events are kept; 0 means 720h (30 days).
	Period time.Duration
	// Audit is the audit log to sweep; nil leaves it alone.
	Audit store.Audit
	// AuditPeriod is how long audit records are kept, apart from events;
	// 0 means DefaultAuditPeriod.
	AuditPeriod time.Duration
	// Interval is the wait between passes, once a pass has nothing left to
	// do; 0 means 1m.
	Interval time.Duration
	// Batch bounds the events (and, apart, the idempotency keys and the
	// audit records) one round deletes in its transaction; 0 means
	// DefaultBatch. The store may take fewer (store.RetentionParams.Limit).
	Batch int
	// Pause separates rounds within a pass, to leave the database idle
	// time on a loaded machine; 0 means none.
	Pause  time.Duration
	Clock  clock.Clock
	Logger *slog.Logger
	// Yield spaces rounds while the node's ingestion commits slowly
	// (package yield), down to Floor events a second; nil never does.
	Yield *yield.Signal
}

// Floor is the events a second a purge keeps however slowly ingestion
// commits.
const Floor = 500

// DefaultPeriod is the default retention period.
const DefaultPeriod = 30 * 24 * time.Hour

// DefaultAuditPeriod is how long audit records are kept by default: a year.
const DefaultAuditPeriod = 365 * 24 * time.Hour

// DefaultBatch is the default number of events a round deletes at most:
// about 10 ms of work on the development machine on a small SQLite store.
const DefaultBatch = 500

// Sweeper runs retention in the background.
type Sweeper struct {
	cfg Config
	// after is the cursor of the current pass; used by one goroutine at a
	// time.
	after uint64
	loop  *periodic.Loop
	yield *yield.Throttle
}

// New returns a Sweeper; Start runs it.
func New(cfg Config) *Sweeper {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.AuditPeriod <= 0 {
		cfg.AuditPeriod = DefaultAuditPeriod
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sweeper{cfg: cfg, yield: cfg.Yield.Throttle("retention", Floor)}
	s.loop = periodic.New(cfg.Clock, s.round)
	return s
}

// Start runs sweeps, the first at once, until Stop.
func (s *Sweeper) Start() { s.loop.Start() }

// Stop ends the sweeper, cancelling the round under way (its transaction
// rolls back), and waits for it.
func (s *Sweeper) Stop() { s.loop.Stop() }

// round runs one round and says when the next is due: after Pause while
// the pass goes on, after Interval once it is over or failed.
func (s *Sweeper) round(ctx context.Context) time.Duration {
	res, err := s.Sweep(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			s.cfg.Logger.Error("retention round", "err", err)
		}
	case !res.Done:
		// More may be left.
		s.yield.Done(res.Deleted)
		return max(s.cfg.Pause, s.yield.Delay())
	}
	return s.cfg.Interval
}

// Sweep runs one round of the current pass. When the result is Done, the
// pass is over and the next Sweep starts a new one from the oldest event.
func (s *Sweeper) Sweep(ctx context.Context) (store.RetentionResult, error) {
	now := s.cfg.Clock.Now()
	p := store.RetentionParams{Before: now.Add(-s.cfg.Period), Now: now, Limit: s.cfg.Batch, After: s.after}
	res, err := s.cfg.Store.RetentionDelete(ctx, p)
	if err != nil {
		return res, err
	}
	s.after = res.After
	if !res.Done {
		// The rest once the events are done: each is a transaction of its
		// own, and running them after every round cost a purge two more
		// turns of SQLite's writer a round.
		return res, nil
	}
	// Connection metrics of the minutes whose events went: a transaction of
	// its own, so neither batch grows. The pass is over once both are.
	m, err := s.cfg.Store.ConnectionMetricsDelete(ctx, p)
	if err != nil {
		return res, err
	}
	res.Deleted += m
	if m > 0 {
		res.Done = false
	}
	// Audit records older than their period, the oldest first, in a
	// transaction of their own too: they are in time order, so no cursor
	// is needed, and a full batch means more may be left.
	if s.cfg.Audit != nil {
		a, err := s.cfg.Audit.AuditDelete(ctx, now.Add(-s.cfg.AuditPeriod), s.cfg.Batch)
		if err != nil {
			return res, err
		}
		res.Deleted += a
		if a == s.cfg.Batch {
			res.Done = false
		}
	}
	if res.Done {
		s.after = 0
	}
	return res, nil
}
