package volley_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

const projectJSON = `{"id":1,"name":"My Project","organization_id":123,"is_default":true,"user_id":9,` +
	`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-02-03T04:05:06Z"}`

var wantProject = &volley.Project{
	ID: 1, Name: "My Project", OrganizationID: 123, IsDefault: true, UserID: 9,
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	UpdatedAt: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
}

func TestProjects(t *testing.T) {
	t.Parallel()
	runCases(t, []apiCase{
		{
			name:   "ListProjects",
			opts:   []volley.ClientOption{volley.WithOrganizationID(123)},
			call:   func(c *volley.Client) (any, error) { return c.ListProjects() },
			want:   wantRequest{method: "GET", path: "/api/projects", orgID: "123"},
			status: http.StatusOK,
			resp:   `{"projects":[` + projectJSON + `]}`,
			result: []volley.Project{*wantProject},
			full:   true,
		},
		{
			name: "CreateProject",
			call: func(c *volley.Client) (any, error) {
				return c.CreateProject(volley.CreateProjectRequest{Name: "My Project"})
			},
			// is_default is left out when false, as v1.0.1 did.
			want:   wantRequest{method: "POST", path: "/api/projects", body: `{"name":"My Project"}`},
			status: http.StatusCreated,
			resp:   `{"project":` + projectJSON + `}`,
			result: wantProject,
		},
		{
			name: "CreateProject default",
			call: func(c *volley.Client) (any, error) {
				return c.CreateProject(volley.CreateProjectRequest{Name: "My Project", IsDefault: true})
			},
			want:   wantRequest{method: "POST", path: "/api/projects", body: `{"name":"My Project","is_default":true}`},
			status: http.StatusCreated,
			resp:   `{"project":` + projectJSON + `}`,
			result: wantProject,
		},
		{
			name: "UpdateProject",
			call: func(c *volley.Client) (any, error) {
				return c.UpdateProject(1, volley.UpdateProjectRequest{Name: "Renamed"})
			},
			want:   wantRequest{method: "PUT", path: "/api/projects/1", body: `{"name":"Renamed"}`},
			status: http.StatusOK,
			resp:   `{"project":` + projectJSON + `}`,
			result: wantProject,
		},
		{
			name:   "DeleteProject",
			call:   func(c *volley.Client) (any, error) { return nil, c.DeleteProject(1) },
			want:   wantRequest{method: "DELETE", path: "/api/projects/1"},
			status: http.StatusOK,
		},
		{
			name:   "DeleteProject with 204",
			opts:   []volley.ClientOption{volley.WithOrganizationID(123)},
			call:   func(c *volley.Client) (any, error) { return nil, c.DeleteProject(18446744073709551615) },
			want:   wantRequest{method: "DELETE", path: "/api/projects/18446744073709551615", orgID: "123"},
			status: http.StatusNoContent,
		},
		{
			name:   "DeleteProject ignores the body",
			call:   func(c *volley.Client) (any, error) { return nil, c.DeleteProject(1) },
			want:   wantRequest{method: "DELETE", path: "/api/projects/1"},
			status: http.StatusOK,
			resp:   "OK",
		},
	})
}
