package console_test

import (
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// benchEvents is the size of the store the page benchmarks read.
const benchEvents = 100_000

// fillStore writes n events over the last 7 days through the store, in
// batches of 2,000 as internal/bench does: each routed to one of the
// site's two connections and settled with one attempt (one in twenty
// failed), the newest 100 left held. BenchmarkPages then samples the
// backlog once an hour over the last 30 days.
func fillStore(b *testing.B, st store.Store, s site, second site, n int) {
	b.Helper()
	ctx := b.Context()
	end := time.Now().UTC().Truncate(time.Microsecond)
	span := 7 * 24 * time.Hour
	step := span / time.Duration(n)
	headers := http.Header{"Content-Type": {"application/json"}}
	body := []byte(`{"type":"invoice.paid","data":{"object":{"id":"in_1","amount_paid":4200,"currency":"usd"}}}`)
	for first := 0; first < n; first += 2000 {
		batch := make([]store.NewEvent, 0, 2000)
		for i := first; i < min(first+2000, n); i++ {
			at := end.Add(-span + step*time.Duration(i+1)).Truncate(time.Microsecond)
			uid, err := volley.NewEventID(rand.Reader, at)
			if err != nil {
				b.Fatal(err)
			}
			r := s
			if i%5 == 4 {
				r = second
			}
			d := volley.Delivery{ConnectionID: r.connection, DestinationID: r.destination, State: volley.DeliveryPending,
				NextAttemptAt: end.Add(24 * time.Hour), CreatedAt: at}
			if i >= n-100 {
				d.State = volley.DeliveryHeld
			}
			batch = append(batch, store.NewEvent{
				Event:      volley.Event{UID: uid, ProjectID: r.project, SourceID: r.source, Method: http.MethodPost, Headers: headers, Body: body, CreatedAt: at},
				Deliveries: []volley.Delivery{d},
			})
		}
		inserted, err := st.EventInsert(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		outcomes := make([]store.Outcome, 0, len(inserted))
		for j, res := range inserted {
			i, e, d := first+j, batch[j].Event, batch[j].Deliveries[0]
			if d.State == volley.DeliveryHeld {
				continue
			}
			at := e.CreatedAt.Add(20 * time.Millisecond)
			a := &volley.Attempt{DeliveryID: res.DeliveryIDs[0], EventID: res.ID, EventUID: res.UID, ProjectID: e.ProjectID,
				SourceID: e.SourceID, ConnectionID: d.ConnectionID, DestinationID: d.DestinationID, Number: 1,
				Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200, DurationMS: 20, CreatedAt: at}
			o := store.Outcome{DeliveryID: res.DeliveryIDs[0], EventID: res.ID, Attempt: a, State: volley.DeliverySuccess, Now: at}
			if i%20 == 0 {
				a.Status, a.StatusCode, a.ErrorReason = volley.AttemptFailed, 500, "HTTP 500"
				o.State = volley.DeliveryFailed
			}
			outcomes = append(outcomes, o)
		}
		if err := st.DeliveryFinish(ctx, outcomes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPages renders the console's pages for a signed-in owner, over
// HTTP on 127.0.0.1, on a SQLite store of 100,000 events: what a person
// waits for, less the network. Target: under 100 ms each (docs/benchmarks.md).
//
//	go test ./internal/console -run '^$' -bench Pages -benchtime 50x
func BenchmarkPages(b *testing.B) {
	srv := testserver.Start(b, testserver.Options{})
	s := newSite(b, srv, "Shop", "http://127.0.0.1:9/a")
	second := newSite(b, srv, "Billing", "http://127.0.0.1:9/b")
	start := time.Now()
	fillStore(b, srv.Store, s, second, benchEvents)
	b.Logf("stored %d events in %v", benchEvents, time.Since(start).Round(time.Millisecond))
	// A backlog history in every hour of the overview's windows, as the
	// node's sampler leaves it after 30 days.
	for h := range 30 * 24 {
		if _, err := srv.Store.BacklogSample(b.Context(), store.BacklogSampleParams{Now: start.Add(-time.Duration(h) * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	owner := newBrowser(b, srv.URL)
	owner.signIn(adminEmail, adminPassword)
	for _, pg := range []struct{ name, path string }{
		{"overview", s.path() + "/"},
		{"sources", s.path("sources")},
		{"destinations", s.path("destinations")},
		{"connections", s.path("connections")},
		{"connection", s.path("connections", s.connection)},
		{"members", s.path("members")},
		{"tokens", "/account/tokens"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			owner.get(pg.path).want(b, pg.name, http.StatusOK)
			for b.Loop() {
				if p := owner.get(pg.path); p.Status != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, p.Status)
				}
			}
		})
	}
}
