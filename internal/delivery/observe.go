package delivery

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/volley"
)

// Observer is told what the engine does, for metrics. Its methods must be
// cheap and must not block: they run on every attempt.
type Observer interface {
	// AttemptFinished records an attempt to a destination, its outcome
	// (OutcomeSuccess, OutcomeFailed or OutcomeExhausted) and its duration.
	AttemptFinished(destinationID uint64, outcome string, took time.Duration)
	// DeliveryDropped counts a delivery cancelled without an attempt: its
	// connection or destination is gone.
	DeliveryDropped()
	// AttemptThrottled counts an attempt held back by a rate limit,
	// LimitDestination or LimitConnection.
	AttemptThrottled(limit string)
}

// QueueObserver is told what the engine does to the store's queue, for
// metrics. Its methods must be cheap and must not block.
type QueueObserver interface {
	// OutcomesCommitted records one commit of n outcomes by the recorder.
	OutcomesCommitted(n int, took time.Duration)
	// LeasesTakenOver counts deliveries of silent nodes this node made due.
	LeasesTakenOver(n int64)
}

// Attempt outcomes given to Observer.AttemptFinished.
const (
	OutcomeSuccess   = "success"        // delivered
	OutcomeFailed    = "failed_attempt" // failed, to be retried
	OutcomeExhausted = "exhausted"      // failed, given up (retries used up, or 410 Gone)
)

// Rate limits given to Observer.AttemptThrottled.
const (
	LimitDestination = "destination"
	LimitConnection  = "connection"
)

// noObserver is the Observer and QueueObserver of an engine configured
// without them.
type noObserver struct{}

func (noObserver) AttemptFinished(uint64, string, time.Duration) {}
func (noObserver) DeliveryDropped()                              {}
func (noObserver) AttemptThrottled(string)                       {}
func (noObserver) OutcomesCommitted(int, time.Duration)          {}
func (noObserver) LeasesTakenOver(int64)                         {}

// outcomeOf names the outcome of an attempt whose delivery moves to state.
func outcomeOf(state string) string {
	switch state {
	case volley.DeliverySuccess:
		return OutcomeSuccess
	case volley.DeliveryPending:
		return OutcomeFailed
	}
	return OutcomeExhausted
}

// startSpan starts the span of an attempt of d (name "attempt" or
// "replay") as a child of the span that committed its event, whose W3C
// traceparent is stored with the event: the attempt joins the ingest's
// trace however late, and on whichever node, it runs. It returns ctx and a
// nil span when tracing is off.
func (e *Engine) startSpan(ctx context.Context, name, traceParent string, d *volley.Delivery, number int) (context.Context, trace.Span) {
	if e.cfg.Tracer == nil {
		return ctx, nil
	}
	if traceParent != "" {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceParent})
	}
	return e.cfg.Tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.Int64("volley.source_id", int64(d.SourceID)),
		attribute.String("volley.event_uid", d.EventUID),
		attribute.Int64("volley.connection_id", int64(d.ConnectionID)),
		attribute.Int64("volley.destination_id", int64(d.DestinationID)),
		attribute.Int64("volley.delivery_id", int64(d.ID)),
		attribute.Int("volley.attempt", number),
	))
}

// endSpan records an attempt's result on its span and ends it; outcome is
// OutcomeSuccess, OutcomeFailed or OutcomeExhausted.
func endSpan(span trace.Span, a *volley.Attempt, outcome string) {
	if span == nil {
		return
	}
	if a.StatusCode != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", a.StatusCode))
	}
	span.SetAttributes(attribute.String("volley.outcome", outcome))
	if a.Status != volley.AttemptSuccess {
		span.SetStatus(codes.Error, a.ErrorReason)
	}
	span.End()
}

// forwardTrace sets the traceparent (and tracestate) headers of the span
// in ctx on h, replacing any the event came with.
func forwardTrace(ctx context.Context, h map[string][]string) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	delete(h, "Traceparent")
	delete(h, "Tracestate")
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
}
