package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// shellSetup starts a node whose admin organization also has a member
// (bob, role member) and returns the node with a browser signed in as
// each.
func shellSetup(t *testing.T) (srv *testserver.Server, bob *testserver.Account, owner, member *browser) {
	t.Helper()
	srv = testserver.Start(t, testserver.Options{})
	bob = srv.NewAccount(t, "bob@example.com", "bob")
	res := srv.Do(t, testserver.Request{Method: http.MethodPost, Path: "/api/org/members", Token: testserver.AdminToken,
		Org: srv.Admin.Org.ID, Body: map[string]any{"email": "bob@example.com", "role": "member"}})
	if res.Status != http.StatusCreated && res.Status != http.StatusOK {
		t.Fatalf("add bob: %d %s", res.Status, res.Body)
	}
	owner, member = newBrowser(t, srv.URL), newBrowser(t, srv.URL)
	owner.signIn(adminEmail, adminPassword)
	member.signIn("bob@example.com", "password-bob")
	return srv, bob, owner, member
}

func TestShellHomeAndSwitchers(t *testing.T) {
	t.Parallel()
	srv, bob, owner, member := shellSetup(t)
	adminProject := fmt.Sprintf("/projects/%d/", srv.Admin.Project.ID)

	newBrowser(t, srv.URL).get("/").wantRedirect(t, "/ signed out", "/signin")
	owner.get("/").wantRedirect(t, "/ for the owner", adminProject)

	p := owner.get(adminProject)
	p.want(t, "the overview", http.StatusOK, "<h1>Overview of", `id="org-switcher"`, `id="project-switcher"`,
		`aria-current="page">Overview</a>`, `href="`+adminProject+`events"`, `href="`+adminProject+`sources"`,
		`href="`+adminProject+`connections"`, `href="`+adminProject+`members"`, "No traffic yet")
	if n := strings.Count(p.Body, "<h1"); n != 1 {
		t.Fatalf("the overview has %d h1 elements", n)
	}
	csp := p.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("headers %v", p.Header)
	}
	if strings.Contains(p.Body, "<style") || strings.Contains(p.Body, " style=") || strings.Contains(p.Body, "<script>") {
		t.Fatal("the page has inline style or script, which the CSP blocks")
	}

	// Bob belongs to two organizations, listed by id: the admin's first.
	// / opens it; after he switches to his own, / remembers that one.
	member.get("/").wantRedirect(t, "/ for bob", adminProject)
	bobProject := fmt.Sprintf("/projects/%d/", bob.ProjectID)
	member.get(fmt.Sprintf("/orgs/%d", bob.OrgID)).wantRedirect(t, "switch bob to his organization", bobProject)
	member.get(bobProject).want(t, "bob's own project", http.StatusOK, "Overview of", "bob")
	member.get("/").wantRedirect(t, "/ after a switch", bobProject)

	// Someone else's project is not found, whether it exists or not.
	eve := srv.NewAccount(t, "eve@example.com", "eve")
	owner.get(fmt.Sprintf("/projects/%d/", eve.ProjectID)).want(t, "another organization's project", http.StatusNotFound, "no such project")
	owner.get("/projects/999999/").want(t, "a missing project", http.StatusNotFound, "no such project")
	owner.get(fmt.Sprintf("/orgs/%d", eve.OrgID)).want(t, "another organization", http.StatusNotFound, "not one of its members")
	newBrowser(t, srv.URL).get(adminProject).wantRedirect(t, "a project signed out", "/signin?next="+url.QueryEscape(adminProject))
}

func TestShellAssets(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	b := newBrowser(t, srv.URL)
	p := b.get("/signin")
	css := regexpAll(`href="(/assets/console\.css\?v=[0-9a-f]+)"`, p.Body)
	js := regexpAll(`src="(/assets/console\.js\?v=[0-9a-f]+)"`, p.Body)
	if len(css) != 1 || len(js) != 1 {
		t.Fatalf("asset links css %v js %v in:\n%s", css, js, p.Body)
	}
	for _, tc := range []struct{ path, ctype, text string }{
		{css[0], "text/css; charset=utf-8", "focus-visible"},
		{js[0], "text/javascript; charset=utf-8", "volleyEnhance"},
	} {
		a := b.get(tc.path)
		a.want(t, tc.path, http.StatusOK, tc.text)
		if a.Header.Get("Content-Type") != tc.ctype || !strings.Contains(a.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s headers %v", tc.path, a.Header)
		}
	}
	if a := b.get("/assets/console.css?v=old"); strings.Contains(a.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("an old version is cached for good: %v", a.Header)
	}
	b.get("/assets/nope.js").want(t, "a missing asset", http.StatusNotFound)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	srv, _, owner, _ := shellSetup(t)
	p := owner.get("/account/tokens")
	p.want(t, "the tokens page", http.StatusOK, "<h1>API tokens</h1>", `aria-current="page">Settings</a>`,
		`<a href="/account/tokens" aria-current="page">API tokens</a>`, "Create a token")
	tok := p.csrf(t)

	owner.post("/account/tokens", url.Values{"name": {"deploy"}, "expires": {"30d"}}).want(t, "create without CSRF", http.StatusForbidden)
	owner.post("/account/tokens", url.Values{"csrf": {tok}, "name": {""}, "expires": {"30d"}}).
		want(t, "create without a name", http.StatusBadRequest, `aria-invalid="true"`, "name")
	owner.post("/account/tokens", url.Values{"csrf": {tok}, "name": {"deploy"}, "expires": {"forever"}}).
		want(t, "create with a bad expiry", http.StatusBadRequest, "Choose when the token expires.")
	p = owner.post("/account/tokens", url.Values{"csrf": {tok}, "name": {"deploy <script>"}, "expires": {"30d"}})
	p.want(t, "create a token", http.StatusCreated, "shown only this once", "deploy &lt;script&gt;")
	values := regexpAll(`<code id="new-token">([^<]+)</code>`, p.Body)
	if len(values) != 1 {
		t.Fatalf("no token value in:\n%s", p.Body)
	}
	// The value works against the API, and is not shown again.
	if res := srv.Do(t, testserver.Request{Method: http.MethodGet, Path: "/api/user", Token: values[0]}); res.Status != http.StatusOK {
		t.Fatalf("the new token: %d %s", res.Status, res.Body)
	}
	p = owner.get("/account/tokens")
	if strings.Contains(p.Body, values[0]) {
		t.Fatal("the token value is shown again")
	}
	ids := regexpAll(`action="/account/tokens/([0-9]+)/revoke" data-confirm="Revoke the token deploy`, p.Body)
	if len(ids) != 1 {
		t.Fatalf("revoke forms %v in:\n%s", ids, p.Body)
	}
	owner.post("/account/tokens/"+ids[0]+"/revoke", url.Values{}).want(t, "revoke without CSRF", http.StatusForbidden)
	owner.post("/account/tokens/"+ids[0]+"/revoke", url.Values{"csrf": {tok}}).wantRedirect(t, "revoke", "/account/tokens?revoked=1")
	if res := srv.Do(t, testserver.Request{Method: http.MethodGet, Path: "/api/user", Token: values[0]}); res.Status != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d %s", res.Status, res.Body)
	}
	owner.post("/account/tokens/"+ids[0]+"/revoke", url.Values{"csrf": {tok}}).want(t, "revoke twice", http.StatusNotFound, "Token not found")
}
