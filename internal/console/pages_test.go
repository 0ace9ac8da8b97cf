package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// apiID creates a resource through the API as the admin and returns its id.
func apiID(t testing.TB, srv *testserver.Server, path string, body any) uint64 {
	t.Helper()
	res := srv.Do(t, testserver.Request{Method: http.MethodPost, Path: path, Token: testserver.AdminToken, Body: body})
	if res.Status != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, res.Status, res.Body)
	}
	var out struct {
		ID uint64 `json:"id"`
	}
	res.JSON(t, &out)
	return out.ID
}

// site is a source, destination and connection created through the API in
// the admin's project.
type site struct {
	project, source, destination, connection uint64
}

func newSite(t testing.TB, srv *testserver.Server, name, destURL string) site {
	t.Helper()
	p := srv.Admin.Project.ID
	s := site{project: p}
	s.source = apiID(t, srv, fmt.Sprintf("/api/projects/%d/sources", p), map[string]any{"name": name, "auth_type": "api_key"})
	s.destination = apiID(t, srv, fmt.Sprintf("/api/projects/%d/destinations", p), map[string]any{"name": name + " backend", "url": destURL})
	s.connection = apiID(t, srv, fmt.Sprintf("/api/projects/%d/connections", p), map[string]any{
		"source_id": s.source, "destination_id": s.destination, "max_retries": 0})
	return s
}

func (s site) path(elems ...any) string {
	p := fmt.Sprintf("/projects/%d", s.project)
	for _, e := range elems {
		p += fmt.Sprintf("/%v", e)
	}
	return p
}

// TestPagesByRole renders every page of the shell for an owner and for a
// member: one h1 each, labelled controls, owner actions for the owner only,
// and every change a member forges refused by the API.
func TestPagesByRole(t *testing.T) {
	t.Parallel()
	srv, _, owner, member := shellSetup(t)
	s := newSite(t, srv, "Shop <b>orders</b>", "http://127.0.0.1:9/hook")
	invite(t, srv, testserver.AdminToken, "dora@example.com", "member")
	member.get(fmt.Sprintf("/orgs/%d", srv.Admin.Org.ID)) // bob works in the admin's organization

	pages := []struct {
		path    string
		both    []string // shown to both
		actions []string // owner/admin only
	}{
		{s.path() + "/", []string{"Overview of", "Per hour, last 24 hours", "Per day, last 30 days", "backend"}, nil},
		{s.path("sources"), []string{"Shop &lt;b&gt;orders&lt;/b&gt;", "/hook/"}, []string{">New source<"}},
		{s.path("sources", s.source), []string{"ingestion-url"}, []string{"Reveal credentials", "Rotate key", "Save source"}},
		{s.path("sources", "new"), nil, []string{"Create source"}},
		{s.path("destinations"), []string{"backend", "http://127.0.0.1:9/hook"}, []string{">New destination<"}},
		{s.path("destinations", s.destination), []string{"backend"}, []string{"Reveal secret", "Rotate secret", "Save destination"}},
		{s.path("connections"), []string{"backend"}, []string{">New connection<", ">Pause<", ">Disable<"}},
		{s.path("connections", s.connection), []string{"Last 24 hours", "Per hour, last 24 hours"}, []string{">Pause<", "Save connection"}},
		{s.path("members"), []string{"admin@localhost", "bob@example.com"}, []string{"Pending invitations", "dora@example.com", "Change role", "Add or invite"}},
		{"/account", []string{"Organizations"}, nil},
		{"/account/tokens", []string{"Create a token"}, nil},
		{"/account/password", []string{"Current password"}, nil},
		{"/account/sessions", []string{"this session"}, nil},
		{"/cli/approve", []string{"Pairing code"}, nil},
	}
	for _, pg := range pages {
		for _, who := range []struct {
			name  string
			b     *browser
			owner bool
		}{{"owner", owner, true}, {"member", member, false}} {
			p := who.b.get(pg.path)
			p.want(t, who.name+" "+pg.path, http.StatusOK, pg.both...)
			if n := strings.Count(p.Body, "<h1"); n != 1 {
				t.Errorf("%s %s: %d h1 elements", who.name, pg.path, n)
			}
			checkLabels(t, who.name+" "+pg.path, p.Body)
			for _, a := range pg.actions {
				if got := strings.Contains(p.Body, a); got != who.owner {
					t.Errorf("%s %s: shows %q = %v", who.name, pg.path, a, got)
				}
			}
		}
	}

	// Forged changes by the member: each is refused by the API, and nothing
	// changed.
	tok := member.get("/account").csrf(t)
	for _, f := range []struct {
		path string
		form url.Values
	}{
		{s.path("sources"), url.Values{"name": {"evil"}, "type": {"webhook"}, "status": {"active"}, "auth_type": {"none"}}},
		{s.path("sources", s.source), url.Values{"name": {"evil"}, "type": {"webhook"}, "status": {"active"}, "auth_type": {"none"}}},
		{s.path("sources", s.source, "credentials"), nil},
		{s.path("sources", s.source, "credentials", "rotate"), nil},
		{s.path("destinations"), url.Values{"name": {"evil"}, "url": {"http://127.0.0.1:9/x"}}},
		{s.path("destinations", s.destination), url.Values{"name": {"evil"}, "url": {"http://127.0.0.1:9/x"}}},
		{s.path("destinations", s.destination, "secret"), nil},
		{s.path("destinations", s.destination, "secret", "rotate"), nil},
		{s.path("connections"), url.Values{"source_id": {fmt.Sprint(s.source)}, "destination_id": {fmt.Sprint(s.destination)}}},
		{s.path("connections", s.connection, "status"), url.Values{"status": {"paused"}}},
		{s.path("connections", s.connection), url.Values{"name": {"evil"}, "status": {"disabled"}}},
		{s.path("members"), url.Values{"email": {"eve@example.com"}, "role": {"owner"}}},
		{s.path("members", srv.Admin.Account.ID, "role"), url.Values{"role": {"member"}}},
		{s.path("members", srv.Admin.Account.ID, "remove"), nil},
		{s.path("invitations", 1, "revoke"), nil},
	} {
		form := url.Values{"csrf": {tok}}
		for k, v := range f.form {
			form[k] = v
		}
		p := member.post(f.path, form)
		p.want(t, "a member's forged POST "+f.path, http.StatusForbidden, "does not allow this")
		if strings.Contains(p.Body, "whsec_") || strings.Contains(p.Body, `id="auth-key"`) {
			t.Fatalf("a member's POST %s shows a secret:\n%s", f.path, p.Body)
		}
	}
	owner.get(s.path("connections", s.connection)).want(t, "the connection after the forgeries", http.StatusOK, `badge enabled`)
	owner.get(s.path("sources")).want(t, "the sources after the forgeries", http.StatusOK, "Shop &lt;b&gt;orders&lt;/b&gt;")
	owner.get(s.path("members")).want(t, "the members after the forgeries", http.StatusOK, "dora@example.com")
}

// checkLabels fails the test when an input, select or textarea of a page has
// no label (a <label for=id> or an aria-label); hidden inputs need none.
func checkLabels(t *testing.T, what, body string) {
	t.Helper()
	for _, m := range regexpAllFull(`<(input|select|textarea)\b[^>]*>`, body) {
		if strings.Contains(m, `type="hidden"`) || strings.Contains(m, "aria-label=") {
			continue
		}
		ids := regexpAll(`\bid="([^"]+)"`, m)
		if len(ids) == 0 || !strings.Contains(body, `<label for="`+ids[0]+`"`) && !strings.Contains(body, `<label class="visually-hidden" for="`+ids[0]+`"`) {
			t.Errorf("%s: control without a label: %s", what, m)
		}
	}
}

func regexpAllFull(expr, s string) []string { return regexpCompile(expr).FindAllString(s, -1) }
