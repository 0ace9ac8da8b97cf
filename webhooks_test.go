package volley_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/volleyhq/volley"
)

func TestSendWebhook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sourceID string
		payload  interface{}
		wantPath string
		wantBody string
	}{
		{
			name:     "encodes the payload",
			sourceID: "src_xyz789",
			payload:  map[string]interface{}{"event": "user.created", "data": map[string]string{"user_id": "123"}},
			wantPath: "/hook/src_xyz789",
			wantBody: `{"data":{"user_id":"123"},"event":"user.created"}`,
		},
		{
			name:     "sends bytes as they are",
			sourceID: "src_xyz789",
			payload:  []byte(`{"b": 2,  "a": 1}`),
			wantPath: "/hook/src_xyz789",
			wantBody: `{"b": 2,  "a": 1}`,
		},
		{
			name:     "sends a raw message as it is",
			sourceID: "src_xyz789",
			payload:  json.RawMessage(`[1, 2]`),
			wantPath: "/hook/src_xyz789",
			wantBody: `[1, 2]`,
		},
		{
			name:     "encodes a string",
			sourceID: "src_xyz789",
			payload:  "hello",
			wantPath: "/hook/src_xyz789",
			wantBody: `"hello"`,
		},
		{
			name:     "escapes the ingestion ID",
			sourceID: "a/b c?d",
			payload:  nil,
			wantPath: "/hook/a%2Fb%20c%3Fd",
			wantBody: `null`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, http.StatusAccepted, `{"event_id":"evt_abc123","status":"accepted"}`)
			// The organization and token must not reach the ingestion endpoint.
			c := srv.client(volley.WithOrganizationID(123))
			eventID, err := c.SendWebhook(tt.sourceID, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if eventID != "evt_abc123" {
				t.Errorf("event ID %q, want evt_abc123", eventID)
			}
			got := srv.only(t)
			if got.method != "POST" || got.path != tt.wantPath || got.rawQuery != "" {
				t.Errorf("request %s %s?%s, want POST %s", got.method, got.path, got.rawQuery, tt.wantPath)
			}
			if got.body != tt.wantBody {
				t.Errorf("body %q, want %q", got.body, tt.wantBody)
			}
			if v := got.header.Get("Content-Type"); v != "application/json" {
				t.Errorf("Content-Type %q, want application/json", v)
			}
			for _, h := range []string{"Authorization", "X-Organization-Id"} {
				if v, ok := got.header[h]; ok {
					t.Errorf("%s %q sent, want none", h, v)
				}
			}
		})
	}
}

// TestSendWebhookNeeds202 checks that only 202 counts as accepted.
func TestSendWebhookNeeds202(t *testing.T) {
	t.Parallel()
	body := `{"event_id":"evt_abc123","status":"accepted"}`
	for _, status := range []int{http.StatusOK, http.StatusCreated, http.StatusNoContent, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, status, body)
			eventID, err := srv.client().SendWebhook("src_1", map[string]int{"a": 1})
			apiErr, ok := err.(*volley.APIError)
			if !ok || apiErr.Status != status {
				t.Fatalf("SendWebhook = %q, %#v; want an *APIError with status %d", eventID, err, status)
			}
			if eventID != "" {
				t.Errorf("event ID %q, want none", eventID)
			}
			wantBody := body
			if status == http.StatusNoContent {
				wantBody = "" // a 204 response carries no body
			}
			if want := fmt.Sprintf("API error (status %d): %s", status, wantBody); apiErr.ErrorMsg != want {
				t.Errorf("ErrorMsg %q, want %q", apiErr.ErrorMsg, want)
			}
		})
	}
}

func TestSendWebhookErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sourceID string
		status   int
		body     string
		want     string
	}{
		{"empty source ID", "", http.StatusAccepted, `{"event_id":"evt_1"}`, "volley: send webhook: empty source ID"},
		{"no event ID", "src_1", http.StatusAccepted, `{"status":"accepted"}`, "volley: decode response: no event_id"},
		{"not JSON", "src_1", http.StatusAccepted, `accepted`, "volley: decode response: invalid character"},
		{"ingestion error", "src_1", http.StatusNotFound, `{"error":"Source not found"}`, "Source not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.status, tt.body)
			_, err := srv.client().SendWebhook(tt.sourceID, map[string]int{"a": 1})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}
