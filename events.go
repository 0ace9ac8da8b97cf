package volley

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Event represents a webhook event/request: one webhook received by a
// source. The API calls events "requests".
type Event struct {
	ID               uint64                 `json:"id"`       // database ID, as taken by GetEvent
	EventID          string                 `json:"event_id"` // public ID, such as "evt_abc123", as taken by ReplayEvent
	SourceID         uint64                 `json:"source_id"`
	ProjectID        uint64                 `json:"project_id"`
	RawBody          string                 `json:"raw_body"` // the body exactly as received
	Headers          map[string]interface{} `json:"headers"`  // values are a string or a list of strings
	Status           string                 `json:"status"`   // "processed", "pending", "failed", "dropped"
	DeliveryAttempts []DeliveryAttempt      `json:"delivery_attempts,omitempty"`
	CreatedAt        time.Time              `json:"created_at"`
}

// DeliveryAttempt represents a delivery attempt for an event.
type DeliveryAttempt struct {
	ID           uint64    `json:"id"`
	EventID      string    `json:"event_id"`
	ConnectionID uint64    `json:"connection_id"`
	Status       string    `json:"status"`      // "success" or "failed"
	StatusCode   int       `json:"status_code"` // the destination's HTTP status; 0 when none was received
	ErrorReason  string    `json:"error_reason,omitempty"`
	DurationMs   int64     `json:"duration_ms"`
	CreatedAt    time.Time `json:"created_at"`
}

// PaginatedResponse represents a paginated API response.
type PaginatedResponse struct {
	Total  int64 `json:"total"` // matching items across all pages
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
}

// ListEventsOptions represents options for listing events. Zero fields are
// not sent.
type ListEventsOptions struct {
	SourceID      *uint64
	ConnectionID  *uint64
	DestinationID *uint64
	Status        string // "processed", "pending", "failed", "dropped"
	StartTime     *time.Time
	EndTime       *time.Time
	Search        string
	Limit         *int
	Offset        *int
}

// ListEventsResponse represents the response from listing events.
type ListEventsResponse struct {
	PaginatedResponse
	Requests []Event `json:"requests"`
}

// ListDeliveryAttemptsOptions represents options for listing delivery
// attempts. Zero fields are not sent.
type ListDeliveryAttemptsOptions struct {
	EventID       string
	SourceID      *uint64
	DestinationID *uint64
	ConnectionID  *uint64
	Status        string // "success" or "failed"
	StartTime     *time.Time
	EndTime       *time.Time
	Sort          string // "time", "time_oldest", "duration", "status_code"
	Limit         *int
	Offset        *int
}

// ListDeliveryAttemptsResponse represents the response from listing delivery
// attempts.
type ListDeliveryAttemptsResponse struct {
	PaginatedResponse
	Attempts []DeliveryAttempt `json:"attempts"`
}

// ReplayEventRequest represents the request to replay an event.
// DestinationID or ConnectionID limit the replay to one destination or
// connection.
type ReplayEventRequest struct {
	EventID       string  `json:"event_id"`
	DestinationID *uint64 `json:"destination_id,omitempty"`
	ConnectionID  *uint64 `json:"connection_id,omitempty"`
}

// ReplayEventResponse represents the response from replaying an event: the
// outcome of the delivery attempt the replay made.
type ReplayEventResponse struct {
	Success     bool   `json:"success"`
	Status      string `json:"status"`
	StatusCode  int    `json:"status_code"`
	ErrorReason string `json:"error_reason,omitempty"`
	DurationMs  int64  `json:"duration_ms"`
	AttemptID   uint64 `json:"attempt_id"`
}

// ListEvents lists all events/requests for a project with optional filters.
// A nil opts lists without filters.
func (c *Client) ListEvents(projectID uint64, opts *ListEventsOptions) (*ListEventsResponse, error) {
	return c.ListEventsContext(context.Background(), projectID, opts)
}

// ListEventsContext is ListEvents with a context.
func (c *Client) ListEventsContext(ctx context.Context, projectID uint64, opts *ListEventsOptions) (*ListEventsResponse, error) {
	q := query{}
	if opts != nil {
		q.addUint("source_id", opts.SourceID)
		q.addUint("connection_id", opts.ConnectionID)
		q.addUint("destination_id", opts.DestinationID)
		q.addString("status", opts.Status)
		q.addTime("start_time", opts.StartTime)
		q.addTime("end_time", opts.EndTime)
		q.addString("search", opts.Search)
		q.addInt("limit", opts.Limit)
		q.addInt("offset", opts.Offset)
	}
	var resp ListEventsResponse
	r := call{method: http.MethodGet, path: projectPath(projectID, "requests"), query: url.Values(q)}
	if err := c.do(ctx, r, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// GetEvent gets detailed information about a specific event by its database
// ID, including its delivery attempts.
func (c *Client) GetEvent(requestID uint64) (*Event, error) {
	return c.GetEventContext(context.Background(), requestID)
}

// GetEventContext is GetEvent with a context.
func (c *Client) GetEventContext(ctx context.Context, requestID uint64) (*Event, error) {
	return resource[Event](ctx, c, call{method: http.MethodGet, path: idPath("/api/requests", requestID)}, "request")
}

// ReplayEvent replays a failed event by its event_id.
func (c *Client) ReplayEvent(req ReplayEventRequest) (*ReplayEventResponse, error) {
	return c.ReplayEventContext(context.Background(), req)
}

// ReplayEventContext is ReplayEvent with a context.
func (c *Client) ReplayEventContext(ctx context.Context, req ReplayEventRequest) (*ReplayEventResponse, error) {
	var resp ReplayEventResponse
	if err := c.do(ctx, call{method: http.MethodPost, path: "/api/replay-event", body: req}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// ListDeliveryAttempts lists all delivery attempts for a project with
// optional filters. A nil opts lists without filters.
func (c *Client) ListDeliveryAttempts(projectID uint64, opts *ListDeliveryAttemptsOptions) (*ListDeliveryAttemptsResponse, error) {
	return c.ListDeliveryAttemptsContext(context.Background(), projectID, opts)
}

// ListDeliveryAttemptsContext is ListDeliveryAttempts with a context.
func (c *Client) ListDeliveryAttemptsContext(ctx context.Context, projectID uint64, opts *ListDeliveryAttemptsOptions) (*ListDeliveryAttemptsResponse, error) {
	q := query{}
	if opts != nil {
		q.addString("event_id", opts.EventID)
		q.addUint("source_id", opts.SourceID)
		q.addUint("destination_id", opts.DestinationID)
		q.addUint("connection_id", opts.ConnectionID)
		q.addString("status", opts.Status)
		q.addTime("start_time", opts.StartTime)
		q.addTime("end_time", opts.EndTime)
		q.addString("sort", opts.Sort)
		q.addInt("limit", opts.Limit)
		q.addInt("offset", opts.Offset)
	}
	var resp ListDeliveryAttemptsResponse
	r := call{method: http.MethodGet, path: projectPath(projectID, "delivery-attempts"), query: url.Values(q)}
	if err := c.do(ctx, r, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// query collects the list filters that are set; zero values are skipped.
type query url.Values

func (q query) addString(key, v string) {
	if v != "" {
		url.Values(q).Set(key, v)
	}
}

func (q query) addUint(key string, v *uint64) {
	if v != nil {
		url.Values(q).Set(key, strconv.FormatUint(*v, 10))
	}
}

func (q query) addInt(key string, v *int) {
	if v != nil {
		url.Values(q).Set(key, strconv.Itoa(*v))
	}
}

// addTime sends t in RFC 3339 with the caller's offset and whole seconds, as
// v1.0.1 did.
func (q query) addTime(key string, t *time.Time) {
	if t != nil {
		url.Values(q).Set(key, t.Format(time.RFC3339))
	}
}
