package metrics_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/testserver"
)

// TestBulkRateCapAfterSlowCommits: with a target no commit can meet, the
// node's ingest commits reach the delivery engine's throttle, which caps
// leasing; /metrics shows the cap, and a series for every kind of bulk work.
func TestBulkRateCapAfterSlowCommits(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{
		IngestCommitTarget: time.Nanosecond,
		Delivery:           delivery.Config{PollInterval: 20 * time.Millisecond},
	})
	n := &node{srv: srv, pid: srv.AdminAccount().ProjectID}
	src := n.create(t, "sources", map[string]any{"name": "slow"})
	waitFor(t, srv.URL+"/metrics", testserver.AdminToken, "a cap on leasing", func(fams map[string]family) bool {
		if status := n.hook(t, src.IngestionID, nil, `{"n":1}`); status != http.StatusAccepted {
			t.Fatalf("ingest: status %d", status)
		}
		for _, work := range []string{"lease", "retention", "replay"} {
			for _, name := range []string{"volley_bulk_rate_cap", "volley_bulk_yield_given_up_total"} {
				if _, ok := value(fams, name, "work="+work); !ok {
					t.Fatalf("no %s series for %s", name, work)
				}
			}
		}
		v, _ := value(fams, "volley_bulk_rate_cap", "work=lease")
		return v > 0
	})
}

// TestNoBulkRateCapWhenOff: with the target off, bulk work never yields and
// the gauge is not exposed.
func TestNoBulkRateCapWhenOff(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{IngestCommitTarget: -1})
	status, body := scrape(t, srv.URL+"/metrics", testserver.AdminToken)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", status)
	}
	for _, name := range []string{"volley_bulk_rate_cap", "volley_bulk_yield_given_up_total"} {
		if _, ok := parse(t, body)[name]; ok {
			t.Fatalf("%s exposed with the ingest commit target off", name)
		}
	}
}
