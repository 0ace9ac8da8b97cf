package console_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// BenchmarkTrafficPages measures the server time of the traffic pages
// (events, event detail, attempts), signed in, over HTTP on 127.0.0.1, on
// the SQLite store of BenchmarkPages (100,000 events with an attempt
// each, fillStore):
//
//	go test ./internal/console -run '^$' -bench TrafficPages -benchtime 50x
//
// The event the detail page shows came through ingestion and has three
// attempts (one delivery, two replays).
func BenchmarkTrafficPages(b *testing.B) {
	srv := testserver.Start(b, testserver.Options{})
	p := newPipeline(b, srv, http.StatusOK, `{"received":true}`)
	s := site{project: srv.Admin.Project.ID, source: p.sourceID, destination: p.destinationID, connection: p.connectionID}
	fillStore(b, srv.Store, s, s, benchEvents)
	id := p.send(b, "application/json", `{"order":{"id":1,"lines":[{"sku":"A-1","qty":2}],"paid":true}}`, nil)
	p.waitAttempts(b, id, 1)
	for range 2 {
		api(b, srv, "POST", "/api/replay-event", map[string]any{"event_id": id}, nil)
	}
	owner := newBrowser(b, srv.URL)
	owner.signIn(adminEmail, adminPassword)
	first := owner.get(s.path("events"))
	first.want(b, "the events page", http.StatusOK, id)
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.Body)
	if next == nil {
		b.Fatal("the events page has no next page")
	}
	for _, pg := range []struct{ name, path, want string }{
		{"events", s.path("events"), id},
		{"events_by_source_and_status", s.path("events") + fmt.Sprintf("?source_id=%d&status=failed", p.sourceID), "evt_"},
		{"events_older_page", strings.ReplaceAll(next[1], "&amp;", "&"), "evt_"},
		{"event_detail", s.path("events", id), "Replay to"},
		{"attempts", s.path("attempts"), id},
		{"attempts_by_duration", s.path("attempts") + "?sort=duration", "shop-to-orders"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			owner.get(pg.path).want(b, pg.name, http.StatusOK, pg.want)
			for b.Loop() {
				if res := owner.get(pg.path); res.Status != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, res.Status)
				}
			}
		})
	}
}
