package volley_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/volleyhq/volley"
)

func TestAPIError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   volley.APIError
		text   string
	}{
		{
			name: "error only", status: http.StatusUnauthorized, body: `{"error":"unauthorized"}`,
			want: volley.APIError{ErrorMsg: "unauthorized", Status: 401},
			text: "unauthorized",
		},
		{
			name: "error and message", status: http.StatusBadRequest,
			body: `{"error":"Bad request","message":"name is required"}`,
			want: volley.APIError{ErrorMsg: "Bad request", Message: "name is required", Status: 400},
			text: "Bad request: name is required",
		},
		{
			name: "not JSON", status: http.StatusBadGateway, body: "<html>bad gateway</html>",
			want: volley.APIError{ErrorMsg: "API error (status 502): <html>bad gateway</html>", Status: 502},
			text: "API error (status 502): <html>bad gateway</html>",
		},
		{
			name: "empty", status: http.StatusNotFound, body: "",
			want: volley.APIError{ErrorMsg: "API error (status 404): ", Status: 404},
			text: "API error (status 404): ",
		},
		{
			name: "no error field", status: http.StatusTooManyRequests, body: `{"message":"slow down"}`,
			want: volley.APIError{ErrorMsg: `API error (status 429): {"message":"slow down"}`, Status: 429},
			text: `API error (status 429): {"message":"slow down"}`,
		},
		{
			name: "error field not a string", status: http.StatusInternalServerError, body: `{"error":5}`,
			want: volley.APIError{ErrorMsg: `API error (status 500): {"error":5}`, Status: 500},
			text: `API error (status 500): {"error":5}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newServer(t, tt.status, tt.body).client().GetEvent(123)
			// As documented since v1.0.1: a plain type assertion works.
			apiErr, ok := err.(*volley.APIError)
			if !ok {
				t.Fatalf("err = %#v, want *volley.APIError", err)
			}
			if *apiErr != tt.want {
				t.Errorf("APIError = %+v, want %+v", *apiErr, tt.want)
			}
			if got := err.Error(); got != tt.text {
				t.Errorf("Error() = %q, want %q", got, tt.text)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		call   func(*volley.Client) error
		want   string
	}{
		{
			name: "not JSON", status: http.StatusOK, body: "OK",
			call: func(c *volley.Client) error { _, err := c.ListProjects(); return err },
			want: "volley: decode response: ",
		},
		{
			name: "empty body", status: http.StatusCreated, body: "",
			call: func(c *volley.Client) error {
				_, err := c.CreateOrganization(volley.CreateOrganizationRequest{Name: "x"})
				return err
			},
			want: "volley: decode response: ",
		},
		{
			name: "bare object where a wrapped one is due", status: http.StatusOK, body: `{"id":1,"slug":"s"}`,
			call: func(c *volley.Client) error { _, err := c.GetSource(1); return err },
			want: `volley: decode response: no "source" object`,
		},
		{
			name: "null object", status: http.StatusOK, body: `{"connection":null}`,
			call: func(c *volley.Client) error { _, err := c.GetConnection(1); return err },
			want: `volley: decode response: no "connection" object`,
		},
		{
			name: "wrong type in the wrapper", status: http.StatusOK, body: `{"destinations":{"id":1}}`,
			call: func(c *volley.Client) error { _, err := c.ListDestinations(1); return err },
			want: "volley: decode response: destinations: ",
		},
		{
			name: "empty timestamp", status: http.StatusOK, body: `{"project":{"id":1,"created_at":""}}`,
			call: func(c *volley.Client) error {
				_, err := c.UpdateProject(1, volley.UpdateProjectRequest{Name: "x"})
				return err
			},
			want: "volley: decode response: project: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(newServer(t, tt.status, tt.body).client())
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
			var apiErr *volley.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("err = %v is an *APIError, want a decode error", err)
			}
		})
	}
}

// TestEmptyLists checks that an absent or null list is an empty one.
func TestEmptyLists(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"sources":[]}`, `{"sources":null}`, `{}`} {
		got, err := newServer(t, http.StatusOK, body).client().ListSources(1)
		if err != nil || len(got) != 0 {
			t.Errorf("body %s: ListSources = %v, %v; want empty, nil", body, got, err)
		}
	}
}

func TestEncodeError(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.StatusAccepted, `{"event_id":"evt_1"}`)
	_, err := srv.client().SendWebhook("src_1", map[string]any{"f": func() {}})
	if err == nil || !strings.HasPrefix(err.Error(), "volley: encode payload: ") {
		t.Errorf("err = %v, want an encode error", err)
	}
	if n := srv.count(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}
