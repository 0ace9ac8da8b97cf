package delivery

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/volley"
)

// Replay sends an event through one of its deliveries now, outside the
// queue and its rate limits, records the attempt (trigger "replay") and
// returns it. A successful replay marks the delivery succeeded.
func (e *Engine) Replay(ctx context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error) {
	a, err := e.replayAttempt(ctx, ev, d)
	if err != nil {
		return nil, err
	}
	if err := e.cfg.Store.DeliveryReplayed(context.WithoutCancel(ctx), a); err != nil {
		return nil, err
	}
	return a, nil
}

// replayAttempt makes a replay attempt and returns it, unrecorded.
func (e *Engine) replayAttempt(ctx context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error) {
	dest, err := e.cfg.Routes.Destination(ctx, d.DestinationID)
	if err != nil {
		return nil, fmt.Errorf("replay: load destination %d: %w", d.DestinationID, err)
	}
	d.EventUID = ev.UID
	view := eventView{method: ev.Method, path: ev.Path, query: ev.Query, headers: ev.Headers, body: ev.Body, traceParent: ev.TraceParent}
	var res result
	var tr transformed
	if d.ConnectionID != 0 {
		conn, err := e.cfg.Routes.Connection(ctx, d.ConnectionID)
		if err != nil {
			return nil, fmt.Errorf("replay: load connection %d: %w", d.ConnectionID, err)
		}
		if conn.TransformationID != 0 {
			// A replay runs the transformation as it is now: the way to
			// deliver events that a broken one failed, once it is fixed.
			if tr = e.transform(ctx, conn.TransformationID, &view); tr.unavailable {
				return nil, fmt.Errorf("replay: transformation %d is not available yet; try again", conn.TransformationID)
			}
			view = tr.view
		}
	}
	now := e.clock.Now()
	var span trace.Span
	switch {
	case tr.drop || tr.err != "":
		res.attempt = e.newAttempt(&d, d.Attempts+1, now)
		res.attempt.ErrorReason, res.attempt.TransformationError = tr.err, tr.err
		if tr.drop {
			res.attempt.ErrorReason = volley.ReasonTransformation + ": nothing was sent"
		}
		res.attempt.DurationMS = tr.took.Milliseconds()
	default:
		var sctx context.Context
		sctx, span = e.startSpan(ctx, "replay", ev.TraceParent, &d, d.Attempts+1)
		res = e.send(sctx, &view, &d, dest, d.Attempts+1, now)
	}
	res.attempt.TransformationLogs = tr.logs
	res.attempt.Trigger = volley.AttemptReplay
	outcome := OutcomeSuccess
	if res.attempt.Status != volley.AttemptSuccess {
		outcome = OutcomeFailed
	}
	endSpan(span, &res.attempt, outcome)
	return &res.attempt, nil
}
