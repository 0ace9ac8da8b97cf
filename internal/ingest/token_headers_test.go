package ingest_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// TestIngestDropsAPITokens: a client that posts to an ingestion URL with a
// Volley API token (the caller's live one here) in any header, or inside
// HTTP Basic credentials, has that header dropped before the event is
// stored: it is neither shown in the events API nor delivered. The same
// holds for the headers of POST /api/webhooks.
func TestIngestDropsAPITokens(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src, k := n.routed(t, nil)
	tok := testserver.AdminToken
	r := n.post(t, src.IngestionID, []byte(`{"a":1}`),
		"Authorization", "Bearer "+tok,
		"X-Forward-Token", "token="+tok,
		"Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("me:"+tok)),
		"X-Keep", "kept",
		"X-Almost", "vk_short",
	)
	uid := accepted(t, r).EventID
	got := k.waitDelivered(t, uid)[0]

	ev := n.event(t, uid)
	for _, name := range []string{"Authorization", "X-Forward-Token", "Proxy-Authorization"} {
		if v := ev.header(name); len(v) > 0 {
			t.Errorf("stored header %s = %q, want it dropped", name, v)
		}
		if v := got.Header.Get(name); v != "" {
			t.Errorf("delivered header %s = %q, want it dropped", name, v)
		}
	}
	if v := ev.header("X-Keep"); len(v) != 1 || v[0] != "kept" || got.Header.Get("X-Keep") != "kept" {
		t.Errorf("X-Keep stored %q, delivered %q; want kept both ways", v, got.Header.Get("X-Keep"))
	}
	if got.Header.Get("X-Almost") != "vk_short" {
		t.Errorf("a header that only looks a little like a token was dropped")
	}

	// Nothing anywhere in the event's API answers carries the token.
	for _, path := range []string{
		fmt.Sprintf("/api/projects/%d/requests", n.acct.ProjectID),
		fmt.Sprintf("/api/requests/%d", ev.ID),
	} {
		if body := n.must(t, http.StatusOK, "GET", path, nil).Body; strings.Contains(string(body), tok) {
			t.Errorf("GET %s shows the API token: %s", path, body)
		}
	}
	for _, rq := range k.of(uid) {
		for name, vs := range rq.Header {
			if strings.Contains(strings.Join(vs, ","), tok) {
				t.Errorf("delivered header %s carries the API token", name)
			}
		}
	}

	// POST /api/webhooks: the same for the headers the caller gives.
	var out struct {
		EventID string `json:"event_id"`
	}
	n.must(t, http.StatusAccepted, "POST", "/api/webhooks", map[string]any{
		"source_id": src.ID, "body": map[string]any{"b": 2},
		"headers": map[string]string{"X-Token": tok, "X-Keep": "kept"},
	}).JSON(t, &out)
	sent := k.waitDelivered(t, out.EventID)[0]
	if sent.Header.Get("X-Token") != "" || sent.Header.Get("X-Keep") != "kept" {
		t.Errorf("test send delivered X-Token %q, X-Keep %q; want the token dropped", sent.Header.Get("X-Token"), sent.Header.Get("X-Keep"))
	}
	sentEv := n.event(t, out.EventID)
	if v := sentEv.header("X-Token"); len(v) > 0 {
		t.Errorf("test send stored X-Token %q", v)
	}
}
