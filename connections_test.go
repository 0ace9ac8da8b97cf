package volley_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

const connectionJSON = `{"id":4,"source_id":1,"destination_id":3,"status":"enabled","eps":5,"max_retries":3,` +
	`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-02-03T04:05:06Z"}`

var wantConnection = &volley.Connection{
	ID: 4, SourceID: 1, DestinationID: 3, Status: "enabled", EPS: 5, MaxRetries: 3,
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	UpdatedAt: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
}

// connectionWithMetricsJSON is connectionJSON as GetConnection returns it.
const connectionWithMetricsJSON = `{"id":4,"source_id":1,"destination_id":3,"status":"enabled","eps":5,"max_retries":3,` +
	`"delay_ms":60000,"ordering":"fifo","ordering_key":"$.customer.id",` +
	`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-02-03T04:05:06Z",` +
	`"metrics":{"events_routed":120,"delivered":100,"failed":5,"pending":15,"success_rate":0.9523809523809523,` +
	`"latency_p50_ms":42,"latency_p95_ms":350,"last_delivery_at":"2024-02-03T10:00:00.5Z"}}`

var wantConnectionWithMetrics = &volley.Connection{
	ID: 4, SourceID: 1, DestinationID: 3, Status: "enabled", EPS: 5, MaxRetries: 3,
	DelayMS: 60000, Ordering: "fifo", OrderingKey: "$.customer.id",
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	UpdatedAt: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
	Metrics: &volley.ConnectionMetrics{
		EventsRouted: 120, Delivered: 100, Failed: 5, Pending: 15, SuccessRate: 100.0 / 105,
		LatencyP50Ms: 42, LatencyP95Ms: 350,
		LastDeliveryAt: ptr(time.Date(2024, 2, 3, 10, 0, 0, 5e8, time.UTC)),
	},
}

func TestConnections(t *testing.T) {
	t.Parallel()
	runCases(t, []apiCase{
		{
			name:   "GetConnections",
			call:   func(c *volley.Client) (any, error) { return c.GetConnections(7) },
			want:   wantRequest{method: "GET", path: "/api/projects/7/connections"},
			status: http.StatusOK,
			resp:   `{"connections":[` + connectionJSON + `]}`,
			result: []volley.Connection{*wantConnection},
		},
		{
			name: "CreateConnection",
			opts: []volley.ClientOption{volley.WithOrganizationID(123)},
			call: func(c *volley.Client) (any, error) {
				return c.CreateConnection(7, volley.CreateConnectionRequest{
					SourceID: 1, DestinationID: 3, Status: "enabled", EPS: 5, MaxRetries: 3,
				})
			},
			want: wantRequest{
				method: "POST", path: "/api/projects/7/connections", orgID: "123",
				body: `{"source_id":1,"destination_id":3,"status":"enabled","eps":5,"max_retries":3}`,
			},
			status: http.StatusCreated,
			resp:   `{"connection":` + connectionJSON + `}`,
			result: wantConnection,
		},
		{
			name:   "GetConnection with metrics",
			call:   func(c *volley.Client) (any, error) { return c.GetConnection(4) },
			want:   wantRequest{method: "GET", path: "/api/connections/4"},
			status: http.StatusOK,
			resp:   `{"connection":` + connectionWithMetricsJSON + `}`,
			result: wantConnectionWithMetrics,
			full:   true,
		},
		{
			name:   "GetConnection without metrics",
			call:   func(c *volley.Client) (any, error) { return c.GetConnection(4) },
			want:   wantRequest{method: "GET", path: "/api/connections/4"},
			status: http.StatusOK,
			resp:   `{"connection":` + connectionJSON + `}`,
			result: wantConnection,
		},
		{
			name: "UpdateConnection",
			call: func(c *volley.Client) (any, error) {
				return c.UpdateConnection(4, volley.UpdateConnectionRequest{Status: "disabled", EPS: ptr(0), MaxRetries: ptr(7)})
			},
			want: wantRequest{
				method: "PUT", path: "/api/connections/4",
				body: `{"status":"disabled","eps":0,"max_retries":7}`,
			},
			status: http.StatusOK,
			resp:   `{"connection":` + connectionJSON + `}`,
			result: wantConnection,
		},
		{
			name:   "DeleteConnection",
			call:   func(c *volley.Client) (any, error) { return nil, c.DeleteConnection(4) },
			want:   wantRequest{method: "DELETE", path: "/api/connections/4"},
			status: http.StatusOK,
		},
	})
}
