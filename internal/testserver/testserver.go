// Package testserver starts a real Volley node on 127.0.0.1 with a fresh
// SQLite store for tests, and offers small helpers to call it. Nothing is
// mocked: tests talk HTTP to the same wiring `volley serve` runs.
package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/httpapi"
	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/replay"
	"github.com/volleyhq/volley/internal/server"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/tenant"
)

// AdminToken is the API token of the admin account of every test server.
const AdminToken = "vk_testadmin0000000000000000000000000000"

// Options tunes a test server; the zero value is a normal server.
type Options struct {
	// NowFunc and Rand make times and generated ids deterministic.
	NowFunc func() time.Time
	Rand    io.Reader
	// Delivery tunes the delivery engine (retry schedule, timeout, …).
	Delivery delivery.Config
	// Replay tunes the bulk replay runner (batch size, concurrency, …).
	Replay replay.Config
	// Signup opens /signup; Mailer mails invitations.
	Signup bool
	Mailer httpapi.Mailer
	// APIRate turns on the API rate limit per token (requests per second);
	// 0 leaves it off, unlike `volley serve`, so that tests may call the
	// API as fast as they like.
	APIRate float64
	// BruteForce turns on the brute-force limits; nil leaves them off:
	// every test client shares 127.0.0.1.
	BruteForce *limit.GuardConfig
	// Proxies are the trusted proxies (VOLLEY_TRUSTED_PROXIES).
	Proxies limit.Proxies
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// TLSCertFile and TLSKeyFile serve HTTPS (see NewCA); TLSCheckEvery
	// is how often handshakes check them for a change.
	TLSCertFile, TLSKeyFile string
	TLSCheckEvery           time.Duration
	// Store, when set, is used instead of a fresh SQLite store, and is not
	// closed by the server (several nodes on one PostgreSQL database).
	Store store.Store
	// MaxBodyBytes bounds ingested bodies; 0 means the server's default.
	MaxBodyBytes int64
	// MetricsAddr, MetricsToken and MetricsDestinationLabels configure
	// /metrics (see server.Config).
	MetricsAddr              string
	MetricsToken             string
	MetricsDestinationLabels int
	// TracerProvider traces the node (an SDK provider with an in-memory
	// exporter in tests); nil for no tracing.
	TracerProvider trace.TracerProvider
	// IngestCommitTarget is server.Config's: 0 the default, negative off.
	IngestCommitTarget time.Duration
}

// Server is a running test node.
type Server struct {
	URL   string
	Store store.Store
	Node  *server.Server
	// Admin is the bootstrap account (token AdminToken).
	Admin *tenant.NewAccount
}

// Start runs a node for the duration of the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, stop, err := Launch(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})
	return s
}

// Launch runs a node whose store lives in dir, for callers without a
// testing.TB (TestMain). stop shuts it down and closes the store.
func Launch(dir string, opts Options) (s *Server, stop func() error, err error) {
	ctx := context.Background()
	st, closeStore := opts.Store, func() error { return nil }
	if st == nil {
		sq, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(dir, "volley.db")})
		if err != nil {
			return nil, nil, fmt.Errorf("open store: %w", err)
		}
		st, closeStore = sq, sq.Close
	}
	apiRate := opts.APIRate
	if apiRate == 0 {
		apiRate = -1 // off
	}
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	var guard limit.GuardConfig
	if opts.BruteForce != nil {
		guard = *opts.BruteForce
	}
	node, err := server.New(server.Config{
		Addr:       "127.0.0.1:0",
		Store:      st,
		SecretKey:  bytes.Repeat([]byte{7}, 32),
		LookupFunc: LookupLocalhost,
		NowFunc:    opts.NowFunc,
		Rand:       r,
		// Cheap hashes: tests create many accounts.
		Password:       tenant.TestPasswordParams,
		ExclusiveStore: opts.Store == nil,
		APIRate:        apiRate,
		NoBruteForce:   opts.BruteForce == nil,
		Proxies:        opts.Proxies,
		Delivery:       opts.Delivery,
		Replay:         opts.Replay,
		Signup:         opts.Signup,
		Mailer:         opts.Mailer,
		BruteForce:     guard,
		TLSCertFile:    opts.TLSCertFile,
		TLSKeyFile:     opts.TLSKeyFile,
		TLSCheckEvery:  opts.TLSCheckEvery,
		Logger:         opts.Logger,
		MaxBodyBytes:   opts.MaxBodyBytes,
		MetricsAddr:    opts.MetricsAddr,
		MetricsToken:   opts.MetricsToken,
		TracerProvider: opts.TracerProvider,

		MetricsDestinationLabels: opts.MetricsDestinationLabels,
		IngestCommitTarget:       opts.IngestCommitTarget,
	})
	if err == nil {
		var admin *tenant.NewAccount
		if admin, err = node.Bootstrap(ctx, server.AdminConfig{Token: AdminToken, Password: "admin-password"}); err == nil {
			s = &Server{Store: st, Node: node, Admin: admin}
			err = node.Start(ctx)
		}
	}
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	s.URL = node.URL()
	stop = func() error { return errors.Join(node.Stop(context.Background()), closeStore()) }
	return s, stop, nil
}

// LookupLocalhost resolves "localhost" and fails every other name, so that
// tests never query DNS.
func LookupLocalhost(_ context.Context, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, errors.New("testserver: no DNS in tests")
}

// Account is a tenant created for a test.
type Account struct {
	Token     string
	AccountID uint64
	OrgID     uint64
	ProjectID uint64
}

// NewAccount creates an account with its own organization and default
// project.
func (s *Server) NewAccount(t testing.TB, email, name string) *Account {
	t.Helper()
	a, err := s.Node.Tenant().CreateAccount(context.Background(), tenant.AccountParams{Email: email, Name: name, Password: "password-" + name})
	if err != nil {
		t.Fatalf("create account %s: %v", email, err)
	}
	return &Account{Token: a.Token, AccountID: a.Account.ID, OrgID: a.Org.ID, ProjectID: a.Project.ID}
}

// AdminAccount describes the bootstrap admin as an Account.
func (s *Server) AdminAccount() *Account {
	return &Account{Token: AdminToken, AccountID: s.Admin.Account.ID, OrgID: s.Admin.Org.ID, ProjectID: s.Admin.Project.ID}
}

// Request is one raw API call.
type Request struct {
	Method string
	Path   string
	Token  string
	Org    uint64 // sent as X-Organization-ID when non-zero
	Body   any    // JSON-encoded unless it is a string or []byte
}

// Response is a raw API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Do sends req and returns the response.
func (s *Server) Do(t testing.TB, req Request) *Response {
	t.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = bytes.NewBufferString(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(buf)
	}
	hr, err := http.NewRequest(req.Method, s.URL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	if req.Org != 0 {
		hr.Header.Set("X-Organization-ID", strconv.FormatUint(req.Org, 10))
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
