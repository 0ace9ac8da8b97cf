package volley

import (
	"context"
	"net/http"
	"time"
)

// Project represents a Volley project.
type Project struct {
	ID             uint64    `json:"id"`
	Name           string    `json:"name"`
	OrganizationID uint64    `json:"organization_id"`
	IsDefault      bool      `json:"is_default"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// UserID is the id of the account that created the project.
	UserID uint64 `json:"user_id,omitempty"`
}

// CreateProjectRequest represents the request to create a project.
type CreateProjectRequest struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"is_default,omitempty"`
}

// UpdateProjectRequest represents the request to update a project.
type UpdateProjectRequest struct {
	Name string `json:"name"`
}

// projectsPath is the collection of projects.
const projectsPath = "/api/projects"

// ListProjects lists all projects in the current organization.
func (c *Client) ListProjects() ([]Project, error) {
	return c.ListProjectsContext(context.Background())
}

// ListProjectsContext is ListProjects with a context.
func (c *Client) ListProjectsContext(ctx context.Context) ([]Project, error) {
	return list[Project](ctx, c, projectsPath, "projects")
}

// CreateProject creates a new project in the current organization.
func (c *Client) CreateProject(req CreateProjectRequest) (*Project, error) {
	return c.CreateProjectContext(context.Background(), req)
}

// CreateProjectContext is CreateProject with a context.
func (c *Client) CreateProjectContext(ctx context.Context, req CreateProjectRequest) (*Project, error) {
	return resource[Project](ctx, c, call{method: http.MethodPost, path: projectsPath, body: req}, "project")
}

// UpdateProject updates a project's name.
func (c *Client) UpdateProject(projectID uint64, req UpdateProjectRequest) (*Project, error) {
	return c.UpdateProjectContext(context.Background(), projectID, req)
}

// UpdateProjectContext is UpdateProject with a context.
func (c *Client) UpdateProjectContext(ctx context.Context, projectID uint64, req UpdateProjectRequest) (*Project, error) {
	r := call{method: http.MethodPut, path: idPath(projectsPath, projectID), body: req}
	return resource[Project](ctx, c, r, "project")
}

// DeleteProject deletes a project.
func (c *Client) DeleteProject(projectID uint64) error {
	return c.DeleteProjectContext(context.Background(), projectID)
}

// DeleteProjectContext is DeleteProject with a context.
func (c *Client) DeleteProjectContext(ctx context.Context, projectID uint64) error {
	return c.do(ctx, call{method: http.MethodDelete, path: idPath(projectsPath, projectID)}, nil)
}

// projectPath returns the path of a project's sub-collection, such as
// /api/projects/7/sources.
func projectPath(projectID uint64, collection string) string {
	return idPath(projectsPath, projectID) + "/" + collection
}
