package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// project is a project as the API returns it, with user_id kept as the raw
// JSON so that a null or a string is caught.
type project struct {
	ID             uint64          `json:"id"`
	Name           string          `json:"name"`
	OrganizationID uint64          `json:"organization_id"`
	UserID         json.RawMessage `json:"user_id"`
	IsDefault      bool            `json:"is_default"`
	CreatedAt      string          `json:"created_at"`
	UpdatedAt      string          `json:"updated_at"`
}

// projectOf decodes the project of a single-project response.
func projectOf(t testing.TB, resp *testserver.Response) project {
	t.Helper()
	var v struct {
		Project project `json:"project"`
	}
	resp.JSON(t, &v)
	return v.Project
}

// projectsOf decodes GET /api/projects.
func projectsOf(t testing.TB, c *caller) []project {
	t.Helper()
	var v struct {
		Projects []project `json:"projects"`
	}
	c.must(t, http.StatusOK, "GET", "/api/projects", nil).JSON(t, &v)
	return v.Projects
}

// wantCreator checks that p's user_id is the integer account.
func wantCreator(t testing.TB, what string, p project, account uint64) {
	t.Helper()
	if string(p.UserID) != fmt.Sprint(account) {
		t.Errorf("%s: user_id = %s, want %d", what, p.UserID, account)
	}
}

// TestProjectUserID: every project carries the account that created it as
// an integer user_id: the default projects of a new account and of a new
// organization, and a project another member creates.
func TestProjectUserID(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	admin := callerOf(srv, testserver.AdminToken)
	adminID := srv.Admin.Account.ID
	bob := srv.NewAccount(t, "bob@example.com", "Bob")
	asBob := callerOf(srv, bob.Token)

	for _, p := range projectsOf(t, admin) {
		wantCreator(t, "the admin's default project", p, adminID)
	}
	for _, p := range projectsOf(t, asBob) {
		wantCreator(t, "Bob's default project", p, bob.AccountID)
	}

	// Bob, an admin of the admin's organization, creates a project there.
	admin.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": "bob@example.com", "role": "admin"})
	inAdminOrg := asBob.in(srv.Admin.Org.ID)
	created := projectOf(t, inAdminOrg.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Bob's"}))
	wantCreator(t, "POST /api/projects by Bob", created, bob.AccountID)
	if created.OrganizationID != srv.Admin.Org.ID {
		t.Errorf("POST /api/projects by Bob: organization_id = %d, want %d", created.OrganizationID, srv.Admin.Org.ID)
	}
	path := fmt.Sprintf("/api/projects/%d", created.ID)
	wantCreator(t, "GET by the admin", projectOf(t, admin.must(t, http.StatusOK, "GET", path, nil)), bob.AccountID)
	renamed := projectOf(t, admin.must(t, http.StatusOK, "PUT", path, map[string]any{"name": "Renamed", "is_default": true}))
	wantCreator(t, "PUT by the admin", renamed, bob.AccountID)

	// A new organization's default project is its creator's.
	org := idOf(t, asBob.must(t, http.StatusCreated, "POST", "/api/org", map[string]any{"name": "Bob Two"}), "")
	ps := projectsOf(t, asBob.in(org))
	if len(ps) != 1 {
		t.Fatalf("projects of a new organization: %+v, want its default", ps)
	}
	wantCreator(t, "the default project of POST /api/org", ps[0], bob.AccountID)
}

// TestProjectUpdatePartial: PUT /api/projects/{id} takes any subset of its
// fields. {} changes nothing (not even updated_at) and answers the project;
// is_default alone moves the flag and keeps the name.
func TestProjectUpdatePartial(t *testing.T) {
	t.Parallel()
	srv, clk := startFixed(t)
	admin := callerOf(srv, testserver.AdminToken)
	created := projectOf(t, admin.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Staging"}))
	path := fmt.Sprintf("/api/projects/%d", created.ID)

	clk.Advance(time.Minute)
	got := projectOf(t, admin.must(t, http.StatusOK, "PUT", path, map[string]any{}))
	if !reflect.DeepEqual(got, created) {
		t.Errorf("PUT {} = %+v, want the project unchanged: %+v", got, created)
	}
	if got := projectOf(t, admin.must(t, http.StatusOK, "GET", path, nil)); !reflect.DeepEqual(got, created) {
		t.Errorf("GET after PUT {} = %+v, want %+v", got, created)
	}

	clk.Advance(time.Minute)
	got = projectOf(t, admin.must(t, http.StatusOK, "PUT", path, map[string]any{"is_default": true}))
	if !got.IsDefault || got.Name != "Staging" || got.UpdatedAt == created.UpdatedAt {
		t.Errorf(`PUT {"is_default":true} = %+v, want the default, still named Staging, updated`, got)
	}
	for _, p := range projectsOf(t, admin) {
		if p.IsDefault != (p.ID == created.ID) {
			t.Errorf("after moving the default flag: %+v", p)
		}
	}

	got = projectOf(t, admin.must(t, http.StatusOK, "PUT", path, map[string]any{"name": "Main"}))
	if !got.IsDefault || got.Name != "Main" {
		t.Errorf(`PUT {"name":"Main"} = %+v, want the default named Main`, got)
	}
	if e := errorOf(t, admin.must(t, http.StatusBadRequest, "PUT", path, map[string]any{"name": ""})); e.Field != "name" {
		t.Errorf(`PUT {"name":""}: error %+v, want one naming name`, e)
	}
	admin.must(t, http.StatusConflict, "PUT", path, map[string]any{"is_default": false})
}
