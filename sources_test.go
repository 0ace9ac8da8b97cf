package volley_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

const sourceJSON = `{"id":1,"slug":"stripe-webhooks","ingestion_id":"src_xyz789","type":"webhook","eps":10,` +
	`"status":"active","connection_count":2,"auth_type":"basic","verify_signature":true,` +
	`"webhook_secret_set":true,"auth_username":"stripe","auth_key_name":"X-Api-Key","auth_key":"generated-once",` +
	`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-02-03T04:05:06Z"}`

var wantSource = &volley.Source{
	ID: 1, Slug: "stripe-webhooks", IngestionID: "src_xyz789", Type: "webhook", EPS: 10,
	Status: "active", ConnectionCount: 2, AuthType: "basic", VerifySignature: true,
	WebhookSecretSet: true, AuthUsername: "stripe", AuthKeyName: "X-Api-Key", AuthKey: "generated-once",
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	UpdatedAt: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
}

func TestSources(t *testing.T) {
	t.Parallel()
	runCases(t, []apiCase{
		{
			name:   "ListSources",
			opts:   []volley.ClientOption{volley.WithOrganizationID(123)},
			call:   func(c *volley.Client) (any, error) { return c.ListSources(7) },
			want:   wantRequest{method: "GET", path: "/api/projects/7/sources", orgID: "123"},
			status: http.StatusOK,
			resp:   `{"sources":[` + sourceJSON + `,{"id":2,"slug":"b"}]}`,
			result: []volley.Source{*wantSource, {ID: 2, Slug: "b"}},
		},
		{
			name: "CreateSource",
			call: func(c *volley.Client) (any, error) {
				return c.CreateSource(7, volley.CreateSourceRequest{Name: "Stripe Webhooks", EPS: 10, AuthType: "none"})
			},
			want: wantRequest{
				method: "POST", path: "/api/projects/7/sources",
				body: `{"name":"Stripe Webhooks","eps":10,"auth_type":"none"}`,
			},
			status: http.StatusCreated,
			resp:   `{"source":` + sourceJSON + `}`,
			result: wantSource,
			full:   true,
		},
		{
			name: "CreateSource sends zero values",
			call: func(c *volley.Client) (any, error) {
				return c.CreateSource(7, volley.CreateSourceRequest{Name: "S"})
			},
			want: wantRequest{
				method: "POST", path: "/api/projects/7/sources",
				body: `{"name":"S","eps":0,"auth_type":""}`,
			},
			status: http.StatusCreated,
			resp:   `{"source":` + sourceJSON + `}`,
			result: wantSource,
		},
		{
			name:   "GetSource",
			call:   func(c *volley.Client) (any, error) { return c.GetSource(1) },
			want:   wantRequest{method: "GET", path: "/api/sources/1"},
			status: http.StatusOK,
			resp:   `{"source":` + sourceJSON + `}`,
			result: wantSource,
		},
		{
			name: "UpdateSource",
			call: func(c *volley.Client) (any, error) {
				return c.UpdateSource(1, volley.UpdateSourceRequest{EPS: ptr(20), Status: "active"})
			},
			want:   wantRequest{method: "PUT", path: "/api/sources/1", body: `{"eps":20,"status":"active"}`},
			status: http.StatusOK,
			resp:   `{"source":` + sourceJSON + `}`,
			result: wantSource,
		},
		{
			name: "UpdateSource every field",
			call: func(c *volley.Client) (any, error) {
				return c.UpdateSource(1, volley.UpdateSourceRequest{Name: "N", EPS: ptr(0), AuthType: "api_key", Status: "inactive"})
			},
			want: wantRequest{
				method: "PUT", path: "/api/sources/1",
				body: `{"name":"N","eps":0,"auth_type":"api_key","status":"inactive"}`,
			},
			status: http.StatusOK,
			resp:   `{"source":` + sourceJSON + `}`,
			result: wantSource,
		},
		{
			name:   "DeleteSource",
			call:   func(c *volley.Client) (any, error) { return nil, c.DeleteSource(1) },
			want:   wantRequest{method: "DELETE", path: "/api/sources/1"},
			status: http.StatusOK,
		},
	})
}
