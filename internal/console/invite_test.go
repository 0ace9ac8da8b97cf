package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/mail"
	"github.com/volleyhq/volley/internal/mail/mailtest"
	"github.com/volleyhq/volley/internal/testserver"
)

type invitationOut struct {
	ID        uint64 `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	URL       string `json:"url"`
	Mailed    *bool  `json:"mailed"`
	MailError string `json:"mail_error"`
}

func invite(t *testing.T, srv *testserver.Server, token, email, role string) invitationOut {
	t.Helper()
	resp := srv.Do(t, testserver.Request{Method: http.MethodPost, Path: "/api/org/members", Token: token,
		Body: map[string]string{"email": email, "role": role}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("invite %s: %d %s", email, resp.Status, resp.Body)
	}
	var out struct {
		Invitation invitationOut `json:"invitation"`
	}
	resp.JSON(t, &out)
	return out.Invitation
}

// TestInvitationFlow: invite → accept → sign in, with the link mailed.
func TestInvitationFlow(t *testing.T) {
	t.Parallel()
	smtp := mailtest.NewServer(t)
	sender, err := mail.Parse(smtp.URL("", "volley@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{Mailer: sender})
	inv := invite(t, srv, testserver.AdminToken, "Carol@Example.com", "admin")
	if inv.Email != "carol@example.com" || inv.Role != "admin" || !strings.HasPrefix(inv.URL, srv.URL+"/invite/") ||
		inv.Mailed == nil || !*inv.Mailed {
		t.Fatalf("invitation %+v", inv)
	}
	msg := smtp.Wait(t, 1)[0]
	if msg.To != "carol@example.com" || !strings.Contains(msg.Data, inv.URL) {
		t.Fatalf("mailed %+v", msg)
	}

	// Members cannot see invitations (their links are secrets).
	member := srv.NewAccount(t, "mia@example.com", "Mia")
	srv.Do(t, testserver.Request{Method: http.MethodPost, Path: "/api/org/members", Token: testserver.AdminToken,
		Body: map[string]string{"email": "mia@example.com", "role": "member"}})
	resp := srv.Do(t, testserver.Request{Method: http.MethodGet, Path: "/api/org/invitations", Token: member.Token, Org: srv.Admin.Org.ID})
	if resp.Status != http.StatusForbidden {
		t.Fatalf("a member lists invitations: %d %s", resp.Status, resp.Body)
	}
	resp = srv.Do(t, testserver.Request{Method: http.MethodGet, Path: "/api/org/invitations", Token: testserver.AdminToken})
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), inv.URL) {
		t.Fatalf("invitations: %d %s", resp.Status, resp.Body)
	}

	b := newBrowser(t, srv.URL)
	path := strings.TrimPrefix(inv.URL, srv.URL)
	p := b.get(path)
	p.want(t, "the invitation page", http.StatusOK, "carol@example.com", "admin", `name="name"`)
	if p.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatal("the invitation page may leak its link as a referrer")
	}
	tok := p.csrf(t)
	b.post(path, url.Values{"name": {"Carol"}, "password": {"password1"}, "confirm": {"password1"}}).
		want(t, "accept without CSRF", http.StatusForbidden)
	b.post(path, url.Values{"csrf": {tok}, "name": {"Carol"}, "password": {"password1"}, "confirm": {"password2"}}).
		want(t, "accept with a wrong confirmation", http.StatusBadRequest, "differ")
	b.post(path, url.Values{"csrf": {tok}, "name": {"Carol"}, "password": {"password1"}, "confirm": {"password1"}}).
		wantRedirect(t, "accept", "/account")
	b.get("/account").want(t, "the invitee's account", http.StatusOK, "carol@example.com", "admin")

	// The link works once.
	newBrowser(t, srv.URL).get(path).want(t, "the used link", http.StatusNotFound, "does not work")
	// The invitee signs in elsewhere, and is an admin of the organization.
	newBrowser(t, srv.URL).signIn("carol@example.com", "password1")
	resp = srv.Do(t, testserver.Request{Method: http.MethodGet, Path: "/api/org/members", Token: testserver.AdminToken})
	if !strings.Contains(string(resp.Body), `"email":"carol@example.com","name":"Carol","role":"admin"`) {
		t.Fatalf("members after the acceptance: %s", resp.Body)
	}
}

func TestInvitationRevokedAndExistingAccount(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	inv := invite(t, srv, testserver.AdminToken, "dan@example.com", "member")
	if inv.Mailed != nil {
		t.Fatalf("mailed = %v without an SMTP server", *inv.Mailed)
	}
	resp := srv.Do(t, testserver.Request{Method: http.MethodDelete, Path: "/api/org/invitations/" + itoa(inv.ID), Token: testserver.AdminToken})
	if resp.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", resp.Status, resp.Body)
	}
	resp = srv.Do(t, testserver.Request{Method: http.MethodDelete, Path: "/api/org/invitations/" + itoa(inv.ID), Token: testserver.AdminToken})
	if resp.Status != http.StatusNotFound {
		t.Fatalf("revoke twice: %d %s", resp.Status, resp.Body)
	}
	newBrowser(t, srv.URL).get(strings.TrimPrefix(inv.URL, srv.URL)).want(t, "a revoked link", http.StatusNotFound)

	// Someone who signs up elsewhere after being invited signs in and
	// joins; someone else signed in cannot use the link.
	inv = invite(t, srv, testserver.AdminToken, "erin@example.com", "member")
	srv.NewAccount(t, "erin@example.com", "Erin")
	path := strings.TrimPrefix(inv.URL, srv.URL)
	outsider := newBrowser(t, srv.URL)
	outsider.signIn(adminEmail, adminPassword)
	tok := outsider.get(path).csrf(t)
	outsider.post(path, url.Values{"csrf": {tok}}).want(t, "join with another account", http.StatusForbidden, "sent to erin@example.com")

	b := newBrowser(t, srv.URL)
	p := b.get(path)
	p.want(t, "the invitation of an existing account", http.StatusOK, "already has a Volley account")
	b.post(path, url.Values{"csrf": {b.get("/signin").csrf(t)}}).wantRedirect(t, "accept signed out", "/signin?next="+path)
	b.signIn("erin@example.com", "password-Erin")
	tok = b.get(path).csrf(t)
	b.post(path, url.Values{"csrf": {tok}}).wantRedirect(t, "join", "/account")
	b.get("/account").want(t, "erin's organizations", http.StatusOK, "Erin&#39;s organization", "member")
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
