package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// hook sends a webhook to a source's ingestion URL with an API key ("" for
// none) and returns the status.
func hook(t *testing.T, ingestionURL, key, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ingestionURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// one returns the single first group of expr in s, failing the test when
// there is none.
func one(t *testing.T, what, expr, s string) string {
	t.Helper()
	m := regexpAll(expr, s)
	if len(m) == 0 {
		t.Fatalf("%s: no match for %s in:\n%s", what, expr, s)
	}
	return m[0]
}

func TestSourceFlow(t *testing.T) {
	t.Parallel()
	srv, _, owner, _ := shellSetup(t)
	base := fmt.Sprintf("/projects/%d/sources", srv.Admin.Project.ID)
	p := owner.get(base)
	p.want(t, "no sources", http.StatusOK, "No source yet.", "Create a source")
	tok := p.csrf(t)
	form := url.Values{"csrf": {tok}, "name": {"Stripe live"}, "slug": {""}, "type": {"webhook"}, "status": {"active"},
		"eps": {"abc"}, "auth_type": {"api_key"}, "auth_key_name": {""}}

	owner.post(base, url.Values{"name": {"x"}}).want(t, "create without CSRF", http.StatusForbidden, "expired")
	p = owner.post(base, form)
	p.want(t, "create with a bad EPS", http.StatusBadRequest, `id="eps-error"`, "must be a whole number", `value="Stripe live"`)
	form.Set("eps", "10")
	p = owner.post(base, form)
	p.want(t, "create a source", http.StatusOK, "Source created.", `id="auth-key"`, srv.URL+"/hook/")
	key := one(t, "the generated key", `<code id="auth-key">([^<]+)</code>`, p.Body)
	ingestion := one(t, "the ingestion URL", `<code id="ingestion-url">([^<]+)</code>`, p.Body)
	id := one(t, "the source id", `action="`+base+`/([0-9]+)"`, p.Body)
	if hook(t, ingestion, key, `{}`) != http.StatusAccepted || hook(t, ingestion, "", `{}`) != http.StatusUnauthorized {
		t.Fatal("the source does not take its generated key, or takes none")
	}
	// The key is not shown again without asking.
	if p = owner.get(base + "/" + id); strings.Contains(p.Body, key) {
		t.Fatal("the source page shows the key without a reveal")
	}

	// The slug is taken: the API's conflict shows next to the field.
	form.Set("slug", "stripe-live")
	p = owner.post(base, form)
	p.want(t, "create with a taken slug", http.StatusConflict, `id="slug-error"`, "already exists", `aria-invalid="true"`)

	// Edit.
	form.Set("name", "Stripe production")
	owner.post(base+"/"+id, form).wantRedirect(t, "edit the source", base+"/"+id+"?saved=1")
	owner.get(base+"/"+id+"?saved=1").want(t, "the edited source", http.StatusOK, "Source saved.", `value="Stripe production"`, `value="10"`)
	form.Set("type", "nope")
	owner.post(base+"/"+id, form).want(t, "edit with a bad type", http.StatusBadRequest, `id="type-error"`)

	// Reveal needs a POST with the CSRF token; rotate replaces the key.
	owner.get(base+"/"+id+"/credentials").want(t, "reveal by GET", http.StatusMethodNotAllowed)
	owner.post(base+"/"+id+"/credentials", url.Values{}).want(t, "reveal without CSRF", http.StatusForbidden)
	owner.post(base+"/"+id+"/credentials", url.Values{"csrf": {tok}}).want(t, "reveal", http.StatusOK, `<code id="auth-key">`+key+`</code>`, "X-API-Key")
	p = owner.post(base+"/"+id+"/credentials/rotate", url.Values{"csrf": {tok}})
	p.want(t, "rotate", http.StatusOK, "no longer works")
	rotated := one(t, "the rotated key", `<code id="auth-key">([^<]+)</code>`, p.Body)
	if rotated == key || hook(t, ingestion, key, `{}`) != http.StatusUnauthorized || hook(t, ingestion, rotated, `{}`) != http.StatusAccepted {
		t.Fatal("rotation did not replace the key")
	}
	owner.get(base).want(t, "the list", http.StatusOK, "Stripe production", ingestion, `data-copy="`+ingestion+`"`)
}

func TestDestinationFlow(t *testing.T) {
	t.Parallel()
	srv, _, owner, _ := shellSetup(t)
	base := fmt.Sprintf("/projects/%d/destinations", srv.Admin.Project.ID)
	tok := owner.get(base + "/new").csrf(t)
	form := url.Values{"csrf": {tok}, "name": {"Internal"}, "url": {"http://10.1.2.3/hooks"}, "status": {"active"}, "eps": {""}, "timeout_ms": {""}, "headers": {""}}

	// The egress policy refuses a private address: in place, next to the URL.
	p := owner.post(base, form)
	p.want(t, "create to a private address", http.StatusBadRequest, `id="url-error"`, `aria-describedby="url-error"`, `value="http://10.1.2.3/hooks"`, `value="Internal"`)
	urlErr := one(t, "the URL error", `<p class="field-error" id="url-error">([^<]+)</p>`, p.Body)
	if !strings.Contains(urlErr, "10.1.2.3") {
		t.Fatalf("the URL error %q does not name the address", urlErr)
	}
	form.Set("url", "http://127.0.0.1:9/hooks")
	form.Set("headers", "no colon here")
	owner.post(base, form).want(t, "create with bad headers", http.StatusBadRequest, `id="headers-error"`, "line 1")
	form.Set("headers", "X-Team: payments\n")
	p = owner.post(base, form)
	if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Location, "?created=1") {
		t.Fatalf("create: %d %q\n%s", p.Status, p.Location, p.Body)
	}
	page := strings.TrimSuffix(p.Location, "?created=1")
	owner.get(p.Location).want(t, "the new destination", http.StatusOK, "Destination created.", "X-Team: payments", "Reveal secret")

	// The secret: after an explicit POST only; rotation keeps the old one.
	owner.get(page+"/secret").want(t, "reveal by GET", http.StatusMethodNotAllowed)
	p = owner.post(page+"/secret", url.Values{"csrf": {tok}})
	p.want(t, "reveal", http.StatusOK, `id="secret-value"`)
	secret := one(t, "the secret", `<code id="secret-value">(whsec_[^<]+)</code>`, p.Body)
	p = owner.post(page+"/secret/rotate", url.Values{"csrf": {tok}})
	p.want(t, "rotate", http.StatusOK, "Previous secret", secret)
	if one(t, "the new secret", `<code id="secret-value">(whsec_[^<]+)</code>`, p.Body) == secret {
		t.Fatal("rotation kept the secret")
	}

	// Edit: a refused URL keeps the destination as it was.
	form.Set("url", "http://169.254.169.254/latest")
	owner.post(page, form).want(t, "edit to a metadata address", http.StatusBadRequest, `id="url-error"`)
	form.Set("url", "http://127.0.0.1:10/new")
	form.Set("name", "Internal v2")
	owner.post(page, form).wantRedirect(t, "edit", page+"?saved=1")
	owner.get(base).want(t, "the list", http.StatusOK, "Internal v2", "http://127.0.0.1:10/new")
}

func TestConnectionFlow(t *testing.T) {
	t.Parallel()
	srv, _, owner, _ := shellSetup(t)
	base := fmt.Sprintf("/projects/%d/connections", srv.Admin.Project.ID)
	owner.get(base+"/new").want(t, "a connection without sources", http.StatusOK, "Create a source", "Create a destination")
	p := fmt.Sprintf("/api/projects/%d", srv.Admin.Project.ID)
	src := apiID(t, srv, p+"/sources", map[string]any{"name": "GitHub"})
	dst := apiID(t, srv, p+"/destinations", map[string]any{"name": "CI", "url": "http://127.0.0.1:9/ci"})

	pg := owner.get(base + "/new")
	pg.want(t, "the new connection form", http.StatusOK, "GitHub (github)", "CI (http://127.0.0.1:9/ci)")
	tok := pg.csrf(t)
	form := url.Values{"csrf": {tok}, "name": {""}, "source_id": {""}, "destination_id": {fmt.Sprint(dst)}, "eps": {""}, "max_retries": {""}}
	owner.post(base, form).want(t, "create without a source", http.StatusBadRequest, `id="source_id-error"`, "Choose a source.")
	form.Set("source_id", fmt.Sprint(src))
	form.Set("max_retries", "99999")
	owner.post(base, form).want(t, "create with too many retries", http.StatusBadRequest, `id="max_retries-error"`)
	form.Set("max_retries", "3")
	res := owner.post(base, form)
	if res.Status != http.StatusSeeOther || !strings.HasSuffix(res.Location, "?created=1") {
		t.Fatalf("create: %d %q\n%s", res.Status, res.Location, res.Body)
	}
	page := strings.TrimSuffix(res.Location, "?created=1")
	owner.get(res.Location).want(t, "the new connection", http.StatusOK, "Connection created", "github → CI", "badge enabled")
	owner.post(base, form).want(t, "the same pair again", http.StatusConflict, "already connected")

	// Pause from the list, resume and disable from the page.
	owner.post(page+"/status", url.Values{"csrf": {tok}, "status": {"paused"}, "back": {"list"}}).wantRedirect(t, "pause", base+"?status=paused")
	owner.get(base+"?status=paused").want(t, "the list after a pause", http.StatusOK, "Connection paused.", "badge paused", ">Resume<")
	owner.post(page+"/status", url.Values{"csrf": {tok}, "status": {"enabled"}}).wantRedirect(t, "resume", page+"?status=resumed")
	owner.get(page+"?status=resumed").want(t, "the page after resume", http.StatusOK, "Connection enabled.", "badge enabled")
	owner.post(page+"/status", url.Values{"csrf": {tok}, "status": {"nonsense"}}).want(t, "a bad status", http.StatusBadRequest)
	owner.post(page+"/status", url.Values{"csrf": {tok}, "status": {"disabled"}}).wantRedirect(t, "disable", page+"?status=disabled")

	// EPS and retries.
	edit := url.Values{"csrf": {tok}, "name": {"gh to ci"}, "status": {"enabled"}, "eps": {"x"}, "max_retries": {"2"}}
	owner.post(page, edit).want(t, "edit with a bad EPS", http.StatusBadRequest, `id="eps-error"`, `value="gh to ci"`)
	edit.Set("eps", "7")
	owner.post(page, edit).wantRedirect(t, "edit", page+"?saved=1")
	id := strings.TrimPrefix(page, base+"/")
	r := srv.Do(t, testserver.Request{Method: http.MethodGet, Path: "/api/connections/" + id, Token: testserver.AdminToken})
	var got struct {
		Name       string `json:"name"`
		Status     string `json:"status"`
		EPS        int    `json:"eps"`
		MaxRetries int    `json:"max_retries"`
	}
	r.JSON(t, &got)
	if got.Name != "gh to ci" || got.Status != "enabled" || got.EPS != 7 || got.MaxRetries != 2 {
		t.Fatalf("the connection after the edit: %+v", got)
	}
	// A connection of another project is not found under this one.
	owner.get(fmt.Sprintf("/projects/%d/connections/%s", srv.Admin.Project.ID+1000, id)).want(t, "under a foreign project", http.StatusNotFound)
}

func TestMembersFlow(t *testing.T) {
	t.Parallel()
	srv, bob, owner, _ := shellSetup(t)
	base := fmt.Sprintf("/projects/%d", srv.Admin.Project.ID)
	tok := owner.get(base + "/members").csrf(t)

	owner.post(base+"/members", url.Values{"csrf": {tok}, "email": {"not an email"}, "role": {"member"}}).
		want(t, "invite a bad email", http.StatusBadRequest, `id="email-error"`)
	p := owner.post(base+"/members", url.Values{"csrf": {tok}, "email": {"Nina@Example.com"}, "role": {"admin"}})
	p.want(t, "invite", http.StatusOK, "send them the invitation link", "nina@example.com", srv.URL+"/invite/")
	link := one(t, "the link", `<code>(`+srv.URL+`/invite/[^<]+)</code>`, p.Body)
	newBrowser(t, srv.URL).get(strings.TrimPrefix(link, srv.URL)).want(t, "the invitation link", http.StatusOK, "nina@example.com")
	inv := one(t, "the invitation id", `action="`+base+`/invitations/([0-9]+)/revoke"`, p.Body)
	owner.post(base+"/invitations/"+inv+"/revoke", url.Values{}).want(t, "revoke without CSRF", http.StatusForbidden)
	owner.post(base+"/invitations/"+inv+"/revoke", url.Values{"csrf": {tok}}).wantRedirect(t, "revoke", base+"/members?done=revoked")
	newBrowser(t, srv.URL).get(strings.TrimPrefix(link, srv.URL)).want(t, "the revoked link", http.StatusNotFound)
	if p = owner.get(base + "/members"); strings.Contains(p.Body, "nina@example.com") {
		t.Fatal("the revoked invitation is still listed")
	}

	// Roles: bob becomes admin, then is removed.
	owner.post(fmt.Sprintf("%s/members/%d/role", base, bob.AccountID), url.Values{"csrf": {tok}, "role": {"admin"}}).
		wantRedirect(t, "make bob admin", base+"/members?done=role")
	owner.get(base+"/members?done=role").want(t, "bob as admin", http.StatusOK, "Role changed.", `<option value="admin" selected>`)
	owner.post(fmt.Sprintf("%s/members/%d/remove", base, bob.AccountID), url.Values{"csrf": {tok}}).
		wantRedirect(t, "remove bob", base+"/members?done=removed")
	if p = owner.get(base + "/members"); strings.Contains(p.Body, "bob@example.com") {
		t.Fatal("bob is still listed")
	}
	// The last owner cannot demote themselves: the API's message, in place.
	owner.post(fmt.Sprintf("%s/members/%d/role", base, srv.Admin.Account.ID), url.Values{"csrf": {tok}, "role": {"member"}}).
		want(t, "demote the last owner", http.StatusConflict)
}
