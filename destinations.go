package volley

import (
	"context"
	"net/http"
	"time"
)

// Destination represents a webhook destination: the URL that events are
// delivered to.
type Destination struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	EPS       int       `json:"eps"` // events-per-second limit
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// TimeoutMS is the attempt timeout, in milliseconds (1,000–60,000), or
	// 0 for the server's default (15 s unless the server is told otherwise).
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// ForwardTraceparent sends the event's W3C traceparent header to the
	// destination with every attempt.
	ForwardTraceparent bool `json:"forward_traceparent,omitempty"`
	// InsecureSkipVerify reports that TLS certificates of an https URL are
	// not verified.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
	// SigningSecretSet reports that attempts are signed (Standard Webhooks
	// headers); the secret itself is read with the API's reveal route.
	SigningSecretSet bool `json:"signing_secret_set,omitempty"`
}

// CreateDestinationRequest represents the request to create a destination.
// Zero values of the optional fields take the server's defaults.
type CreateDestinationRequest struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	EPS  int    `json:"eps"`

	// TimeoutMS is the attempt timeout in milliseconds; 0 keeps the
	// default (15,000).
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// ForwardTraceparent sends the event's traceparent to the destination.
	ForwardTraceparent bool `json:"forward_traceparent,omitempty"`
	// InsecureSkipVerify turns TLS certificate verification off, for a
	// destination with a self-signed certificate.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
	// SigningSecret is a Standard Webhooks secret (whsec_…) to sign
	// attempts with; "" lets the server generate one.
	SigningSecret string `json:"signing_secret,omitempty"`
}

// UpdateDestinationRequest represents the request to update a destination.
// Empty and nil fields are left unchanged.
type UpdateDestinationRequest struct {
	Name   string `json:"name,omitempty"`
	URL    string `json:"url,omitempty"`
	EPS    *int   `json:"eps,omitempty"`
	Status string `json:"status,omitempty"`

	// TimeoutMS changes the attempt timeout, in milliseconds.
	TimeoutMS *int `json:"timeout_ms,omitempty"`
	// ForwardTraceparent turns forwarding of the traceparent header on or
	// off.
	ForwardTraceparent *bool `json:"forward_traceparent,omitempty"`
	// InsecureSkipVerify turns TLS certificate verification off (true) or
	// back on (false).
	InsecureSkipVerify *bool `json:"insecure_skip_verify,omitempty"`
}

// destinationsPath is the prefix of a single destination's path.
const destinationsPath = "/api/destinations"

// ListDestinations lists all destinations in a project.
func (c *Client) ListDestinations(projectID uint64) ([]Destination, error) {
	return c.ListDestinationsContext(context.Background(), projectID)
}

// ListDestinationsContext is ListDestinations with a context.
func (c *Client) ListDestinationsContext(ctx context.Context, projectID uint64) ([]Destination, error) {
	return list[Destination](ctx, c, projectPath(projectID, "destinations"), "destinations")
}

// CreateDestination creates a new destination in a project.
func (c *Client) CreateDestination(projectID uint64, req CreateDestinationRequest) (*Destination, error) {
	return c.CreateDestinationContext(context.Background(), projectID, req)
}

// CreateDestinationContext is CreateDestination with a context.
func (c *Client) CreateDestinationContext(ctx context.Context, projectID uint64, req CreateDestinationRequest) (*Destination, error) {
	r := call{method: http.MethodPost, path: projectPath(projectID, "destinations"), body: req}
	return resource[Destination](ctx, c, r, "destination")
}

// GetDestination gets details of a specific destination.
func (c *Client) GetDestination(destinationID uint64) (*Destination, error) {
	return c.GetDestinationContext(context.Background(), destinationID)
}

// GetDestinationContext is GetDestination with a context.
func (c *Client) GetDestinationContext(ctx context.Context, destinationID uint64) (*Destination, error) {
	r := call{method: http.MethodGet, path: idPath(destinationsPath, destinationID)}
	return resource[Destination](ctx, c, r, "destination")
}

// UpdateDestination updates a destination.
func (c *Client) UpdateDestination(destinationID uint64, req UpdateDestinationRequest) (*Destination, error) {
	return c.UpdateDestinationContext(context.Background(), destinationID, req)
}

// UpdateDestinationContext is UpdateDestination with a context.
func (c *Client) UpdateDestinationContext(ctx context.Context, destinationID uint64, req UpdateDestinationRequest) (*Destination, error) {
	r := call{method: http.MethodPut, path: idPath(destinationsPath, destinationID), body: req}
	return resource[Destination](ctx, c, r, "destination")
}

// DeleteDestination deletes a destination.
func (c *Client) DeleteDestination(destinationID uint64) error {
	return c.DeleteDestinationContext(context.Background(), destinationID)
}

// DeleteDestinationContext is DeleteDestination with a context.
func (c *Client) DeleteDestinationContext(ctx context.Context, destinationID uint64) error {
	return c.do(ctx, call{method: http.MethodDelete, path: idPath(destinationsPath, destinationID)}, nil)
}
