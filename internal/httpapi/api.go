// Package httpapi serves Volley's management API (/api/…): accounts,
// organizations and members, projects, sources, destinations and
// connections. Its wire format is fixed by the official clients (see
// docs/api.md): integer ids, RFC 3339 UTC times, no nulls for numbers or
// booleans, `{"error","message"}` errors, and single objects that carry both
// a wrapper key and the same fields at the top level so that both client
// families decode them.
//
// Every change, secret reveal, replay and test send is recorded in the audit
// log (audit.go). The record is written right after the change commits, in
// a transaction of its own (the store's change methods do not take one
// from outside), before the answer is sent: a crash between the two
// commits loses that change's record, never the change, and nothing else.
package httpapi

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/volleyhq/volley/internal/broadcast"
	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/ingest"
	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/transform"
	"github.com/volleyhq/volley/internal/volley"
)

// Config configures the API. Every field is required unless it says
// otherwise.
type Config struct {
	Store  store.Store
	Tenant *tenant.Service
	Box    *seal.Box
	// Egress checks destination URLs when they are saved.
	Egress *egress.Policy
	// LookupFunc resolves destination hosts for the save-time check; nil
	// skips resolution (the dialer still checks every connection).
	LookupFunc egress.LookupFunc
	Logger     *slog.Logger
	// NowFunc returns the current time; nil means time.Now.
	NowFunc func() time.Time
	// Rand supplies ingestion ids and generated secrets.
	Rand io.Reader
	// PublicURL is the server's external base URL, used to show each
	// source's ingestion URL; "" uses the scheme and host of each request.
	PublicURL string
	// SecretRotationGrace is how long a replaced destination signing secret
	// keeps signing; 0 means 24h.
	SecretRotationGrace time.Duration
	// Replayer makes synchronous replay attempts (the delivery engine).
	Replayer Replayer
	// ReplayJobs is woken when a bulk replay job is created; nil leaves
	// the job to the runner's next poll.
	ReplayJobs ReplayJobs
	// Ingest stores events sent through POST /api/webhooks.
	Ingest Acceptor
	// Routes resolves a source for ingestion (the routing cache).
	Routes SourceRoutes
	// Mailer also mails invitations; nil shows their links only to the
	// inviter.
	Mailer Mailer
	// OnConfigChange runs after every successful change (invalidating
	// caches, waking the engine for released deliveries); nil for none.
	OnConfigChange func()
	// StreamWake is signalled when this node commits events, waking the
	// listen streams at once; nil leaves them to StreamPoll.
	StreamWake *broadcast.Signal
	// StreamPoll is how often a listen stream reads the store without a
	// wake-up (events committed by other nodes); 0 means 500ms.
	StreamPoll time.Duration
	// StreamHeartbeat is how often an idle stream sends a comment line;
	// 0 means 15s.
	StreamHeartbeat time.Duration
	// Transform bounds the runs of POST /api/transformations/{id}/test, as
	// the delivery engine's are bounded (zero values take the defaults).
	Transform transform.Config

	// RateLimiter limits each token's requests; nil limits nothing.
	RateLimiter RateLimiter
	// TokenGuard slows down, then refuses, client addresses that present
	// invalid API tokens; DeviceGuard those that flood the CLI's device
	// login or poll with unknown device codes. Nil limits nothing.
	TokenGuard, DeviceGuard *limit.Guard
	// Proxies tells each request's client address (VOLLEY_TRUSTED_PROXIES);
	// the zero value means the TCP peer.
	Proxies limit.Proxies
}

// Acceptor stores an event on a source (the ingest handler).
type Acceptor interface {
	Accept(ctx context.Context, src *routing.Source, req ingest.Request) (uid string, dup bool, err error)
}

// SourceRoutes resolves a source ready for ingestion.
type SourceRoutes interface {
	Source(ctx context.Context, ingestionID string) (*routing.Source, error)
}

// API is the management API handler.
type API struct {
	cfg      Config
	now      func() time.Time
	mux      *http.ServeMux
	patterns []string
	// publicPatterns are the endpoints served without a token.
	publicPatterns []string
	// openapi is the served OpenAPI document, built on first request.
	openapi openapiDoc
	runner  *transform.Runner

	streamPoll, streamHeartbeat time.Duration
	stopStreams                 chan struct{} // closed by StopStreams
	stopOnce                    sync.Once
}

// New returns the API with every route registered.
func New(cfg Config) *API {
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.SecretRotationGrace == 0 {
		cfg.SecretRotationGrace = 24 * time.Hour
	}
	a := &API{cfg: cfg, now: func() time.Time { return cfg.NowFunc().UTC().Truncate(time.Microsecond) }, mux: http.NewServeMux(),
		streamPoll: cmp.Or(cfg.StreamPoll, defaultStreamPoll), streamHeartbeat: cmp.Or(cfg.StreamHeartbeat, defaultStreamHeartbeat),
		stopStreams: make(chan struct{}), runner: transform.NewRunner(cfg.Transform)}
	a.routes()
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Routes returns the pattern of every authenticated endpoint, in
// registration order ("GET /api/sources/{source_id}", …).
func (a *API) Routes() []string { return append([]string(nil), a.patterns...) }

// PublicRoutes returns the pattern of every endpoint that takes no token
// (the CLI's device login start and poll, the OpenAPI document), in
// registration order.
func (a *API) PublicRoutes() []string { return append([]string(nil), a.publicPatterns...) }

// handler is the shape of every authenticated endpoint: it returns an error
// instead of writing one, and one place turns errors into responses.
type handler func(w http.ResponseWriter, r *http.Request, c *caller) error

// route registers an authenticated endpoint. Every successful write
// through it is a configuration change (see changeNotifier).
func (a *API) route(pattern string, h handler) { a.register(pattern, h, true) }

// action registers an authenticated endpoint that writes traffic, not
// configuration (replay, test sends): it leaves the caches alone.
func (a *API) action(pattern string, h handler) { a.register(pattern, h, false) }

// register serves pattern through h for authenticated callers. Every
// answer below 400 writes the audit records h described (see audit.go); a
// mutating route (any method but GET) must describe at least one.
func (a *API) register(pattern string, h handler, changesConfig bool) {
	a.patterns = append(a.patterns, pattern)
	method, _, _ := strings.Cut(pattern, " ")
	mutating := method != http.MethodGet
	a.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(r)
		if err != nil {
			err = a.badToken(r, err)
		} else {
			err = a.limitRate(w, r, c)
		}
		if err == nil {
			w = &auditWriter{ResponseWriter: w, api: a, r: r, c: c, pattern: pattern, mutating: mutating}
			if changesConfig && r.Method != http.MethodGet && a.cfg.OnConfigChange != nil {
				w = &changeNotifier{ResponseWriter: w, hook: a.cfg.OnConfigChange}
			}
			err = h(w, r, c)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	}))
}

func (a *API) routes() {
	a.route("GET /api/user", a.getUser)

	a.route("GET /api/org/list", a.listOrgs)
	a.route("GET /api/org", a.getOrg)
	a.route("POST /api/org", a.createOrg)
	a.route("DELETE /api/org", a.deleteOrg)
	a.route("GET /api/org/members", a.listMembers)
	a.route("POST /api/org/members", a.addMember)
	a.route("PUT /api/org/members/{account_id}", a.updateMember)
	a.route("DELETE /api/org/members/{account_id}", a.deleteMember)
	a.route("GET /api/org/invitations", a.listInvitations)
	a.route("DELETE /api/org/invitations/{invitation_id}", a.deleteInvitation)

	a.route("GET /api/projects", a.listProjects)
	a.route("POST /api/projects", a.createProject)
	a.route("GET /api/projects/{project_id}", a.getProject)
	a.route("PUT /api/projects/{project_id}", a.updateProject)
	a.route("DELETE /api/projects/{project_id}", a.deleteProject)

	a.route("GET /api/projects/{project_id}/sources", a.listSources)
	a.route("POST /api/projects/{project_id}/sources", a.createSource)
	for _, prefix := range []string{"/api/sources/{source_id}", "/api/projects/{project_id}/sources/{source_id}"} {
		a.route("GET "+prefix, a.getSource)
		a.route("PUT "+prefix, a.updateSource)
		a.route("DELETE "+prefix, a.deleteSource)
		a.route("GET "+prefix+"/credentials", a.getSourceCredentials)
		a.route("POST "+prefix+"/credentials/rotate", a.rotateSourceCredentials)
	}

	a.route("GET /api/projects/{project_id}/destinations", a.listDestinations)
	a.route("POST /api/projects/{project_id}/destinations", a.createDestination)
	for _, prefix := range []string{"/api/destinations/{destination_id}", "/api/projects/{project_id}/destinations/{destination_id}"} {
		a.route("GET "+prefix, a.getDestination)
		a.route("PUT "+prefix, a.updateDestination)
		a.route("DELETE "+prefix, a.deleteDestination)
		a.route("GET "+prefix+"/secret", a.getDestinationSecret)
		a.route("POST "+prefix+"/secret/rotate", a.rotateDestinationSecret)
	}

	a.route("GET /api/projects/{project_id}/connections", a.listConnections)
	a.route("POST /api/projects/{project_id}/connections", a.createConnection)
	a.route("GET /api/connections/{connection_id}", a.getConnection)
	a.route("PUT /api/connections/{connection_id}", a.updateConnection)
	a.route("DELETE /api/connections/{connection_id}", a.deleteConnection)
	a.action("POST /api/connections/test-filter", a.testFilter)

	a.route("GET /api/projects/{project_id}/transformations", a.listTransformations)
	a.route("POST /api/projects/{project_id}/transformations", a.createTransformation)
	a.route("GET /api/transformations/{transformation_id}", a.getTransformation)
	a.route("PUT /api/transformations/{transformation_id}", a.updateTransformation)
	a.route("DELETE /api/transformations/{transformation_id}", a.deleteTransformation)
	a.action("POST /api/transformations/{transformation_id}/test", a.testTransformation)

	for _, list := range []string{"GET /api/projects/{project_id}/requests", "GET /api/projects/{project_id}/events"} {
		a.route(list, a.listEvents)
	}
	a.route("GET /api/requests/{request_id}", a.getEvent)
	a.route("GET /api/projects/{project_id}/events/{event_id}", a.getEventByUID)
	a.route("GET /api/projects/{project_id}/delivery-attempts", a.listAttempts)
	a.route("GET /api/delivery-attempts", a.listAttempts)
	a.action("POST /api/replay-event", a.replayEvent)
	a.action("POST /api/webhooks", a.sendWebhook)
	a.route("GET /api/projects/{project_id}/replays", a.listReplays)
	a.action("POST /api/projects/{project_id}/replays", a.createReplay)
	a.route("GET /api/replays/{replay_id}", a.getReplay)
	a.action("DELETE /api/replays/{replay_id}", a.cancelReplay)

	// The official CLI's listen routes, and the stream ours uses.
	a.route("GET /api/projects/{project_id}/payloads", a.listPayloads)
	a.route("GET /api/connections/{connection_id}/attempts", a.listConnectionAttempts)
	a.route("GET /api/stream", a.streamEvents)

	// Tokens and the CLI's device login (tokens.go, device.go).
	a.route("GET /api/tokens", a.listTokens)
	a.action("POST /api/tokens", a.createToken)
	a.action("DELETE /api/tokens/{token_id}", a.deleteToken)
	a.public("POST /api/auth/cli/start", a.startDeviceLogin)
	a.public("GET /api/auth/cli/poll", a.pollDeviceLogin)
	a.action("POST /api/auth/cli/approve", a.approveDeviceLogin)
	a.action("POST /api/auth/cli/deny", a.denyDeviceLogin)

	// The OpenAPI document of all of the above (openapi/openapi.yaml).
	a.public("GET /api/openapi.json", a.getOpenAPI)
	// Who changed what (audit.go, audit_log.go).
	a.route("GET /api/audit-log", a.listAuditLog)

	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, &Error{Status: http.StatusNotFound, Message: "no such endpoint",
			Detail: r.Method + " " + r.URL.Path + " is not part of the Volley API"})
	})
}

// changeNotifier runs hook before a successful change is answered, so that
// a client that sees the answer never reaches a node cache that predates
// the change (a deleted source's ingestion URL answers 404 at once).
type changeNotifier struct {
	http.ResponseWriter
	hook func()
	done bool
}

func (c *changeNotifier) WriteHeader(code int) {
	if !c.done && code < 400 {
		c.done = true
		c.hook()
	}
	c.ResponseWriter.WriteHeader(code)
}

// writeJSON writes v as a JSON response, with the camelCase twin of every
// multi-word key (see marshalTwinned).
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := marshalTwinned(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeMerged writes v both under key and at the top level:
// {"source":{…},"id":…,…}. Family A clients read the wrapper, family B the
// top-level fields.
func writeMerged(w http.ResponseWriter, status int, key string, v any) error {
	obj, err := marshalTwinned(v)
	if err != nil {
		return err
	}
	out := make([]byte, 0, 2*len(obj)+len(key)+8)
	out = append(out, `{"`...)
	out = append(out, key...)
	out = append(out, `":`...)
	out = append(out, obj...)
	if len(obj) > 2 {
		out = append(out, ',')
		out = append(out, obj[1:]...)
	} else {
		out = append(out, '}')
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(out, '\n'))
	return err
}

// noContent answers a successful DELETE: an empty body, which every client
// accepts (the .NET SDK rejects non-JSON text).
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := classify(err)
	if internal {
		a.cfg.Logger.ErrorContext(r.Context(), "api request failed",
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(limit.Seconds(e.RetryAfter)))
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="volley"`)
	}
	writeJSON(w, e.Status, errorBody{Error: e.Message, Message: e.Detail, Field: e.Field})
}

// bearerToken extracts the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// caller is the authenticated account of a request and its organization
// context, resolved on first use.
type caller struct {
	account   *volley.Account
	token     *volley.APIToken // the bearer token of the request
	orgHeader string
	org       *volley.Membership
	// auditEntries is what the request did, for the audit log (see audit).
	auditEntries []auditEntry
}

func (a *API) authenticate(r *http.Request) (*caller, error) {
	orgHeader := strings.TrimSpace(r.Header.Get("X-Organization-ID"))
	if acct := accountFrom(r.Context()); acct != nil {
		return &caller{account: acct, orgHeader: orgHeader}, nil
	}
	acct, tok, err := a.cfg.Tenant.Authenticate(r.Context(), bearerToken(r))
	if err != nil {
		return nil, err
	}
	return &caller{account: acct, token: tok, orgHeader: orgHeader}, nil
}
