package console_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/volleyhq/volley/internal/testserver"
)

// TestBrowserRules is issue 13's console check in headless Chromium: write
// a transformation, test it against a recent event without a reload and
// read the rewritten body; a <script> in its code and its logs stays text;
// set a filter on the connection (tested first in the form) and pick the
// transformation; a webhook the filter leaves out ends up "filtered", one
// it takes is delivered through the transformation. The 404 page, and a
// member who tests but sees no owner action. Every page passes the
// accessibility check; with -screenshots it writes
// docs/console/transformation.png and connection.png.
func TestBrowserRules(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.NewAccount(t, "bob@example.com", "bob")
	if res := srv.Do(t, testserver.Request{Method: http.MethodPost, Path: "/api/org/members", Token: testserver.AdminToken,
		Org: srv.Admin.Org.ID, Body: map[string]any{"email": "bob@example.com", "role": "member"}}); res.Status/100 != 2 {
		t.Fatalf("add bob: %d %s", res.Status, res.Body)
	}
	p := newPipeline(t, srv, http.StatusOK, `{"received":true}`)
	project := fmt.Sprintf("/projects/%d", srv.Admin.Project.ID)
	first := p.send(t, "application/json", `{"order":{"id":1042,"total":99.5,"currency":"EUR"}}`, http.Header{"X-Shop": {"acme"}})
	c := newChrome(t, srv.URL)
	signInChrome(c, adminEmail, adminPassword)

	// Write a transformation.
	c.open(project + "/transformations")
	c.accessible()
	c.follow(`main a[href$="/transformations/new"]`)
	c.accessible()
	c.fill(`#name`, "Cents")
	code := `(request) => {
  console.log("<script>window.pwned = 1</script> order", request.body.order.id);
  request.body = {id: request.body.order.id, cents: Math.round(request.body.order.total * 100)};
  request.headers["x-tenant"] = request.headers["x-shop"] || "default";
  return request; // </textarea><script>window.pwned = 2</script>
}`
	c.do("type the code", chromedp.SetValue(chromedp.CSS(`#code`), code))
	c.follow(`main form button[type=submit]`)
	c.wantText(".notice", "Transformation created")
	c.accessible()
	c.wantText("#code", "</textarea><script>window.pwned = 2</script>")

	// Test it against the recent event (selected first) without a reload.
	c.wantText("#sample_event_id", first)
	eval[bool](c, `window.loadedOnce = true`)
	c.do("run the test", chromedp.Click(chromedp.CSS(`button[data-run-test]`), chromedp.NodeVisible))
	c.wantText("#run-body", `"cents"`)
	c.wantText("#run-body", "9950")
	c.wantText("#run-headers", "acme")
	c.wantText("#run-logs", "<script>window.pwned = 1</script> order 1042")
	if !eval[bool](c, `window.loadedOnce === true`) {
		t.Fatal("the page reloaded: the test did not run in place")
	}
	if got := eval[string](c, `typeof window.pwned`); got != "undefined" {
		t.Fatalf("a script of the code or the logs ran (window.pwned is %s)", got)
	}
	if n := eval[int](c, `document.querySelectorAll("main script:not([src]), #test-result img").length`); n != 0 {
		t.Fatalf("%d inline scripts or images in the page's main", n)
	}
	c.accessible()
	eval[bool](c, `window.scrollTo(0, 0), true`) // the top of the page, for the screenshot
	c.screenshotTall("transformation", 1700)

	// The connection: a filter tested in the form, then saved with the
	// transformation.
	conn := fmt.Sprintf("%s/connections/%d", project, p.connectionID)
	c.open(conn)
	c.accessible()
	c.do("type a filter", chromedp.SetValue(chromedp.CSS(`#filter_body`), `{"order": {"total": {"$gte": 100}}}`))
	c.do("run the filter test", chromedp.Click(chromedp.CSS(`button[data-run-test]`), chromedp.NodeVisible))
	c.wantText("#filter-outcome", "Does not match")
	c.wantText("#filter-reason", "body.order.total.$gte")
	c.accessible()
	tid := eval[string](c, `[...document.querySelectorAll("#transformation_id option")].find(o => o.textContent === "Cents").value`)
	c.do("pick the transformation", chromedp.SetValue(chromedp.CSS(`#transformation_id`), tid))
	c.follow(`main form[novalidate] > button[type=submit]:not([data-run-test])`)
	c.wantText(".notice", "Connection saved")
	c.wantText("#rules-summary", "Cents rewrites each request")
	c.accessible()
	eval[bool](c, `window.scrollTo(0, 0), true`) // the top of the page, for the screenshot
	c.screenshotTall("connection", 1600)

	// A small order is filtered; a big one is transformed and delivered.
	small := p.send(t, "application/json", `{"order":{"id":7,"total":20}}`, nil)
	waitEventStatus(t, p, small, "filtered")
	c.open(project + "/events?status=filtered")
	c.accessible()
	c.wantText(fmt.Sprintf(`#events tr[data-event=%q]`, small), "filtered")
	c.open(project + "/events/" + small)
	c.accessible()
	c.wantText("#deliveries-table", "not delivered, not a failure")
	big := p.send(t, "application/json", `{"order":{"id":8,"total":150}}`, nil)
	p.waitAttempts(t, big, 1)
	c.open(project + "/events/" + big)
	c.wantText("#timeline li:nth-child(1) h3", "HTTP 200")
	c.wantText("#timeline .transformation-logs", "<script>window.pwned = 1</script> order 8")
	if got := eval[string](c, `typeof window.pwned`); got != "undefined" {
		t.Fatalf("a script of the attempt's logs ran (window.pwned is %s)", got)
	}
	c.accessible()

	// An unknown page.
	c.open(project + "/no-such-page")
	c.wantText("h1", "Page not found")
	c.accessible()

	// A member tests, and has no owner action.
	c.follow(`header form button[type=submit]`) // sign out
	signInChrome(c, "bob@example.com", "password-bob")
	c.open(project + "/transformations")
	c.accessible()
	if n := eval[int](c, `document.querySelectorAll('main a[href$="/transformations/new"], main form[method=post]').length`); n != 0 {
		t.Fatalf("a member sees %d owner actions on the transformations list", n)
	}
	c.follow(`#transformations a`)
	c.accessible()
	if n := eval[int](c, `document.querySelectorAll('#code, form[action$="/delete"]').length`); n != 0 {
		t.Fatalf("a member sees %d owner controls on the transformation page", n)
	}
	c.do("run the member's test", chromedp.Click(chromedp.CSS(`button[data-run-test]`), chromedp.NodeVisible))
	c.wantText("#run-body", `"cents"`)
	c.open(conn)
	c.accessible()
	if n := eval[int](c, `document.querySelectorAll('#filter_body, #transformation_id').length`); n != 0 {
		t.Fatal("a member sees the filter editor")
	}
	c.do("pick the small order", chromedp.SetValue(chromedp.CSS(`#sample_event_id`), small))
	c.do("run the member's filter test", chromedp.Click(chromedp.CSS(`button[data-run-test]`), chromedp.NodeVisible))
	c.wantText("#filter-outcome", "Does not match")
}

// signInChrome signs the browser in through the form.
func signInChrome(c *chrome, email, password string) {
	c.t.Helper()
	c.open("/signin")
	c.fill(`input[name=email]`, email)
	c.fill(`input[name=password]`, password)
	c.follow(`main form button[type=submit]`)
	c.wantText("h1", "Overview")
}

// waitEventStatus waits until the event has status.
func waitEventStatus(t *testing.T, p *pipeline, eventID, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ev struct {
			Status string `json:"status"`
		}
		api(t, p.srv, "GET", fmt.Sprintf("/api/projects/%d/events/%s", p.srv.Admin.Project.ID, eventID), nil, &ev)
		if ev.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s is %s, want %s", eventID, ev.Status, status)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}
