package volley

import (
	"context"
	"net/http"
	"time"
)

// Organization represents a Volley organization.
type Organization struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	AccountID uint64    `json:"account_id"`
	Role      string    `json:"role"` // the caller's role: "owner", "admin" or "member"
	CreatedAt time.Time `json:"created_at"`
}

// CreateOrganizationRequest represents the request to create an organization.
type CreateOrganizationRequest struct {
	Name string `json:"name"`
}

// ListOrganizations lists all organizations the user has access to.
func (c *Client) ListOrganizations() ([]Organization, error) {
	return c.ListOrganizationsContext(context.Background())
}

// ListOrganizationsContext is ListOrganizations with a context.
func (c *Client) ListOrganizationsContext(ctx context.Context) ([]Organization, error) {
	return list[Organization](ctx, c, "/api/org/list", "organizations")
}

// GetOrganization gets the current organization.
// If organizationID is provided, it is used for this call only, and the
// client's organization ID is left unchanged; otherwise the client's
// organization ID is used, and without one the first accessible organization
// is returned.
func (c *Client) GetOrganization(organizationID *uint64) (*Organization, error) {
	return c.GetOrganizationContext(context.Background(), organizationID)
}

// GetOrganizationContext is GetOrganization with a context.
func (c *Client) GetOrganizationContext(ctx context.Context, organizationID *uint64) (*Organization, error) {
	var org Organization
	r := call{method: http.MethodGet, path: "/api/org", orgID: organizationID}
	if err := c.do(ctx, r, &org); err != nil {
		return nil, err
	}
	return &org, nil
}

// CreateOrganization creates a new organization. The caller becomes its
// owner.
func (c *Client) CreateOrganization(req CreateOrganizationRequest) (*Organization, error) {
	return c.CreateOrganizationContext(context.Background(), req)
}

// CreateOrganizationContext is CreateOrganization with a context.
func (c *Client) CreateOrganizationContext(ctx context.Context, req CreateOrganizationRequest) (*Organization, error) {
	var org Organization
	if err := c.do(ctx, call{method: http.MethodPost, path: "/api/org", body: req}, &org); err != nil {
		return nil, err
	}
	return &org, nil
}
