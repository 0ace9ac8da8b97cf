package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/volleyhq/volley/internal/ingest"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Replayer sends an event through one of its deliveries now (the delivery
// engine).
type Replayer interface {
	Replay(ctx context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error)
}

type replayRequest struct {
	EventID       *string `json:"event_id"`
	DestinationID *uint64 `json:"destination_id"`
	ConnectionID  *uint64 `json:"connection_id"`
}

// replayJSON is family A's result for the first attempt, plus family B's
// message and every attempt made.
type replayJSON struct {
	Success           bool          `json:"success"`
	Status            string        `json:"status"`
	StatusCode        int           `json:"status_code"`
	ErrorReason       string        `json:"error_reason,omitempty"`
	DurationMS        int64         `json:"duration_ms"`
	AttemptID         uint64        `json:"attempt_id"`
	DeliveryAttemptID uint64        `json:"delivery_attempt_id"`
	Message           string        `json:"message"`
	Attempts          []attemptJSON `json:"attempts"`
}

// replayEvent serves POST /api/replay-event: one synchronous attempt per
// target (the given connection, the connections to the given destination,
// or all the event's connections), answered with 200 even when the
// destination fails.
func (a *API) replayEvent(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	var req replayRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if deref(req.EventID) == "" {
		return volley.Invalid("event_id", "is required")
	}
	ev, err := a.cfg.Store.EventGetByUID(r.Context(), org.ID, *req.EventID)
	if err != nil {
		return notFoundAs(err, "Event")
	}
	targets, err := a.replayTargets(r, org, ev, deref(req.ConnectionID), deref(req.DestinationID))
	if err != nil {
		return err
	}
	out := replayJSON{Attempts: make([]attemptJSON, 0, len(targets))}
	for _, d := range targets {
		att, err := a.cfg.Replayer.Replay(r.Context(), ev, d)
		if err != nil {
			return err
		}
		out.Attempts = append(out.Attempts, attemptOut(att))
	}
	ids := make([]uint64, len(out.Attempts))
	for i, at := range out.Attempts {
		ids[i] = at.ID
	}
	c.audit("event.replay", "event", ev.UID, valueSet("attempt_ids", ids))
	first := out.Attempts[0]
	out.Success = first.Status == volley.AttemptSuccess
	out.Status, out.StatusCode, out.ErrorReason = first.Status, first.StatusCode, first.ErrorReason
	out.DurationMS, out.AttemptID, out.DeliveryAttemptID = first.DurationMS, first.ID, first.ID
	ok := 0
	for _, at := range out.Attempts {
		if at.Status == volley.AttemptSuccess {
			ok++
		}
	}
	out.Message = fmt.Sprintf("Event replayed: %d of %d attempts succeeded", ok, len(out.Attempts))
	return writeJSON(w, http.StatusOK, out)
}

// replayTargets picks the deliveries a replay goes through, creating one
// for a connection of the event's source that the event was never routed
// to (for example a connection added after it arrived).
func (a *API) replayTargets(r *http.Request, org *volley.Membership, ev *volley.Event, connID, destID uint64) ([]volley.Delivery, error) {
	ds, err := a.cfg.Store.DeliveryListByEvent(r.Context(), ev.ID)
	if err != nil {
		return nil, err
	}
	conns, err := a.cfg.Store.ConnectionListBySource(r.Context(), ev.SourceID)
	if err != nil {
		return nil, err
	}
	exists := make(map[uint64]bool, len(conns))
	for _, cn := range conns {
		exists[cn.ID] = true
	}
	match := func(d volley.Delivery) bool {
		switch {
		case connID != 0:
			return d.ConnectionID == connID
		case destID != 0:
			return d.DestinationID == destID
		}
		return true
	}
	var out []volley.Delivery
	for _, d := range ds {
		if match(d) && exists[d.ConnectionID] { // deleted connections are not replayed to
			out = append(out, d)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, cn := range conns {
		if cn.ProjectID != ev.ProjectID || !match(volley.Delivery{ConnectionID: cn.ID, DestinationID: cn.DestinationID}) {
			continue
		}
		if connID == 0 && destID == 0 && !cn.Routed() {
			continue
		}
		now := a.now()
		d := volley.Delivery{
			EventID: ev.ID, EventUID: ev.UID, ProjectID: ev.ProjectID, SourceID: ev.SourceID,
			ConnectionID: cn.ID, DestinationID: cn.DestinationID,
			// Not queued: only the replay sends it, and its outcome decides.
			State: volley.DeliveryFailed, NextAttemptAt: now, CreatedAt: now,
		}
		if err := a.cfg.Store.DeliveryCreate(r.Context(), &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		switch {
		case connID != 0:
			return nil, &Error{Status: http.StatusBadRequest, Field: "connection_id",
				Message: fmt.Sprintf("connection_id: connection %d does not carry events of this event's source", connID)}
		case destID != 0:
			return nil, &Error{Status: http.StatusBadRequest, Field: "destination_id",
				Message: fmt.Sprintf("destination_id: no connection from this event's source to destination %d", destID)}
		}
		return nil, errorf(http.StatusConflict, "the event's source has no connection to replay it to")
	}
	return out, nil
}

var errSourceDisabled = errors.New("source is disabled")

// sendWebhook serves family B's POST /api/webhooks: the body is ingested on
// the source (authenticated by the API token instead of the source's own
// credentials) and routed to its connections, or only to those towards
// destination_id, or, when the source has no connection to that
// destination, straight to it once (a test send); it is stored and
// delivered like any event.
func (a *API) sendWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	var req struct {
		SourceID      *uint64            `json:"source_id"`
		DestinationID *uint64            `json:"destination_id"`
		Body          json.RawMessage    `json:"body"`
		Headers       *map[string]string `json:"headers"`
	}
	fields, err := decodeFields(w, r, &req)
	if err != nil {
		return err
	}
	if deref(req.SourceID) == 0 {
		return volley.Invalid("source_id", "is required")
	}
	src, err := a.cfg.Store.SourceGet(r.Context(), org.ID, *req.SourceID)
	if errors.Is(err, store.ErrNotFound) {
		return volley.Invalid("source_id", "source %d does not exist", *req.SourceID)
	}
	if err != nil {
		return err
	}
	if src.Status != volley.SourceActive {
		return &Error{Status: http.StatusConflict, Field: "source_id", Message: errSourceDisabled.Error()}
	}
	route, err := a.cfg.Routes.Source(r.Context(), src.IngestionID)
	if err != nil {
		return notFoundAs(err, "Source")
	}
	dest := deref(req.DestinationID)
	direct := false
	if dest != 0 {
		if direct, err = a.directSend(r, org, src, route, dest); err != nil {
			return err
		}
	}
	if len(req.Body) == 0 || string(req.Body) == "null" { // null means absent, as for every other field
		return volley.Invalid("body", "is required")
	}
	headers := http.Header{}
	for k, v := range deref(req.Headers) {
		if !volley.ValidHeaderName(k) {
			return volley.Invalid("headers", "%q is not a valid header name", k)
		}
		headers.Set(k, v)
	}
	if headers.Get("Content-Type") == "" {
		headers.Set("Content-Type", "application/json")
	}
	uid, _, err := a.cfg.Ingest.Accept(r.Context(), route, ingest.Request{
		// The body's bytes exactly as sent, not re-encoded.
		Method: http.MethodPost, Headers: headers, Body: fields["body"], OnlyDestination: dest, Direct: direct,
	})
	if err != nil {
		return err
	}
	c.audit("event.test_send", "source", src.ID, valueSet("event_id", uid), valueSet("destination_id", dest))
	return writeJSON(w, http.StatusAccepted, map[string]any{"message": "Webhook sent", "event_id": uid, "status": "accepted"})
}

// directSend checks a test send's destination and reports whether it goes
// there directly: the family B SDKs always name a destination, connected to
// the source or not. A direct send needs a destination of the source's
// project that is active (a disabled one would hold it with nothing to
// release it).
func (a *API) directSend(r *http.Request, org *volley.Membership, src *volley.Source, route *routing.Source, destID uint64) (bool, error) {
	for _, cn := range route.Connections {
		if cn.DestinationID == destID {
			return false, nil
		}
	}
	d, err := a.cfg.Store.DestinationGet(r.Context(), org.ID, destID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.ProjectID != src.ProjectID) {
		return false, volley.Invalid("destination_id", "destination %d does not exist in the source's project", destID)
	}
	if err != nil {
		return false, err
	}
	if d.Status != volley.DestinationActive {
		return false, &Error{Status: http.StatusConflict, Field: "destination_id",
			Message: fmt.Sprintf("destination_id: destination %d is disabled; enable it to send to it", destID)}
	}
	return true, nil
}
