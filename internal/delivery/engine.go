// Package delivery is Volley's delivery engine. It takes leased deliveries
// (handed over by ingestion right after their commit, or leased from the
// store when due), sends them to their destinations with per-destination
// concurrency and rate limits, records every attempt, and schedules retries.
//
// Guarantees:
//   - at-least-once: a delivery is leased until its outcome is committed; a
//     lease always outlives the attempt timeout, so no second worker sends a
//     delivery that is still in flight, and a crashed worker's leases expire
//     and are taken again;
//   - one slow destination never delays the others: each destination has
//     its own lane with bounded in-flight requests and a bounded queue;
//   - rate limits (destination eps across its connections, connection eps)
//     space attempts exactly; waiting for budget is never an attempt.
package delivery

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/transform"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
)

// Config configures an Engine. Zero values take the documented defaults.
type Config struct {
	Store store.Traffic
	// Routes supplies destinations and connections (a *routing.Cache).
	Routes Routes
	// Owner names this node in leases; it must be unique among the nodes
	// sharing a database.
	Owner  string
	Egress *egress.Policy
	Logger *slog.Logger
	Clock  clock.Clock // nil means the system clock
	// Retry is the retry policy; a nil Schedule means DefaultSchedule.
	Retry RetryPolicy
	// Timeout is the attempt timeout of destinations without their own;
	// 0 means 15s. It must not exceed MaxTimeout.
	Timeout time.Duration
	// Concurrency bounds requests in flight per destination; 0 means 32.
	Concurrency int
	// MaxJobs bounds deliveries held in memory (queued or in flight) on
	// this node; 0 means 4096.
	MaxJobs int
	// PollInterval bounds how long the engine waits before looking for due
	// work it was not told about (another node's, or a retry); 0 means 1s.
	PollInterval time.Duration
	// RootCAs are the authorities HTTPS destinations are verified against
	// (VOLLEY_DESTINATION_CA_FILE added to the system's); nil means the
	// system's.
	RootCAs *x509.CertPool
	// UserAgent is sent when the event had none; "" means "Volley".
	UserAgent string
	// Rand returns uniform floats in [0,1) for jitter; nil means math/rand.
	Rand func() float64
	// Cluster coordinates this node with the others sharing the store
	// (heartbeats, lease takeover, shared eps); nil when one process owns
	// the store.
	Cluster store.Cluster
	// NodeTTL is how long a node may stay silent before the others take
	// over its leases; 0 means DefaultNodeTTL. Used with Cluster.
	NodeTTL time.Duration
	// SweepBatch bounds the deliveries one sweep transaction changes after a
	// configuration change (see store.Traffic.DeliverySweep); 0 means 1000.
	SweepBatch int
	// SweepInterval is how often the engine looks for configuration
	// changes to sweep that it was not told about (another node's, or one
	// left over by a crash); 0 means 5s.
	SweepInterval time.Duration
	// Observer receives counts and durations of attempts for metrics; nil
	// for none.
	Observer Observer
	// QueueObserver receives the recorder's commits and lease takeovers for
	// metrics; nil for none.
	QueueObserver QueueObserver
	// Tracer traces attempts, each a child of the span that committed its
	// event (Event.TraceParent); nil for no tracing.
	Tracer trace.Tracer
	// Transform bounds each run of a connection's transformation (time
	// limit 1s, memory, output and log sizes; see package transform).
	Transform transform.Config
	// Yield slows leasing (a backlog's drain, retries) while this node's
	// ingestion commits slowly; deliveries handed over by
	// ingestion are never slowed. Nil never slows them.
	Yield *yield.Signal
}

// leaseFloor is the deliveries a second that leasing keeps however slowly
// ingestion commits (see package yield).
const leaseFloor = 500

// MaxTimeout is the longest attempt timeout (per destination or default).
const MaxTimeout = 60 * time.Second

// leaseMargin is added to the longest attempt timeout to make a lease: a
// delivery stays leased for as long as any attempt can take, plus this.
const leaseMargin = 30 * time.Second

// LeaseDuration is how long a delivery stays leased to one worker.
const LeaseDuration = MaxTimeout + leaseMargin

// Routes is what the engine needs from the configuration cache.
type Routes interface {
	Destination(ctx context.Context, id uint64) (*routing.Destination, error)
	Connection(ctx context.Context, id uint64) (*volley.Connection, error)
	Transformation(ctx context.Context, id uint64) (*routing.Transformation, error)
}

// Engine is the delivery engine of one node.
type Engine struct {
	cfg    Config
	clock  clock.Clock
	log    *slog.Logger
	client *http.Client
	runner *transform.Runner
	// insecure is the client of destinations that turned certificate
	// verification off (InsecureSkipVerify); warned logs which of them were
	// used, so that each is logged once per process.
	insecure *http.Client
	warned   sync.Map

	mu      sync.Mutex
	lanes   map[uint64]*lane
	jobs    int           // jobs in memory: reserved, queued or in flight
	closing bool          // Stop was called: no new work
	idle    chan struct{} // closed when closing and jobs reaches 0

	wake    chan struct{} // pokes the leaser
	swept   chan struct{} // pokes the sweeper
	results chan store.Outcome
	// base is the context of attempts: it is only cancelled when a drain
	// runs out of time.
	base        context.Context
	cancelBase  context.CancelFunc
	stop        chan struct{}
	fence       *fence
	clusterDone sync.WaitGroup
	leaserDone  chan struct{}
	sweeperDone chan struct{}
	recordDone  chan struct{}
	attempts    sync.WaitGroup
	replays     replayCounters
	// leaseYield paces leasing (nil: never).
	leaseYield *yield.Throttle
}

// New returns an engine. It does no I/O; Start runs it.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Routes == nil {
		return nil, errors.New("delivery: Store and Routes are required")
	}
	if cfg.Owner == "" {
		return nil, errors.New("delivery: Owner is required")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Timeout < 0 || cfg.Timeout > MaxTimeout {
		return nil, fmt.Errorf("delivery: timeout %v is outside (0, %v]", cfg.Timeout, MaxTimeout)
	}
	if cfg.Retry.Schedule == nil {
		cfg.Retry.Schedule = DefaultSchedule
	}
	if cfg.Retry.Jitter < 0 || cfg.Retry.Jitter >= 1 {
		return nil, fmt.Errorf("delivery: jitter %v is outside [0, 1)", cfg.Retry.Jitter)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 4096
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Volley"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.NodeTTL <= 0 {
		cfg.NodeTTL = DefaultNodeTTL
	}
	if cfg.SweepBatch <= 0 {
		cfg.SweepBatch = 1000
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 5 * time.Second
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	if cfg.QueueObserver == nil {
		cfg.QueueObserver = noObserver{}
	}
	transport := egress.NewTransport(cfg.Egress, egress.TransportConfig{MaxIdleConnsPerHost: cfg.Concurrency * 2, RootCAs: cfg.RootCAs})
	insecure := egress.NewTransport(cfg.Egress, egress.TransportConfig{MaxIdleConnsPerHost: cfg.Concurrency * 2, InsecureSkipVerify: true})
	base, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:         cfg,
		clock:       cfg.Clock,
		log:         cfg.Logger,
		client:      &http.Client{Transport: transport, CheckRedirect: egress.NoRedirect},
		runner:      transform.NewRunner(cfg.Transform),
		insecure:    &http.Client{Transport: insecure, CheckRedirect: egress.NoRedirect},
		lanes:       map[uint64]*lane{},
		wake:        make(chan struct{}, 1),
		swept:       make(chan struct{}, 1),
		results:     make(chan store.Outcome, 1024),
		base:        base,
		cancelBase:  cancel,
		stop:        make(chan struct{}),
		leaserDone:  make(chan struct{}),
		sweeperDone: make(chan struct{}),
		recordDone:  make(chan struct{}),
		idle:        make(chan struct{}),
		leaseYield:  cfg.Yield.Throttle("lease", leaseFloor),
	}, nil
}

// Start runs the leaser and the recorder in the background, and with a
// Cluster, the heartbeat and the reaper; the first heartbeat is sent before
// Start returns.
func (e *Engine) Start(ctx context.Context) error {
	e.fence = newFence(e.base, e.clock.Now())
	if e.cfg.Cluster != nil {
		if err := e.cfg.Cluster.NodeHeartbeat(ctx, e.cfg.Owner); err != nil {
			return fmt.Errorf("delivery: first heartbeat: %w", err)
		}
		e.clusterDone.Add(2)
		go e.heartbeats()
		go e.reaper()
	}
	go e.recorder()
	go e.leaser()
	go e.sweeper()
	return nil
}

// Wake tells the engine that work may have become due (a resumed
// connection, a delivery inserted without a lease).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Reserve claims room for n deliveries that ingestion is about to insert
// already leased to this node. It returns false when the engine is full or
// stopping: the deliveries are then inserted unleased and leased when due.
// Every successful Reserve is followed by Submit or Unreserve.
func (e *Engine) Reserve(n int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing || e.jobs+n > e.cfg.MaxJobs {
		return false
	}
	e.jobs += n
	return true
}

// Unreserve gives back room reserved for deliveries that were not stored.
func (e *Engine) Unreserve(n int) {
	e.release(n)
	e.Wake()
}

// release gives back room for n jobs and reports whether the engine was
// full before. Called without e.mu.
func (e *Engine) release(n int) (wasFull bool) {
	if n == 0 {
		return false
	}
	e.mu.Lock()
	wasFull = e.jobs >= e.cfg.MaxJobs
	e.jobs -= n
	if e.closing && e.jobs == 0 {
		close(e.idle)
	}
	e.mu.Unlock()
	return wasFull
}

// Owner is the lease owner name of this engine.
func (e *Engine) Owner() string { return e.cfg.Owner }

// LeaseUntil is the lease expiry for deliveries leased now.
func (e *Engine) LeaseUntil(now time.Time) time.Time { return now.Add(LeaseDuration) }

// Submit hands over reserved, committed, leased jobs.
func (e *Engine) Submit(jobs []store.Job) {
	for i := range jobs {
		e.admit(&jobs[i])
	}
}

// Stop drains the engine: no new leases, queued jobs go back to the store
// due now, in-flight attempts finish (or are cancelled when ctx ends) and
// every outcome is committed before Stop returns. Stop the producers of
// Submit first (the HTTP server).
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return nil
	}
	e.closing = true
	if e.jobs == 0 {
		close(e.idle)
	}
	lanes := make([]*lane, 0, len(e.lanes))
	for _, l := range e.lanes {
		lanes = append(lanes, l)
	}
	e.mu.Unlock()
	close(e.stop)
	<-e.leaserDone
	<-e.sweeperDone
	e.clusterDone.Wait()
	for _, l := range lanes {
		l.shutdown()
	}
	select {
	case <-e.idle:
	case <-ctx.Done():
		e.cancelBase() // in-flight attempts end now; they are recorded and retried
		<-e.idle
	}
	e.attempts.Wait()
	close(e.results)
	<-e.recordDone
	e.cancelBase()
	return nil
}

// finished releases a finished job's room; when that ends a full engine,
// the leaser may lease again.
func (e *Engine) finished() {
	if e.release(1) {
		e.Wake()
	}
}
