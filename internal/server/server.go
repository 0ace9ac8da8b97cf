// Package server assembles one Volley node from a validated configuration
// and an opened store: the management API, health endpoints and, around
// them, the HTTP server's lifecycle. cmd/volley picks the storage driver and
// tests do the same, so both run exactly this wiring.
package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/backlog"
	"github.com/volleyhq/volley/internal/broadcast"
	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/console"
	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/httpapi"
	"github.com/volleyhq/volley/internal/ingest"
	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/metrics"
	"github.com/volleyhq/volley/internal/replay"
	"github.com/volleyhq/volley/internal/retention"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/searchindex"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/trainer"
	"github.com/volleyhq/volley/internal/volley"
	"github.com/volleyhq/volley/internal/yield"
)

// Config configures a node.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:8080"; port 0 picks a
	// free port (see Server.Addr).
	Addr string
	// PublicURL is the externally visible base URL, used to show ingestion
	// URLs; "" uses the scheme and host each request came in on.
	PublicURL string
	// Store is the opened, migrated store. The server does not close it.
	Store store.Store
	// SecretKey (32 bytes) encrypts tokens and secrets at rest.
	SecretKey []byte
	// PreviousSecretKeys open values sealed before a key rotation finished;
	// nil for none.
	PreviousSecretKeys [][]byte
	// EgressAllow lists the non-public networks destinations may reach;
	// nil means egress.DefaultAllow() (loopback only).
	EgressAllow []netip.Prefix
	// LookupFunc resolves destination hosts when they are saved; nil uses
	// the system resolver.
	LookupFunc egress.LookupFunc
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// NowFunc and Rand make time and randomness deterministic in tests;
	// nil means time.Now and crypto/rand.
	NowFunc func() time.Time
	Rand    io.Reader
	// ShutdownTimeout bounds graceful shutdown; 0 means 30s.
	ShutdownTimeout time.Duration
	// Password sets the argon2id parameters of new password hashes; the
	// zero value means tenant.DefaultPasswordParams.
	Password tenant.PasswordParams
	// ExclusiveStore says that no other process uses the store (the
	// embedded SQLite, guarded by its lock file): leases left by a previous
	// run are released at start instead of waiting for them to expire.
	ExclusiveStore bool

	// Delivery tunes the delivery engine (Store, Routes, Egress and Logger
	// are filled in by the server, and Clock when nil, from NowFunc).
	Delivery delivery.Config
	// MaxBodyBytes bounds ingested bodies; 0 means 10 MiB.
	MaxBodyBytes int64
	// Replay tunes the bulk replay runner (Store, Replayer, Owner, Clock
	// and Logger are filled in by the server).
	Replay replay.Config
	// Retention is how long events are kept; 0 means 30 days.
	Retention time.Duration
	// AuditRetention is how long audit log records are kept; 0 means a
	// year.
	AuditRetention time.Duration
	// Committers is the number of concurrent ingest group commits; 0 means 1.
	Committers int
	// IngestCommitTarget is the ingest commit time above which this node's
	// bulk work (backlog drains, retention, bulk replays) slows
	// down (package yield); 0 means yield.DefaultTarget, negative never
	// slows it.
	IngestCommitTarget time.Duration
	// Signup lets anyone create an account at /signup (VOLLEY_SIGNUP=open).
	Signup bool
	// Mailer mails invitations (VOLLEY_SMTP_URL); nil only shows their
	// links to the inviter.
	Mailer httpapi.Mailer

	// APIRate is each API token's rate limit in requests per second, with
	// bursts of twice that; 0 means DefaultAPIRate; negative turns the
	// limit off. On a store shared by several nodes the limit is shared.
	APIRate float64
	// BruteForce tunes the brute-force limits (NowFunc defaults to the
	// node's); NoBruteForce turns them off.
	BruteForce   limit.GuardConfig
	NoBruteForce bool
	// Proxies are the trusted reverse proxies (VOLLEY_TRUSTED_PROXIES);
	// the zero value trusts none.
	Proxies limit.Proxies

	// TLSCertFile and TLSKeyFile, both or neither, are a PEM certificate
	// (chain) and its key: the node then serves HTTPS, HTTP/2 included,
	// and picks up a renewed pair without a restart (see ReloadTLS).
	TLSCertFile, TLSKeyFile string
	// TLSCheckEvery is how often, at most, a handshake checks the files
	// for a change; 0 means DefaultTLSCheckEvery.
	TLSCheckEvery time.Duration

	// MetricsAddr, when set, serves GET /metrics on a listener of its own
	// at this address (a private interface) instead of the main one; port
	// 0 picks a free port (see Server.MetricsAddr).
	MetricsAddr string
	// MetricsToken, when set, must be sent as a bearer token to read
	// /metrics (VOLLEY_METRICS_TOKEN).
	MetricsToken string
	// MetricsDestinationLabels caps the destinations whose attempt latency
	// has a series of its own; 0 means metrics.DefaultDestinationLabels.
	MetricsDestinationLabels int
	// TracerProvider traces ingest requests, commits and attempts; nil
	// means no tracing.
	TracerProvider trace.TracerProvider
}

// DefaultAPIRate is the default API rate limit per token, in requests per
// second.
const DefaultAPIRate = 50

// Server is one running Volley node.
type Server struct {
	cfg        Config
	api        *httpapi.API
	log        *slog.Logger
	tenant     *tenant.Service
	routes     *routing.Cache
	engine     *delivery.Engine
	ingest     *ingest.Handler
	sweeper    *retention.Sweeper
	sampler    *backlog.Sampler
	trainer    *trainer.Trainer     // nil when the store does not use payload dictionaries
	indexer    *searchindex.Indexer // nil for a store that indexes bodies as it writes them
	replays    *replay.Runner       // bulk replay jobs, at low priority
	cluster    store.Cluster        // nil for a store owned by one process
	certs      *certFiles           // nil when serving plain HTTP
	stopListen context.CancelFunc
	listenDone chan struct{}
	http       *http.Server
	ln         net.Listener
	done       chan error
	metrics    *metrics.Metrics
	// metricsHTTP serves /metrics on MetricsAddr; nil when it is served on
	// the main listener.
	metricsHTTP *http.Server
	metricsLn   net.Listener
	metricsDone chan error
}

// New wires a node from cfg without doing any I/O.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.EgressAllow == nil {
		cfg.EgressAllow = egress.DefaultAllow()
	}
	if cfg.LookupFunc == nil {
		cfg.LookupFunc = egress.ResolverLookup(net.DefaultResolver)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("server: TLS needs both a certificate file and a key file")
	}
	box, err := seal.NewBox(cfg.SecretKey, cfg.Rand, cfg.PreviousSecretKeys...)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	tenants := tenant.New(tenant.Config{Store: cfg.Store, Box: box, Rand: cfg.Rand, NowFunc: cfg.NowFunc, Password: cfg.Password})
	routes := routing.New(routing.Config{Store: cfg.Store, Box: box, NowFunc: cfg.NowFunc})
	policy := egress.NewPolicy(cfg.EgressAllow)

	clk := clock.Clock(clock.WithNow(cfg.NowFunc))
	cluster, _ := cfg.Store.(store.Cluster)         // nil for a store owned by one process
	writer, _ := cfg.Store.(store.WriterStats)      // nil for a store with many writers
	pageMem, _ := cfg.Store.(store.PageMemoryStats) // nil unless SQLite
	// Bulk work yields to ingestion on the machine's real time, whatever
	// NowFunc says: it paces work, it does not schedule it.
	target := cfg.IngestCommitTarget
	if target == 0 {
		target = yield.DefaultTarget
	}
	ingestYield := yield.NewSignal(clock.Real{}, target)
	met := metrics.New(metrics.Config{
		Backlog: cfg.Store, Writer: writer, PageMemory: pageMem, Yield: ingestYield, DestinationLabels: cfg.MetricsDestinationLabels, NowFunc: cfg.NowFunc, Logger: cfg.Logger,
	})
	var tracer trace.Tracer // nil: no tracing
	if cfg.TracerProvider != nil {
		tracer = cfg.TracerProvider.Tracer("github.com/volleyhq/volley")
	}
	dc := cfg.Delivery
	dc.Yield = ingestYield
	dc.Store, dc.Routes, dc.Egress, dc.Logger, dc.Cluster = cfg.Store, routes, policy, cfg.Logger, cluster
	dc.Observer, dc.QueueObserver, dc.Tracer = met, met, tracer
	if dc.Clock == nil {
		dc.Clock = clk
	}
	if dc.Owner == "" {
		owner, err := nodeName(cfg.Rand)
		if err != nil {
			return nil, err
		}
		dc.Owner = owner
	}
	engine, err := delivery.New(dc)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	rc := cfg.Replay
	rc.Store, rc.Replayer, rc.Owner, rc.Clock, rc.Logger, rc.Yield = cfg.Store, engine, engine.Owner(), clk, cfg.Logger, ingestYield
	replays, err := replay.New(rc)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	apiLimiter := apiRateLimiter(cfg.APIRate, cluster)
	// One guard per kind of credential: a provider's misconfigured source
	// must not lock its address out of the console, nor the reverse.
	newGuard := func() *limit.Guard {
		if cfg.NoBruteForce {
			return nil
		}
		gc := cfg.BruteForce
		if gc.NowFunc == nil {
			gc.NowFunc = cfg.NowFunc
		}
		return limit.NewGuard(gc)
	}
	var limiter ingest.RateLimiter // nil: the single-node limiter
	if cluster != nil {
		limiter = ingest.NewClusterLimiter(cluster)
	}
	// Listen streams wake when this node commits events; other nodes'
	// events reach them at their next poll.
	committed := &broadcast.Signal{}
	hooks := ingest.New(ingest.Config{
		Store: cfg.Store, Sources: routes, Engine: engine, Limiter: limiter, MaxBodyBytes: cfg.MaxBodyBytes,
		Committers: cfg.Committers, Logger: cfg.Logger, NowFunc: cfg.NowFunc, Rand: cfg.Rand, OnCommit: committed.Notify,
		Guard: newGuard(), Proxies: cfg.Proxies,
		Observer: commitObserver{met, ingestYield}, Tracer: tracer,
	})
	api := httpapi.New(httpapi.Config{
		Store: cfg.Store, Tenant: tenants, Box: box,
		Egress: policy, LookupFunc: cfg.LookupFunc,
		Logger: cfg.Logger, NowFunc: cfg.NowFunc, Rand: cfg.Rand, PublicURL: cfg.PublicURL,
		Transform: cfg.Delivery.Transform, // the test endpoint runs code within the engine's limits
		Replayer:  engine, ReplayJobs: replays, Ingest: hooks, Routes: routes, StreamWake: committed, Mailer: cfg.Mailer,
		RateLimiter: apiLimiter, TokenGuard: newGuard(), DeviceGuard: newGuard(), Proxies: cfg.Proxies,
		OnConfigChange: func() {
			routes.Invalidate()
			engine.ConfigChanged() // held, released or cancelled deliveries
			if cluster != nil {
				// Other nodes drop their caches too (their TTL bounds the
				// staleness if this notification is lost).
				if err := cluster.NotifyConfig(context.Background()); err != nil {
					cfg.Logger.Warn("notify other nodes of a configuration change", "err", err)
				}
			}
		},
	})
	s := &Server{
		cfg: cfg, api: api, log: cfg.Logger, tenant: tenants, routes: routes, engine: engine, ingest: hooks, cluster: cluster,
		metrics: met, replays: replays,
		sweeper: retention.New(retention.Config{Store: cfg.Store, Period: cfg.Retention,
			Audit: cfg.Store, AuditPeriod: cfg.AuditRetention, Logger: cfg.Logger, Clock: clk, Yield: ingestYield}),
		sampler: backlog.New(backlog.Config{Store: cfg.Store, Logger: cfg.Logger, Clock: clk}),
	}
	if cfg.Store.PayloadDictsUsed() {
		s.trainer = trainer.New(trainer.Config{Store: cfg.Store, Clock: clk, Logger: cfg.Logger})
	}
	if ix, ok := cfg.Store.(store.SearchIndexer); ok {
		s.indexer = searchindex.New(searchindex.Config{Store: ix, Logger: cfg.Logger, Clock: clk})
	}
	pages, err := console.New(console.Config{
		Tenant: tenants, Store: cfg.Store, API: api, Stream: api, Logger: cfg.Logger, NowFunc: cfg.NowFunc, PublicURL: cfg.PublicURL,
		Signup: cfg.Signup, Rand: cfg.Rand, Devices: tenants, Guard: newGuard(), Proxies: cfg.Proxies, Audit: cfg.Store,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", pages)
	mux.Handle("/api/", api)
	mux.Handle("/hook/{ingestion_id}", hooks)
	mux.Handle("/hook/{ingestion_id}/{path...}", hooks) // the path is kept with the event
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", met.Handler(cfg.MetricsToken))
	} else {
		private := http.NewServeMux()
		private.Handle("GET /metrics", met.Handler(cfg.MetricsToken))
		s.metricsHTTP = &http.Server{
			Handler:           private,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		}
	}
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	if cfg.TLSCertFile != "" {
		s.certs = &certFiles{certFile: cfg.TLSCertFile, keyFile: cfg.TLSKeyFile, now: cfg.NowFunc, log: cfg.Logger,
			checkEvery: cmp.Or(cfg.TLSCheckEvery, DefaultTLSCheckEvery)}
		// ServeTLS adds HTTP/2 ("h2") to the protocols offered.
		s.http.TLSConfig = &tls.Config{GetCertificate: s.certs.GetCertificate, MinVersion: tls.VersionTLS12}
	}
	// Shutdown waits for open requests; listen streams never end by
	// themselves.
	s.http.RegisterOnShutdown(api.StopStreams)
	return s, nil
}

// apiRateLimiter returns the API's per-token limiter: none when rate is
// negative, shared through the store when several nodes share it, else in
// process.
func apiRateLimiter(rate float64, cluster store.Cluster) httpapi.RateLimiter {
	if rate < 0 {
		return nil
	}
	if rate == 0 {
		rate = DefaultAPIRate
	}
	r := limit.Rate{PerSecond: rate, Burst: max(int(math.Ceil(2*rate)), 1)}
	if cluster != nil {
		return limit.NewShared(r, cluster)
	}
	return limit.NewLocal(r)
}

// nodeName names this process in delivery leases: host, pid and a random
// suffix, unique among nodes sharing a database.
func nodeName(r io.Reader) (string, error) {
	host, _ := os.Hostname()
	suffix, err := volley.RandomToken(r, 6)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), suffix), nil
}

// Tenant returns the node's tenancy service (bootstrap and the users command
// create accounts through it).
func (s *Server) Tenant() *tenant.Service { return s.tenant }

// API returns the management API handler, for code in this process that
// calls it directly (tests of httpapi.WithAccount).
func (s *Server) API() http.Handler { return s.api }

// APIRoutes lists the management API's authenticated routes.
func (s *Server) APIRoutes() []string { return s.api.Routes() }

// PublicRoutes lists the routes served without an API token: the API's
// public ones, ingestion (the methods the ingest handler accepts) and the
// health checks registered in New.
func (s *Server) PublicRoutes() []string {
	return append(s.api.PublicRoutes(),
		"POST /hook/{ingestion_id}", "PUT /hook/{ingestion_id}", "PATCH /hook/{ingestion_id}",
		"GET /healthz", "GET /readyz")
}

// Start starts the engine, ingestion, retention and the backlog sampler,
// then listens on the configured address and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	if s.cfg.ExclusiveStore {
		n, err := s.cfg.Store.DeliveryResetLeases(ctx, s.cfg.NowFunc())
		if err != nil {
			return err
		}
		if n > 0 {
			s.log.Info("released deliveries left in flight by the previous run", "count", n)
		}
	}
	if s.certs != nil {
		if err := s.certs.Reload(); err != nil {
			return err
		}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	if s.metricsHTTP != nil {
		mln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics on %s: %w", s.cfg.MetricsAddr, err)
		}
		s.metricsLn, s.metricsDone = mln, make(chan error, 1)
		go func() { s.metricsDone <- s.metricsHTTP.Serve(mln) }()
		s.log.Info("metrics listening", "addr", mln.Addr().String())
	}
	if err := s.engine.Start(ctx); err != nil {
		ln.Close()
		s.stopMetrics(ctx)
		return err
	}
	s.ingest.Start()
	s.sweeper.Start()
	s.sampler.Start()
	if s.trainer != nil {
		s.trainer.Start()
	}
	if s.indexer != nil {
		s.indexer.Start()
	}
	s.replays.Start()
	if s.cluster != nil {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopListen, s.listenDone = cancel, make(chan struct{})
		go s.listen(ctx)
	}
	s.done = make(chan error, 1)
	go func() {
		if s.certs != nil {
			s.done <- s.http.ServeTLS(ln, "", "")
			return
		}
		s.done <- s.http.Serve(ln)
	}()
	s.log.Info("volley listening", "addr", ln.Addr().String())
	return nil
}

// Addr returns the address the server listens on, after Start.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the base URL clients on this machine use, after Start.
func (s *Server) URL() string {
	if s.certs != nil {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// ReloadTLS reads the certificate files again now if they changed (what
// SIGHUP does), instead of waiting for the next periodic check. A pair that
// does not load is an error and the previous certificate stays in use. It
// does nothing on a node serving plain HTTP.
func (s *Server) ReloadTLS() error {
	if s.certs == nil {
		return nil
	}
	return s.certs.Reload()
}

// MetricsURL returns the URL of /metrics, on its own listener when
// MetricsAddr is set, after Start.
func (s *Server) MetricsURL() string {
	if s.metricsLn != nil {
		return "http://" + s.metricsLn.Addr().String() + "/metrics"
	}
	return s.URL() + "/metrics"
}

// ReplayStats returns what the engine's low-priority replays did on this
// node (for tests and benchmarks of bulk replays).
func (s *Server) ReplayStats() delivery.ReplayStats { return s.engine.ReplayStats() }

// Metrics returns the node's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// stopMetrics shuts the metrics listener down, if there is one.
func (s *Server) stopMetrics(ctx context.Context) error {
	if s.metricsLn == nil {
		return nil
	}
	err := s.metricsHTTP.Shutdown(ctx)
	if serveErr := <-s.metricsDone; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// Stop shuts the node down gracefully, within the shutdown timeout: it stops
// accepting connections and answers the requests in flight, then drains the
// delivery engine (attempts in flight finish and are recorded; queued ones
// go back to the store) and stops retention and the backlog sampler.
func (s *Server) Stop(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	s.ingest.Stop()
	// Replays first: the engine no longer starts their attempts once it
	// stops, and the runner frees its job's lease on the way out.
	s.replays.Stop()
	err = errors.Join(err, s.engine.Stop(ctx))
	s.sweeper.Stop()
	s.sampler.Stop()
	if s.trainer != nil {
		s.trainer.Stop()
	}
	if s.indexer != nil {
		s.indexer.Stop()
	}
	// Metrics are served until the engine has drained, for a last scrape.
	err = errors.Join(err, s.stopMetrics(ctx))
	if s.stopListen != nil {
		s.stopListen()
		<-s.listenDone
	}
	return err
}

// healthz answers 200 while the process serves requests: liveness.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

// migrationChecker is a store that can tell whether its schema has every
// migration this binary needs.
type migrationChecker interface {
	MigrationsSatisfied(ctx context.Context) (bool, error)
}

// readyz answers 200 when the store is reachable and its schema has every
// migration this binary expects, else 503 with the reason: readiness. A
// schema migrated further by a newer version is ready: during a rolling
// upgrade on PostgreSQL the nodes of the previous version keep serving.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	unready := func(reason string) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "{\"status\":\"unavailable\",\"reason\":%q}\n", reason)
	}
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("readiness: store unreachable", "err", err)
		unready("the database is unreachable")
		return
	}
	if m, ok := s.cfg.Store.(migrationChecker); ok {
		current, err := m.MigrationsSatisfied(ctx)
		if err != nil {
			unready("the database schema cannot be read")
			return
		}
		if !current {
			unready("the database schema lacks migrations this binary needs (volley migrate up)")
			return
		}
	}
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

// listen relays the other nodes' notifications (work to do, configuration
// changed) to this node, reconnecting until ctx ends.
func (s *Server) listen(ctx context.Context) {
	defer close(s.listenDone)
	onConfig := func() {
		s.routes.Invalidate()
		s.engine.ConfigChanged()
	}
	for ctx.Err() == nil {
		err := s.cluster.Listen(ctx, s.engine.Wake, onConfig)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("listen for other nodes' notifications; retrying", "err", err)
		// Anything missed meanwhile: the caches expire and the engine polls.
		onConfig()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// commitObserver tells the bulk work's Signal how long each ingest commit
// took, besides the metrics.
type commitObserver struct {
	*metrics.Metrics
	yield *yield.Signal
}

func (o commitObserver) EventsCommitted(n int, took time.Duration) {
	o.Metrics.EventsCommitted(n, took)
	o.yield.Committed(took)
}
