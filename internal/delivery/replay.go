package delivery

import (
	"context"
	"fmt"

	"github.com/volleyhq/volley/internal/volley"
)

// Replay sends an event through one of its deliveries now, outside the
// queue and its rate limits, records the attempt (trigger "replay") and
// returns it. A successful replay marks the delivery succeeded.
func (e *Engine) Replay(ctx context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error) {
	dest, err := e.cfg.Routes.Destination(ctx, d.DestinationID)
	if err != nil {
		return nil, fmt.Errorf("replay: load destination %d: %w", d.DestinationID, err)
	}
	d.EventUID = ev.UID
	view := eventView{method: ev.Method, query: ev.Query, headers: ev.Headers, body: ev.Body, traceParent: ev.TraceParent}
	sctx, span := e.startSpan(ctx, "replay", ev.TraceParent, &d, d.Attempts+1)
	res := e.send(sctx, &view, &d, dest, d.Attempts+1, e.clock.Now())
	res.attempt.Trigger = volley.AttemptReplay
	outcome := OutcomeSuccess
	if res.attempt.Status != volley.AttemptSuccess {
		outcome = OutcomeFailed
	}
	endSpan(span, &res.attempt, outcome)
	if err := e.cfg.Store.DeliveryReplayed(context.WithoutCancel(ctx), &res.attempt); err != nil {
		return nil, err
	}
	return &res.attempt, nil
}
