package console

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
	"time"
)

// The JSON shapes of the API's traffic (docs/api.md: events, delivery
// attempts, replay): only the fields the pages show.

type apiEvent struct {
	ID               uint64         `json:"id"`
	EventID          string         `json:"event_id"`
	SourceID         uint64         `json:"source_id"`
	SourceSlug       string         `json:"source_slug"`
	Method           string         `json:"method"`
	Query            string         `json:"query"`
	Headers          map[string]any `json:"headers"`
	RawBody          string         `json:"raw_body"`
	RawBodyBase64    string         `json:"raw_body_base64"`
	Status           string         `json:"status"`
	DeliveryAttempts []apiAttempt   `json:"delivery_attempts"`
	CreatedAt        time.Time      `json:"created_at"`

	// Deliveries are the event's deliveries, one per connection it was
	// routed to (the event's detail only).
	Deliveries []apiDelivery `json:"deliveries"`
}

// apiDelivery is one delivery of an event: its state (pending, held,
// parked, success, failed, cancelled, filtered), why it was filtered, and
// the ordering key it waits on when parked.
type apiDelivery struct {
	ID           uint64 `json:"id"`
	ConnectionID uint64 `json:"connection_id"`
	State        string `json:"state"`
	Reason       string `json:"reason"`
	AttemptCount int    `json:"attempt_count"`
	OrderingKey  string `json:"ordering_key"`
}

// body returns the event's body bytes: the base64 copy when the API sent
// one (the body is not UTF-8), else the text.
func (e *apiEvent) body() []byte {
	if e.RawBodyBase64 != "" {
		if b, err := base64.StdEncoding.DecodeString(e.RawBodyBase64); err == nil {
			return b
		}
	}
	return []byte(e.RawBody)
}

type apiAttempt struct {
	ID              uint64         `json:"id"`
	EventID         string         `json:"event_id"`
	DeliveryID      uint64         `json:"delivery_id"`
	SourceID        uint64         `json:"source_id"`
	ConnectionID    uint64         `json:"connection_id"`
	DestinationID   uint64         `json:"destination_id"`
	Status          string         `json:"status"`
	StatusCode      int            `json:"status_code"`
	ErrorReason     string         `json:"error_reason"`
	DurationMS      int64          `json:"duration_ms"`
	AttemptNumber   int            `json:"attempt_number"`
	Trigger         string         `json:"trigger"`
	ResponseHeaders map[string]any `json:"response_headers"`
	ResponseBody    *string        `json:"response_body"`
	CreatedAt       time.Time      `json:"created_at"`

	// TransformationLogs and TransformationError come from the
	// connection's transformation, run before the attempt.
	TransformationLogs  string `json:"transformation_logs"`
	TransformationError string `json:"transformation_error"`
}

// apiPage is the paging part of an API list answer.
type apiPage struct {
	Total           int64  `json:"total"`
	TotalIsEstimate bool   `json:"total_is_estimate"`
	NextCursor      string `json:"next_cursor"`
	PrevCursor      string `json:"prev_cursor"`
}

type apiReplay struct {
	Message  string       `json:"message"`
	Attempts []apiAttempt `json:"attempts"`
}

// header is one header line to show.
type header struct{ Name, Value string }

// headerLines flattens the API's headers (a string, or an array for
// several values) into sorted lines, one per value.
func headerLines(h map[string]any) []header {
	var out []header
	for name, v := range h {
		switch v := v.(type) {
		case string:
			out = append(out, header{name, v})
		case []any:
			for _, one := range v {
				if s, ok := one.(string); ok {
					out = append(out, header{name, s})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

// contentType returns the Content-Type of the API's headers.
func contentType(h map[string]any) string {
	for _, l := range headerLines(h) {
		if http.CanonicalHeaderKey(l.Name) == "Content-Type" {
			return l.Value
		}
	}
	return ""
}

// trafficFilters is what the "traffic-filters" template shows: the filters
// the events, attempts and replays pages share, with their values, the
// filter the API refused (FieldError) and the prefix of the inputs' ids.
type trafficFilters struct {
	Prefix, ToHint                           string
	Statuses                                 []string
	Sources                                  []apiSource
	Connections                              []apiConnection
	Status, SourceID, ConnectionID, From, To string
	FieldError                               string
}

// TrafficFilters returns the events page's shared filters.
func (d eventsData) TrafficFilters() trafficFilters {
	f := d.Filter
	return trafficFilters{Prefix: "f", ToHint: "UTC", Statuses: d.Statuses, Sources: d.Sources, Connections: d.Connections,
		Status: f.Status, SourceID: f.SourceID, ConnectionID: f.ConnectionID, From: f.From, To: f.To, FieldError: d.FieldError}
}

// TrafficFilters returns the attempts page's shared filters.
func (d attemptsData) TrafficFilters() trafficFilters {
	f := d.Filter
	return trafficFilters{Prefix: "f", ToHint: "UTC", Statuses: d.Statuses, Sources: d.Sources, Connections: d.Connections,
		Status: f.Status, SourceID: f.SourceID, ConnectionID: f.ConnectionID, From: f.From, To: f.To, FieldError: d.FieldError}
}

// TrafficFilters returns the replays form's shared filters (an empty end
// means the job's creation).
func (d replaysData) TrafficFilters() trafficFilters {
	f := d.Form
	return trafficFilters{Prefix: "r", ToHint: "UTC; empty: now", Statuses: d.Statuses, Sources: d.Sources, Connections: d.Connections,
		Status: f.Status, SourceID: f.SourceID, ConnectionID: f.ConnectionID, From: f.From, To: f.To, FieldError: d.FieldError}
}
