// Package metrics builds Volley's Prometheus metrics on a registry of its
// own (never the process-wide default one) and serves them at /metrics.
//
// The packages that do the work (ingest, delivery) do not import Prometheus:
// each declares the small observer interface it calls, and this package's
// Ingest and Delivery types implement them. Every observation is an atomic
// add on a collector resolved in advance, or one map lookup for the
// per-destination latency, so instrumentation costs the hot paths next to
// nothing.
package metrics

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/yield"
)

// DefaultDestinationLabels is how many destinations get a latency series
// of their own by default.
const DefaultDestinationLabels = 100

// DefaultDueLimit caps the count of due deliveries read at each scrape.
const DefaultDueLimit = 100_000

// OtherDestination is the destination label of the attempts of every
// destination beyond the cap.
const OtherDestination = "other"

// Ingest rejection reasons (the reason label of
// volley_events_rejected_total).
const (
	ReasonAuth      = "auth"      // missing or wrong source credentials
	ReasonSignature = "signature" // provider signature did not verify
	ReasonEPS       = "eps"       // source rate limit exceeded
	ReasonSize      = "size"      // body over the size limit
	ReasonUnknown   = "unknown"   // no source has this ingestion URL
	ReasonDisabled  = "disabled"  // the source is disabled
	ReasonMethod    = "method"    // not POST, PUT or PATCH
	ReasonRead      = "read"      // the body could not be read (the client hung up)
	ReasonError     = "error"     // the store failed: the client should retry
)

// Delivery outcomes (the outcome label of volley_deliveries_total).
const (
	OutcomeSuccess   = "success"        // an attempt succeeded: delivered
	OutcomeFailed    = "failed_attempt" // an attempt failed and will be retried
	OutcomeExhausted = "exhausted"      // the last allowed attempt failed (or 410 Gone): given up
	OutcomeDropped   = "dropped"        // cancelled without an attempt: its connection or destination is gone
)

// Writers (the writer label of the group-commit metrics).
const (
	WriterIngest   = "ingest"   // the ingest group committer
	WriterDelivery = "delivery" // the delivery engine's outcome recorder
)

// BacklogReader reads the delivery backlog (a store.Traffic).
type BacklogReader interface {
	DeliveryBacklog(ctx context.Context, p store.BacklogParams) (store.Backlog, error)
}

// Config configures Metrics.
type Config struct {
	// Backlog is read at each scrape for the backlog gauges; nil leaves
	// them out.
	Backlog BacklogReader
	// Writer is read at each scrape for the single writer's waits and
	// holds (SQLite); nil leaves them out.
	Writer store.WriterStats
	// PageMemory is read at each scrape for SQLite's page buffer; nil
	// leaves it out.
	PageMemory store.PageMemoryStats
	// Yield is read at each scrape for the caps on bulk work (package
	// yield); nil (bulk work never yields) leaves them out.
	Yield *yield.Signal
	// DestinationLabels caps how many destinations get a latency series of
	// their own (the first ones to have an attempt after start); the
	// others share the destination label "other". 0 means
	// DefaultDestinationLabels.
	DestinationLabels int
	// DueLimit caps the count of due deliveries read at each scrape; 0
	// means DefaultDueLimit.
	DueLimit int
	// ScrapeTimeout bounds the backlog read of one scrape; 0 means 5s.
	ScrapeTimeout time.Duration
	// NowFunc is the clock of the backlog's age; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives the errors of backlog reads; nil discards them.
	Logger *slog.Logger
}

// Metrics is one node's registry and its collectors.
type Metrics struct {
	cfg Config
	reg *prometheus.Registry

	ingested   prometheus.Counter
	duplicates prometheus.Counter
	rejected   *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	attempts   *prometheus.HistogramVec
	throttled  *prometheus.CounterVec
	takeovers  prometheus.Counter
	batchSize  *prometheus.HistogramVec
	commitTime *prometheus.HistogramVec

	// The series of each fixed label value, resolved once: the hot paths
	// then only add to a counter. Read-only after New.
	rejectedBy  map[string]prometheus.Counter
	outcomeOf   map[string]prometheus.Counter
	throttledBy map[string]prometheus.Counter
	batchOf     map[string]prometheus.Observer // by writer
	commitOf    map[string]prometheus.Observer // by writer

	destMu sync.RWMutex
	dests  map[uint64]prometheus.Observer
	other  prometheus.Observer
}

// New builds the registry with Volley's collectors and the Go runtime and
// process collectors. It does no I/O.
func New(cfg Config) *Metrics {
	if cfg.DestinationLabels <= 0 {
		cfg.DestinationLabels = DefaultDestinationLabels
	}
	if cfg.DueLimit <= 0 {
		cfg.DueLimit = DefaultDueLimit
	}
	if cfg.ScrapeTimeout <= 0 {
		cfg.ScrapeTimeout = 5 * time.Second
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		cfg: cfg,
		reg: prometheus.NewRegistry(),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{Name: "volley_events_ingested_total",
			Help: "Events accepted and stored (202), through an ingestion URL or the API."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "volley_events_duplicate_total",
			Help: "Events answered 202 as duplicates of an earlier event (idempotency key), not stored again."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "volley_events_rejected_total",
			Help: "Ingest requests refused, by reason."}, []string{"reason"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "volley_deliveries_total",
			Help: "Delivery attempts and settlements, by outcome."}, []string{"outcome"}),
		attempts: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "volley_attempt_duration_seconds",
			Help:    "Duration of delivery attempts, by destination id (\"other\" beyond the label cap).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"destination"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "volley_throttled_total",
			Help: "Waits imposed by rate limits, by limit: source (ingest answered 429), destination or connection (an attempt held back)."},
			[]string{"limit"}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "volley_lease_takeovers_total",
			Help: "Deliveries leased by a silent node that this node made due again."}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "volley_commit_batch_size",
			Help:    "Rows per group commit, by writer: events (ingest) or outcomes (delivery).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}, []string{"writer"}),
		commitTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "volley_commit_duration_seconds",
			Help:    "Duration of group-commit transactions, by writer.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"writer"}),
		dests: map[uint64]prometheus.Observer{},
	}
	m.other = m.attempts.WithLabelValues(OtherDestination)
	// Series that exist from the start, so that rates and alerts see a 0
	// rather than nothing before the first event of a kind.
	m.rejectedBy, m.outcomeOf, m.throttledBy = map[string]prometheus.Counter{}, map[string]prometheus.Counter{}, map[string]prometheus.Counter{}
	for _, r := range []string{ReasonAuth, ReasonSignature, ReasonEPS, ReasonSize, ReasonUnknown, ReasonDisabled, ReasonMethod, ReasonRead, ReasonError} {
		m.rejectedBy[r] = m.rejected.WithLabelValues(r)
	}
	for _, o := range []string{OutcomeSuccess, OutcomeFailed, OutcomeExhausted, OutcomeDropped} {
		m.outcomeOf[o] = m.deliveries.WithLabelValues(o)
	}
	for _, l := range []string{"source", "destination", "connection"} {
		m.throttledBy[l] = m.throttled.WithLabelValues(l)
	}
	m.batchOf, m.commitOf = map[string]prometheus.Observer{}, map[string]prometheus.Observer{}
	for _, w := range []string{WriterIngest, WriterDelivery} {
		m.batchOf[w], m.commitOf[w] = m.batchSize.WithLabelValues(w), m.commitTime.WithLabelValues(w)
	}
	m.reg.MustRegister(m.ingested, m.duplicates, m.rejected, m.deliveries, m.attempts, m.throttled, m.takeovers,
		m.batchSize, m.commitTime,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.Backlog != nil {
		m.reg.MustRegister(&backlogCollector{m: m})
	}
	if cfg.Writer != nil {
		m.reg.MustRegister(writerCollector{stats: cfg.Writer})
	}
	if cfg.PageMemory != nil {
		m.reg.MustRegister(pageMemoryCollector{stats: cfg.PageMemory})
	}
	if cfg.Yield != nil {
		m.reg.MustRegister(yieldCollector{sig: cfg.Yield})
	}
	return m
}

// Registry returns the registry, for tests and for serving elsewhere.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format. A non-empty
// token must be sent as "Authorization: Bearer <token>"; requests without
// it get 401.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get("Authorization")
		if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(v[7:])), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="volley metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"missing or invalid metrics token: send Authorization: Bearer <VOLLEY_METRICS_TOKEN>"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// destination returns the latency observer of a destination: its own
// series while fewer than the cap exist, else "other".
func (m *Metrics) destination(id uint64) prometheus.Observer {
	m.destMu.RLock()
	o, ok := m.dests[id]
	full := len(m.dests) >= m.cfg.DestinationLabels
	m.destMu.RUnlock()
	if ok {
		return o
	}
	if full {
		return m.other
	}
	m.destMu.Lock()
	defer m.destMu.Unlock()
	if o, ok := m.dests[id]; ok {
		return o
	}
	if len(m.dests) >= m.cfg.DestinationLabels {
		return m.other
	}
	o = m.attempts.WithLabelValues(strconv.FormatUint(id, 10))
	m.dests[id] = o
	return o
}
