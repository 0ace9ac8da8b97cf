package console_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// TestBrowserTraffic is issue 10's end-to-end check in headless Chromium:
// sign in; create a source, a destination (a sink on 127.0.0.1) and a
// connection through the forms; send a webhook from Go; see it arrive in
// the live tail; open it; read its attempt; replay it and see the second
// attempt. A body with <script> and a header trying to break out of an
// attribute are shown as text and run nothing. A member does not see the
// owner's actions. Every page visited passes the accessibility check.
// With -screenshots it also writes docs/console/*.png.
func TestBrowserTraffic(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.NewAccount(t, "bob@example.com", "bob")
	if res := srv.Do(t, testserver.Request{Method: http.MethodPost, Path: "/api/org/members", Token: testserver.AdminToken,
		Org: srv.Admin.Org.ID, Body: map[string]any{"email": "bob@example.com", "role": "member"}}); res.Status/100 != 2 {
		t.Fatalf("add bob: %d %s", res.Status, res.Body)
	}
	sink := newSink(t)
	project := fmt.Sprintf("/projects/%d", srv.Admin.Project.ID)
	c := newChrome(t, srv.URL)

	// Sign in.
	c.open("/signin")
	c.accessible()
	c.fill(`input[name=email]`, adminEmail)
	c.fill(`input[name=password]`, adminPassword)
	c.follow(`main form button[type=submit]`)
	c.wantText("h1", "Overview")
	c.accessible()

	// The pipeline, through the forms.
	p := createThroughForms(t, c, srv, project, sink.URL+"/orders")
	if *screenshots {
		seedRealistic(t, srv, p, sink)
	}
	trafficJourney(t, c, p, project)
}

// trafficJourney is the part of TestBrowserTraffic after the pipeline
// exists, from the live tail to the member's view.
func trafficJourney(t *testing.T, c *chrome, p *pipeline, project string) {
	// The configuration pages, as the screenshots show them.
	for _, page := range []string{"", "sources", "destinations", "connections"} {
		c.open(project + "/" + page)
		c.accessible()
		if page == "" {
			c.screenshotTall("overview", 2000) // down to the backlog charts
			continue
		}
		c.screenshot(page)
	}

	// The live tail: the page is loaded once; the event arrives without a
	// reload (the marker set on the page survives).
	c.open(project + "/events")
	c.accessible()
	c.do("wait for the live tail", chromedp.WaitVisible(chromedp.CSS("#tail")))
	eval[bool](c, `window.loadedOnce = true`)
	id := p.send(t, "application/json", `{"order":{"id":1042,"total":99.5,"currency":"EUR","paid":true,"coupon":null}}`,
		http.Header{"X-Shop-Topic": {"orders/create"}})
	row := fmt.Sprintf(`#events tbody tr[data-event=%q]`, id)
	c.do("see the event in the live tail", chromedp.WaitVisible(chromedp.CSS(row)))
	if !eval[bool](c, `window.loadedOnce === true`) {
		t.Fatal("the page reloaded: the event did not come through the live tail")
	}
	c.screenshot("events")

	// Open it and read its attempt.
	p.waitAttempts(t, id, 1)
	c.follow(row + " a")
	c.wantText("h1", id)
	c.accessible()
	c.wantText("#request-line", "POST /hook/"+p.ingestion+"?topic=orders%2Fcreate")
	c.wantText("#request-body .j-key", `"order"`)
	c.wantText("#timeline li:nth-child(1) h3", "Attempt 1 to")
	c.wantText("#timeline li:nth-child(1) h3", "HTTP 200")

	// Replay it to its one connection: the second attempt appears.
	c.do("choose the connection", chromedp.SetValue(chromedp.CSS("#replay-connection"), fmt.Sprint(p.connectionID)))
	c.follow(`form.replay button[type=submit]`)
	c.wantText(".notice", "Replayed: 1 of 1 attempts succeeded")
	c.wantText("#timeline li:nth-child(2) h3", "Replay to")
	if n := eval[int](c, `document.querySelectorAll("#timeline > li").length`); n != 2 {
		t.Fatalf("%d attempts on the timeline after the replay, want 2", n)
	}
	c.accessible()
	c.screenshotTall("event", 1500)

	// Attacker-controlled bodies and headers are text.
	evil := p.send(t, "text/html", `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`,
		http.Header{"X-Evil": {`"><script>window.pwned = 3</script><b x="`}})
	evilJSON := p.send(t, "application/json", `{"html":"</code></pre><script>window.pwned = 4</script>","<img src=x onerror=window.pwned=5>":1}`, nil)
	for _, ev := range []string{evil, evilJSON} {
		p.waitAttempts(t, ev, 1)
		c.open(project + "/events/" + ev)
		c.accessible()
		if got := eval[string](c, `typeof window.pwned`); got != "undefined" {
			t.Fatalf("event %s: a script of its body or headers ran (window.pwned is %s)", ev, got)
		}
		if n := eval[int](c, `document.querySelectorAll("main script, main img").length`); n != 0 {
			t.Fatalf("event %s: %d script or img elements in the page's main", ev, n)
		}
	}
	c.open(project + "/events/" + evil)
	c.wantText("#request-body", `<script>window.pwned = 1</script>`)
	c.wantText("#request-headers", `"><script>window.pwned = 3</script><b x="`)

	// The attempts list.
	c.open(project + "/attempts?sort=status_code") // failures first
	c.accessible()
	c.wantText("#attempts", id)
	c.screenshot("attempts")

	// A member sees no owner actions.
	c.follow(`header form button[type=submit]`) // sign out
	c.open("/signin")
	c.fill(`input[name=email]`, "bob@example.com")
	c.fill(`input[name=password]`, "password-bob")
	c.follow(`main form button[type=submit]`)
	c.open(project + "/sources")
	c.accessible()
	memberCannotConfigure(t, c, project)
	c.open(project + "/events/" + id)
	c.accessible()
	c.do("a member may replay", chromedp.WaitVisible(chromedp.CSS("form.replay")))
}

// newSink starts a destination on 127.0.0.1 that answers 200 with a small
// JSON body, or 503 under /down.
func newSink(t *testing.T) *httptest.Server {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/down") {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":"maintenance window"}`)
			return
		}
		fmt.Fprint(w, `{"received":true}`)
	}))
	t.Cleanup(sink.Close)
	return sink
}

// createThroughForms creates the source "Shop", the destination "Orders
// service" (to url) and a connection between them with the console's
// forms, and returns them as a pipeline.
func createThroughForms(t *testing.T, c *chrome, srv *testserver.Server, project, url string) *pipeline {
	t.Helper()
	c.open(project + "/sources")
	c.accessible()
	if n := eval[int](c, ownerActions("sources")); n == 0 {
		t.Fatal("the owner sees no way to create a source")
	}
	c.follow(`main a[href$="/sources/new"]`)
	c.accessible()
	c.fill(`main form input[name=name]`, "Shop")
	c.follow(`main form button[type=submit]`)
	c.wantText(".notice", "Source created")
	c.accessible()

	c.open(project + "/destinations/new")
	c.accessible()
	c.fill(`main form input[name=name]`, "Orders service")
	c.fill(`main form input[name=url]`, url)
	c.follow(`main form button[type=submit]`)
	c.wantText(".notice", "Destination created")
	c.accessible()

	p := &pipeline{srv: srv}
	var sources struct {
		Sources []struct {
			ID          uint64 `json:"id"`
			IngestionID string `json:"ingestion_id"`
		} `json:"sources"`
	}
	api(t, srv, "GET", "/api"+project+"/sources", nil, &sources)
	var dests struct {
		Destinations []struct {
			ID uint64 `json:"id"`
		} `json:"destinations"`
	}
	api(t, srv, "GET", "/api"+project+"/destinations", nil, &dests)
	if len(sources.Sources) != 1 || len(dests.Destinations) != 1 {
		t.Fatalf("after the forms: %d sources and %d destinations, want 1 and 1", len(sources.Sources), len(dests.Destinations))
	}
	p.sourceID, p.ingestion = sources.Sources[0].ID, sources.Sources[0].IngestionID

	c.open(project + "/connections/new")
	c.accessible()
	c.fill(`main form input[name=name]`, "shop-to-orders")
	c.do("choose the source and destination",
		chromedp.SetValue(chromedp.CSS(`main form select[name=source_id]`), fmt.Sprint(p.sourceID)),
		chromedp.SetValue(chromedp.CSS(`main form select[name=destination_id]`), fmt.Sprint(dests.Destinations[0].ID)))
	c.follow(`main form button[type=submit]`)
	c.wantText(".notice", "Connection created")
	c.accessible()
	var conns struct {
		Connections []struct {
			ID uint64 `json:"id"`
		} `json:"connections"`
	}
	api(t, srv, "GET", "/api"+project+"/connections", nil, &conns)
	if len(conns.Connections) != 1 {
		t.Fatalf("after the form: %d connections, want 1", len(conns.Connections))
	}
	p.connectionID = conns.Connections[0].ID
	return p
}

// memberCannotConfigure checks, on the sources page a member has open,
// that the owner's actions are not there, and that the forms behind them
// are refused.
func memberCannotConfigure(t *testing.T, c *chrome, project string) {
	t.Helper()
	if n := eval[int](c, ownerActions("sources")); n != 0 {
		t.Fatalf("a member sees %d owner actions on the sources page", n)
	}
	c.open(project + "/destinations")
	c.accessible()
	if n := eval[int](c, ownerActions("destinations")); n != 0 {
		t.Fatalf("a member sees %d owner actions on the destinations page", n)
	}
}

// ownerActions is a script counting, on a list page of what ("sources",
// "destinations"), the links to create one and the forms that change
// something.
func ownerActions(what string) string {
	return fmt.Sprintf(`document.querySelectorAll('main a[href$="/%s/new"], main form[method=post]').length`, what)
}

// seedRealistic adds traffic for the screenshots: more sources, a failing
// destination, and events of several kinds.
func seedRealistic(t *testing.T, srv *testserver.Server, p *pipeline, sink *httptest.Server) {
	t.Helper()
	base := fmt.Sprintf("/api/projects/%d", srv.Admin.Project.ID)
	var down struct {
		ID uint64 `json:"id"`
	}
	api(t, srv, "POST", base+"/destinations", map[string]any{"name": "Billing (staging)", "url": sink.URL + "/down/billing"}, &down)
	var ok struct {
		ID uint64 `json:"id"`
	}
	api(t, srv, "POST", base+"/destinations", map[string]any{"name": "Deploy bot", "url": sink.URL + "/deploys"}, &ok)
	for _, s := range []struct{ name, dest string }{{"Stripe", "billing"}, {"GitHub", "deploys"}} {
		var src struct {
			ID          uint64 `json:"id"`
			IngestionID string `json:"ingestion_id"`
		}
		api(t, srv, "POST", base+"/sources", map[string]any{"name": s.name}, &src)
		dest := ok.ID
		if s.dest == "billing" {
			dest = down.ID
		}
		var conn struct {
			ID uint64 `json:"id"`
		}
		api(t, srv, "POST", base+"/connections", map[string]any{"name": strings.ToLower(s.name) + "-to-" + s.dest,
			"source_id": src.ID, "destination_id": dest, "max_retries": 0}, &conn)
		sp := &pipeline{srv: srv, sourceID: src.ID, connectionID: conn.ID, ingestion: src.IngestionID}
		for i := range 3 {
			var body string
			if s.name == "Stripe" {
				body = fmt.Sprintf(`{"id":"evt_1Q%04d","type":"invoice.payment_failed","data":{"object":{"amount_due":%d,"currency":"usd"}}}`, i, 1900+i*100)
			} else {
				body = fmt.Sprintf(`{"ref":"refs/heads/main","after":"9fceb02d%04d","pusher":{"name":"octocat"}}`, i)
			}
			sp.waitAttempts(t, sp.send(t, "application/json", body, nil), 1)
		}
	}
	for i := range 3 {
		p.waitAttempts(t, p.send(t, "application/json", fmt.Sprintf(`{"order":{"id":%d,"total":%d.90,"currency":"EUR"}}`, 1001+i, 20+i*7), nil), 1)
	}
	// A paused connection holds a backlog that grew over the last six
	// hours: its events are written through the store with their past
	// times, and the backlog sampled (as the node's sampler does every
	// minute) after each.
	var slack struct {
		ID          uint64 `json:"id"`
		IngestionID string `json:"ingestion_id"`
	}
	api(t, srv, "POST", base+"/sources", map[string]any{"name": "Slack"}, &slack)
	var held struct {
		ID uint64 `json:"id"`
	}
	api(t, srv, "POST", base+"/connections", map[string]any{"name": "slack-to-deploys", "source_id": slack.ID,
		"destination_id": ok.ID, "status": "paused"}, &held)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for h := range 6 {
		at := now.Add(time.Duration(h-6)*time.Hour - 10*time.Minute)
		uid, err := volley.NewEventID(rand.Reader, at)
		if err != nil {
			t.Fatal(err)
		}
		_, err = srv.Store.EventInsert(t.Context(), []store.NewEvent{{
			Event: volley.Event{UID: uid, ProjectID: srv.Admin.Project.ID, SourceID: slack.ID, Method: http.MethodPost,
				Headers: http.Header{"Content-Type": {"application/json"}}, Body: fmt.Appendf(nil, `{"type":"message","text":"deploy %d"}`, h), CreatedAt: at},
			Deliveries: []volley.Delivery{{ConnectionID: held.ID, DestinationID: ok.ID, State: volley.DeliveryHeld, NextAttemptAt: at, CreatedAt: at}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Store.BacklogSample(t.Context(), store.BacklogSampleParams{Now: now.Add(time.Duration(h-5) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}
