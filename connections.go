package volley

import (
	"context"
	"net/http"
	"time"
)

// Connection represents a connection between a source and destination:
// events received by the source are delivered to the destination.
type Connection struct {
	ID            uint64 `json:"id"`
	SourceID      uint64 `json:"source_id"`
	DestinationID uint64 `json:"destination_id"`
	Status        string `json:"status"`
	EPS           int    `json:"eps"`
	MaxRetries    int    `json:"max_retries"`
	// DelayMS delays each delivery of the events received since it was
	// set, in milliseconds; 0 for none.
	DelayMS int `json:"delay_ms,omitempty"`
	// Ordering is "none" or "fifo": with fifo, the events of one ordering
	// key are delivered one at a time, in the order they were received.
	Ordering string `json:"ordering,omitempty"`
	// OrderingKey is where each event's key is read: a body path such as
	// "$.customer.id", or "header:X-Key".
	OrderingKey string    `json:"ordering_key,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	// Metrics covers the last 24 hours. GetConnection returns it; it is nil
	// when a response has none, as in lists.
	Metrics *ConnectionMetrics `json:"metrics,omitempty"`
}

// ConnectionMetrics are a connection's delivery metrics over the last 24
// hours, as returned by GetConnection.
type ConnectionMetrics struct {
	// EventsRouted is the number of events routed to the connection.
	EventsRouted int64 `json:"events_routed"`
	// Delivered is the number of deliveries that succeeded.
	Delivered int64 `json:"delivered"`
	// Failed is the number of deliveries that failed for good, after their
	// retries.
	Failed int64 `json:"failed"`
	// Pending is the number of deliveries still waiting to succeed or fail.
	Pending int64 `json:"pending"`
	// SuccessRate is Delivered / (Delivered + Failed), from 0 to 1; it is 0
	// when no delivery has finished.
	SuccessRate float64 `json:"success_rate"`
	// LatencyP50Ms is the median delivery latency, in milliseconds.
	LatencyP50Ms int64 `json:"latency_p50_ms"`
	// LatencyP95Ms is the 95th percentile delivery latency, in milliseconds.
	LatencyP95Ms int64 `json:"latency_p95_ms"`
	// LastDeliveryAt is the time of the latest delivery attempt, or nil when
	// there was none.
	LastDeliveryAt *time.Time `json:"last_delivery_at,omitempty"`
}

// CreateConnectionRequest represents the request to create a connection.
type CreateConnectionRequest struct {
	SourceID      uint64 `json:"source_id"`
	DestinationID uint64 `json:"destination_id"`
	Status        string `json:"status"` // "enabled" or "disabled"
	EPS           int    `json:"eps"`
	MaxRetries    int    `json:"max_retries"`
	// DelayMS delays each delivery, in milliseconds (at most 24 hours).
	DelayMS int `json:"delay_ms,omitempty"`
	// Ordering is "fifo" to deliver each ordering key's events one at a
	// time, in order; "" leaves the default, "none".
	Ordering string `json:"ordering,omitempty"`
	// OrderingKey is required with "fifo": "$.customer.id" or
	// "header:X-Key".
	OrderingKey string `json:"ordering_key,omitempty"`
}

// UpdateConnectionRequest represents the request to update a connection.
// Empty and nil fields are left unchanged.
type UpdateConnectionRequest struct {
	Status     string `json:"status,omitempty"` // "enabled" or "disabled"
	EPS        *int   `json:"eps,omitempty"`
	MaxRetries *int   `json:"max_retries,omitempty"`
	// DelayMS changes the delay of the events received from now on; 0
	// removes it.
	DelayMS *int `json:"delay_ms,omitempty"`
	// Ordering is "fifo" or "none".
	Ordering string `json:"ordering,omitempty"`
	// OrderingKey changes where the key is read; "" (not nil) removes it.
	OrderingKey *string `json:"ordering_key,omitempty"`
}

// connectionsPath is the prefix of a single connection's path.
const connectionsPath = "/api/connections"

// GetConnections lists all connections in a project.
func (c *Client) GetConnections(projectID uint64) ([]Connection, error) {
	return c.GetConnectionsContext(context.Background(), projectID)
}

// GetConnectionsContext is GetConnections with a context.
func (c *Client) GetConnectionsContext(ctx context.Context, projectID uint64) ([]Connection, error) {
	return list[Connection](ctx, c, projectPath(projectID, "connections"), "connections")
}

// CreateConnection creates a connection between a source and destination.
func (c *Client) CreateConnection(projectID uint64, req CreateConnectionRequest) (*Connection, error) {
	return c.CreateConnectionContext(context.Background(), projectID, req)
}

// CreateConnectionContext is CreateConnection with a context.
func (c *Client) CreateConnectionContext(ctx context.Context, projectID uint64, req CreateConnectionRequest) (*Connection, error) {
	r := call{method: http.MethodPost, path: projectPath(projectID, "connections"), body: req}
	return resource[Connection](ctx, c, r, "connection")
}

// GetConnection gets details and metrics for a connection.
func (c *Client) GetConnection(connectionID uint64) (*Connection, error) {
	return c.GetConnectionContext(context.Background(), connectionID)
}

// GetConnectionContext is GetConnection with a context.
func (c *Client) GetConnectionContext(ctx context.Context, connectionID uint64) (*Connection, error) {
	r := call{method: http.MethodGet, path: idPath(connectionsPath, connectionID)}
	return resource[Connection](ctx, c, r, "connection")
}

// UpdateConnection updates a connection.
func (c *Client) UpdateConnection(connectionID uint64, req UpdateConnectionRequest) (*Connection, error) {
	return c.UpdateConnectionContext(context.Background(), connectionID, req)
}

// UpdateConnectionContext is UpdateConnection with a context.
func (c *Client) UpdateConnectionContext(ctx context.Context, connectionID uint64, req UpdateConnectionRequest) (*Connection, error) {
	r := call{method: http.MethodPut, path: idPath(connectionsPath, connectionID), body: req}
	return resource[Connection](ctx, c, r, "connection")
}

// DeleteConnection deletes a connection.
func (c *Client) DeleteConnection(connectionID uint64) error {
	return c.DeleteConnectionContext(context.Background(), connectionID)
}

// DeleteConnectionContext is DeleteConnection with a context.
func (c *Client) DeleteConnectionContext(ctx context.Context, connectionID uint64) error {
	return c.do(ctx, call{method: http.MethodDelete, path: idPath(connectionsPath, connectionID)}, nil)
}
