package volley_test

// The tests here run every method that does I/O, through its Context variant.

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/volleyhq/volley"
)

// call is one Context method, for the tests that cover them all.
type call struct {
	name string
	do   func(context.Context, *volley.Client) error
}

// calls covers every method that does I/O.
var calls = []call{
	{"ListOrganizations", func(ctx context.Context, c *volley.Client) error {
		_, err := c.ListOrganizationsContext(ctx)
		return err
	}},
	{"GetOrganization", func(ctx context.Context, c *volley.Client) error {
		_, err := c.GetOrganizationContext(ctx, ptr(uint64(1)))
		return err
	}},
	{"CreateOrganization", func(ctx context.Context, c *volley.Client) error {
		_, err := c.CreateOrganizationContext(ctx, volley.CreateOrganizationRequest{Name: "x"})
		return err
	}},
	{"ListProjects", func(ctx context.Context, c *volley.Client) error {
		_, err := c.ListProjectsContext(ctx)
		return err
	}},
	{"CreateProject", func(ctx context.Context, c *volley.Client) error {
		_, err := c.CreateProjectContext(ctx, volley.CreateProjectRequest{Name: "x"})
		return err
	}},
	{"UpdateProject", func(ctx context.Context, c *volley.Client) error {
		_, err := c.UpdateProjectContext(ctx, 1, volley.UpdateProjectRequest{Name: "x"})
		return err
	}},
	{"DeleteProject", func(ctx context.Context, c *volley.Client) error {
		return c.DeleteProjectContext(ctx, 1)
	}},
	{"ListSources", func(ctx context.Context, c *volley.Client) error {
		_, err := c.ListSourcesContext(ctx, 1)
		return err
	}},
	{"CreateSource", func(ctx context.Context, c *volley.Client) error {
		_, err := c.CreateSourceContext(ctx, 1, volley.CreateSourceRequest{Name: "x"})
		return err
	}},
	{"GetSource", func(ctx context.Context, c *volley.Client) error {
		_, err := c.GetSourceContext(ctx, 1)
		return err
	}},
	{"UpdateSource", func(ctx context.Context, c *volley.Client) error {
		_, err := c.UpdateSourceContext(ctx, 1, volley.UpdateSourceRequest{Name: "x"})
		return err
	}},
	{"DeleteSource", func(ctx context.Context, c *volley.Client) error {
		return c.DeleteSourceContext(ctx, 1)
	}},
	{"ListDestinations", func(ctx context.Context, c *volley.Client) error {
		_, err := c.ListDestinationsContext(ctx, 1)
		return err
	}},
	{"CreateDestination", func(ctx context.Context, c *volley.Client) error {
		_, err := c.CreateDestinationContext(ctx, 1, volley.CreateDestinationRequest{Name: "x"})
		return err
	}},
	{"GetDestination", func(ctx context.Context, c *volley.Client) error {
		_, err := c.GetDestinationContext(ctx, 1)
		return err
	}},
	{"UpdateDestination", func(ctx context.Context, c *volley.Client) error {
		_, err := c.UpdateDestinationContext(ctx, 1, volley.UpdateDestinationRequest{Name: "x"})
		return err
	}},
	{"DeleteDestination", func(ctx context.Context, c *volley.Client) error {
		return c.DeleteDestinationContext(ctx, 1)
	}},
	{"GetConnections", func(ctx context.Context, c *volley.Client) error {
		_, err := c.GetConnectionsContext(ctx, 1)
		return err
	}},
	{"CreateConnection", func(ctx context.Context, c *volley.Client) error {
		_, err := c.CreateConnectionContext(ctx, 1, volley.CreateConnectionRequest{SourceID: 1, DestinationID: 2})
		return err
	}},
	{"GetConnection", func(ctx context.Context, c *volley.Client) error {
		_, err := c.GetConnectionContext(ctx, 1)
		return err
	}},
	{"UpdateConnection", func(ctx context.Context, c *volley.Client) error {
		_, err := c.UpdateConnectionContext(ctx, 1, volley.UpdateConnectionRequest{Status: "disabled"})
		return err
	}},
	{"DeleteConnection", func(ctx context.Context, c *volley.Client) error {
		return c.DeleteConnectionContext(ctx, 1)
	}},
	{"ListEvents", func(ctx context.Context, c *volley.Client) error {
		_, err := c.ListEventsContext(ctx, 1, nil)
		return err
	}},
	{"GetEvent", func(ctx context.Context, c *volley.Client) error {
		_, err := c.GetEventContext(ctx, 1)
		return err
	}},
	{"ReplayEvent", func(ctx context.Context, c *volley.Client) error {
		_, err := c.ReplayEventContext(ctx, volley.ReplayEventRequest{EventID: "evt_1"})
		return err
	}},
	{"ListDeliveryAttempts", func(ctx context.Context, c *volley.Client) error {
		_, err := c.ListDeliveryAttemptsContext(ctx, 1, nil)
		return err
	}},
	{"SendWebhook", func(ctx context.Context, c *volley.Client) error {
		_, err := c.SendWebhookContext(ctx, "src_1", map[string]string{"a": "b"})
		return err
	}},
}

// TestEveryMethodReturnsAPIError checks that every method returns the
// *APIError itself, unwrapped, with the status filled in.
func TestEveryMethodReturnsAPIError(t *testing.T) {
	t.Parallel()
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.StatusNotFound, `{"error":"Project not found","message":"no such id"}`)
			err := tc.do(context.Background(), srv.client())
			want := volley.APIError{ErrorMsg: "Project not found", Message: "no such id", Status: 404}
			if apiErr, ok := err.(*volley.APIError); !ok || *apiErr != want {
				t.Errorf("err = %#v, want &%+v", err, want)
			}
		})
	}
}

// TestEveryMethodHonoursContext checks that every Context method sends
// nothing once its context is done.
func TestEveryMethodHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.StatusOK, `{}`)
			err := tc.do(ctx, srv.client())
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if n := srv.count(); n != 0 {
				t.Errorf("server got %d requests, want 0", n)
			}
		})
	}
}
