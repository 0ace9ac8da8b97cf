// Package ingest serves /hook/{ingestion_id}: it authenticates, rate-limits
// and verifies incoming webhooks, stores each with one delivery per routed
// connection in the same transaction, and answers 202 only once that
// transaction is durable. Deliveries that the engine has room for are
// inserted already leased to this node and handed over straight after the
// commit, so the first attempt does not wait for a poll.
package ingest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Sources looks up sources by ingestion id (a *routing.Cache).
type Sources interface {
	Source(ctx context.Context, ingestionID string) (*routing.Source, error)
}

// Dispatcher is the delivery engine as ingestion sees it.
type Dispatcher interface {
	Reserve(n int) bool
	Unreserve(n int)
	Submit(jobs []store.Job)
	Wake()
	Owner() string
	LeaseUntil(now time.Time) time.Time
}

// Observer is told what ingestion does, for metrics. Its methods must be
// cheap and must not block: they run on every request.
type Observer interface {
	// EventIngested counts an accepted event, stored or a duplicate.
	EventIngested(duplicate bool)
	// EventRejected counts a refused request; reason is one of the
	// Reason* constants.
	EventRejected(reason string)
	// EventsCommitted records one group commit of n events.
	EventsCommitted(n int, took time.Duration)
}

// Rejection reasons given to Observer.EventRejected.
const (
	ReasonAuth      = "auth"
	ReasonSignature = "signature"
	ReasonEPS       = "eps"
	ReasonSize      = "size"
	ReasonUnknown   = "unknown"
	ReasonDisabled  = "disabled"
	ReasonMethod    = "method"
	ReasonRead      = "read"
	ReasonError     = "error"
)

// noObserver is the Observer of a Handler configured without one.
type noObserver struct{}

func (noObserver) EventIngested(bool)                 {}
func (noObserver) EventRejected(string)               {}
func (noObserver) EventsCommitted(int, time.Duration) {}

// Config configures a Handler.
type Config struct {
	Store   store.Traffic
	Sources Sources
	Engine  Dispatcher
	// Limiter enforces source eps; nil means a WindowLimiter.
	Limiter RateLimiter
	// MaxBodyBytes bounds request bodies; 0 means 10 MiB.
	MaxBodyBytes int64
	// IdempotencyTTL is how long an Idempotency-Key (or a provider's
	// delivery id) deduplicates; 0 means 24h.
	IdempotencyTTL time.Duration
	// Committers is the number of group commits that may be in progress at
	// once; 0 means 1, right for SQLite's single writer (measured: a second
	// one halves the batches and loses throughput). A store served over the
	// network gains from a few, overlapping round trips.
	Committers int
	Logger     *slog.Logger
	NowFunc    func() time.Time
	Rand       io.Reader // event ids; nil means crypto/rand
	// Guard slows down, then refuses with 429, the failed authentications
	// (credentials or signatures) of a client address; nil for none.
	// Requests that authenticate are never delayed or refused by it.
	Guard *limit.Guard
	// Proxies tells each request's client address; the zero value means
	// the TCP peer.
	Proxies limit.Proxies
	// OnCommit runs after each group commit that stored events (the listen
	// streams' wake-up); nil for none. It must not block.
	OnCommit func()
	// Observer receives counts for metrics; nil for none.
	Observer Observer
	// Tracer traces ingest requests and their commits; nil for no tracing.
	// An incoming W3C traceparent is continued, and the trace context of
	// the commit is stored with the event (Event.TraceParent) for its
	// attempts to join.
	Tracer trace.Tracer
}

// DefaultMaxBodyBytes is the default ingest body limit.
const DefaultMaxBodyBytes = 10 << 20

// Handler is the ingestion endpoint.
type Handler struct {
	cfg     Config
	commits chan *pending
}

// New returns a Handler; Start runs its committers.
func New(cfg Config) *Handler {
	if cfg.Limiter == nil {
		cfg.Limiter = NewWindowLimiter()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = 24 * time.Hour
	}
	if cfg.Committers <= 0 {
		cfg.Committers = 1
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	return &Handler{cfg: cfg, commits: make(chan *pending, 4*maxBatch)}
}

// Start runs the committers until Stop.
func (h *Handler) Start() {
	for range h.cfg.Committers {
		c := &committer{store: h.cfg.Store, in: h.commits, onCommit: h.cfg.OnCommit, obs: h.cfg.Observer}
		go c.run()
	}
}

// Stop ends the committers once the requests in flight are answered; call
// it after the HTTP server has shut down.
func (h *Handler) Stop() { close(h.commits) }

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// subPath is the path of a request below its ingestion URL, with its
// leading slash: "/orders/42" for /hook/src_…/orders/42, "" for the bare URL.
func subPath(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/hook/"+r.PathValue("ingestion_id"))
	if !ok {
		return ""
	}
	return rest
}

// ServeHTTP implements http.Handler for /hook/{ingestion_id} and the paths
// below it (/hook/{ingestion_id}/{path...}).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Tracer == nil {
		h.serve(w, r, nil)
		return
	}
	// The sender's trace, if it sent one, goes on through Volley.
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := h.cfg.Tracer.Start(ctx, "ingest", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method)))
	defer span.End()
	h.serve(w, r.WithContext(ctx), span)
}

// reject answers a refused request and counts it.
func (h *Handler) reject(w http.ResponseWriter, span trace.Span, status int, reason, msg string) {
	h.cfg.Observer.EventRejected(reason)
	if span != nil {
		span.SetAttributes(attribute.Int("http.response.status_code", status), attribute.String("volley.outcome", "rejected"),
			attribute.String("volley.reject_reason", reason))
		span.SetStatus(codes.Error, msg)
	}
	fail(w, status, msg)
}

// serve handles one ingest request; span is its trace span, nil when
// tracing is off.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, span trace.Span) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		w.Header().Set("Allow", "POST, PUT, PATCH")
		h.reject(w, span, http.StatusMethodNotAllowed, ReasonMethod, "method "+r.Method+" not allowed: send webhooks with POST, PUT or PATCH")
		return
	}
	src, err := h.cfg.Sources.Source(r.Context(), r.PathValue("ingestion_id"))
	if errors.Is(err, store.ErrNotFound) {
		h.reject(w, span, http.StatusNotFound, ReasonUnknown, "unknown ingestion URL")
		return
	}
	if err != nil {
		h.cfg.Logger.Error("ingest: load source", "err", err)
		h.reject(w, span, http.StatusServiceUnavailable, ReasonError, "temporarily unable to accept webhooks; retry later")
		return
	}
	if span != nil {
		span.SetAttributes(attribute.Int64("volley.source_id", int64(src.ID)))
	}
	if src.Status != volley.SourceActive {
		h.reject(w, span, http.StatusForbidden, ReasonDisabled, "source is disabled")
		return
	}
	authHeader, ok := authenticate(r, src)
	if !ok {
		switch src.AuthType {
		case volley.AuthBasic:
			w.Header().Set("WWW-Authenticate", `Basic realm="volley"`)
		case volley.AuthAPIKey:
			w.Header().Set("WWW-Authenticate", `Bearer realm="volley"`)
		}
		h.authFailed(w, r, span, ReasonAuth, "missing or invalid source credentials")
		return
	}
	// The limiter gets the time before UTC() strips its monotonic reading,
	// so that a wall clock stepped back does not refuse the source for as
	// long as the step.
	mono := h.cfg.NowFunc()
	now := mono.UTC()
	if r.ContentLength > h.cfg.MaxBodyBytes {
		h.reject(w, span, http.StatusRequestEntityTooLarge, ReasonSize, fmt.Sprintf("body is larger than the %d-byte limit", h.cfg.MaxBodyBytes))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.reject(w, span, http.StatusRequestEntityTooLarge, ReasonSize, fmt.Sprintf("body is larger than the %d-byte limit", h.cfg.MaxBodyBytes))
			return
		}
		h.reject(w, span, http.StatusBadRequest, ReasonRead, "could not read the request body")
		return
	}
	if src.VerifySignature {
		v := signature.Verifier{Scheme: src.Type, Secret: src.WebhookSecret, HMAC: signature.HMACConfig(src.HMAC)}
		if err := v.Verify(r.Header, body, now); err != nil {
			w.Header().Set("WWW-Authenticate", `Signature realm="volley"`)
			h.authFailed(w, r, span, ReasonSignature, "signature verification failed: "+err.Error())
			return
		}
	}
	if challenge, ok := slackChallenge(src, body); ok {
		writeJSON(w, http.StatusOK, map[string]string{"challenge": challenge})
		return
	}
	// The rate limit counts only requests that would be stored: forged or
	// oversized ones must not use up a provider's budget.
	ok, wait, err := h.cfg.Limiter.Allow(r.Context(), src.ID, src.EPS, mono)
	if err != nil {
		h.cfg.Logger.Error("ingest: rate limit", "source_id", src.ID, "err", err)
		h.reject(w, span, http.StatusServiceUnavailable, ReasonError, "temporarily unable to accept webhooks; retry later")
		return
	}
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		h.reject(w, span, http.StatusTooManyRequests, ReasonEPS, fmt.Sprintf("source rate limit of %d events per second exceeded", src.EPS))
		return
	}
	headers := r.Header.Clone()
	if authHeader != "" {
		headers.Del(authHeader) // the source's credentials are not stored
	}
	if src.AuthType == volley.AuthAPIKey && bearerKey(headers.Get("Authorization"), src.AuthKey) {
		headers.Del("Authorization") // the key sent both ways
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = signature.DedupKey(src.Type, r.Header)
	}
	uid, dup, err := h.Accept(r.Context(), src, Request{
		Method: r.Method, Path: subPath(r), Query: r.URL.RawQuery, Headers: headers, Body: body, IdempotencyKey: key,
	})
	if err != nil {
		h.cfg.Logger.Error("ingest: store event", "source_id", src.ID, "err", err)
		h.reject(w, span, http.StatusServiceUnavailable, ReasonError, "temporarily unable to store the webhook; it was not accepted, retry later")
		return
	}
	if span != nil {
		span.SetAttributes(attribute.Int("http.response.status_code", http.StatusAccepted), attribute.String("volley.event_uid", uid),
			attribute.String("volley.outcome", "accepted"), attribute.Bool("volley.duplicate", dup))
	}
	w.Header().Set("X-Volley-Event-Id", uid)
	writeJSON(w, http.StatusAccepted, acceptedBody{EventID: uid, Status: "accepted", Duplicate: dup})
}

// authFailed answers a request that failed authentication: 401 with msg,
// after the client address's slow-down delay, or 429 once the address has
// failed too often. The delay holds only this request's goroutine: no
// lock, no writer, nothing a valid request waits for. Either way it
// counts as a rejection for reason (ReasonAuth or ReasonSignature).
func (h *Handler) authFailed(w http.ResponseWriter, r *http.Request, span trace.Span, reason, msg string) {
	if retry, blocked := h.cfg.Guard.Fail(r.Context(), h.cfg.Proxies.Client(r)); blocked {
		w.Header().Del("WWW-Authenticate")
		w.Header().Set("Retry-After", strconv.Itoa(limit.Seconds(retry)))
		h.reject(w, span, http.StatusTooManyRequests, reason,
			fmt.Sprintf("too many failed authentications from this address; retry in %d s", limit.Seconds(retry)))
		return
	}
	h.reject(w, span, http.StatusUnauthorized, reason, msg)
}

type acceptedBody struct {
	EventID   string `json:"event_id"`
	Status    string `json:"status"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// authenticate checks the source's credentials and returns the header that
// carried them.
func authenticate(r *http.Request, src *routing.Source) (string, bool) {
	switch src.AuthType {
	case volley.AuthBasic:
		user, pass, ok := r.BasicAuth()
		return "Authorization", ok && equal(user, src.AuthUsername) && equal(pass, string(src.AuthKey))
	case volley.AuthAPIKey:
		if v := r.Header.Get(src.AuthKeyName); v != "" {
			return src.AuthKeyName, equal(v, string(src.AuthKey))
		}
		if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return "Authorization", equal(strings.TrimSpace(v[7:]), string(src.AuthKey))
		}
		return "", false
	}
	return "", true
}

// bearerKey reports whether an Authorization value is "Bearer <key>".
func bearerKey(v string, key []byte) bool {
	return len(v) > 7 && strings.EqualFold(v[:7], "bearer ") && equal(strings.TrimSpace(v[7:]), string(key))
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// slackChallenge answers Slack's url_verification handshake, which expects
// the challenge echoed back synchronously and is not an event.
func slackChallenge(src *routing.Source, body []byte) (string, bool) {
	if src.Type != volley.SourceTypeSlack || len(body) > 4096 {
		return "", false
	}
	var m struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(body, &m) != nil || m.Type != "url_verification" {
		return "", false
	}
	return m.Challenge, true
}
