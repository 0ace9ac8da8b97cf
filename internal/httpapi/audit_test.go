package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
)

// auditFixture is a fresh organization of the admin account with one of
// everything, for one route to change: a project with a source (basic
// auth), a destination, a connection and an event; a member; a pending
// invitation; an API token.
type auditFixture struct {
	orgID                                           uint64
	projectID, sourceID, destinationID, connection  uint64
	memberID, invitationID, tokenID, requestID      uint64
	eventID, sourcePassword, tokenValue, invitation string
	transformationID, replayID                      uint64
}

func (f auditFixture) ids() map[string]string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return map[string]string{
		"account_id": u(f.memberID), "project_id": u(f.projectID), "token_id": u(f.tokenID),
		"source_id": u(f.sourceID), "destination_id": u(f.destinationID), "connection_id": u(f.connection),
		"request_id": u(f.requestID), "event_id": f.eventID, "invitation_id": u(f.invitationID),
		"transformation_id": u(f.transformationID), "replay_id": u(f.replayID),
	}
}

func newAuditFixture(t *testing.T, srv *testserver.Server, n int) auditFixture {
	t.Helper()
	admin := callerOf(srv, testserver.AdminToken)
	var f auditFixture
	f.orgID = idOf(t, admin.must(t, http.StatusCreated, "POST", "/api/org", map[string]any{"name": fmt.Sprintf("Audit %d", n)}), "")
	c := admin.in(f.orgID)
	f.projectID = idOf(t, c.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Audited"}), "project")
	base := fmt.Sprintf("/api/projects/%d", f.projectID)
	f.sourcePassword = fmt.Sprintf("source-password-%d", n)
	src := c.must(t, http.StatusCreated, "POST", base+"/sources",
		map[string]any{"name": "In", "auth_type": "basic", "auth_username": "u", "auth_key": f.sourcePassword})
	f.sourceID = idOf(t, src, "source")
	f.destinationID = idOf(t, c.must(t, http.StatusCreated, "POST", base+"/destinations",
		map[string]any{"name": "Out", "url": "http://127.0.0.1:9/out"}), "destination")
	f.connection = idOf(t, c.must(t, http.StatusCreated, "POST", base+"/connections",
		map[string]any{"source_id": f.sourceID, "destination_id": f.destinationID, "max_retries": 0}), "connection")
	f.eventID = ingest(t, srv, stringOf(t, src, "source", "ingestion_id"),
		map[string]string{"Authorization": basicAuth("u", f.sourcePassword)}, `{"n":1}`)
	f.requestID = requestIDOf(t, c, f.projectID, f.eventID)
	email := fmt.Sprintf("audit-member-%d@example.com", n)
	f.memberID = srv.NewAccount(t, email, "Member").AccountID
	c.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": email, "role": "member"})
	inv := c.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": fmt.Sprintf("audit-invitee-%d@example.com", n), "role": "member"})
	f.invitationID = idOf(t, inv, "invitation")
	url := stringOf(t, inv, "invitation", "url")
	f.invitation = url[strings.LastIndex(url, "/")+1:]
	var tok struct {
		ID    uint64 `json:"id"`
		Token string `json:"token"`
	}
	c.must(t, http.StatusCreated, "POST", "/api/tokens", map[string]any{"name": "audited"}).JSON(t, &tok)
	f.tokenID, f.tokenValue = tok.ID, tok.Token
	f.transformationID = idOf(t, c.must(t, http.StatusCreated, "POST", base+"/transformations",
		map[string]any{"name": "Audited", "code": "(request) => request"}), "transformation")
	f.replayID = idOf(t, c.must(t, http.StatusAccepted, "POST", base+"/replays",
		map[string]any{"filter": map[string]any{"status": "failed"}}), "replay")
	return f
}

// auditBody returns the body a route is driven with in TestAuditEveryMutatingRoute.
// Routes without an entry get a body that suits the API's create and
// update calls (unknown keys are ignored); a new route that needs more adds
// a line here.
func auditBody(t *testing.T, srv *testserver.Server, pattern string, f auditFixture) any {
	t.Helper()
	switch pattern {
	case "POST /api/replay-event":
		return map[string]any{"event_id": f.eventID}
	case "POST /api/webhooks":
		return map[string]any{"source_id": f.sourceID, "body": map[string]any{"audited": true}}
	case "POST /api/projects/{project_id}/connections":
		d := callerOf(srv, testserver.AdminToken).in(f.orgID).must(t, http.StatusCreated, "POST",
			fmt.Sprintf("/api/projects/%d/destinations", f.projectID), map[string]any{"name": "Second", "url": "http://127.0.0.1:9/2"})
		return map[string]any{"source_id": f.sourceID, "destination_id": idOf(t, d, "destination")}
	case "POST /api/connections/test-filter":
		return map[string]any{"filter": map[string]any{"body": map[string]any{"n": 1}}, "event_id": f.eventID}
	case "POST /api/projects/{project_id}/transformations":
		return map[string]any{"name": "Another", "code": "(request) => request"}
	case "PUT /api/transformations/{transformation_id}":
		return map[string]any{"code": "(request) => null"}
	case "POST /api/transformations/{transformation_id}/test":
		return map[string]any{"event_id": f.eventID}
	case "POST /api/projects/{project_id}/replays":
		return map[string]any{"filter": map[string]any{"status": "failed", "source_id": f.sourceID}, "connection_id": f.connection}
	case "PUT /api/org/members/{account_id}":
		return map[string]any{"role": "admin"}
	case "POST /api/auth/cli/approve", "POST /api/auth/cli/deny":
		start := callerOf(srv, "").must(t, http.StatusOK, "POST", "/api/auth/cli/start", nil)
		return map[string]any{"pairing_code": stringField(t, start, "pairing_code"), "device_name": "audited-laptop"}
	case "POST /api/sources/{source_id}/credentials/rotate", "POST /api/projects/{project_id}/sources/{source_id}/credentials/rotate":
		return map[string]any{"auth_key": "rotated-" + f.sourcePassword}
	}
	return map[string]any{
		"name": "Audited change", "url": "http://127.0.0.1:9/changed", "eps": 7, "status": "active",
		"email": "audit-new@example.com", "role": "member", "source_id": f.sourceID, "destination_id": f.destinationID,
		"auth_key": "changed-" + f.sourcePassword, "webhook_secret": "whsec-not-checked",
	}
}

// audited reports whether a route must write an audit record: every route
// that changes something, and the GET routes that reveal secrets.
func audited(pattern string) bool {
	method, path := splitPattern(pattern)
	return method != "GET" || strings.HasSuffix(path, "/secret") || strings.HasSuffix(path, "/credentials") ||
		strings.HasSuffix(path, "/invitations")
}

// TestAuditEveryMutatingRoute drives every route of the API that changes
// something or reveals a secret (each DELETE against an organization of
// its own), and
// checks that it wrote an audit record describing it (not the "unaudited"
// fallback), with the actor, the client address and no secret value. A new
// mutating route fails here until its handler calls c.audit.
func TestAuditEveryMutatingRoute(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	admin := srv.AdminAccount()
	n := 0
	// Routes that delete get an organization of their own; the others
	// share one, which they change but do not take apart.
	shared := newAuditFixture(t, srv, 0)
	for _, pattern := range apiRoutes(t, srv) {
		if !audited(pattern) {
			continue
		}
		n++
		f := shared
		if method, _ := splitPattern(pattern); method == http.MethodDelete {
			f = newAuditFixture(t, srv, n)
		}
		before := auditRecords(t, srv, f.orgID)
		method, path := mustFill(t, pattern, f.ids())
		body := auditBody(t, srv, pattern, f)
		resp := callerOf(srv, testserver.AdminToken).in(f.orgID).do(t, method, path, body)
		if resp.Status >= 400 {
			t.Errorf("%s: %s %s = %d; body %s (teach auditBody about it)", pattern, method, path, resp.Status, resp.Body)
			continue
		}
		org := f.orgID
		if pattern == "POST /api/org" {
			org = idOf(t, resp, "")
		}
		recs := auditRecords(t, srv, org)
		if org == f.orgID {
			recs = recs[:len(recs)-len(before)]
		}
		if len(recs) == 0 {
			t.Errorf("%s wrote no audit record", pattern)
			continue
		}
		secrets := []string{f.sourcePassword, "rotated-" + f.sourcePassword, "changed-" + f.sourcePassword,
			f.tokenValue, f.invitation, testserver.AdminToken}
		for _, rec := range recs {
			if rec.Action == "unaudited" || rec.Action == "" || rec.TargetType == "" || rec.TargetID == "" {
				t.Errorf("%s: record %+v does not describe the change; call c.audit in its handler", pattern, rec)
			}
			if rec.ActorAccountID != admin.AccountID || rec.ActorTokenID == 0 || rec.ClientAddr != "127.0.0.1" {
				t.Errorf("%s: record %+v, want actor %d with its token from 127.0.0.1", pattern, rec, admin.AccountID)
			}
			raw, _ := json.Marshal(rec)
			for _, s := range secrets {
				if s != "" && strings.Contains(string(raw), s) {
					t.Errorf("%s: record %s holds the secret %q", pattern, raw, s)
				}
			}
		}
	}
	if n < 30 {
		t.Fatalf("drove %d audited routes, want every one (at least 30)", n)
	}
}

// auditRecords reads an organization's audit log from the store, newest
// first.
func auditRecords(t *testing.T, srv *testserver.Server, orgID uint64) []store.AuditRecord {
	t.Helper()
	recs, err := srv.Store.AuditList(t.Context(), store.AuditListParams{OrgID: orgID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestAuditLogEndpoint: owners and admins read the log with filters and
// cursor paging; members get 403; bad filters get 400.
func TestAuditLogEndpoint(t *testing.T) {
	t.Parallel()
	r := setupRoles(t)
	var page struct {
		AuditLog []struct {
			ID             uint64 `json:"id"`
			Action         string `json:"action"`
			ActorAccountID uint64 `json:"actor_account_id"`
			TargetType     string `json:"target_type"`
			TargetID       string `json:"target_id"`
			Changes        []struct {
				Field  string          `json:"field"`
				Old    json.RawMessage `json:"old"`
				New    json.RawMessage `json:"new"`
				Secret bool            `json:"secret"`
			} `json:"changes"`
		} `json:"audit_log"`
		NextCursor string `json:"next_cursor"`
		PrevCursor string `json:"prev_cursor"`
	}
	wantForbidden(t, r.member, "GET", "/api/audit-log", nil)
	r.admin.must(t, http.StatusOK, "GET", "/api/audit-log", nil)

	src := fmt.Sprintf("/api/sources/%d", r.a.SourceID)
	r.admin.must(t, http.StatusOK, "PUT", src, map[string]any{"eps": 11, "auth_key": "new-password"})
	r.owner.must(t, http.StatusOK, "GET", "/api/audit-log?actor="+strconv.FormatUint(r.adminID, 10)+"&action=source.update", nil).JSON(t, &page)
	if len(page.AuditLog) != 1 || page.AuditLog[0].TargetID != strconv.FormatUint(r.a.SourceID, 10) {
		t.Fatalf("admin's source updates = %+v, want the one just made", page.AuditLog)
	}
	var eps, key bool
	for _, ch := range page.AuditLog[0].Changes {
		switch ch.Field {
		case "eps":
			eps = string(ch.New) == "11" && !ch.Secret
		case "auth_key":
			key = ch.Secret && ch.Old == nil && ch.New == nil
		}
	}
	if !eps || !key {
		t.Errorf("source.update changes = %+v, want eps to 11 and auth_key changed without its value", page.AuditLog[0].Changes)
	}

	// The owner's graph made a record per change; page through them by
	// three and back.
	var all []uint64
	next := "/api/audit-log?target_type=source&limit=3"
	for next != "" {
		page.NextCursor = ""
		r.owner.must(t, http.StatusOK, "GET", next, nil).JSON(t, &page)
		for _, rec := range page.AuditLog {
			if rec.TargetType != "source" {
				t.Fatalf("target_type=source listed %+v", rec)
			}
			all = append(all, rec.ID)
		}
		next = ""
		if page.NextCursor != "" && len(page.AuditLog) == 3 {
			next = "/api/audit-log?target_type=source&limit=3&after=" + page.NextCursor
		}
	}
	if len(all) < 2 {
		t.Fatalf("source records = %v, want the graph's creation and the update", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i] >= all[i-1] {
			t.Fatalf("records %v are not newest first", all)
		}
	}

	for _, q := range []string{"actor=abc", "start_time=yesterday", "limit=0", "after=zzz", "offset=3",
		"target=source&target_type=source", "start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z"} {
		if resp := r.owner.do(t, "GET", "/api/audit-log?"+q, nil); resp.Status != http.StatusBadRequest {
			t.Errorf("GET /api/audit-log?%s = %d, want 400; body %s", q, resp.Status, resp.Body)
		}
	}
}
