package ingest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/filter"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Request is an event to accept on a source, after authentication.
type Request struct {
	Method string
	// Path is the path below the ingestion URL ("/orders/42"), "" for the
	// bare URL.
	Path           string
	Query          string
	Headers        http.Header
	Body           []byte
	IdempotencyKey string
	// OnlyDestination restricts routing to the connections towards one
	// destination (POST /api/webhooks); 0 routes to every connection.
	OnlyDestination uint64
	// Direct sends the event to OnlyDestination through no connection (a
	// test send to a destination the source is not connected to): one
	// delivery with ConnectionID 0, retried like any other. The caller
	// checks that the destination is the source's project's and active.
	Direct bool
}

// Accept stores an event on src with its deliveries and returns its public
// id once it is durable; dup reports an idempotency-key duplicate, whose id
// is the original event's. Headers that carry a Volley API token are
// removed from req.Headers first (see dropTokens).
func (h *Handler) Accept(ctx context.Context, src *routing.Source, req Request) (uid string, dup bool, err error) {
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	if uid, err = volley.NewEventID(h.cfg.Rand, now); err != nil {
		return "", false, err
	}
	dropTokens(req.Headers)
	ne := store.NewEvent{Event: volley.Event{
		UID: uid, ProjectID: src.ProjectID, SourceID: src.ID, Method: req.Method, Path: req.Path, Query: req.Query,
		Headers: req.Headers, Body: req.Body, CreatedAt: now,
	}}
	if h.cfg.Tracer != nil {
		// The commit's span is the parent of every attempt of the event,
		// whenever and wherever they run: its context is stored with it.
		var span trace.Span
		_, span = h.cfg.Tracer.Start(ctx, "ingest.commit", trace.WithAttributes(
			attribute.Int64("volley.source_id", int64(src.ID)), attribute.String("volley.event_uid", uid)))
		defer func() {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, "store event")
			}
			span.SetAttributes(attribute.Bool("volley.duplicate", dup))
			span.End()
		}()
		ne.Event.TraceParent = traceParent(span.SpanContext())
	}
	if req.IdempotencyKey != "" {
		ne.IdempotencyKey, ne.IdempotencyUntil = req.IdempotencyKey, now.Add(h.cfg.IdempotencyTTL)
	}
	var ready int
	ne.Deliveries, ready = routes(src, req, now)
	// Deliveries the engine has room for are stored leased to it, and handed
	// over after the commit without a trip through the queue.
	leased := ready > 0 && h.cfg.Engine.Reserve(ready)
	if leased {
		until := h.cfg.Engine.LeaseUntil(now)
		for i := range ne.Deliveries {
			if d := &ne.Deliveries[i]; d.State == volley.DeliveryPending && !d.NextAttemptAt.After(now) {
				d.LeaseOwner, d.LeaseToken, d.NextAttemptAt = h.cfg.Engine.Owner(), 1, until
			}
		}
	}
	p := &pending{ev: ne, done: make(chan committed, 1)}
	h.commits <- p
	c := <-p.done
	switch {
	case c.err != nil:
		if leased {
			h.cfg.Engine.Unreserve(ready)
		}
		return "", false, fmt.Errorf("store event: %w", c.err)
	case c.res.Duplicate:
		h.cfg.Observer.EventIngested(true)
		if leased {
			h.cfg.Engine.Unreserve(ready)
		}
		return c.res.UID, true, nil
	}
	h.cfg.Observer.EventIngested(false)
	if !leased {
		if ready > 0 {
			h.cfg.Engine.Wake()
		}
		return uid, false, nil
	}
	jobs := make([]store.Job, 0, ready)
	for i, d := range ne.Deliveries {
		if d.State != volley.DeliveryPending || d.LeaseOwner == "" {
			continue
		}
		if c.res.Parked != nil && c.res.Parked[i] {
			// Stored parked behind an earlier delivery of its key, not
			// leased: its turn comes when that one finishes.
			h.cfg.Engine.Unreserve(1)
			continue
		}
		d.ID, d.EventID, d.EventUID = c.res.DeliveryIDs[i], c.res.ID, uid
		d.ProjectID, d.SourceID, d.CreatedAt = src.ProjectID, src.ID, now
		jobs = append(jobs, store.Job{Delivery: d, Event: ne.Event})
	}
	h.cfg.Engine.Submit(jobs)
	return uid, false, nil
}

// routes returns the deliveries of an event accepted now on src, and how
// many of them are ready to be attempted now (the others are filtered,
// held, or delayed by their connection: due later).
func routes(src *routing.Source, req Request, now time.Time) (ds []volley.Delivery, ready int) {
	if req.Direct {
		return []volley.Delivery{{DestinationID: req.OnlyDestination, State: volley.DeliveryPending, NextAttemptAt: now}}, 1
	}
	var fr *filter.Request // built once, for the first connection with a filter
	for i, c := range src.Connections {
		if req.OnlyDestination != 0 && c.DestinationID != req.OnlyDestination {
			continue
		}
		d := volley.Delivery{ConnectionID: c.ID, DestinationID: c.DestinationID, State: volley.DeliveryPending, NextAttemptAt: now}
		var f *filter.Filter
		if i < len(src.Filters) {
			f = src.Filters[i]
		}
		if f != nil && fr == nil {
			// The body is decoded at most once per event, and only when
			// some connection of the source filters on it.
			fr = filter.NewRequest(req.Body, req.Headers, req.Query, req.Path, src.FilterBody)
		}
		switch {
		case f != nil && !f.Match(fr):
			d.State, d.Reason, d.NextAttemptAt = volley.DeliveryFiltered, volley.ReasonFilter, time.Time{}
		case c.Status != volley.ConnectionEnabled || c.DestinationStatus != volley.DestinationActive:
			d.State = volley.DeliveryHeld
		case c.DelayMS > 0:
			// Stored due later and left to the leaser, which wakes for
			// its due time: a delay survives a restart because it is only
			// a due time.
			d.NextAttemptAt = now.Add(time.Duration(c.DelayMS) * time.Millisecond)
		default:
			ready++
		}
		if d.State != volley.DeliveryFiltered && i < len(src.OrderingKeys) && src.OrderingKeys[i] != nil {
			// A missing key (or a body that is not JSON) leaves the
			// delivery unordered: it waits behind nothing.
			d.OrderingKey = src.OrderingKeys[i].Key(req.Body, req.Headers)
		}
		ds = append(ds, d)
	}
	return ds, ready
}

// dropTokens deletes every header that carries a Volley API token, under
// whatever name, also inside HTTP Basic credentials. A client that sends
// its API token to an ingestion URL would otherwise have it stored, shown
// in the events API and forwarded to every destination.
func dropTokens(h http.Header) {
	for name, vs := range h {
		for _, v := range vs {
			if volley.ContainsToken(v) || volley.ContainsToken(basicCredentials(v)) {
				delete(h, name)
				break
			}
		}
	}
}

// basicCredentials decodes the "user:password" of an HTTP Basic
// authorization value, or returns "".
func basicCredentials(v string) string {
	if len(v) < 6 || !strings.EqualFold(v[:6], "basic ") {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[6:]))
	if err != nil {
		return ""
	}
	return string(b)
}

// traceParent returns the W3C traceparent header of sc, or "" when sc is
// not a valid span context (a no-op tracer's).
func traceParent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	return carrier["traceparent"]
}
