package volley_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

const attemptJSON = `{"id":456,"event_id":"evt_abc123","connection_id":4,"status":"failed","status_code":500,` +
	`"error_reason":"destination returned 500","duration_ms":150,"created_at":"2024-01-02T03:04:06Z"}`

var wantAttempt = volley.DeliveryAttempt{
	ID: 456, EventID: "evt_abc123", ConnectionID: 4, Status: "failed", StatusCode: 500,
	ErrorReason: "destination returned 500", DurationMs: 150,
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC),
}

const eventJSON = `{"id":123,"event_id":"evt_abc123","source_id":1,"project_id":7,"raw_body":"{\"a\":1}",` +
	`"headers":{"Content-Type":"application/json","X-Multi":["a","b"]},"status":"failed",` +
	`"delivery_attempts":[` + attemptJSON + `],"created_at":"2024-01-02T03:04:05Z"}`

var wantEvent = &volley.Event{
	ID: 123, EventID: "evt_abc123", SourceID: 1, ProjectID: 7, RawBody: `{"a":1}`,
	Headers: map[string]interface{}{
		"Content-Type": "application/json",
		"X-Multi":      []interface{}{"a", "b"},
	},
	Status:           "failed",
	DeliveryAttempts: []volley.DeliveryAttempt{wantAttempt},
	CreatedAt:        time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
}

// India's offset shows that times keep the caller's offset on the wire.
var (
	ist   = time.FixedZone("IST", 5*3600+1800)
	start = time.Date(2024, 1, 2, 3, 4, 5, 999, ist)
	end   = time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)
)

func TestEvents(t *testing.T) {
	t.Parallel()
	runCases(t, []apiCase{
		{
			name: "ListEvents",
			opts: []volley.ClientOption{volley.WithOrganizationID(123)},
			call: func(c *volley.Client) (any, error) {
				return c.ListEvents(1, &volley.ListEventsOptions{Status: "failed", Limit: ptr(50)})
			},
			want: wantRequest{
				method: "GET", path: "/api/projects/1/requests", rawQuery: "limit=50&status=failed", orgID: "123",
			},
			status: http.StatusOK,
			resp:   `{"requests":[` + eventJSON + `],"total":101,"limit":50,"offset":50}`,
			result: &volley.ListEventsResponse{
				PaginatedResponse: volley.PaginatedResponse{Total: 101, Limit: 50, Offset: 50},
				Requests:          []volley.Event{*wantEvent},
			},
			full: true,
		},
		{
			name: "ListEvents every filter",
			call: func(c *volley.Client) (any, error) {
				return c.ListEvents(1, &volley.ListEventsOptions{
					SourceID: ptr(uint64(10)), ConnectionID: ptr(uint64(11)), DestinationID: ptr(uint64(12)),
					Status: "pending", StartTime: &start, EndTime: &end, Search: "evt_ab&c d",
					Limit: ptr(0), Offset: ptr(20),
				})
			},
			want: wantRequest{
				method: "GET", path: "/api/projects/1/requests",
				rawQuery: "connection_id=11&destination_id=12&end_time=2024-01-03T00%3A00%3A00Z&limit=0&offset=20" +
					"&search=evt_ab%26c+d&source_id=10&start_time=2024-01-02T03%3A04%3A05%2B05%3A30&status=pending",
			},
			status: http.StatusOK,
			resp:   `{"requests":[],"total":0,"limit":0,"offset":20}`,
			result: &volley.ListEventsResponse{
				PaginatedResponse: volley.PaginatedResponse{Offset: 20},
				Requests:          []volley.Event{},
			},
		},
		{
			name:   "ListEvents without options",
			call:   func(c *volley.Client) (any, error) { return c.ListEvents(1, nil) },
			want:   wantRequest{method: "GET", path: "/api/projects/1/requests"},
			status: http.StatusOK,
			resp:   `{"requests":[],"total":0,"limit":50,"offset":0}`,
			result: &volley.ListEventsResponse{
				PaginatedResponse: volley.PaginatedResponse{Limit: 50},
				Requests:          []volley.Event{},
			},
		},
		{
			name:   "ListEvents with empty options",
			call:   func(c *volley.Client) (any, error) { return c.ListEvents(1, &volley.ListEventsOptions{}) },
			want:   wantRequest{method: "GET", path: "/api/projects/1/requests"},
			status: http.StatusOK,
			resp:   `{"requests":[],"total":0,"limit":50,"offset":0}`,
			result: &volley.ListEventsResponse{
				PaginatedResponse: volley.PaginatedResponse{Limit: 50},
				Requests:          []volley.Event{},
			},
		},
		{
			name:   "GetEvent",
			call:   func(c *volley.Client) (any, error) { return c.GetEvent(123) },
			want:   wantRequest{method: "GET", path: "/api/requests/123"},
			status: http.StatusOK,
			resp:   `{"request":` + eventJSON + `}`,
			result: wantEvent,
			full:   true,
		},
		{
			name: "ReplayEvent",
			call: func(c *volley.Client) (any, error) {
				return c.ReplayEvent(volley.ReplayEventRequest{EventID: "evt_abc123"})
			},
			want:   wantRequest{method: "POST", path: "/api/replay-event", body: `{"event_id":"evt_abc123"}`},
			status: http.StatusOK,
			resp:   `{"success":true,"status":"success","status_code":200,"duration_ms":150,"attempt_id":456}`,
			result: &volley.ReplayEventResponse{
				Success: true, Status: "success", StatusCode: 200, DurationMs: 150, AttemptID: 456,
			},
		},
		{
			name: "ReplayEvent to a destination",
			opts: []volley.ClientOption{volley.WithOrganizationID(123)},
			call: func(c *volley.Client) (any, error) {
				return c.ReplayEvent(volley.ReplayEventRequest{
					EventID: "evt_abc123", DestinationID: ptr(uint64(3)), ConnectionID: ptr(uint64(4)),
				})
			},
			want: wantRequest{
				method: "POST", path: "/api/replay-event", orgID: "123",
				body: `{"event_id":"evt_abc123","destination_id":3,"connection_id":4}`,
			},
			status: http.StatusOK,
			resp: `{"success":false,"status":"failed","status_code":503,"error_reason":"service unavailable",` +
				`"duration_ms":20,"attempt_id":457,"message":"Event replayed"}`,
			result: &volley.ReplayEventResponse{
				Success: false, Status: "failed", StatusCode: 503, ErrorReason: "service unavailable",
				DurationMs: 20, AttemptID: 457,
			},
		},
		{
			name: "ListDeliveryAttempts",
			call: func(c *volley.Client) (any, error) {
				return c.ListDeliveryAttempts(1, &volley.ListDeliveryAttemptsOptions{
					EventID: "evt_abc123", Status: "failed", Limit: ptr(50),
				})
			},
			want: wantRequest{
				method: "GET", path: "/api/projects/1/delivery-attempts",
				rawQuery: "event_id=evt_abc123&limit=50&status=failed",
			},
			status: http.StatusOK,
			resp:   `{"attempts":[` + attemptJSON + `],"total":1,"limit":50,"offset":3}`,
			result: &volley.ListDeliveryAttemptsResponse{
				PaginatedResponse: volley.PaginatedResponse{Total: 1, Limit: 50, Offset: 3},
				Attempts:          []volley.DeliveryAttempt{wantAttempt},
			},
			full: true,
		},
		{
			name: "ListDeliveryAttempts every filter",
			call: func(c *volley.Client) (any, error) {
				return c.ListDeliveryAttempts(1, &volley.ListDeliveryAttemptsOptions{
					EventID: "evt_1", SourceID: ptr(uint64(10)), DestinationID: ptr(uint64(12)),
					ConnectionID: ptr(uint64(11)), Status: "success", StartTime: &start, EndTime: &end,
					Sort: "time_oldest", Limit: ptr(5), Offset: ptr(0),
				})
			},
			want: wantRequest{
				method: "GET", path: "/api/projects/1/delivery-attempts",
				rawQuery: "connection_id=11&destination_id=12&end_time=2024-01-03T00%3A00%3A00Z&event_id=evt_1" +
					"&limit=5&offset=0&sort=time_oldest&source_id=10&start_time=2024-01-02T03%3A04%3A05%2B05%3A30" +
					"&status=success",
			},
			status: http.StatusOK,
			resp:   `{"attempts":null,"total":0,"limit":5,"offset":0}`,
			result: &volley.ListDeliveryAttemptsResponse{PaginatedResponse: volley.PaginatedResponse{Limit: 5}},
		},
		{
			name:   "ListDeliveryAttempts without options",
			call:   func(c *volley.Client) (any, error) { return c.ListDeliveryAttempts(1, nil) },
			want:   wantRequest{method: "GET", path: "/api/projects/1/delivery-attempts"},
			status: http.StatusOK,
			resp:   `{"attempts":[],"total":0,"limit":50,"offset":0}`,
			result: &volley.ListDeliveryAttemptsResponse{
				PaginatedResponse: volley.PaginatedResponse{Limit: 50},
				Attempts:          []volley.DeliveryAttempt{},
			},
		},
	})
}
