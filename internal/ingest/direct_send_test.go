package ingest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// flakySink answers 503 to the first failures requests and 200 after.
type flakySink struct {
	srv      *httptest.Server
	mu       sync.Mutex
	failures int
	got      []http.Header
}

func newFlakySink(t *testing.T, failures int) *flakySink {
	k := &flakySink{failures: failures}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		k.mu.Lock()
		defer k.mu.Unlock()
		k.got = append(k.got, r.Header.Clone())
		if len(k.got) <= k.failures {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *flakySink) requests() []http.Header {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]http.Header(nil), k.got...)
}

// TestSendWebhookDirect: the family B SDKs always name a destination in
// POST /api/webhooks. When the source has no connection to it, the event is
// stored on the source and delivered to that destination once, with the
// usual retries, and its attempts are listed.
func TestSendWebhookDirect(t *testing.T) {
	t.Parallel()
	n := setupWith(t, testserver.Options{Delivery: delivery.Config{
		Retry: delivery.RetryPolicy{Schedule: []time.Duration{10 * time.Millisecond}},
	}})
	// The source is connected to another sink, which must get nothing.
	src, other := n.routed(t, nil)
	k := newFlakySink(t, 1)
	dest := n.newDestination(t, k.srv.URL+"/direct")

	var out struct {
		EventID string `json:"event_id"`
	}
	n.must(t, http.StatusAccepted, "POST", "/api/webhooks", map[string]any{
		"source_id": src.ID, "destination_id": dest, "body": map[string]any{"test": true},
	}).JSON(t, &out)

	// One failed attempt (503), then the retry succeeds.
	eventually(t, "the retried direct delivery", func() bool { return len(k.requests()) >= 2 })
	e := n.event(t, out.EventID)
	eventually(t, "the event to settle", func() bool { e = n.event(t, out.EventID); return e.Status == volley.EventProcessed })
	if e.SourceID != src.ID {
		t.Errorf("event stored on source %d, want %d", e.SourceID, src.ID)
	}
	reqs := k.requests()
	if len(reqs) != 2 {
		t.Fatalf("direct destination got %d requests, want 2 (one failure, one retry)", len(reqs))
	}
	wantID := fmt.Sprintf("msg_%s_d%d", out.EventID[len("evt_"):], dest)
	for i, h := range reqs {
		if got := h.Get("webhook-id"); got != wantID {
			t.Errorf("request %d: webhook-id %q, want %q (stable across retries)", i, got, wantID)
		}
		if h.Get("X-Volley-Event-Id") != out.EventID {
			t.Errorf("request %d: X-Volley-Event-Id %q, want %s", i, h.Get("X-Volley-Event-Id"), out.EventID)
		}
	}
	if got := other.of(out.EventID); len(got) != 0 {
		t.Errorf("the source's connected destination got the test send %d times", len(got))
	}

	// The attempts are listed, by project and by event, through no
	// connection.
	var list struct {
		Attempts []struct {
			EventID       string `json:"event_id"`
			ConnectionID  uint64 `json:"connection_id"`
			DestinationID uint64 `json:"destination_id"`
			Status        string `json:"status"`
			StatusCode    int    `json:"status_code"`
		} `json:"attempts"`
	}
	n.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/delivery-attempts?event_id=%s&sort=time_oldest", n.acct.ProjectID, out.EventID), nil).JSON(t, &list)
	if len(list.Attempts) != 2 {
		t.Fatalf("attempts of the direct send: %+v, want 2", list.Attempts)
	}
	for i, want := range []struct {
		status string
		code   int
	}{{"failed", 503}, {"success", 200}} {
		a := list.Attempts[i]
		if a.Status != want.status || a.StatusCode != want.code || a.ConnectionID != 0 || a.DestinationID != dest {
			t.Errorf("attempt %d = %+v, want %s %d to destination %d through no connection", i, a, want.status, want.code, dest)
		}
	}
}

// TestSendWebhookDirectToDisabledDestination: a direct send to a disabled
// destination is refused, since nothing would release it.
func TestSendWebhookDirectToDisabledDestination(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src := n.newSource(t, nil)
	dest := n.newDestination(t, newSink(t).URL())
	n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", dest), map[string]any{"status": "disabled"})
	resp := n.api(t, "POST", "/api/webhooks", map[string]any{"source_id": src.ID, "destination_id": dest, "body": map[string]any{}})
	if resp.Status != http.StatusConflict {
		t.Fatalf("direct send to a disabled destination = %d %s, want 409", resp.Status, resp.Body)
	}
	if got := n.total(t, src.ID); got != 0 {
		t.Errorf("%d events stored for a refused send", got)
	}
}
