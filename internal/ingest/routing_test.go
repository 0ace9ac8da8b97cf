package ingest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

func TestIngestRoutesByConnectionStatus(t *testing.T) {
	t.Parallel()
	n := setup(t)

	t.Run("no connection", func(t *testing.T) {
		t.Parallel()
		src := n.newSource(t, nil)
		e := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{}`))).EventID)
		if e.Status != volley.EventDropped || len(n.deliveries(t, e)) != 0 {
			t.Fatalf("event status %q with %d deliveries, want dropped with none", e.Status, len(n.deliveries(t, e)))
		}
	})

	t.Run("paused connection holds until resumed", func(t *testing.T) {
		t.Parallel()
		src := n.newSource(t, nil)
		k := newSink(t)
		conn := n.connect(t, src.ID, n.newDestination(t, k.URL()), "paused")
		e := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{"held":true}`))).EventID)
		ds := n.deliveries(t, e)
		if e.Status != volley.EventPending || len(ds) != 1 || ds[0].State != volley.DeliveryHeld {
			t.Fatalf("event status %q, deliveries %+v; want pending with one held delivery", e.Status, ds)
		}
		n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", conn), map[string]any{"status": "enabled"})
		got := k.waitDelivered(t, e.EventID)
		if string(got[0].Body) != `{"held":true}` {
			t.Fatalf("delivered %q", got[0].Body)
		}
		eventually(t, "the event to be processed", func() bool { return n.event(t, e.EventID).Status == volley.EventProcessed })
	})

	t.Run("disabled destination holds", func(t *testing.T) {
		t.Parallel()
		src := n.newSource(t, nil)
		k := newSink(t)
		dst := n.newDestination(t, k.URL())
		n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", dst), map[string]any{"status": "disabled"})
		n.connect(t, src.ID, dst, "")
		e := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{}`))).EventID)
		if ds := n.deliveries(t, e); e.Status != volley.EventPending || len(ds) != 1 || ds[0].State != volley.DeliveryHeld {
			t.Fatalf("event status %q, deliveries %+v; want pending with one held delivery", e.Status, ds)
		}
	})

	t.Run("disabled connection only", func(t *testing.T) {
		t.Parallel()
		src := n.newSource(t, nil)
		n.connect(t, src.ID, n.newDestination(t, newSink(t).URL()), "disabled")
		e := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{}`))).EventID)
		if e.Status != volley.EventDropped || len(n.deliveries(t, e)) != 0 {
			t.Fatalf("event status %q with %d deliveries, want dropped with none", e.Status, len(n.deliveries(t, e)))
		}
	})

	t.Run("disabled beside enabled", func(t *testing.T) {
		t.Parallel()
		src := n.newSource(t, nil)
		on, off := newSink(t), newSink(t)
		enabled := n.connect(t, src.ID, n.newDestination(t, on.URL()), "")
		n.connect(t, src.ID, n.newDestination(t, off.URL()), "disabled")
		e := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{}`))).EventID)
		ds := n.deliveries(t, e)
		if len(ds) != 1 || ds[0].ConnectionID != enabled {
			t.Fatalf("deliveries %+v, want one on connection %d", ds, enabled)
		}
		on.waitDelivered(t, e.EventID)
		if off.count() != 0 {
			t.Fatalf("the disabled connection's destination got %d requests", off.count())
		}
	})

	t.Run("disabled after a first event", func(t *testing.T) {
		t.Parallel()
		src := n.newSource(t, nil)
		conn := n.connect(t, src.ID, n.newDestination(t, newSink(t).URL()), "")
		accepted(t, n.post(t, src.IngestionID, []byte(`{}`))) // caches the route
		n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", conn), map[string]any{"status": "disabled"})
		e := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{}`))).EventID)
		if e.Status != volley.EventDropped {
			t.Fatalf("event status %q after disabling the only connection, want dropped", e.Status)
		}
	})
}

func TestIngestConcurrentRequests(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src, k := n.routed(t, nil)

	const total = 200
	ids := make([]string, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	for i := range total {
		wg.Go(func() {
			r, err := tryHook(n.srv.URL, src.IngestionID, hookRequest{Body: bodyOf(fmt.Sprintf(`{"i":%d}`, i))})
			if err == nil && r.Status != http.StatusAccepted {
				err = fmt.Errorf("request %d: status %d %s", i, r.Status, r.Body)
			}
			if err == nil {
				var a acceptedBody
				err = json.Unmarshal(r.Body, &a)
				ids[i] = a.EventID
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, id := range ids {
		if !strings.HasPrefix(id, "evt_") || seen[id] {
			t.Fatalf("request %d: event id %q missing or repeated", i, id)
		}
		seen[id] = true
	}
	if got := n.total(t, src.ID); got != total {
		t.Fatalf("%d events listed, want %d", got, total)
	}
	eventually(t, "every event to reach the sink", func() bool {
		for _, id := range ids {
			if len(k.of(id)) == 0 {
				return false
			}
		}
		return true
	})
}

func TestSendWebhook(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src, k := n.routed(t, nil)
	var dst struct {
		Connections []struct{ DestinationID uint64 } `json:"connections"`
	}
	n.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/connections", n.acct.ProjectID), nil).JSON(t, &dst)
	destID := dst.Connections[0].DestinationID

	resp := n.must(t, http.StatusAccepted, "POST", "/api/webhooks", map[string]any{
		"source_id": src.ID, "destination_id": destID,
		"body": map[string]any{"order": 7, "item": "tea"}, "headers": map[string]string{"X-Custom": "yes"},
	})
	var out struct {
		Message string `json:"message"`
		EventID string `json:"event_id"`
	}
	resp.JSON(t, &out)
	if out.Message != "Webhook sent" || !strings.HasPrefix(out.EventID, "evt_") {
		t.Fatalf("POST /api/webhooks answered %s", resp.Body)
	}
	got := k.waitDelivered(t, out.EventID)[0]
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil || body["order"] != 7.0 || body["item"] != "tea" {
		t.Errorf("sink got body %q (%v)", got.Body, err)
	}
	if got.Header.Get("X-Custom") != "yes" || !strings.HasPrefix(got.Header.Get("Content-Type"), "application/json") {
		t.Errorf("sink got headers %v", got.Header)
	}
	if e := n.event(t, out.EventID); e.SourceID != src.ID {
		t.Errorf("event stored on source %d, want %d", e.SourceID, src.ID)
	}

	// Bad input.
	otherTenant := n.srv.NewAccount(t, "other@example.com", "other")
	var foreign source
	fr := n.srv.Do(t, testserver.Request{Method: "POST", Path: fmt.Sprintf("/api/projects/%d/sources", otherTenant.ProjectID),
		Token: otherTenant.Token, Body: map[string]any{"name": "Foreign secret source"}})
	if fr.Status != http.StatusCreated {
		t.Fatalf("other tenant's source: %d %s", fr.Status, fr.Body)
	}
	fr.JSON(t, &foreign)
	disabledDest := n.newDestination(t, k.URL())
	n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", disabledDest), map[string]any{"status": "disabled"})
	var otherProject struct {
		ID uint64 `json:"id"`
	}
	n.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Elsewhere"}).JSON(t, &otherProject)
	var od struct {
		ID uint64 `json:"id"`
	}
	n.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/destinations", otherProject.ID),
		map[string]any{"name": "Elsewhere", "url": k.URL()}).JSON(t, &od)
	otherProjectDest := od.ID
	disabled := n.newSource(t, map[string]any{"status": "disabled"})
	missing := uint64(999999)

	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"missing source_id", map[string]any{"body": map[string]any{}}, 400},
		{"source of another tenant", map[string]any{"source_id": foreign.ID, "body": map[string]any{}}, 400},
		{"source that does not exist", map[string]any{"source_id": missing, "body": map[string]any{}}, 400},
		{"destination that does not exist", map[string]any{"source_id": src.ID, "destination_id": missing, "body": map[string]any{}}, 400},
		{"destination of another project", map[string]any{"source_id": src.ID, "destination_id": otherProjectDest, "body": map[string]any{}}, 400},
		{"disabled destination, not connected", map[string]any{"source_id": src.ID, "destination_id": disabledDest, "body": map[string]any{}}, 409},
		{"disabled source", map[string]any{"source_id": disabled.ID, "body": map[string]any{}}, 409},
		{"missing body", map[string]any{"source_id": src.ID}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := n.api(t, "POST", "/api/webhooks", tc.body)
			if r.Status != tc.want {
				t.Fatalf("status %d %s, want %d", r.Status, r.Body, tc.want)
			}
			if strings.Contains(string(r.Body), "Foreign") || strings.Contains(string(r.Body), foreign.IngestionID) || strings.Contains(string(r.Body), foreign.Slug) {
				t.Fatalf("error leaks the other tenant's source: %s", r.Body)
			}
		})
	}
	// The other tenant's source and a missing one are indistinguishable.
	a := n.api(t, "POST", "/api/webhooks", map[string]any{"source_id": foreign.ID, "body": map[string]any{}})
	b := n.api(t, "POST", "/api/webhooks", map[string]any{"source_id": missing, "body": map[string]any{}})
	if strings.ReplaceAll(string(a.Body), fmt.Sprint(foreign.ID), "N") != strings.ReplaceAll(string(b.Body), fmt.Sprint(missing), "N") {
		t.Errorf("another tenant's source answers %s, a missing one %s", a.Body, b.Body)
	}
	if got := n.total(t, src.ID); got != 1 {
		t.Errorf("%d events on the source, want only the one sent", got)
	}
}
