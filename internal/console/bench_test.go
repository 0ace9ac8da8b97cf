package console_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// benchEvents is the size of the store the traffic pages are measured on
// (issue 10: every page under 100 ms on a store with 100k events).
const benchEvents = 100_000

// BenchmarkTrafficPages measures the server time of the traffic pages,
// signed in, over HTTP on 127.0.0.1, on a SQLite store of 100k events:
//
//	go test ./internal/console -run '^$' -bench TrafficPages -benchtime 50x
//
// The events are written straight through the store with one delivery and
// one attempt each (100k attempts); the event the detail page shows came
// through ingestion and has three attempts (one delivery, two replays).
func BenchmarkTrafficPages(b *testing.B) {
	srv := testserver.Start(b, testserver.Options{})
	p := newPipeline(b, srv, http.StatusOK, `{"received":true}`)
	seedEvents(b, srv.Store, p, benchEvents)
	id := p.send(b, "application/json", `{"order":{"id":1,"lines":[{"sku":"A-1","qty":2}],"paid":true}}`, nil)
	p.waitAttempts(b, id, 1)
	for range 2 {
		api(b, srv, "POST", "/api/replay-event", map[string]any{"event_id": id}, nil)
	}
	c := signedInClient(b, srv.URL)
	project := fmt.Sprintf("/projects/%d", srv.Admin.Project.ID)
	pages := []struct{ name, path, want string }{
		{"events", project + "/events", id},
		{"events_by_source_and_status", project + fmt.Sprintf("/events?source_id=%d&status=failed", p.sourceID), "evt_"},
		{"events_older_page", "", "evt_"}, // the second page, by its cursor
		{"event_detail", project + "/events/" + id, "Replay to"},
		{"attempts", project + "/attempts", id},
		{"attempts_by_duration", project + "/attempts?sort=duration", "shop-to-orders"},
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(c.get(b, project+"/events", "evt_"))
	if next == nil {
		b.Fatal("the events page has no next page")
	}
	pages[2].path = strings.ReplaceAll(next[1], "&amp;", "&")
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			for b.Loop() {
				c.get(b, pg.path, pg.want)
			}
		})
	}
}

// seedEvents writes n events of the pipeline's source straight through
// the store, 1,000 per transaction, spread over the last week, each with
// one delivery and its one attempt (one in ten failed).
func seedEvents(tb testing.TB, st store.Store, p *pipeline, n int) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	var dest struct {
		DestinationID uint64 `json:"destination_id"`
	}
	api(tb, p.srv, "GET", fmt.Sprintf("/api/connections/%d", p.connectionID), nil, &dest)
	for start := 0; start < n; start += 1000 {
		batch := make([]store.NewEvent, 0, 1000)
		for i := start; i < min(n, start+1000); i++ {
			at := now.Add(-7 * 24 * time.Hour).Add(time.Duration(i) * (7 * 24 * time.Hour / time.Duration(n)))
			uid, err := volley.NewEventID(rand.Reader, at)
			if err != nil {
				tb.Fatal(err)
			}
			batch = append(batch, store.NewEvent{
				Event: volley.Event{UID: uid, ProjectID: p.srv.Admin.Project.ID, SourceID: p.sourceID, Method: http.MethodPost,
					Headers: http.Header{"Content-Type": {"application/json"}}, CreatedAt: at,
					Body: fmt.Appendf(nil, `{"id":%d,"type":"order.created","customer":"cus_%06d","total":%d.50}`, i, i%1000, i%300)},
				Deliveries: []volley.Delivery{{ConnectionID: p.connectionID, DestinationID: dest.DestinationID,
					State: volley.DeliveryPending, NextAttemptAt: now.Add(365 * 24 * time.Hour)}}, // finished below
			})
		}
		inserted, err := st.EventInsert(ctx, batch)
		if err != nil {
			tb.Fatalf("seed events: %v", err)
		}
		// One attempt each, as the engine records them: one in ten failed.
		outcomes := make([]store.Outcome, len(inserted))
		for j, res := range inserted {
			e := batch[j].Event
			at := e.CreatedAt.Add(time.Duration(5+j%200) * time.Millisecond)
			a := &volley.Attempt{DeliveryID: res.DeliveryIDs[0], EventID: res.ID, EventUID: res.UID, ProjectID: e.ProjectID,
				SourceID: e.SourceID, ConnectionID: p.connectionID, DestinationID: dest.DestinationID, Number: 1,
				Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200, DurationMS: int64(5 + j%200),
				ResponseHeaders: http.Header{"Content-Type": {"application/json"}}, ResponseBody: []byte(`{"ok":true}`), CreatedAt: at}
			state := volley.DeliverySuccess
			if j%10 == 0 {
				a.Status, a.StatusCode, a.ErrorReason, state = volley.AttemptFailed, 503, "HTTP 503", volley.DeliveryFailed
			}
			outcomes[j] = store.Outcome{DeliveryID: res.DeliveryIDs[0], EventID: res.ID, Attempt: a, State: state, Now: at}
		}
		if err := st.DeliveryFinish(ctx, outcomes); err != nil {
			tb.Fatalf("seed attempts: %v", err)
		}
	}
}

// client is a signed-in browser without a browser: a cookie jar.
type client struct {
	base string
	c    *http.Client
}

// signedInClient signs the admin in through the form.
func signedInClient(tb testing.TB, base string) *client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := &client{base: base, c: &http.Client{Jar: jar}}
	m := csrfField.FindStringSubmatch(c.get(tb, "/signin", "password"))
	if m == nil {
		tb.Fatal("no CSRF field on the sign-in page")
	}
	form := url.Values{"csrf": {m[1]}, "email": {adminEmail}, "password": {adminPassword}}
	req, err := http.NewRequest(http.MethodPost, base+"/signin", strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return c
}

// get fetches a page, failing unless it is a 200 containing want.
func (c *client) get(tb testing.TB, path, want string) string {
	tb.Helper()
	resp, err := c.c.Get(c.base + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
		tb.Fatalf("GET %s: %d, want 200 with %q:\n%.2000s", path, resp.StatusCode, want, b)
	}
	return string(b)
}
