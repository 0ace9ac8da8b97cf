package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestTransformationFlow drives the transformation pages without
// JavaScript, as an owner: create (a compile error in place), test against
// a recent event and a typed request (rewritten, dropped, failed, timed
// out), pick it on a connection, and delete (refused while in use).
func TestTransformationFlow(t *testing.T) {
	t.Parallel()
	srv, _, owner, _ := shellSetup(t)
	p := newPipeline(t, srv, http.StatusOK, `{}`)
	ev := p.send(t, "application/json", `{"order":{"id":7,"total":9.5}}`, nil)
	base := fmt.Sprintf("/projects/%d/transformations", srv.Admin.Project.ID)

	owner.get(base).want(t, "the empty list", http.StatusOK, "No transformation yet", ">New transformation<")
	pg := owner.get(base + "/new")
	pg.want(t, "the new form", http.StatusOK, `<textarea id="code" name="code"`, "return request;", "Create transformation")
	checkLabels(t, "the new form", pg.Body)
	tok := pg.csrf(t)

	// A compile error is shown next to the code, with the code kept.
	form := url.Values{"csrf": {tok}, "name": {"Cents"}, "code": {"(request) => { return request"}}
	owner.post(base, form).want(t, "create with a syntax error", http.StatusBadRequest, `id="code-error"`, `aria-describedby="code-error"`, "(request) =&gt; { return request")
	code := `(request) => {
  console.log("total <script>window.pwned=1</script>", request.body.order.total);
  request.body = {cents: Math.round(request.body.order.total * 100)};
  request.headers["x-cents"] = "yes";
  return request;
}`
	form.Set("code", code)
	res := owner.post(base, form)
	if res.Status != http.StatusSeeOther || !strings.HasSuffix(res.Location, "?created=1") {
		t.Fatalf("create: %d %q\n%s", res.Status, res.Location, res.Body)
	}
	page := strings.TrimSuffix(res.Location, "?created=1")
	pg = owner.get(res.Location)
	pg.want(t, "the new transformation", http.StatusOK, "Transformation created", "No connection runs it yet", "Run test",
		`<option value="`+ev+`" selected>`, "Delete transformation")
	checkLabels(t, "the transformation page", pg.Body)
	if n := strings.Count(pg.Body, "<h1"); n != 1 {
		t.Fatalf("%d h1 elements on the transformation page", n)
	}

	// Test against the recent event: the rewritten request, the logs as text.
	test := url.Values{"csrf": {tok}, "name": {"Cents"}, "code": {code}, "sample": {"event"}, "sample_event_id": {ev}}
	pg = owner.post(page+"/test", test)
	pg.want(t, "the test against an event", http.StatusOK, `id="test-result"`, `id="run-request-line">POST /?topic=orders%2Fcreate`,
		`<span class="j-key">&#34;cents&#34;</span>`, `<span class="j-num">950</span>`, "X-Cents",
		"total &lt;script&gt;window.pwned=1&lt;/script&gt; 9.5")
	if strings.Contains(pg.Body, "<script>window.pwned") {
		t.Fatal("the logs were not escaped")
	}

	// Unsaved code runs; the saved code stays.
	for _, c := range []struct{ what, code, want string }{
		{"null", `(r) => null`, `id="run-dropped"`},
		{"an exception", `(r) => { throw new Error("no <b>way</b>") }`, "no &lt;b&gt;way&lt;/b&gt;"},
		{"an endless loop", `(r) => { for (;;) {} }`, "time limit of 1s"},
	} {
		test.Set("code", c.code)
		owner.post(page+"/test", test).want(t, "a test of "+c.what, http.StatusOK, c.want, "Nothing was sent")
	}
	test.Set("code", "(r) => {")
	owner.post(page+"/test", test).want(t, "a test of code that does not compile", http.StatusBadRequest, `id="code-error"`, "The test did not run")

	// A typed request.
	test.Set("code", code)
	req := url.Values{"csrf": {tok}, "sample": {"request"}, "sample_path": {"/orders/9?topic=paid"},
		"sample_headers": {"X-Shop: acme\n"}, "sample_body": {`{"order":{"total":1.25}}`}}
	owner.post(page+"/test", req).want(t, "a test of a typed request", http.StatusOK,
		`id="run-request-line">POST /orders/9?topic=paid`, `<span class="j-num">125</span>`, "X-Shop")
	req.Set("sample_headers", "no colon")
	owner.post(page+"/test", req).want(t, "a typed request with a bad header", http.StatusBadRequest, `id="sample_headers-error"`, "line 1")
	req.Set("sample_headers", "")
	req.Set("sample", "event")
	req.Set("sample_event_id", "evt_nope")
	owner.post(page+"/test", req).want(t, "a test of an unknown event", http.StatusNotFound, `id="sample_event_id-error"`)

	// Pick it on the connection (the connection form's select), then delete.
	conn := fmt.Sprintf("/projects/%d/connections/%d", srv.Admin.Project.ID, p.connectionID)
	tid := strings.TrimPrefix(page, base+"/")
	owner.get(conn).want(t, "the connection form", http.StatusOK, `<option value="0">No transformation</option>`, `<option value="`+tid+`">Cents</option>`)
	owner.post(conn, url.Values{"csrf": {tok}, "name": {"shop-to-orders"}, "status": {"enabled"}, "transformation_id": {tid}}).
		wantRedirect(t, "pick the transformation", conn+"?saved=1")
	owner.get(conn).want(t, "the connection with its transformation", http.StatusOK, `<option value="`+tid+`" selected>Cents</option>`,
		`<a href="`+page+`">Cents</a> rewrites each request`)
	owner.get(base).want(t, "the list", http.StatusOK, "shop-to-orders")
	owner.post(page+"/delete", url.Values{"csrf": {tok}}).want(t, "delete while in use", http.StatusConflict, "a connection runs it", "shop-to-orders")
	owner.post(conn, url.Values{"csrf": {tok}, "name": {"shop-to-orders"}, "status": {"enabled"}, "transformation_id": {"0"}}).
		wantRedirect(t, "remove the transformation", conn+"?saved=1")
	owner.post(page+"/delete", url.Values{"csrf": {tok}}).wantRedirect(t, "delete", base+"?deleted=1")
	owner.get(base+"?deleted=1").want(t, "the list after the deletion", http.StatusOK, "Transformation deleted.", "No transformation yet")
	owner.get(page).want(t, "the deleted transformation", http.StatusNotFound)
}

// TestTransformationMember: a member reads the code and tests it, sees
// no owner action, and every change forged by a member is refused.
func TestTransformationMember(t *testing.T) {
	t.Parallel()
	srv, _, _, member := shellSetup(t)
	member.get(fmt.Sprintf("/orgs/%d", srv.Admin.Org.ID))
	p := newPipeline(t, srv, http.StatusOK, `{}`)
	ev := p.send(t, "application/json", `{"n":1}`, nil)
	tid := apiID(t, srv, fmt.Sprintf("/api/projects/%d/transformations", srv.Admin.Project.ID),
		map[string]any{"name": "Tag <i>it</i>", "code": `(r) => { r.headers["x-tag"] = "1"; return r; }`})
	base := fmt.Sprintf("/projects/%d/transformations", srv.Admin.Project.ID)
	page := fmt.Sprintf("%s/%d", base, tid)

	pg := member.get(base)
	pg.want(t, "the member's list", http.StatusOK, "Tag &lt;i&gt;it&lt;/i&gt;")
	if strings.Contains(pg.Body, "New transformation") {
		t.Fatal("a member sees New transformation")
	}
	pg = member.get(page)
	pg.want(t, "the member's page", http.StatusOK, `id="code-view"`, "x-tag", "Run test", "Only owners and admins")
	checkLabels(t, "the member's page", pg.Body)
	for _, owners := range []string{"Save transformation", "Delete transformation", `name="code"`} {
		if strings.Contains(pg.Body, owners) {
			t.Fatalf("a member sees %q", owners)
		}
	}
	member.get(base+"/new").want(t, "the member's new form", http.StatusOK, "Only owners and admins can write a transformation")
	tok := pg.csrf(t)
	member.post(page+"/test", url.Values{"csrf": {tok}, "sample": {"event"}, "sample_event_id": {ev}}).
		want(t, "a member's test", http.StatusOK, `id="run-request-line"`, "X-Tag")
	for _, f := range []struct {
		path string
		form url.Values
	}{
		{base, url.Values{"name": {"evil"}, "code": {"(r) => r"}}},
		{page, url.Values{"name": {"evil"}, "code": {"(r) => null"}}},
		{page + "/delete", nil},
	} {
		form := url.Values{"csrf": {tok}}
		for k, v := range f.form {
			form[k] = v
		}
		member.post(f.path, form).want(t, "a member's forged POST "+f.path, http.StatusForbidden, "does not allow this")
	}
	var got struct {
		Name string `json:"name"`
	}
	api(t, srv, "GET", fmt.Sprintf("/api/transformations/%d", tid), nil, &got)
	if got.Name != "Tag <i>it</i>" {
		t.Fatalf("after the forgeries the transformation is %+v", got)
	}
}
