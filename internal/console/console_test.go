package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

const adminEmail, adminPassword = "admin@localhost", "admin-password"

func TestSignInForm(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	b := newBrowser(t, srv.URL)

	p := b.get("/account")
	p.wantRedirect(t, "the account page signed out", "/signin?next=%2Faccount")
	p = b.get("/signin?next=%2Faccount%2Fsessions")
	p.want(t, "the sign-in page", http.StatusOK, `name="password"`, `value="/account/sessions"`)
	if p.Header.Get("Cache-Control") != "no-store" || !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("sign-in page headers %v", p.Header)
	}
	tok := p.csrf(t)
	if b.cookie("volley_csrf") != tok {
		t.Fatal("the CSRF field does not match the CSRF cookie")
	}

	form := url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {"/account/sessions"}}
	b.post("/signin", form).want(t, "sign in without the CSRF token", http.StatusForbidden, "expired or was not sent from this site")
	form.Set("csrf", strings.Repeat("x", len(tok)))
	b.post("/signin", form).want(t, "sign in with a wrong CSRF token", http.StatusForbidden)
	form.Set("csrf", tok)
	b.postWith("/signin", form, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}).
		want(t, "sign in from another site", http.StatusForbidden, "another site")
	if b.cookie("volley_session") != "" {
		t.Fatal("a refused sign-in set a session")
	}

	form.Set("password", "wrong password")
	b.post("/signin", form).want(t, "sign in with a wrong password", http.StatusUnauthorized, "Wrong email or password.", `value="admin@localhost"`)
	form.Set("email", "nobody@example.com")
	b.post("/signin", form).want(t, "sign in with an unknown email", http.StatusUnauthorized, "Wrong email or password.")

	form.Set("email", " Admin@Localhost")
	form.Set("password", adminPassword)
	p = b.post("/signin", form)
	p.wantRedirect(t, "sign in", "/account/sessions")
	var session *http.Cookie
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "volley_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v, want HttpOnly, SameSite=Lax, not Secure over plain HTTP", session)
	}
	b.get("/account").want(t, "the account page", http.StatusOK, adminEmail, "owner")

	// An open redirect is refused: next must be a path of this site.
	other := newBrowser(t, srv.URL)
	tok = other.get("/signin").csrf(t)
	other.post("/signin", url.Values{"csrf": {tok}, "email": {adminEmail}, "password": {adminPassword}, "next": {"//evil.example/x"}}).
		wantRedirect(t, "sign in with an outside next", "/")

	// Sign-out ends the session on the server, not only in this browser.
	secret := b.cookie("volley_session")
	tok = b.get("/account").csrf(t)
	b.post("/signout", url.Values{"csrf": {tok}}).wantRedirect(t, "sign out", "/signin")
	thief := newBrowser(t, srv.URL)
	u, _ := url.Parse(srv.URL)
	thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: "volley_session", Value: secret}})
	thief.get("/account").wantRedirect(t, "a signed-out session's cookie", "/signin?next=%2Faccount")
}

func TestSessionsAndPassword(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	laptop, phone := newBrowser(t, srv.URL), newBrowser(t, srv.URL)
	laptop.signIn(adminEmail, adminPassword)
	phone.signIn(adminEmail, adminPassword)

	p := laptop.get("/account/sessions")
	p.want(t, "the sessions page", http.StatusOK, "this session", "127.0.0.1", "Go-http-client")
	if n := strings.Count(p.Body, "/revoke"); n != 2 {
		t.Fatalf("the sessions page lists %d sessions, want 2:\n%s", n, p.Body)
	}
	// Revoke the phone's session from the laptop: the phone's session is
	// the one not marked as this one.
	ids := regexpAll(`/account/sessions/([0-9]+)/revoke`, p.Body)
	current := regexpAll(`this session\s*<form class="inline" method="post" action="/account/sessions/([0-9]+)/revoke"`, p.Body)
	if len(ids) != 2 || len(current) != 1 {
		t.Fatalf("session ids %v, current %v", ids, current)
	}
	phoneID := ids[0]
	if phoneID == current[0] {
		phoneID = ids[1]
	}
	tok := p.csrf(t)
	laptop.post("/account/sessions/"+phoneID+"/revoke", url.Values{}).want(t, "revoke without CSRF", http.StatusForbidden)
	laptop.post("/account/sessions/"+phoneID+"/revoke", url.Values{"csrf": {tok}}).wantRedirect(t, "revoke the phone", "/account/sessions")
	phone.get("/account").wantRedirect(t, "the revoked phone", "/signin?next=%2Faccount")
	laptop.post("/account/sessions/"+phoneID+"/revoke", url.Values{"csrf": {tok}}).want(t, "revoke twice", http.StatusNotFound)

	// Change the password: other sessions end, this one stays.
	phone.signIn(adminEmail, adminPassword)
	tok = laptop.get("/account/password").csrf(t)
	laptop.post("/account/password", url.Values{"csrf": {tok}, "current": {"nope"}, "password": {"new password!"}, "confirm": {"new password!"}}).
		want(t, "change with a wrong current password", http.StatusBadRequest, "Current password is not your current password.")
	laptop.post("/account/password", url.Values{"csrf": {tok}, "current": {adminPassword}, "password": {"new password!"}, "confirm": {"other"}}).
		want(t, "change with a wrong confirmation", http.StatusBadRequest, "differ")
	laptop.post("/account/password", url.Values{"csrf": {tok}, "current": {adminPassword}, "password": {"short"}, "confirm": {"short"}}).
		want(t, "change to a short password", http.StatusBadRequest, "at least 8 characters")
	laptop.post("/account/password", url.Values{"csrf": {tok}, "current": {adminPassword}, "password": {"new password!"}, "confirm": {"new password!"}}).
		wantRedirect(t, "change the password", "/account?changed=password")
	laptop.get("/account?changed=password").want(t, "the account after a change", http.StatusOK, "other sessions were signed out")
	phone.get("/account").wantRedirect(t, "the phone after a password change", "/signin?next=%2Faccount")
	newBrowser(t, srv.URL).signIn(adminEmail, "new password!")
}

func TestSignup(t *testing.T) {
	t.Parallel()
	closed := testserver.Start(t, testserver.Options{})
	b := newBrowser(t, closed.URL)
	b.get("/signup").want(t, "sign-up when closed", http.StatusNotFound, "Sign-up is closed")
	tok := b.get("/signin").csrf(t)
	b.post("/signup", url.Values{"csrf": {tok}, "email": {"eve@example.com"}, "name": {"Eve"}, "password": {"password1"}}).
		want(t, "POST sign-up when closed", http.StatusNotFound)

	open := testserver.Start(t, testserver.Options{Signup: true})
	b = newBrowser(t, open.URL)
	tok = b.get("/signup").csrf(t)
	b.post("/signup", url.Values{"csrf": {tok}, "email": {"eve@example.com"}, "name": {"Eve"}, "password": {"short"}}).
		want(t, "sign-up with a short password", http.StatusBadRequest, "at least 8 characters")
	b.post("/signup", url.Values{"csrf": {tok}, "email": {adminEmail}, "name": {"Eve"}, "password": {"password1"}}).
		want(t, "sign-up with a taken email", http.StatusBadRequest, "already exists")
	b.post("/signup", url.Values{"csrf": {tok}, "email": {"eve@example.com"}, "name": {"Eve"}, "password": {"password1"}}).
		wantRedirect(t, "sign-up", "/account")
	b.get("/account").want(t, "the new account", http.StatusOK, "eve@example.com", "Eve&#39;s organization", "owner")
}
