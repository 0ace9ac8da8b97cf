package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConnectionFilterForm drives the connection form's filter editor and
// its test pane without JavaScript: JSON errors and the API's refusals
// next to their section, a test that explains a mismatch, a saved filter
// that leaves an event out as "filtered" (not failed) on the events list
// and the event page, and a member who reads and tests the filter but
// cannot change it.
func TestConnectionFilterForm(t *testing.T) {
	t.Parallel()
	srv, _, owner, member := shellSetup(t)
	member.get(fmt.Sprintf("/orgs/%d", srv.Admin.Org.ID))
	p := newPipeline(t, srv, http.StatusOK, `{}`)
	small := p.send(t, "application/json", `{"type":"order.paid","amount":20}`, nil)
	project := fmt.Sprintf("/projects/%d", srv.Admin.Project.ID)
	conn := fmt.Sprintf("%s/connections/%d", project, p.connectionID)

	pg := owner.get(conn)
	pg.want(t, "the connection form", http.StatusOK, `id="filter_body"`, `id="filter_headers"`, `id="filter_query"`, `id="filter_path"`,
		"Test filter", `<option value="`+small+`" selected>`, "none: every event of the source is delivered")
	checkLabels(t, "the connection form", pg.Body)
	tok := pg.csrf(t)
	form := url.Values{"csrf": {tok}, "name": {"shop-to-orders"}, "status": {"enabled"}, "eps": {""}, "max_retries": {"0"},
		"filter_body": {`{"amount": {"$gte": 100`}, "filter_headers": {""}, "filter_query": {""}, "filter_path": {""}, "transformation_id": {"0"}}

	// Not JSON: in place, as typed. Refused by the API: next to its section.
	owner.post(conn, form).want(t, "a filter that is not JSON", http.StatusBadRequest, `id="filter_body-error"`, "not valid JSON",
		`{&#34;amount&#34;: {&#34;$gte&#34;: 100`)
	form.Set("filter_body", `{"amount": {"$gte": true}}`)
	owner.post(conn, form).want(t, "a filter the API refuses", http.StatusBadRequest, `id="filter_body-error"`, "filter.body.amount.$gte")

	// The test pane runs the filter as typed, unsaved.
	form.Set("filter_body", `{"amount": {"$gte": 100}}`)
	form.Set("filter_headers", `{"content-type": {"$startsWith": "application/"}}`)
	test := url.Values{"sample": {"event"}, "sample_event_id": {small}}
	for k, v := range form {
		test[k] = v
	}
	pg = owner.post(conn+"/test-filter", test)
	pg.want(t, "a test that does not match", http.StatusOK, `id="filter-outcome"`, "Does not match", "body.amount.$gte", "&gt;= 100", "20",
		`value="shop-to-orders"`)
	test.Set("sample", "request")
	test.Set("sample_headers", "Content-Type: application/json")
	test.Set("sample_body", `{"amount": 250}`)
	owner.post(conn+"/test-filter", test).want(t, "a typed request that matches", http.StatusOK, "<strong>Matches:</strong>", "body, headers")
	owner.get(conn).want(t, "the connection after the tests", http.StatusOK, "none: every event of the source is delivered")

	// The new connection form has the editor and the pane too.
	test.Set("name", "")
	owner.post(project+"/connections/new/test-filter", test).want(t, "the new form's test", http.StatusOK, "<strong>Matches:</strong>", "Create connection")

	// Saved: a small order is left out.
	owner.post(conn, form).wantRedirect(t, "save the filter", conn+"?saved=1")
	owner.get(conn).want(t, "the connection with its filter", http.StatusOK, "on <code>body</code>, <code>headers</code>", "&#34;$gte&#34;: 100")
	left := p.send(t, "application/json", `{"type":"order.paid","amount":30}`, nil)
	owner.get(project+"/events?status=filtered").want(t, "the filtered events", http.StatusOK, left, `<span class="badge filtered">filtered</span>`)
	pg = owner.get(project + "/events/" + left)
	pg.want(t, "the filtered event", http.StatusOK, `id="deliveries-table"`, `<span class="badge filtered">filtered</span>`,
		"filter did not match: not delivered, not a failure", "Every connection left it out")
	if strings.Contains(pg.Body, `badge failed`) {
		t.Fatal("the filtered event is shown as failed")
	}

	// A member reads the filter, tests the saved one, and cannot save.
	pg = member.get(conn)
	pg.want(t, "the member's connection page", http.StatusOK, "<h2>Filter</h2>", "&#34;$gte&#34;: 100", "Test filter")
	checkLabels(t, "the member's connection page", pg.Body)
	if strings.Contains(pg.Body, `id="filter_body"`) || strings.Contains(pg.Body, `id="transformation_id"`) {
		t.Fatal("a member sees the filter editor")
	}
	mt := member.get("/account").csrf(t)
	member.post(conn+"/test-filter", url.Values{"csrf": {mt}, "sample": {"event"}, "sample_event_id": {left}}).
		want(t, "a member's test of the saved filter", http.StatusOK, "Does not match", "body.amount.$gte")
	forged := url.Values{"csrf": {mt}}
	for k, v := range form {
		if k != "csrf" {
			forged[k] = v
		}
	}
	forged.Set("filter_body", "")
	member.post(conn, forged).want(t, "a member's forged filter", http.StatusForbidden, "does not allow this")
	owner.get(conn).want(t, "the filter after the forgery", http.StatusOK, "&#34;$gte&#34;: 100")
}

// TestDestinationTransport: the destination form shows and sets
// certificate verification (with its warning) and trace forwarding.
func TestDestinationTransport(t *testing.T) {
	t.Parallel()
	srv, _, owner, member := shellSetup(t)
	member.get(fmt.Sprintf("/orgs/%d", srv.Admin.Org.ID))
	base := fmt.Sprintf("/projects/%d/destinations", srv.Admin.Project.ID)
	pg := owner.get(base + "/new")
	pg.want(t, "the new form", http.StatusOK, `id="insecure_skip_verify"`, `id="forward_traceparent"`, "anyone on the network path")
	checkLabels(t, "the new destination form", pg.Body)
	form := url.Values{"csrf": {pg.csrf(t)}, "name": {"Self-signed"}, "url": {"https://127.0.0.1:9/in"}, "status": {"active"},
		"insecure_skip_verify": {"on"}, "forward_traceparent": {"on"}}
	res := owner.post(base, form)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", res.Status, res.Body)
	}
	page := strings.TrimSuffix(res.Location, "?created=1")
	id := strings.TrimPrefix(page, base+"/")
	var got struct {
		Insecure bool `json:"insecure_skip_verify"`
		Trace    bool `json:"forward_traceparent"`
	}
	api(t, srv, "GET", "/api/destinations/"+id, nil, &got)
	if !got.Insecure || !got.Trace {
		t.Fatalf("after the form: %+v, want both set", got)
	}
	owner.get(page).want(t, "the insecure destination", http.StatusOK, `id="insecure-warning"`,
		`name="insecure_skip_verify" value="on" aria-describedby="insecure_skip_verify-warning" checked`, `name="forward_traceparent" value="on" checked`)
	member.get(page).want(t, "the member's view", http.StatusOK, `id="insecure-warning"`, "not verified", "forwarded (traceparent)")
	form.Del("insecure_skip_verify")
	form.Del("forward_traceparent")
	owner.post(page, form).wantRedirect(t, "turn both off", page+"?saved=1")
	api(t, srv, "GET", "/api/destinations/"+id, nil, &got)
	if got.Insecure || got.Trace {
		t.Fatalf("after unticking: %+v, want both off", got)
	}
	if strings.Contains(owner.get(page).Body, `id="insecure-warning"`) {
		t.Fatal("the warning stays after verification is back on")
	}
}

// TestNotFoundPage: an unknown address gets the console's page (in the
// shell when signed in, one h1, a link home); a known one with the wrong
// method keeps its 405.
func TestNotFoundPage(t *testing.T) {
	t.Parallel()
	srv, _, owner, _ := shellSetup(t)
	for _, b := range []*browser{newBrowser(t, srv.URL), owner} {
		pg := b.get("/no/such/page")
		pg.want(t, "an unknown page", http.StatusNotFound, "<h1>Page not found</h1>", `<a href="/">Back to Volley</a>`, "no page at this address")
		if ct := pg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("the 404 is %s", ct)
		}
	}
	owner.get(fmt.Sprintf("/projects/%d/nothing-here", srv.Admin.Project.ID)).
		want(t, "an unknown page in a project", http.StatusNotFound, "<h1>Page not found</h1>", `<nav class="side"`, "Sign out")
	pg := owner.get(fmt.Sprintf("/projects/%d/transformations/1/delete", srv.Admin.Project.ID))
	if pg.Status != http.StatusMethodNotAllowed || pg.Header.Get("Allow") == "" {
		t.Fatalf("GET of a POST route: %d, Allow %q", pg.Status, pg.Header.Get("Allow"))
	}
}
