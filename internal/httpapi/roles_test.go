package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// anyMemberMay lists the non-GET routes a plain member may call: creating an
// organization of one's own is not a change inside the current one, and
// members may replay events and send test events (semantics.md §1).
// TestRolesMemberReplaysAndSends checks that every entry is a route.
var anyMemberMay = map[string]bool{
	"POST /api/org":          true,
	"POST /api/replay-event": true,
	// Bulk replays are replays too: members start and cancel them.
	"POST /api/projects/{project_id}/replays": true,
	"DELETE /api/replays/{replay_id}":         true,
	"POST /api/webhooks":                      true,
	// Trying a filter or a transformation on an event changes nothing.
	"POST /api/connections/test-filter":                  true,
	"POST /api/transformations/{transformation_id}/test": true,
	// An account's own tokens and device logins are not the organization's.
	"POST /api/tokens":              true,
	"DELETE /api/tokens/{token_id}": true,
	"POST /api/auth/cli/approve":    true,
	"POST /api/auth/cli/deny":       true,
}

// neverEnds lists GET routes that stream until the client leaves; a member
// may read them (stream_test.go), but not in a loop of plain requests.
var neverEnds = map[string]bool{"GET /api/stream": true}

// needsConfigure reports whether a route changes configuration or reveals a
// secret (a destination's signing secret, a source's credentials, the
// links of invitations) or who did what (the audit log), which takes an
// owner or admin.
func needsConfigure(pattern string) bool {
	method, path := splitPattern(pattern)
	return !anyMemberMay[pattern] && (method != "GET" || strings.HasSuffix(path, "/secret") ||
		strings.HasSuffix(path, "/credentials") || strings.HasSuffix(path, "/invitations") || path == "/api/audit-log")
}

// roles is A's organization with A as owner, plus a member and an admin
// added by A, and an outsider account that belongs to none of it.
type roles struct {
	srv                        *testserver.Server
	a                          graph
	owner, member, admin       *caller // all acting in A's organization
	memberID, adminID          uint64
	routes                     []string
	outsiderEmail, memberEmail string
}

func setupRoles(t *testing.T) *roles {
	t.Helper()
	srv := testserver.Start(t, testserver.Options{})
	r := &roles{srv: srv, routes: apiRoutes(t, srv), outsiderEmail: "outsider@example.com", memberEmail: "member@example.com"}
	r.a = buildGraph(t, srv, srv.AdminAccount(), "admin@localhost", "Alpha")
	m := srv.NewAccount(t, r.memberEmail, "Member")
	ad := srv.NewAccount(t, "second-admin@example.com", "Second Admin")
	srv.NewAccount(t, r.outsiderEmail, "Outsider")
	r.owner = callerOf(srv, testserver.AdminToken).in(r.a.OrgID)
	r.owner.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": r.memberEmail, "role": "member"})
	r.owner.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": "second-admin@example.com", "role": "admin"})
	r.member, r.memberID = callerOf(srv, m.Token).in(r.a.OrgID), m.AccountID
	r.admin, r.adminID = callerOf(srv, ad.Token).in(r.a.OrgID), ad.AccountID
	return r
}

// wantForbidden calls a route and checks the 403 body.
func wantForbidden(t *testing.T, c *caller, method, path string, body any) {
	t.Helper()
	resp := c.do(t, method, path, body)
	if resp.Status != http.StatusForbidden {
		t.Errorf("%s %s = %d, want 403; body %s", method, path, resp.Status, resp.Body)
		return
	}
	if got := errorOf(t, resp); got.Error != "insufficient permissions" {
		t.Errorf("%s %s: error %q, want \"insufficient permissions\"", method, path, got.Error)
	}
}

// TestRolesMemberCannotConfigure: a member gets 403 on every route that
// changes configuration or reveals a secret, and nothing changes.
func TestRolesMemberCannotConfigure(t *testing.T) {
	t.Parallel()
	r := setupRoles(t)
	before := snapshot(t, r.owner)
	n := 0
	for _, pattern := range r.routes {
		if !needsConfigure(pattern) {
			continue
		}
		n++
		method, path := mustFill(t, pattern, r.a.ids())
		wantForbidden(t, r.member, method, path, mutationBody(r.a, r.outsiderEmail))
	}
	if n == 0 {
		t.Fatal("no configuration route found")
	}
	sameSnapshot(t, before, snapshot(t, r.owner))
}

// TestRolesMemberReadsEverything: a member may read every GET route but the
// secrets.
func TestRolesMemberReadsEverything(t *testing.T) {
	t.Parallel()
	r := setupRoles(t)
	for _, pattern := range r.routes {
		if method, _ := splitPattern(pattern); method != "GET" || needsConfigure(pattern) || neverEnds[pattern] {
			continue
		}
		method, path := mustFill(t, pattern, r.a.ids())
		if resp := r.member.do(t, method, path, nil); resp.Status != http.StatusOK {
			t.Errorf("member: %s %s = %d, want 200; body %s", method, path, resp.Status, resp.Body)
		}
	}
}

// TestRolesMemberReplaysAndSends: a member may replay an event and send a
// test event, which are recorded like the owner's; every other non-GET
// route member may call is exercised too.
func TestRolesMemberReplaysAndSends(t *testing.T) {
	t.Parallel()
	r := setupRoles(t)
	for pattern := range anyMemberMay {
		if !slices.Contains(r.routes, pattern) {
			t.Errorf("anyMemberMay names %q, which Server.APIRoutes() does not list", pattern)
		}
	}
	var replay struct {
		Success   *bool  `json:"success"`
		AttemptID uint64 `json:"attempt_id"`
		Message   string `json:"message"`
		Attempts  []any  `json:"attempts"`
	}
	// A's destination refuses connections: the replay fails, and says so
	// with a 200.
	r.member.must(t, http.StatusOK, "POST", "/api/replay-event", map[string]any{"event_id": r.a.EventID}).JSON(t, &replay)
	if replay.Success == nil || *replay.Success || replay.AttemptID == 0 || len(replay.Attempts) != 1 || replay.Message == "" {
		t.Errorf("member replay = %+v, want one failed attempt reported", replay)
	}
	var sent struct {
		EventID string `json:"event_id"`
		Message string `json:"message"`
	}
	r.member.must(t, http.StatusAccepted, "POST", "/api/webhooks",
		map[string]any{"source_id": r.a.SourceID, "body": map[string]any{"sent_by": "member"}}).JSON(t, &sent)
	if !strings.HasPrefix(sent.EventID, "evt_") || sent.Message == "" {
		t.Errorf("member test event = %+v, want an event id and a message", sent)
	}
	// The owner sees both: the replay attempt and the new event.
	var ev struct {
		Request struct {
			DeliveryAttempts []struct {
				ID      uint64 `json:"id"`
				Trigger string `json:"trigger"`
			} `json:"delivery_attempts"`
		} `json:"request"`
	}
	r.owner.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/requests/%d", r.a.RequestID), nil).JSON(t, &ev)
	if n := len(ev.Request.DeliveryAttempts); n != 2 || ev.Request.DeliveryAttempts[1].ID != replay.AttemptID ||
		ev.Request.DeliveryAttempts[1].Trigger != "replay" {
		t.Errorf("event after the member's replay: attempts %+v, want the first one and replay attempt %d", ev.Request.DeliveryAttempts, replay.AttemptID)
	}
	r.owner.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/events/%s", r.a.ProjectID, sent.EventID), nil)
	idOf(t, r.member.must(t, http.StatusCreated, "POST", "/api/org", map[string]any{"name": "Member's own"}), "")
	// A bulk replay, started and cancelled by the member.
	job := idOf(t, r.member.must(t, http.StatusAccepted, "POST", fmt.Sprintf("/api/projects/%d/replays", r.a.ProjectID),
		map[string]any{"filter": map[string]any{"end_time": "2000-01-01"}}), "replay")
	r.member.must(t, http.StatusOK, "DELETE", fmt.Sprintf("/api/replays/%d", job), nil)
}

// TestRolesAdmin: an admin changes configuration and manages members, but
// cannot create, change or remove owners, nor delete the organization.
func TestRolesAdmin(t *testing.T) {
	t.Parallel()
	r := setupRoles(t)
	ownerPath := fmt.Sprintf("/api/org/members/%d", r.a.AccountID)
	memberPath := fmt.Sprintf("/api/org/members/%d", r.memberID)

	before := snapshot(t, r.owner)
	wantForbidden(t, r.admin, "POST", "/api/org/members", map[string]any{"email": r.outsiderEmail, "role": "owner"})
	wantForbidden(t, r.admin, "PUT", memberPath, map[string]any{"role": "owner"})
	wantForbidden(t, r.admin, "PUT", ownerPath, map[string]any{"role": "member"})
	wantForbidden(t, r.admin, "DELETE", ownerPath, nil)
	wantForbidden(t, r.admin, "DELETE", "/api/org", nil)
	sameSnapshot(t, before, snapshot(t, r.owner))

	src := fmt.Sprintf("/api/projects/%d/sources", r.a.ProjectID)
	dst := fmt.Sprintf("/api/destinations/%d", r.a.DestinationID)
	r.admin.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Admin's project"})
	sid := idOf(t, r.admin.must(t, http.StatusCreated, "POST", src, map[string]any{"name": "Admin source"}), "source")
	r.admin.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/sources/%d", sid), map[string]any{"eps": 3})
	r.admin.must(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/api/sources/%d", sid), nil)
	r.admin.must(t, http.StatusOK, "PUT", dst, map[string]any{"eps": 9})
	r.admin.must(t, http.StatusOK, "GET", dst+"/secret", nil)
	r.admin.must(t, http.StatusOK, "POST", dst+"/secret/rotate", nil)
	r.admin.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", r.a.ConnectionID), map[string]any{"status": "paused"})
	var added struct {
		AccountID uint64 `json:"account_id"`
	}
	r.admin.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": r.outsiderEmail, "role": "member"}).JSON(t, &added)
	r.admin.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/org/members/%d", added.AccountID), map[string]any{"role": "admin"})
	r.admin.must(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/api/org/members/%d", added.AccountID), nil)
}

// TestRolesLastOwner: an organization always keeps an owner; demoting or
// removing the last one is a 409.
func TestRolesLastOwner(t *testing.T) {
	t.Parallel()
	r := setupRoles(t)
	ownerPath := fmt.Sprintf("/api/org/members/%d", r.a.AccountID)
	adminPath := fmt.Sprintf("/api/org/members/%d", r.adminID)
	wantLastOwner := func(c *caller, method, path string, body any) {
		t.Helper()
		before := snapshot(t, r.owner)
		resp := c.do(t, method, path, body)
		if resp.Status != http.StatusConflict {
			t.Errorf("%s %s = %d, want 409; body %s", method, path, resp.Status, resp.Body)
			return
		}
		if got := errorOf(t, resp); got.Error != "an organization must keep at least one owner" {
			t.Errorf("%s %s: error %q, want it to say an owner must remain", method, path, got.Error)
		}
		sameSnapshot(t, before, snapshot(t, r.owner))
	}

	wantLastOwner(r.owner, "PUT", ownerPath, map[string]any{"role": "admin"})
	wantLastOwner(r.owner, "DELETE", ownerPath, nil)

	// With a second owner the first may step down; then the second is the
	// last one, and the former owner, now admin, may not touch them.
	r.owner.must(t, http.StatusOK, "PUT", adminPath, map[string]any{"role": "owner"})
	r.owner.must(t, http.StatusOK, "PUT", ownerPath, map[string]any{"role": "admin"})
	newOwner := r.admin
	r.owner = newOwner // snapshots now read as the remaining owner
	wantLastOwner(newOwner, "PUT", adminPath, map[string]any{"role": "member"})
	wantLastOwner(newOwner, "DELETE", adminPath, nil)
	exOwner := callerOf(r.srv, testserver.AdminToken).in(r.a.OrgID)
	wantForbidden(t, exOwner, "PUT", adminPath, map[string]any{"role": "admin"})
	wantForbidden(t, exOwner, "DELETE", adminPath, nil)
	wantForbidden(t, exOwner, "DELETE", "/api/org", nil)
}
