package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
)

// TestAuditSignInsAndApprovals: sign-ins, failed sign-ins (of a known and
// of an unknown email) and CLI login answers land in the audit log, without
// the password or the typed email.
func TestAuditSignInsAndApprovals(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	admin := srv.AdminAccount()
	login, err := srv.Node.Tenant().DeviceStart(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	tok := b.get("/signin").csrf(t)
	b.post("/signin", url.Values{"csrf": {tok}, "email": {adminEmail}, "password": {"wrong-horse"}}).
		want(t, "sign in with a wrong password", http.StatusUnauthorized)
	b.post("/signin", url.Values{"csrf": {tok}, "email": {"ghost@example.com"}, "password": {"ghost-password"}}).
		want(t, "sign in with an unknown email", http.StatusUnauthorized)
	b.post("/signin", url.Values{"csrf": {tok}, "email": {adminEmail}, "password": {adminPassword}}).
		wantRedirect(t, "sign in", "/")
	p := b.get("/cli/approve?code=" + url.QueryEscape(login.PairingCode))
	b.post("/cli/approve", url.Values{"csrf": {p.csrf(t)}, "code": {login.PairingCode}, "device_name": {"ada-laptop"},
		"action": {"approve"}}).want(t, "approve", http.StatusOK, "Approved")

	recs := func(org uint64) []store.AuditRecord {
		t.Helper()
		out, err := srv.Store.AuditList(t.Context(), store.AuditListParams{OrgID: org, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var got []string
	for _, r := range recs(admin.OrgID) {
		got = append(got, r.Action)
		if r.TargetType != "account" || r.TargetID != strconv.FormatUint(admin.AccountID, 10) || r.ClientAddr != "127.0.0.1" || r.ActorTokenID != 0 {
			t.Errorf("record %+v, want the admin account as target, from 127.0.0.1, without a token", r)
		}
		wantActor := admin.AccountID
		if r.Action == "account.signin_failed" {
			wantActor = 0
		}
		if r.ActorAccountID != wantActor {
			t.Errorf("%s: actor %d, want %d", r.Action, r.ActorAccountID, wantActor)
		}
		raw, _ := json.Marshal(r)
		if strings.Contains(string(raw), "wrong-horse") || strings.Contains(string(raw), adminPassword) {
			t.Errorf("record %s holds a password", raw)
		}
	}
	if want := "device_login.approve account.signin account.signin_failed"; strings.Join(got, " ") != want {
		t.Errorf("admin org's records = %v, want %s", got, want)
	}
	unknown := recs(0)
	if len(unknown) != 1 || unknown[0].Action != "account.signin_failed" || unknown[0].ActorAccountID != 0 || unknown[0].TargetID != "unknown" {
		t.Fatalf("records of no organization = %+v, want the unknown email's failed sign-in", unknown)
	}
	if raw, _ := json.Marshal(unknown[0]); strings.Contains(string(raw), "ghost") {
		t.Errorf("record %s holds what was typed", raw)
	}
}

// TestAuditInvitationAccepted: joining through an invitation link is a
// member.create in the inviting organization, by the new member.
func TestAuditInvitationAccepted(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	resp := srv.Do(t, testserver.Request{Method: http.MethodPost, Path: "/api/org/members", Token: testserver.AdminToken,
		Body: map[string]string{"email": "dora@example.com", "role": "admin"}})
	var inv struct {
		Invitation struct {
			URL string `json:"url"`
		} `json:"invitation"`
	}
	resp.JSON(t, &inv)
	b := newBrowser(t, srv.URL)
	path := strings.TrimPrefix(inv.Invitation.URL, srv.URL)
	tok := b.get(path).csrf(t)
	b.post(path, url.Values{"csrf": {tok}, "name": {"Dora"}, "password": {"dora-password"}, "confirm": {"dora-password"}}).
		wantRedirect(t, "accept", "/account")
	recs, err := srv.Store.AuditList(t.Context(), store.AuditListParams{OrgID: srv.Admin.Org.ID, Action: "member.create", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ActorAccountID == 0 || recs[0].TargetID != strconv.FormatUint(recs[0].ActorAccountID, 10) ||
		len(recs[0].Changes) != 2 || string(recs[0].Changes[0].New) != `"admin"` {
		t.Fatalf("member.create records = %+v, want Dora joining as admin", recs)
	}
	if raw, _ := json.Marshal(recs); strings.Contains(string(raw), "dora-password") {
		t.Fatalf("record %s holds the password", raw)
	}
}
