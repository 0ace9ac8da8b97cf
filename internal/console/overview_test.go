package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// TestOverviewNumbers drives real traffic through a node (webhooks in,
// deliveries to a receiver that accepts one path and refuses another, and
// a paused connection holding one) and checks the overview's figures and
// charts against it.
func TestOverviewNumbers(t *testing.T) {
	t.Parallel()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(receiver.Close)
	srv, _, owner, member := shellSetup(t)
	p := fmt.Sprintf("/api/projects/%d", srv.Admin.Project.ID)
	type route struct{ source, connection uint64 }
	newRoute := func(name, path string) route {
		src := apiID(t, srv, p+"/sources", map[string]any{"name": name})
		dst := apiID(t, srv, p+"/destinations", map[string]any{"name": name, "url": receiver.URL + path})
		return route{src, apiID(t, srv, p+"/connections", map[string]any{"source_id": src, "destination_id": dst, "max_retries": 0})}
	}
	ok, fail, held := newRoute("ok", "/ok"), newRoute("fail", "/fail"), newRoute("held", "/ok")
	if res := srv.Do(t, testserver.Request{Method: http.MethodPut, Path: fmt.Sprintf("/api/connections/%d", held.connection),
		Token: testserver.AdminToken, Body: map[string]any{"status": "paused"}}); res.Status != http.StatusOK {
		t.Fatalf("pause: %d %s", res.Status, res.Body)
	}
	ingestion := func(r route) string {
		res := srv.Do(t, testserver.Request{Method: http.MethodGet, Path: fmt.Sprintf("/api/sources/%d", r.source), Token: testserver.AdminToken})
		var s struct {
			IngestionURL string `json:"ingestion_url"`
		}
		res.JSON(t, &s)
		return s.IngestionURL
	}
	for r, n := range map[route]int{ok: 5, fail: 2, held: 1} {
		u := ingestion(r)
		for i := range n {
			if st := hook(t, u, "", fmt.Sprintf(`{"n":%d}`, i)); st != http.StatusAccepted {
				t.Fatalf("webhook: %d", st)
			}
		}
	}
	// Wait (bounded) until every delivery that can finish has.
	finished := func(r route) (delivered, failed int64) {
		res := srv.Do(t, testserver.Request{Method: http.MethodGet, Path: fmt.Sprintf("/api/connections/%d", r.connection), Token: testserver.AdminToken})
		var c struct {
			Metrics struct {
				Delivered int64 `json:"delivered"`
				Failed    int64 `json:"failed"`
			} `json:"metrics"`
		}
		res.JSON(t, &c)
		return c.Metrics.Delivered, c.Metrics.Failed
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, _ := finished(ok)
		_, f := finished(fail)
		if d == 5 && f == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries did not finish: ok delivered %d, fail failed %d", d, f)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A backlog sample now (the node's sampler took one at start and takes
	// one a minute; this one does not wait for it): the paused
	// connection's one delivery is the backlog.
	if n, err := srv.Store.BacklogSample(t.Context(), store.BacklogSampleParams{Now: time.Now()}); err != nil || n != 1 {
		t.Fatalf("BacklogSample = %d, %v; want one project with a backlog", n, err)
	}

	for _, who := range []*browser{owner, member} {
		pg := who.get(fmt.Sprintf("/projects/%d/", srv.Admin.Project.ID))
		if pg.Status != http.StatusOK {
			// bob is in his own organization until he switches.
			who.get(fmt.Sprintf("/orgs/%d", srv.Admin.Org.ID))
			pg = who.get(fmt.Sprintf("/projects/%d/", srv.Admin.Project.ID))
		}
		pg.want(t, "the overview", http.StatusOK,
			`id="stat-received">8<`, `id="stat-delivered">5<`, `id="stat-failed">2<`, `id="stat-backlog">1<`)
		oldest := one(t, "the oldest pending event", `id="stat-oldest">(.*?)</dd>`, pg.Body)
		if !strings.Contains(oldest, "<time datetime=") {
			t.Fatalf("the oldest pending event is %q", oldest)
		}
		// Both charts hold every event (their periods may split at an hour
		// or a day boundary; their totals cannot).
		for _, id := range []string{"hourly", "daily"} {
			if !strings.Contains(pg.Body, `<figure class="chart" aria-labelledby="`+id+`-title">`) {
				t.Fatalf("no %s chart", id)
			}
		}
		if n := strings.Count(pg.Body, "8 received, 5 delivered, 2 failed in total"); n != 2 {
			t.Fatalf("%d charts total 8/5/2, want both:\n%s", n, pg.Body)
		}
		// The backlog history: per hour and per day, the highest sample of
		// each period (the node's own samples may have caught more of the
		// backlog before the deliveries finished: the store says how much),
		// and the hours before the node started are gaps, not zeros.
		for _, id := range []string{"hourly-backlog", "hourly-age", "daily-backlog", "daily-age"} {
			if !strings.Contains(pg.Body, `<figure class="chart" aria-labelledby="`+id+`-title">`) {
				t.Fatalf("no %s chart:\n%s", id, pg.Body)
			}
		}
		peak := backlogPeak(t, srv)
		if peak < 1 {
			t.Fatalf("the store's backlog history peaks at %d, want at least the held delivery", peak)
		}
		if n := strings.Count(pg.Body, fmt.Sprintf("at most %d pending or held", peak)); n != 2 {
			t.Fatalf("%d backlog charts peak at %d, want both:\n%s", n, peak, pg.Body)
		}
		if !strings.Contains(pg.Body, `<td class="muted">not sampled</td>`) || strings.Contains(pg.Body, "backlog-hourly-empty") {
			t.Fatalf("the hourly backlog has no gap for the hours before the node started:\n%s", pg.Body)
		}
	}
	// The connection's page charts its own deliveries.
	owner.get(fmt.Sprintf("/projects/%d/connections/%d", srv.Admin.Project.ID, fail.connection)).
		want(t, "the failing connection", http.StatusOK, "2 routed, 0 delivered, 2 failed in total")
}

// backlogPeak is the highest backlog the store sampled for the admin's
// project in the last 24 hours.
func backlogPeak(t *testing.T, srv *testserver.Server) int64 {
	t.Helper()
	now := time.Now()
	got, err := srv.Store.ProjectTraffic(t.Context(), store.ProjectTrafficParams{ProjectID: srv.Admin.Project.ID,
		Since: now.Add(-23 * time.Hour), Until: now, Step: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var peak int64
	for _, p := range got.Periods {
		peak = max(peak, p.BacklogMax)
	}
	return peak
}

// TestOverviewBacklogNotSampled checks the backlog's empty states: a node
// whose clock is past every sample's window (the last one was taken 31
// days ago, when it started) says that there are no samples instead of
// drawing zeros.
func TestOverviewBacklogNotSampled(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64 // how far the node's clock is ahead, in nanoseconds
	nodeNow := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	srv := testserver.Start(t, testserver.Options{NowFunc: nodeNow})
	b := newBrowser(t, srv.URL)
	b.signIn(adminEmail, adminPassword)
	overview := fmt.Sprintf("/projects/%d/", srv.Admin.Project.ID)
	// The sampler's first sample is taken by its own goroutine once the
	// node has started: wait for it (bounded) before reading the page.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := srv.Store.ProjectTraffic(t.Context(), store.ProjectTrafficParams{ProjectID: srv.Admin.Project.ID,
			Since: nodeNow().Add(-23 * time.Hour), Until: nodeNow(), Step: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(got.Periods, func(p volley.TrafficPeriod) bool { return p.BacklogSampled }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node took no backlog sample within 30 s of its start")
		}
	}
	if pg := b.get(overview); strings.Contains(pg.Body, "backlog-hourly-empty") || !strings.Contains(pg.Body, `aria-labelledby="hourly-backlog-title"`) {
		t.Fatalf("the overview of a node that sampled at start has no backlog chart:\n%s", pg.Body)
	}
	// The node's sampler takes a sample a minute on the real clock: a page
	// read while one fell in its windows is read again 31 days later.
	sampled := func() bool {
		now := nodeNow()
		got, err := srv.Store.ProjectTraffic(t.Context(), store.ProjectTrafficParams{ProjectID: srv.Admin.Project.ID,
			Since: now.Add(-29 * 24 * time.Hour), Until: now, Step: 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(got.Periods, func(p volley.TrafficPeriod) bool { return p.BacklogSampled })
	}
	for range 5 {
		skew.Add(int64(31 * 24 * time.Hour))
		b = newBrowser(t, srv.URL) // the session is 31 days old
		b.signIn(adminEmail, adminPassword)
		if sampled() {
			continue
		}
		pg := b.get(overview)
		if sampled() {
			continue
		}
		pg.want(t, "the overview with no sample in its windows", http.StatusOK,
			`id="backlog-hourly-empty"`, `id="backlog-daily-empty"`, "No backlog samples in the last 24 hours yet")
		return
	}
	t.Fatal("the node sampled the backlog during every one of 5 page reads")
}
