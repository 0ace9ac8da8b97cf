package volley

import (
	"context"
	"net/http"
	"time"
)

// Source represents a webhook source: an ingestion URL that receives
// webhooks, /hook/{IngestionID}.
type Source struct {
	ID               uint64 `json:"id"`
	Slug             string `json:"slug"`
	IngestionID      string `json:"ingestion_id"` // the ID that SendWebhook takes
	Type             string `json:"type"`
	EPS              int    `json:"eps"` // events-per-second limit
	Status           string `json:"status"`
	ConnectionCount  int64  `json:"connection_count"`
	AuthType         string `json:"auth_type"` // "none", "basic", "api_key"
	VerifySignature  bool   `json:"verify_signature"`
	WebhookSecretSet bool   `json:"webhook_secret_set"` // the secret itself is never returned
	AuthUsername     string `json:"auth_username,omitempty"`
	AuthKeyName      string `json:"auth_key_name,omitempty"`
	// AuthKey is the credential the server generated for a basic or api_key
	// source created or switched without one (the basic password, or the
	// api key). It is only in the answer of the call that generated it.
	AuthKey   string    `json:"auth_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreateSourceRequest represents the request to create a source.
type CreateSourceRequest struct {
	Name     string `json:"name"`
	EPS      int    `json:"eps"`
	AuthType string `json:"auth_type"` // "none", "basic", "api_key"
}

// UpdateSourceRequest represents the request to update a source. Empty and
// nil fields are left unchanged.
type UpdateSourceRequest struct {
	Name     string `json:"name,omitempty"`
	EPS      *int   `json:"eps,omitempty"`
	AuthType string `json:"auth_type,omitempty"`
	Status   string `json:"status,omitempty"`
}

// sourcesPath is the prefix of a single source's path.
const sourcesPath = "/api/sources"

// ListSources lists all sources in a project.
func (c *Client) ListSources(projectID uint64) ([]Source, error) {
	return c.ListSourcesContext(context.Background(), projectID)
}

// ListSourcesContext is ListSources with a context.
func (c *Client) ListSourcesContext(ctx context.Context, projectID uint64) ([]Source, error) {
	return list[Source](ctx, c, projectPath(projectID, "sources"), "sources")
}

// CreateSource creates a new source in a project.
func (c *Client) CreateSource(projectID uint64, req CreateSourceRequest) (*Source, error) {
	return c.CreateSourceContext(context.Background(), projectID, req)
}

// CreateSourceContext is CreateSource with a context.
func (c *Client) CreateSourceContext(ctx context.Context, projectID uint64, req CreateSourceRequest) (*Source, error) {
	r := call{method: http.MethodPost, path: projectPath(projectID, "sources"), body: req}
	return resource[Source](ctx, c, r, "source")
}

// GetSource gets details of a specific source.
func (c *Client) GetSource(sourceID uint64) (*Source, error) {
	return c.GetSourceContext(context.Background(), sourceID)
}

// GetSourceContext is GetSource with a context.
func (c *Client) GetSourceContext(ctx context.Context, sourceID uint64) (*Source, error) {
	return resource[Source](ctx, c, call{method: http.MethodGet, path: idPath(sourcesPath, sourceID)}, "source")
}

// UpdateSource updates a source.
func (c *Client) UpdateSource(sourceID uint64, req UpdateSourceRequest) (*Source, error) {
	return c.UpdateSourceContext(context.Background(), sourceID, req)
}

// UpdateSourceContext is UpdateSource with a context.
func (c *Client) UpdateSourceContext(ctx context.Context, sourceID uint64, req UpdateSourceRequest) (*Source, error) {
	r := call{method: http.MethodPut, path: idPath(sourcesPath, sourceID), body: req}
	return resource[Source](ctx, c, r, "source")
}

// DeleteSource deletes a source.
func (c *Client) DeleteSource(sourceID uint64) error {
	return c.DeleteSourceContext(context.Background(), sourceID)
}

// DeleteSourceContext is DeleteSource with a context.
func (c *Client) DeleteSourceContext(ctx context.Context, sourceID uint64) error {
	return c.do(ctx, call{method: http.MethodDelete, path: idPath(sourcesPath, sourceID)}, nil)
}
