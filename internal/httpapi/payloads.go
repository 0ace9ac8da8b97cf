package httpapi

import (
	"encoding/base64"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// payloadJSON is an event as the official CLI's direct mode reads it
// (GET /api/projects/{project_id}/payloads).
type payloadJSON struct {
	ID            uint64         `json:"id"`
	EventID       string         `json:"event_id"`
	SourceID      uint64         `json:"source_id"`
	SourceSlug    string         `json:"source_slug"`
	ConnectionID  *uint64        `json:"connection_id"`  // null: the event has no delivery
	DestinationID *uint64        `json:"destination_id"` // null: the event has no delivery
	Method        string         `json:"method"`
	Query         string         `json:"query"`
	RawBody       string         `json:"raw_body"`
	RawBodyBase64 string         `json:"raw_body_base64,omitempty"`
	Headers       map[string]any `json:"headers"`
	Remarks       *string        `json:"remarks"` // always null; the CLI reads it
	CreatedAt     time.Time      `json:"created_at"`
}

// listPayloads serves GET /api/projects/{project_id}/payloads?limit&source_id&start_time:
// the project's events newest first, sources without connections
// included, each with its first delivery's connection and destination.
func (a *API) listPayloads(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	q := newQuery(r)
	// CountLimit 1: the CLI reads no total, so counting stops at once
	// rather than walking every matching event.
	params := store.EventListParams{ProjectID: p.ID, Start: q.time(false, "start_time"), Page: store.PageParams{CountLimit: 1}}
	params.Limit, _ = q.page()
	inProject := func(id uint64) bool { return id == p.ID }
	if params.SourceID, err = a.sourceFilter(r, q, inProject); err != nil {
		return err
	}
	if q.err != nil {
		return q.err
	}
	events, _, err := a.cfg.Store.EventList(r.Context(), params)
	if err != nil {
		return err
	}
	out := make([]payloadJSON, len(events))
	for i := range events {
		e := &events[i]
		out[i] = payloadJSON{ID: e.ID, EventID: e.UID, SourceID: e.SourceID, SourceSlug: e.SourceSlug,
			Method: e.Method, Query: e.Query, RawBody: string(e.Body), Headers: headersOut(e.Headers), CreatedAt: e.CreatedAt}
		if !utf8.Valid(e.Body) {
			out[i].RawBodyBase64 = base64.StdEncoding.EncodeToString(e.Body)
		}
		// One indexed read per event of the page (at most limit).
		ds, err := a.cfg.Store.DeliveryListByEvent(r.Context(), e.ID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.ConnectionID != 0 {
				out[i].ConnectionID, out[i].DestinationID = &d.ConnectionID, &d.DestinationID
				break
			}
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"payloads": out})
}

// connectionAttemptJSON is an attempt as the official CLI's connection
// mode reads it (GET /api/connections/{connection_id}/attempts): the
// status code under both names, and the entry and exit times it declares.
type connectionAttemptJSON struct {
	ID            uint64    `json:"id"`
	EventID       string    `json:"event_id"`
	ConnectionID  uint64    `json:"connection_id"`
	DestinationID uint64    `json:"destination_id"`
	Status        string    `json:"status"`
	StatusCode    int       `json:"status_code"`
	ResponseCode  int       `json:"response_code"`
	ErrorReason   string    `json:"error_reason,omitempty"`
	DurationMS    int64     `json:"duration_ms"`
	AttemptNumber int       `json:"attempt_number"`
	Trigger       string    `json:"trigger"`
	EntryTime     time.Time `json:"entry_time"` // when the attempt started
	// ExitTime is always null: the end of an attempt is its start plus
	// duration_ms, which the CLI does not read.
	ExitTime  *time.Time `json:"exit_time"`
	CreatedAt time.Time  `json:"created_at"`
}

func connectionAttemptOut(at *volley.Attempt) connectionAttemptJSON {
	start := at.CreatedAt.UTC().Truncate(time.Microsecond)
	return connectionAttemptJSON{
		ID: at.ID, EventID: at.EventUID, ConnectionID: at.ConnectionID, DestinationID: at.DestinationID,
		Status: at.Status, StatusCode: at.StatusCode, ResponseCode: at.StatusCode, ErrorReason: at.ErrorReason,
		DurationMS: at.DurationMS, AttemptNumber: at.Number, Trigger: at.Trigger,
		EntryTime: start, CreatedAt: start,
	}
}

// listConnectionAttempts serves GET /api/connections/{connection_id}/attempts?limit:
// the connection's newest attempts first (50 unless limit says otherwise).
func (a *API) listConnectionAttempts(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	conn, err := a.connection(r, org)
	if err != nil {
		return err
	}
	q := newQuery(r)
	limit, _ := q.page()
	if q.err != nil {
		return q.err
	}
	list, err := a.cfg.Store.AttemptListByConnection(r.Context(), conn.ID, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"attempts": showAll(list, connectionAttemptOut)})
}
