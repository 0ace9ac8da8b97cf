package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
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
	}
	// The connection's page charts its own deliveries.
	owner.get(fmt.Sprintf("/projects/%d/connections/%d", srv.Admin.Project.ID, fail.connection)).
		want(t, "the failing connection", http.StatusOK, "2 routed, 0 delivered, 2 failed in total")
}
