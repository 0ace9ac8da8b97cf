package volley_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

const destinationJSON = `{"id":3,"name":"Production Endpoint","url":"https://api.example.com/webhooks","eps":5,` +
	`"status":"active","created_at":"2024-01-02T03:04:05Z","updated_at":"2024-02-03T04:05:06Z",` +
	`"timeout_ms":5000,"forward_traceparent":true,"insecure_skip_verify":true,"signing_secret_set":true}`

var wantDestination = &volley.Destination{
	ID: 3, Name: "Production Endpoint", URL: "https://api.example.com/webhooks", EPS: 5, Status: "active",
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	UpdatedAt: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
	TimeoutMS: 5000, ForwardTraceparent: true, InsecureSkipVerify: true, SigningSecretSet: true,
}

func TestDestinations(t *testing.T) {
	t.Parallel()
	runCases(t, []apiCase{
		{
			name:   "ListDestinations",
			call:   func(c *volley.Client) (any, error) { return c.ListDestinations(7) },
			want:   wantRequest{method: "GET", path: "/api/projects/7/destinations"},
			status: http.StatusOK,
			resp:   `{"destinations":[` + destinationJSON + `]}`,
			result: []volley.Destination{*wantDestination},
			full:   true,
		},
		{
			name: "CreateDestination",
			opts: []volley.ClientOption{volley.WithOrganizationID(123)},
			call: func(c *volley.Client) (any, error) {
				return c.CreateDestination(7, volley.CreateDestinationRequest{
					Name: "Production Endpoint", URL: "https://api.example.com/webhooks", EPS: 5,
				})
			},
			want: wantRequest{
				method: "POST", path: "/api/projects/7/destinations", orgID: "123",
				body: `{"name":"Production Endpoint","url":"https://api.example.com/webhooks","eps":5}`,
			},
			status: http.StatusCreated,
			resp:   `{"destination":` + destinationJSON + `}`,
			result: wantDestination,
		},
		{
			name:   "GetDestination",
			call:   func(c *volley.Client) (any, error) { return c.GetDestination(3) },
			want:   wantRequest{method: "GET", path: "/api/destinations/3"},
			status: http.StatusOK,
			resp:   `{"destination":` + destinationJSON + `}`,
			result: wantDestination,
		},
		{
			name: "UpdateDestination",
			call: func(c *volley.Client) (any, error) {
				return c.UpdateDestination(3, volley.UpdateDestinationRequest{
					Name: "N", URL: "https://example.org/in", EPS: ptr(9), Status: "disabled",
				})
			},
			want: wantRequest{
				method: "PUT", path: "/api/destinations/3",
				body: `{"name":"N","url":"https://example.org/in","eps":9,"status":"disabled"}`,
			},
			status: http.StatusOK,
			resp:   `{"destination":` + destinationJSON + `}`,
			result: wantDestination,
		},
		{
			name: "UpdateDestination empty",
			call: func(c *volley.Client) (any, error) {
				return c.UpdateDestination(3, volley.UpdateDestinationRequest{})
			},
			want:   wantRequest{method: "PUT", path: "/api/destinations/3", body: `{}`},
			status: http.StatusOK,
			resp:   `{"destination":` + destinationJSON + `}`,
			result: wantDestination,
		},
		{
			name:   "DeleteDestination",
			call:   func(c *volley.Client) (any, error) { return nil, c.DeleteDestination(3) },
			want:   wantRequest{method: "DELETE", path: "/api/destinations/3"},
			status: http.StatusNoContent,
		},
	})
}
