// Package server assembles one Volley node from a validated configuration
// and an opened store: the management API, health endpoints and, around
// them, the HTTP server's lifecycle. cmd/volley picks the storage driver and
// tests do the same, so both run exactly this wiring.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/httpapi"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
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
	// PasswordCost is the bcrypt cost of account passwords; 0 means the
	// default.
	PasswordCost int
}

// Server is one running Volley node.
type Server struct {
	cfg    Config
	api    *httpapi.API
	log    *slog.Logger
	tenant *tenant.Service
	http   *http.Server
	ln     net.Listener
	done   chan error
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
	box, err := seal.NewBox(cfg.SecretKey, cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	tenants := tenant.New(tenant.Config{Store: cfg.Store, Box: box, Rand: cfg.Rand, NowFunc: cfg.NowFunc, PasswordCost: cfg.PasswordCost})
	api := httpapi.New(httpapi.Config{
		Store: cfg.Store, Tenant: tenants, Box: box,
		Egress: egress.NewPolicy(cfg.EgressAllow), LookupFunc: cfg.LookupFunc,
		Logger: cfg.Logger, NowFunc: cfg.NowFunc, Rand: cfg.Rand, PublicURL: cfg.PublicURL,
	})
	s := &Server{cfg: cfg, api: api, log: cfg.Logger, tenant: tenants}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.HandleFunc("GET /healthz", s.healthz)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Tenant returns the node's tenancy service (bootstrap and the users command
// create accounts through it).
func (s *Server) Tenant() *tenant.Service { return s.tenant }

// APIRoutes lists the management API's authenticated routes.
func (s *Server) APIRoutes() []string { return s.api.Routes() }

// Start listens on the configured address and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.done = make(chan error, 1)
	go func() { s.done <- s.http.Serve(ln) }()
	s.log.Info("volley listening", "addr", ln.Addr().String())
	return nil
}

// Addr returns the address the server listens on, after Start.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the base URL clients on this machine use, after Start.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Stop shuts the server down gracefully: it stops accepting connections and
// waits for requests in flight, up to the shutdown timeout.
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
	return err
}

// healthz answers 200 while the store is reachable. The server only listens
// once the store is open and migrated, so reaching it means "ready".
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("health check: store unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"unavailable"}`+"\n")
		return
	}
	io.WriteString(w, `{"status":"ok"}`+"\n")
}
