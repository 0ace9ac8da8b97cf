package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// The official clients decode responses strictly (api-contract.md §1.5,
// semantics.md §9). The first tests walk every golden response; the others
// call a live server.

// nullable lists the keys the contract allows to be null; every other null
// breaks a client (.NET rejects null numbers and booleans).
var nullable = map[string]bool{"headers": true, "remarks": true, "entry_time": true, "exit_time": true}

// stringIDs are the *_id keys that are strings by contract.
var stringIDs = map[string]bool{"event_id": true, "ingestion_id": true}

// wrappers are the single-object keys that family A reads; family B reads
// the same fields at the top level.
var wrappers = []string{"project", "source", "destination", "connection", "member", "request"}

// goldenBodies decodes the body of every golden file, by case name.
func goldenBodies(t *testing.T) map[string]any {
	t.Helper()
	if *update {
		t.Skip("golden files are being rewritten")
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(goldenCases) {
		t.Fatalf("%d golden files, want at least %d; run TestGolden with -update", len(files), len(goldenCases))
	}
	out := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(doc.Body) == 0 {
			continue
		}
		var body any
		dec := json.NewDecoder(bytes.NewReader(doc.Body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Fatalf("%s: body: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = body
	}
	return out
}

// walk calls fn for every key and value of v, depth first, with the key's
// path for messages. Array items are visited under their array's key.
func walk(v any, key, path string, fn func(key, path string, v any)) {
	fn(key, path, v)
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			walk(child, k, path+"."+k, fn)
		}
	case []any:
		for i, child := range v {
			walk(child, key, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// TestCompatJSONTypes: in every golden response, ids are JSON integers,
// event ids strings, timestamps RFC 3339 in UTC with a Z, and no value is
// null unless the contract allows it.
func TestCompatJSONTypes(t *testing.T) {
	t.Parallel()
	for name, body := range goldenBodies(t) {
		walk(body, "", name, func(key, path string, v any) {
			switch {
			case v == nil:
				if !nullable[key] {
					t.Errorf("%s is null", path)
				}
			case key == "event_id" || stringIDs[key]:
				if _, ok := v.(string); !ok {
					t.Errorf("%s = %v, want a JSON string", path, v)
				}
			case key == "id" || strings.HasSuffix(key, "_id"):
				n, ok := v.(json.Number)
				if _, err := strconv.ParseUint(string(n), 10, 64); !ok || err != nil {
					t.Errorf("%s = %#v, want a JSON integer", path, v)
				}
			case strings.HasSuffix(key, "_at"):
				s, _ := v.(string)
				if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") {
					t.Errorf("%s = %#v, want an RFC 3339 UTC time ending in Z", path, v)
				}
			}
		})
	}
}

// TestCompatMergedObjects: a response with a wrapper key carries the same
// fields at the top level and nothing else, so both client families decode
// it; the single-object routes all do.
func TestCompatMergedObjects(t *testing.T) {
	t.Parallel()
	bodies := goldenBodies(t)
	merged := map[string]bool{}
	for name, body := range bodies {
		obj, ok := body.(map[string]any)
		if !ok {
			continue
		}
		for _, key := range wrappers {
			inner, ok := obj[key].(map[string]any)
			if !ok {
				continue
			}
			merged[name] = true
			top := map[string]any{}
			for k, v := range obj {
				if k != key {
					top[k] = v
				}
			}
			if !reflect.DeepEqual(top, inner) {
				t.Errorf("%s: top-level fields %v differ from %q %v", name, top, key, inner)
			}
		}
	}
	for _, name := range []string{
		"project_create", "project_get", "project_update",
		"source_create", "source_get", "source_update", "source_get_nested", "source_update_nested",
		"destination_create", "destination_get", "destination_update", "destination_get_nested", "destination_update_nested",
		"connection_create", "connection_get", "connection_update",
		"member_add", "member_update",
	} {
		if _, ok := bodies[name]; ok && !merged[name] {
			t.Errorf("%s: no wrapper key; single objects must carry one of %v", name, wrappers)
		}
	}
	for _, name := range []string{"org_get", "org_create"} {
		if obj, _ := bodies[name].(map[string]any); obj["id"] == nil || len(obj) == 0 {
			t.Errorf("%s is not a bare organization: %v", name, bodies[name])
		}
	}
}

// TestCompatDelete: every DELETE route answers 204 with an empty body (the
// .NET SDK rejects non-JSON text), and the resource is gone afterwards.
func TestCompatDelete(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	admin := callerOf(srv, testserver.AdminToken)
	routes := apiRoutes(t, srv)
	n := 0
	for i, pattern := range routes {
		method, _ := splitPattern(pattern)
		if method != "DELETE" {
			continue
		}
		n++
		// Each DELETE gets its own graph, member and organization to remove.
		label := fmt.Sprintf("Del%d", i)
		g := buildGraph(t, srv, srv.AdminAccount(), "admin@localhost", label)
		email := strings.ToLower(label) + "@example.com"
		acct := srv.NewAccount(t, email, label)
		g.AccountID = acct.AccountID
		admin.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": email, "role": "member"})
		org := idOf(t, admin.must(t, http.StatusCreated, "POST", "/api/org", map[string]any{"name": label}), "")
		c := admin
		if pattern == "DELETE /api/org" {
			c = admin.in(org)
		}
		_, path := mustFill(t, pattern, g.ids())
		resp := c.do(t, method, path, nil)
		if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
			t.Errorf("%s = %d with body %q, want 204 and an empty body", path, resp.Status, resp.Body)
			continue
		}
		if pattern == "DELETE /api/org" {
			if list := admin.must(t, http.StatusOK, "GET", "/api/org/list", nil); strings.Contains(string(list.Body), `"name":"`+label+`"`) {
				t.Errorf("organization %s still listed after DELETE: %s", label, list.Body)
			}
			continue
		}
		if slices.Contains(routes, "GET "+strings.TrimPrefix(pattern, "DELETE ")) {
			if resp := c.do(t, "GET", path, nil); resp.Status != http.StatusNotFound {
				t.Errorf("GET %s after DELETE = %d, want 404", path, resp.Status)
			}
		}
	}
	if n == 0 {
		t.Fatal("no DELETE route")
	}
}

// TestCompatOrg: GET /api/org is a bare organization; POST /api/org answers
// 201 with the caller as owner, and the new organization has exactly one
// project, its default.
func TestCompatOrg(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	admin := callerOf(srv, testserver.AdminToken)

	org := decodeObject(t, admin.must(t, http.StatusOK, "GET", "/api/org", nil).Body)
	for _, k := range []string{"id", "name", "slug", "account_id", "role", "created_at"} {
		if _, ok := org[k]; !ok {
			t.Errorf("GET /api/org has no top-level %q: %v", k, org)
		}
	}
	for k, v := range org {
		if _, nested := v.(map[string]any); nested {
			t.Errorf("GET /api/org is not bare: %q holds an object", k)
		}
	}

	var created struct {
		ID        uint64 `json:"id"`
		Name      string `json:"name"`
		Slug      string `json:"slug"`
		AccountID uint64 `json:"account_id"`
		Role      string `json:"role"`
	}
	admin.must(t, http.StatusCreated, "POST", "/api/org", map[string]any{"name": "New Organization"}).JSON(t, &created)
	if created.Role != "owner" || created.Name != "New Organization" || created.Slug != "new-organization" || created.AccountID != srv.Admin.Account.ID {
		t.Errorf("POST /api/org = %+v, want the caller as owner of new-organization", created)
	}
	var projects struct {
		Projects []struct {
			OrganizationID uint64 `json:"organization_id"`
			IsDefault      bool   `json:"is_default"`
		} `json:"projects"`
	}
	admin.in(created.ID).must(t, http.StatusOK, "GET", "/api/projects", nil).JSON(t, &projects)
	if len(projects.Projects) != 1 || !projects.Projects[0].IsDefault || projects.Projects[0].OrganizationID != created.ID {
		t.Errorf("projects of the new organization = %+v, want exactly its default project", projects.Projects)
	}
	if got := decodeObject(t, admin.in(created.ID).must(t, http.StatusOK, "GET", "/api/org", nil).Body); got["role"] != "owner" {
		t.Errorf("GET /api/org in the new organization: role %v, want owner", got["role"])
	}
}
