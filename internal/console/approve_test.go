package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/testserver"
)

// TestApproveCLILogin is the approval page's form flow with a real cookie
// jar: signed out it sends the person to sign in and back; a CSRF token is
// required; approving hands the CLI a token on its next poll; denying
// refuses it.
func TestApproveCLILogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	svc := srv.Node.Tenant()
	ctx := t.Context()
	login, err := svc.DeviceStart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	approvePath := "/cli/approve?code=" + url.QueryEscape(login.PairingCode)
	b.get(approvePath).wantRedirect(t, "the approval page signed out", "/signin?next="+url.QueryEscape(approvePath))
	tok := b.get("/signin?next=" + url.QueryEscape(approvePath)).csrf(t)
	b.post("/signin", url.Values{"csrf": {tok}, "email": {adminEmail}, "password": {"wrong"}, "next": {approvePath}}).
		want(t, "sign in with a wrong password", http.StatusUnauthorized)
	b.post("/signin", url.Values{"csrf": {tok}, "email": {adminEmail}, "password": {adminPassword}, "next": {approvePath}}).
		wantRedirect(t, "sign in", approvePath)

	p := b.get(approvePath)
	p.want(t, "the approval page", http.StatusOK, login.PairingCode, "Approve", "Deny", adminEmail)
	form := url.Values{"code": {login.PairingCode}, "device_name": {"ada's laptop"}, "action": {"approve"}}
	b.post("/cli/approve", form).want(t, "approve without CSRF", http.StatusForbidden)
	if res, err := svc.DevicePoll(ctx, login.DeviceCode); err != nil || res.Status != tenant.DeviceStatusPending {
		t.Fatalf("poll after a refused approval = %+v, %v", res, err)
	}
	form.Set("csrf", p.csrf(t))
	b.post("/cli/approve", form).want(t, "approve", http.StatusOK, "Approved")

	res, err := svc.DevicePoll(ctx, login.DeviceCode)
	if err != nil || res.Status != tenant.DeviceStatusComplete || res.Token == "" {
		t.Fatalf("poll after approval = %+v, %v", res, err)
	}
	resp := srv.Do(t, testserver.Request{Method: http.MethodGet, Path: "/api/user", Token: res.Token})
	if resp.Status != http.StatusOK {
		t.Fatalf("the CLI's token: %d %s", resp.Status, resp.Body)
	}
	b.post("/cli/approve", form).want(t, "approve twice", http.StatusNotFound, "No CLI login is waiting")

	// Deny another login.
	other, err := svc.DeviceStart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p = b.get("/cli/approve?code=" + url.QueryEscape(other.PairingCode))
	b.post("/cli/approve", url.Values{"csrf": {p.csrf(t)}, "code": {other.PairingCode}, "action": {"deny"}}).
		want(t, "deny", http.StatusOK, "Denied")
	if res, err := svc.DevicePoll(ctx, other.DeviceCode); err != nil || res.Status != tenant.DeviceStatusDenied || res.Token != "" {
		t.Fatalf("poll after denial = %+v, %v", res, err)
	}
	b.get("/cli/approve?code=NOPE-0000").want(t, "an unknown code", http.StatusNotFound, "No CLI login is waiting")
	b.get("/cli/approve").want(t, "the page without a code", http.StatusOK, `name="code"`)
}
