package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestPHPEmptyArrays: PHP's json_encode writes an empty map as [], so the
// PHP SDK sends a body of [] for an update without changes and
// "headers": [] for no headers. Both mean what {} means.
func TestPHPEmptyArrays(t *testing.T) {
	t.Parallel()
	e := setupTenants(t)
	a := e.a
	for _, path := range []string{
		fmt.Sprintf("/api/sources/%d", a.SourceID),
		fmt.Sprintf("/api/projects/%d/sources/%d", a.ProjectID, a.SourceID),
		fmt.Sprintf("/api/destinations/%d", a.DestinationID),
		fmt.Sprintf("/api/connections/%d", a.ConnectionID),
	} {
		before := decodeObject(t, e.asA.must(t, http.StatusOK, "GET", path, nil).Body)
		for _, body := range []string{`[]`, ` [ ] `, `{}`} {
			after := decodeObject(t, e.asA.must(t, http.StatusOK, "PUT", path, body).Body)
			for k, v := range before {
				switch k {
				case "updated_at", "updatedAt", "metrics", "source", "destination", "connection":
					continue // the time of the write, GET's extras, and the wrappers of the same fields
				}
				if fmt.Sprint(after[k]) != fmt.Sprint(v) {
					t.Errorf("PUT %s %s changed %s: %v → %v", path, body, k, v, after[k])
				}
			}
		}
	}

	// A destination's headers: [] clears them, as {} would.
	dst := fmt.Sprintf("/api/destinations/%d", a.DestinationID)
	got := decodeObject(t, e.asA.must(t, http.StatusOK, "PUT", dst, `{"headers":[]}`).Body)
	if h, ok := got["headers"].(map[string]any); !ok || len(h) != 0 {
		t.Errorf("destination headers after [] = %v, want {}", got["headers"])
	}

	// POST /api/webhooks with "headers": [] stores the event with the
	// default Content-Type only.
	resp := e.asA.must(t, http.StatusAccepted, "POST", "/api/webhooks",
		fmt.Sprintf(`{"source_id":%d,"destination_id":%d,"body":{"php":true},"headers":[]}`, a.SourceID, a.DestinationID))
	var sent struct {
		EventID string `json:"event_id"`
	}
	resp.JSON(t, &sent)
	uid := sent.EventID
	var ev struct {
		Request struct {
			Headers map[string]any `json:"headers"`
			RawBody string         `json:"raw_body"`
		} `json:"request"`
	}
	e.asA.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/events/%s", a.ProjectID, uid), nil).JSON(t, &ev)
	if len(ev.Request.Headers) != 1 || ev.Request.Headers["Content-Type"] != "application/json" || ev.Request.RawBody != `{"php":true}` {
		t.Errorf("event sent with headers [] = %+v, want only Content-Type and the body as sent", ev.Request)
	}

	// A non-empty array is still not an object.
	bad := e.asA.do(t, "PUT", dst, `[{"eps":1}]`)
	if bad.Status != http.StatusBadRequest {
		t.Errorf("PUT [{…}] = %d, want 400", bad.Status)
	}
	bad = e.asA.do(t, "PUT", dst, `{"headers":["X-A"]}`)
	if bad.Status != http.StatusBadRequest || errorOf(t, bad).Field != "headers" {
		t.Errorf("headers as a non-empty array = %d %s, want 400 on headers", bad.Status, bad.Body)
	}
}
