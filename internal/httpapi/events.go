package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type eventJSON struct {
	ID               uint64         `json:"id"`
	EventID          string         `json:"event_id"`
	ProjectID        uint64         `json:"project_id"`
	SourceID         uint64         `json:"source_id"`
	SourceSlug       string         `json:"source_slug"`
	Method           string         `json:"method"`
	Path             string         `json:"path,omitempty"` // below the ingestion URL
	Query            string         `json:"query"`
	Headers          map[string]any `json:"headers"`
	RawBody          string         `json:"raw_body"`
	RawBodyBase64    string         `json:"raw_body_base64,omitempty"`
	Status           string         `json:"status"`
	DeliveryAttempts *[]attemptJSON `json:"delivery_attempts,omitempty"` // detail only
	// Deliveries are the event's journeys through its connections, with
	// their states (detail only): the one place a filtered delivery, which
	// has no attempt, shows.
	Deliveries *[]deliveryJSON `json:"deliveries,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

type deliveryJSON struct {
	ID            uint64 `json:"id"`
	ConnectionID  uint64 `json:"connection_id"`
	DestinationID uint64 `json:"destination_id"`
	State         string `json:"state"`
	Reason        string `json:"reason,omitempty"`
	// OrderingKey is the event's key on a FIFO connection: a parked
	// delivery waits for the one before it of this key.
	OrderingKey   string     `json:"ordering_key,omitempty"`
	AttemptCount  int        `json:"attempt_count"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
}

func deliveryOut(d *volley.Delivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, ConnectionID: d.ConnectionID, DestinationID: d.DestinationID, State: d.State,
		Reason: d.Reason, OrderingKey: d.OrderingKey, AttemptCount: d.Attempts, CreatedAt: d.CreatedAt}
	if d.State == volley.DeliveryPending && d.LeaseOwner == "" && !d.NextAttemptAt.IsZero() {
		t := d.NextAttemptAt
		out.NextAttemptAt = &t
	}
	if !d.FinishedAt.IsZero() {
		t := d.FinishedAt
		out.FinishedAt = &t
	}
	return out
}

// headersOut writes a header with one value as a string and several as an
// array, which every client reads.
func headersOut(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		if len(vs) == 1 {
			out[k] = vs[0]
		} else {
			out[k] = vs
		}
	}
	return out
}

func eventOut(e *volley.Event) eventJSON {
	out := eventJSON{
		ID: e.ID, EventID: e.UID, ProjectID: e.ProjectID, SourceID: e.SourceID, SourceSlug: e.SourceSlug,
		Method: e.Method, Path: e.Path, Query: e.Query, Headers: headersOut(e.Headers), RawBody: string(e.Body),
		Status: e.Status, CreatedAt: e.CreatedAt,
	}
	if !utf8.Valid(e.Body) {
		// A JSON string cannot carry these bytes exactly; the base64 copy
		// can.
		out.RawBodyBase64 = base64.StdEncoding.EncodeToString(e.Body)
	}
	return out
}

type attemptJSON struct {
	ID              uint64         `json:"id"`
	EventID         string         `json:"event_id"`
	DeliveryID      uint64         `json:"delivery_id"`
	SourceID        uint64         `json:"source_id"`
	ConnectionID    uint64         `json:"connection_id"`
	DestinationID   uint64         `json:"destination_id"`
	Status          string         `json:"status"`
	StatusCode      int            `json:"status_code"`
	ResponseCode    int            `json:"response_code"`
	ErrorReason     string         `json:"error_reason,omitempty"`
	DurationMS      int64          `json:"duration_ms"`
	AttemptNumber   int            `json:"attempt_number"`
	Trigger         string         `json:"trigger"`
	ResponseHeaders map[string]any `json:"response_headers,omitempty"`
	ResponseBody    *string        `json:"response_body,omitempty"`
	// TransformationLogs is what the connection's transformation printed;
	// TransformationError why it failed (then no request was made).
	TransformationLogs  string    `json:"transformation_logs,omitempty"`
	TransformationError string    `json:"transformation_error,omitempty"`
	CreatedAt           time.Time `json:"created_at"`
}

func attemptOut(a *volley.Attempt) attemptJSON {
	out := attemptJSON{
		ID: a.ID, EventID: a.EventUID, DeliveryID: a.DeliveryID, SourceID: a.SourceID,
		ConnectionID: a.ConnectionID, DestinationID: a.DestinationID, Status: a.Status,
		StatusCode: a.StatusCode, ResponseCode: a.StatusCode, ErrorReason: a.ErrorReason,
		DurationMS: a.DurationMS, AttemptNumber: a.Number, Trigger: a.Trigger,
		TransformationLogs: a.TransformationLogs, TransformationError: a.TransformationError,
		// The store keeps microseconds; a replay answers with the attempt it
		// just made, which must read the same as when it is listed later.
		CreatedAt: a.CreatedAt.UTC().Truncate(time.Microsecond),
	}
	if a.ResponseHeaders != nil {
		out.ResponseHeaders = headersOut(a.ResponseHeaders)
		body := string(a.ResponseBody)
		out.ResponseBody = &body
	}
	return out
}

// listEvents serves GET /api/projects/{project_id}/requests and its family B
// alias …/events.
func (a *API) listEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	q := newQuery(r)
	params := store.EventListParams{
		ProjectID:     p.ID,
		ConnectionID:  q.id("connection_id"),
		DestinationID: q.id("destination_id"),
		Start:         q.time(false, "start_time", "start_date"),
		End:           q.time(true, "end_time", "end_date"),
	}
	params.Search, _ = q.str("search")
	params.Limit, params.Offset = q.page()
	params.Page = q.pageParams(cursorEvents)
	if v, _ := q.str("status"); v != "" {
		if params.Status, err = volley.ParseEventStatus(v); err != nil {
			return err
		}
	}
	inProject := func(id uint64) bool { return id == p.ID }
	if params.SourceID, err = a.sourceFilter(r, q, inProject); err != nil {
		return err
	}
	if q.err != nil {
		return q.err
	}
	list, total, err := a.cfg.Store.EventList(r.Context(), params)
	if err != nil {
		return err
	}
	out := showAll(list, eventOut)
	return writeJSON(w, http.StatusOK, listPage("requests", out, total, params.Limit, params.Offset, params.Page, eventCursor))
}

// sourceFilter reads source_id as a numeric id or, as family B's docs show
// it, a source's ingestion id ("src_…"), which must be in one of the listed
// projects.
func (a *API) sourceFilter(r *http.Request, q *query, inScope func(projectID uint64) bool) (uint64, error) {
	v, _ := q.str("source_id")
	if !strings.HasPrefix(v, "src_") {
		return q.id("source_id"), nil
	}
	s, err := a.cfg.Store.SourceGetByIngestionID(r.Context(), v)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !inScope(s.ProjectID)) {
		return 0, &Error{Status: http.StatusBadRequest, Field: "source_id", Message: "source_id: no source " + v + " here"}
	}
	if err != nil {
		return 0, err
	}
	return s.ID, nil
}

// attemptProjects returns the projects an attempt list covers: the one in
// the path or in ?project_id=, else every project of the organization.
func (a *API) attemptProjects(r *http.Request, q *query, org *volley.Membership) ([]uint64, error) {
	if r.PathValue("project_id") != "" {
		p, err := a.project(r, org)
		if err != nil {
			return nil, err
		}
		return []uint64{p.ID}, nil
	}
	pid := q.id("project_id")
	if q.err != nil {
		return nil, q.err
	}
	if pid != 0 {
		p, err := a.cfg.Store.ProjectGet(r.Context(), org.ID, pid)
		if err != nil {
			return nil, notFoundAs(err, "Project")
		}
		return []uint64{p.ID}, nil
	}
	ps, err := a.cfg.Store.ProjectList(r.Context(), org.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(ps))
	for i := range ps {
		ids[i] = ps[i].ID
	}
	return ids, nil
}

// getEvent serves GET /api/requests/{request_id}: an event by database id,
// with its attempts.
func (a *API) getEvent(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	id, err := pathID(r, "request_id")
	if err != nil {
		return err
	}
	ev, err := a.cfg.Store.EventGet(r.Context(), org.ID, id)
	if err != nil {
		return notFoundAs(err, "Event")
	}
	return a.writeEvent(w, r, ev)
}

// getEventByUID serves family B's GET /api/projects/{project_id}/events/{event_id}.
func (a *API) getEventByUID(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	ev, err := a.cfg.Store.EventGetByUID(r.Context(), org.ID, r.PathValue("event_id"))
	if err == nil && ev.ProjectID != p.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		return notFoundAs(err, "Event")
	}
	return a.writeEvent(w, r, ev)
}

func (a *API) writeEvent(w http.ResponseWriter, r *http.Request, ev *volley.Event) error {
	attempts, err := a.cfg.Store.AttemptListByEvent(r.Context(), ev.ID)
	if err != nil {
		return err
	}
	deliveries, err := a.cfg.Store.DeliveryListByEvent(r.Context(), ev.ID)
	if err != nil {
		return err
	}
	out := eventOut(ev)
	list := showAll(attempts, attemptOut)
	out.DeliveryAttempts = &list
	ds := showAll(deliveries, deliveryOut)
	out.Deliveries = &ds
	return writeMerged(w, http.StatusOK, "request", out)
}

// listAttempts serves GET /api/projects/{project_id}/delivery-attempts and
// family B's GET /api/delivery-attempts, which lists one project's attempts
// with ?project_id= and those of every project of the organization without.
func (a *API) listAttempts(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	q := newQuery(r)
	pids, err := a.attemptProjects(r, q, org)
	if err != nil {
		return err
	}
	inScope := func(id uint64) bool { return slices.Contains(pids, id) }
	params := store.AttemptListParams{
		ProjectIDs:    pids,
		DestinationID: q.id("destination_id"),
		ConnectionID:  q.id("connection_id"),
		Start:         q.time(false, "start_time", "start_date"),
		End:           q.time(true, "end_time", "end_date"),
	}
	params.Limit, params.Offset = q.page()
	if params.SourceID, err = a.sourceFilter(r, q, inScope); err != nil {
		return err
	}
	if v, _ := q.str("status"); v != "" {
		if params.Status, err = volley.ParseAttemptStatus(v); err != nil {
			return err
		}
	}
	params.Sort, _ = q.str("sort")
	kind, ok := attemptCursorKinds[params.Sort]
	if !ok {
		q.fail("sort", "must be time, time_oldest, duration or status_code, not %q", params.Sort)
	}
	params.Page = q.pageParams(kind)
	if q.err != nil {
		return q.err
	}
	if uid, _ := q.str("event_id"); uid != "" {
		ev, err := a.cfg.Store.EventGetByUID(r.Context(), org.ID, uid)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !inScope(ev.ProjectID)):
			// An unknown event has no attempts.
			return writeJSON(w, http.StatusOK, listPage("attempts", []attemptJSON{}, store.Total{}, params.Limit, params.Offset, params.Page, attemptCursor(params.Sort)))
		case err != nil:
			return err
		}
		params.EventID = ev.ID
	}
	list, total, err := a.cfg.Store.AttemptList(r.Context(), params)
	if err != nil {
		return err
	}
	out := showAll(list, attemptOut)
	return writeJSON(w, http.StatusOK, listPage("attempts", out, store.Total{N: total}, params.Limit, params.Offset, params.Page, attemptCursor(params.Sort)))
}
