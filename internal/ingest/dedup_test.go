package ingest_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

func TestIngestIdempotencyKey(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src, k := n.routed(t, nil)
	other, _ := n.routed(t, nil)

	first := accepted(t, n.post(t, src.IngestionID, []byte(`{"try":1}`), "Idempotency-Key", "order-42"))
	if first.Duplicate {
		t.Fatal("first request reported as a duplicate")
	}
	k.waitDelivered(t, first.EventID)

	second := accepted(t, n.post(t, src.IngestionID, []byte(`{"try":2}`), "Idempotency-Key", "order-42"))
	if second.EventID != first.EventID || !second.Duplicate {
		t.Fatalf("repeated key: %+v, want the original event %s marked duplicate", second, first.EventID)
	}
	if got := n.total(t, src.ID); got != 1 {
		t.Fatalf("%d events stored, want 1", got)
	}
	e := n.event(t, first.EventID)
	if e.RawBody != `{"try":1}` {
		t.Errorf("stored body %q, want the first request's", e.RawBody)
	}
	if ds := n.deliveries(t, e); len(ds) != 1 {
		t.Fatalf("%d deliveries for the event, want 1", len(ds))
	}

	// Another key is another event; once it has arrived, the duplicate has
	// had every chance to arrive too.
	third := accepted(t, n.post(t, src.IngestionID, []byte(`{"try":3}`), "Idempotency-Key", "order-43"))
	if third.EventID == first.EventID || third.Duplicate {
		t.Fatalf("new key: %+v", third)
	}
	k.waitDelivered(t, third.EventID)
	if got := len(k.of(first.EventID)); got != 1 {
		t.Fatalf("sink got event %s %d times, want 1", first.EventID, got)
	}

	// Keys are scoped to their source.
	o := accepted(t, n.post(t, other.IngestionID, []byte(`{"try":1}`), "Idempotency-Key", "order-42"))
	if o.EventID == first.EventID || o.Duplicate {
		t.Fatalf("same key on another source: %+v, want a new event", o)
	}
	if got := n.total(t, other.ID); got != 1 {
		t.Fatalf("other source: %d events, want 1", got)
	}
}

func TestIngestIdempotencyKeyUnderConcurrency(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src := n.newSource(t, nil)

	// Concurrent retries land in the same group commit or in consecutive
	// ones; either way exactly one event is stored and all get its id.
	const tries = 30
	ids := make([]string, tries)
	errs := make([]error, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			r, err := tryHook(n.srv.URL, src.IngestionID, hookRequest{
				Header: http.Header{"Idempotency-Key": {"same"}}, Body: bodyOf(fmt.Sprintf(`{"try":%d}`, i)),
			})
			if err == nil && r.Status != http.StatusAccepted {
				err = fmt.Errorf("try %d: status %d %s", i, r.Status, r.Body)
			}
			errs[i] = err
			ids[i] = r.Header.Get("X-Volley-Event-Id")
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("try %d got event %q, try 0 got %q", i, id, ids[0])
		}
	}
	if got := n.total(t, src.ID); got != 1 {
		t.Fatalf("%d events stored, want 1", got)
	}
}

func TestIngestIdempotencyKeyExpiresAfter24Hours(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	n := setupWith(t, testserver.Options{NowFunc: clk.Now})
	src := n.newSource(t, nil)
	post := func() acceptedBody {
		t.Helper()
		return accepted(t, n.post(t, src.IngestionID, []byte(`{}`), "Idempotency-Key", "k"))
	}

	first := post()
	clk.Advance(24*time.Hour - time.Millisecond)
	if again := post(); again.EventID != first.EventID || !again.Duplicate {
		t.Fatalf("just within 24h: %+v, want a duplicate of %s", again, first.EventID)
	}
	clk.Advance(time.Millisecond)
	fresh := post()
	if fresh.EventID == first.EventID || fresh.Duplicate {
		t.Fatalf("after 24h: %+v, want a new event", fresh)
	}
	clk.Advance(time.Hour)
	if again := post(); again.EventID != fresh.EventID || !again.Duplicate {
		t.Fatalf("the key now names %s, got %+v", fresh.EventID, again)
	}
	if got := n.total(t, src.ID); got != 2 {
		t.Fatalf("%d events stored, want 2", got)
	}
}

func TestIngestProviderDeliveryIDs(t *testing.T) {
	t.Parallel()
	n := setup(t)
	for _, tc := range []struct {
		typ, header string
		dedup       bool
	}{
		{"github", "X-GitHub-Delivery", true},
		{"shopify", "X-Shopify-Webhook-Id", true},
		{"standard_webhooks", "webhook-id", true},
		{"standard_webhooks", "svix-id", true},
		// A generic source does not know what the header means.
		{"webhook", "X-GitHub-Delivery", false},
		// Stripe puts its id in the body, not in a header.
		{"stripe", "X-GitHub-Delivery", false},
	} {
		t.Run(tc.typ+" "+tc.header, func(t *testing.T) {
			t.Parallel()
			src := n.newSource(t, map[string]any{"type": tc.typ})
			a := accepted(t, n.post(t, src.IngestionID, []byte(`{"n":1}`), tc.header, "72d3162e-cc78-11e3-81ab-4c9367dc0958"))
			b := accepted(t, n.post(t, src.IngestionID, []byte(`{"n":1}`), tc.header, "72d3162e-cc78-11e3-81ab-4c9367dc0958"))
			c := accepted(t, n.post(t, src.IngestionID, []byte(`{"n":2}`), tc.header, "another-delivery"))
			want := int64(3)
			if tc.dedup {
				want = 2
				if b.EventID != a.EventID || !b.Duplicate {
					t.Errorf("redelivery: %+v, want the original %s", b, a.EventID)
				}
			} else if b.EventID == a.EventID {
				t.Errorf("deduplicated on %s, which this source type does not define", tc.header)
			}
			if c.EventID == a.EventID {
				t.Errorf("a new delivery id was treated as a redelivery")
			}
			if got := n.total(t, src.ID); got != want {
				t.Errorf("%d events stored, want %d", got, want)
			}
		})
	}
}
