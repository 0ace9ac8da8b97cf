package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/httpapi"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// TestWithAccount checks the in-process hook the console calls the API
// through: a request whose context carries an account is served as that
// account, with its roles; nothing a client sends can do the same.
func TestWithAccount(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	mia := srv.NewAccount(t, "mia@example.com", "Mia")
	if res := srv.Do(t, testserver.Request{Method: http.MethodPost, Path: "/api/org/members", Token: testserver.AdminToken,
		Body: map[string]string{"email": "mia@example.com", "role": "member"}}); res.Status != http.StatusCreated {
		t.Fatalf("add mia: %d %s", res.Status, res.Body)
	}
	api := srv.Node.API()
	serve := func(ctx context.Context, method, path, org, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if org != "" {
			req.Header.Set("X-Organization-ID", org)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}
	acct := func(id uint64) *volley.Account {
		a, err := srv.Store.AccountGet(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	asMia := httpapi.WithAccount(t.Context(), acct(mia.AccountID))
	if rec := serve(asMia, http.MethodGet, "/api/user", "", ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "mia@example.com") {
		t.Fatalf("GET /api/user as mia in process: %d %s", rec.Code, rec.Body)
	}
	// Roles apply: mia is a member of the admin's organization.
	admOrg := strconv.FormatUint(srv.Admin.Org.ID, 10)
	path := "/api/projects/" + strconv.FormatUint(srv.Admin.Project.ID, 10) + "/sources"
	if rec := serve(asMia, http.MethodPost, path, admOrg, `{"name":"x"}`); rec.Code != http.StatusForbidden {
		t.Fatalf("a member creates a source in process: %d %s", rec.Code, rec.Body)
	}
	asAdmin := httpapi.WithAccount(t.Context(), acct(srv.Admin.Account.ID))
	if rec := serve(asAdmin, http.MethodPost, path, admOrg, `{"name":"x"}`); rec.Code != http.StatusCreated {
		t.Fatalf("the owner creates a source in process: %d %s", rec.Code, rec.Body)
	}
	// Without the context value, no header makes a caller.
	for _, h := range []string{"X-Account-ID", "X-Volley-Account", "Cookie"} {
		req := httptest.NewRequest(http.MethodGet, "/api/user", nil)
		req.Header.Set(h, strconv.FormatUint(srv.Admin.Account.ID, 10))
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("GET /api/user with %s only: %d %s", h, rec.Code, rec.Body)
		}
	}
}
