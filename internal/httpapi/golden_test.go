package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenDir holds one pinned response per case: testdata/golden/<case>.json.
const goldenDir = "testdata/golden"

// goldenCases maps every route pattern to the golden case that pins one of
// its responses. A new route is one line here plus its call in TestGolden;
// TestGoldenCoversEveryRoute fails until both exist.
var goldenCases = map[string]string{
	"GET /api/user": "user_get",

	"GET /api/org/list":                      "org_list",
	"GET /api/org":                           "org_get",
	"POST /api/org":                          "org_create",
	"DELETE /api/org":                        "org_delete",
	"GET /api/org/members":                   "members_list",
	"POST /api/org/members":                  "member_add",
	"PUT /api/org/members/{account_id}":      "member_update",
	"DELETE /api/org/members/{account_id}":   "member_delete",
	"GET /api/projects":                      "project_list",
	"POST /api/projects":                     "project_create",
	"GET /api/projects/{project_id}":         "project_get",
	"PUT /api/projects/{project_id}":         "project_update",
	"DELETE /api/projects/{project_id}":      "project_delete",
	"GET /api/projects/{project_id}/sources": "source_list",

	"POST /api/projects/{project_id}/sources":                                     "source_create",
	"GET /api/sources/{source_id}":                                                "source_get",
	"PUT /api/sources/{source_id}":                                                "source_update",
	"DELETE /api/sources/{source_id}":                                             "source_delete",
	"GET /api/projects/{project_id}/sources/{source_id}":                          "source_get_nested",
	"PUT /api/projects/{project_id}/sources/{source_id}":                          "source_update_nested",
	"DELETE /api/projects/{project_id}/sources/{source_id}":                       "source_delete_nested",
	"GET /api/projects/{project_id}/destinations":                                 "destination_list",
	"POST /api/projects/{project_id}/destinations":                                "destination_create",
	"GET /api/destinations/{destination_id}":                                      "destination_get",
	"PUT /api/destinations/{destination_id}":                                      "destination_update",
	"DELETE /api/destinations/{destination_id}":                                   "destination_delete",
	"GET /api/destinations/{destination_id}/secret":                               "destination_secret",
	"POST /api/destinations/{destination_id}/secret/rotate":                       "destination_secret_rotate",
	"GET /api/projects/{project_id}/destinations/{destination_id}":                "destination_get_nested",
	"PUT /api/projects/{project_id}/destinations/{destination_id}":                "destination_update_nested",
	"DELETE /api/projects/{project_id}/destinations/{destination_id}":             "destination_delete_nested",
	"GET /api/projects/{project_id}/destinations/{destination_id}/secret":         "destination_secret_nested",
	"POST /api/projects/{project_id}/destinations/{destination_id}/secret/rotate": "destination_secret_rotate_nested",

	"GET /api/projects/{project_id}/connections":  "connection_list",
	"POST /api/projects/{project_id}/connections": "connection_create",
	"GET /api/connections/{connection_id}":        "connection_get",
	"PUT /api/connections/{connection_id}":        "connection_update",
	"DELETE /api/connections/{connection_id}":     "connection_delete",
}

// pendingGolden lists routes whose production code is still being written
// by someone else, with the reason; they get a golden case once they settle.
// Keep it empty otherwise.
var pendingGolden = map[string]string{}

// TestGolden calls every route once, in a fixed order on a server with a
// fixed clock and seeded randomness, and compares each response with its
// golden file. Run with -update to rewrite the files.
func TestGolden(t *testing.T) {
	t.Parallel()
	srv, clk := startFixed(t)
	g := &goldenRun{t: t, srv: srv, routes: apiRoutes(t, srv), seen: map[string]bool{}}
	admin := callerOf(srv, testserver.AdminToken)
	no := map[string]uint64(nil)

	g.route(admin, "GET /api/user", no, nil)
	g.route(admin, "GET /api/org/list", no, nil)
	g.route(admin, "GET /api/org", no, nil)
	clk.Advance(time.Minute)
	acme := idOf(t, g.route(admin, "POST /api/org", no, map[string]any{"name": "Acme Corp"}), "")

	bob := srv.NewAccount(t, "bob@example.com", "Bob")
	g.route(admin, "POST /api/org/members", no, map[string]any{"email": "Bob@Example.com", "role": "member"})
	g.route(admin, "GET /api/org/members", no, nil)
	clk.Advance(time.Minute)
	member := map[string]uint64{"account_id": bob.AccountID}
	g.route(admin, "PUT /api/org/members/{account_id}", member, map[string]any{"role": "admin"})
	g.route(admin, "DELETE /api/org/members/{account_id}", member, nil)

	pid := idOf(t, g.route(admin, "POST /api/projects", no, map[string]any{"name": "Shop"}), "project")
	project := map[string]uint64{"project_id": pid}
	g.route(admin, "GET /api/projects", no, nil)
	g.route(admin, "GET /api/projects/{project_id}", project, nil)
	clk.Advance(time.Minute)
	g.route(admin, "PUT /api/projects/{project_id}", project, map[string]any{"name": "Shop EU"})

	sid := idOf(t, g.route(admin, "POST /api/projects/{project_id}/sources", project,
		map[string]any{"name": "Stripe Webhooks", "eps": 10, "auth_type": "api_key", "auth_key": "k3y"}), "source")
	sid2 := idOf(t, admin.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", pid),
		map[string]any{"slug": "orders"}), "source")
	source := map[string]uint64{"project_id": pid, "source_id": sid}
	g.route(admin, "GET /api/projects/{project_id}/sources", project, nil)
	g.route(admin, "GET /api/sources/{source_id}", source, nil)
	g.route(admin, "GET /api/projects/{project_id}/sources/{source_id}", source, nil)
	clk.Advance(time.Minute)
	g.route(admin, "PUT /api/sources/{source_id}", source, map[string]any{"eps": 20, "status": "disabled"})
	g.route(admin, "PUT /api/projects/{project_id}/sources/{source_id}", source,
		map[string]any{"auth_type": "basic", "auth_username": "shop", "auth_key": "pw"})

	did := idOf(t, g.route(admin, "POST /api/projects/{project_id}/destinations", project,
		map[string]any{"name": "Billing", "url": "http://127.0.0.1:9/billing", "eps": 5, "headers": map[string]string{"X-Env": "test"}}), "destination")
	did2 := idOf(t, admin.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/destinations", pid),
		map[string]any{"name": "Audit", "url": "http://localhost:9/audit"}), "destination")
	dest := map[string]uint64{"project_id": pid, "destination_id": did}
	dest2 := map[string]uint64{"project_id": pid, "destination_id": did2}
	g.route(admin, "GET /api/projects/{project_id}/destinations", project, nil)
	g.route(admin, "GET /api/destinations/{destination_id}", dest, nil)
	g.route(admin, "GET /api/projects/{project_id}/destinations/{destination_id}", dest, nil)
	g.route(admin, "GET /api/destinations/{destination_id}/secret", dest, nil)
	g.route(admin, "GET /api/projects/{project_id}/destinations/{destination_id}/secret", dest2, nil)
	clk.Advance(time.Minute)
	g.route(admin, "PUT /api/destinations/{destination_id}", dest, map[string]any{"timeout_ms": 5000})
	g.route(admin, "PUT /api/projects/{project_id}/destinations/{destination_id}", dest, map[string]any{"status": "disabled"})
	g.route(admin, "POST /api/destinations/{destination_id}/secret/rotate", dest, nil)
	g.route(admin, "POST /api/projects/{project_id}/destinations/{destination_id}/secret/rotate", dest2,
		map[string]any{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})

	cid := idOf(t, g.route(admin, "POST /api/projects/{project_id}/connections", project,
		map[string]any{"source_id": sid, "destination_id": did, "max_retries": 3}), "connection")
	conn := map[string]uint64{"connection_id": cid}
	g.route(admin, "GET /api/projects/{project_id}/connections", project, nil)
	g.route(admin, "GET /api/connections/{connection_id}", conn, nil)
	clk.Advance(time.Minute)
	g.route(admin, "PUT /api/connections/{connection_id}", conn, map[string]any{"status": "paused", "eps": 2})

	// Error bodies, one per status.
	g.pin("error_400", admin, "POST /api/projects/{project_id}/sources", project, map[string]any{"name": "Ten", "eps": "ten"})
	g.pin("error_401", callerOf(srv, "vk_wrong0000000000000000000000000000000"), "GET /api/user", no, nil)
	g.pin("error_403", admin.in(bob.OrgID), "GET /api/projects", no, nil)
	g.pin("error_404", admin, "GET /api/sources/{source_id}", map[string]uint64{"source_id": 999999}, nil)
	g.pin("error_404_endpoint", admin, "GET /api/no-such-thing", no, nil)
	g.pin("error_409", admin, "POST /api/projects/{project_id}/sources", project, map[string]any{"name": "Stripe webhooks!"})
	g.pin("error_409_default_project", admin, "DELETE /api/projects/{project_id}",
		map[string]uint64{"project_id": srv.Admin.Project.ID}, nil)
	g.pin("error_413", admin, "POST /api/projects", no, `{"name":"`+strings.Repeat("x", 1<<20)+`"}`)

	// Deletes last, children before parents.
	g.route(admin, "DELETE /api/connections/{connection_id}", conn, nil)
	g.route(admin, "DELETE /api/projects/{project_id}/sources/{source_id}", map[string]uint64{"project_id": pid, "source_id": sid2}, nil)
	g.route(admin, "DELETE /api/projects/{project_id}/destinations/{destination_id}", dest2, nil)
	g.route(admin, "DELETE /api/sources/{source_id}", source, nil)
	g.route(admin, "DELETE /api/destinations/{destination_id}", dest, nil)
	g.route(admin, "DELETE /api/projects/{project_id}", project, nil)
	g.route(admin.in(acme), "DELETE /api/org", no, nil)

	g.finish()
}

// TestGoldenCoversEveryRoute fails when a route has no golden case (nor a
// pendingGolden entry), when the table names a route that no longer exists,
// or when a case has no golden file.
func TestGoldenCoversEveryRoute(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	routes := apiRoutes(t, srv)
	for _, r := range routes {
		_, pinned := goldenCases[r]
		_, pending := pendingGolden[r]
		switch {
		case pinned && pending:
			t.Errorf("%q is both in goldenCases and pendingGolden", r)
		case !pinned && !pending:
			t.Errorf("route %q has no golden case: add it to goldenCases and call it in TestGolden", r)
		}
	}
	for r, name := range goldenCases {
		if !slices.Contains(routes, r) {
			t.Errorf("goldenCases names %q (%s), which Server.APIRoutes() does not list", r, name)
		}
		if _, err := os.Stat(filepath.Join(goldenDir, name+".json")); err != nil && !*update {
			t.Errorf("route %q: golden file missing (%v); run go test ./internal/httpapi -run TestGolden -update", r, err)
		}
	}
	for r := range pendingGolden {
		if !slices.Contains(routes, r) {
			t.Errorf("pendingGolden names %q, which Server.APIRoutes() does not list", r)
		}
	}
}

// goldenRun pins responses in call order and remembers which cases ran.
type goldenRun struct {
	t      *testing.T
	srv    *testserver.Server
	routes []string
	seen   map[string]bool
}

// route calls a listed route and pins the response as its golden case.
func (g *goldenRun) route(c *caller, pattern string, vars map[string]uint64, body any) *testserver.Response {
	g.t.Helper()
	name, ok := goldenCases[pattern]
	if !ok {
		g.t.Fatalf("route %q has no entry in goldenCases", pattern)
	}
	if !slices.Contains(g.routes, pattern) {
		g.t.Fatalf("route %q is not in Server.APIRoutes()", pattern)
	}
	return g.pin(name, c, pattern, vars, body)
}

// pin calls pattern with vars and compares the response with the golden
// file of name.
func (g *goldenRun) pin(name string, c *caller, pattern string, vars map[string]uint64, body any) *testserver.Response {
	g.t.Helper()
	if g.seen[name] {
		g.t.Fatalf("golden case %s pinned twice", name)
	}
	g.seen[name] = true
	vals := map[string]string{}
	for k, v := range vars {
		vals[k] = strconv.FormatUint(v, 10)
	}
	method, path := mustFill(g.t, pattern, vals)
	resp := c.do(g.t, method, path, body)
	if resp.Status >= 500 {
		g.t.Fatalf("%s %s: status %d: %s", method, path, resp.Status, resp.Body)
	}
	got := goldenBytes(g.t, resp, g.srv.URL)
	file := filepath.Join(goldenDir, name+".json")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			g.t.Fatal(err)
		}
		return resp
	}
	want, err := os.ReadFile(file)
	if err != nil {
		g.t.Errorf("%s (%s %s): %v; run with -update to create it", name, method, path, err)
		return resp
	}
	if !bytes.Equal(got, want) {
		g.t.Errorf("%s (%s %s) differs from %s (run with -update if the change is intended):\n%s",
			name, method, path, file, lineDiff(string(want), string(got)))
	}
	return resp
}

// finish checks that every table entry ran and that no golden file is left
// over from a case that no longer exists.
func (g *goldenRun) finish() {
	g.t.Helper()
	for pattern, name := range goldenCases {
		if !g.seen[name] && slices.Contains(g.routes, pattern) {
			g.t.Errorf("golden case %s (%s) is in goldenCases but TestGolden never calls it", name, pattern)
		}
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		g.t.Fatal(err)
	}
	for _, f := range files {
		if g.seen[strings.TrimSuffix(filepath.Base(f), ".json")] {
			continue
		}
		if *update {
			os.Remove(f)
			continue
		}
		g.t.Errorf("stale golden file %s: no case produces it (run with -update to remove it)", f)
	}
}

// goldenBytes renders a response as an indented JSON document holding its
// status, content type and body. The body is embedded verbatim, so only
// whitespace outside strings is reformatted; the test server's random port
// in ingestion URLs becomes http://volley.test.
func goldenBytes(t testing.TB, resp *testserver.Response, baseURL string) []byte {
	t.Helper()
	var doc bytes.Buffer
	fmt.Fprintf(&doc, `{"status":%d`, resp.Status)
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		ctJSON, _ := json.Marshal(ct)
		fmt.Fprintf(&doc, `,"content_type":%s`, ctJSON)
	}
	body := bytes.ReplaceAll(resp.Body, []byte(baseURL), []byte("http://volley.test"))
	if len(body) > 0 {
		if !json.Valid(body) {
			t.Errorf("status %d: body is not JSON: %q", resp.Status, body)
			body, _ = json.Marshal(string(body))
		}
		doc.WriteString(`,"body":`)
		doc.Write(body)
	}
	doc.WriteString("}")
	var out bytes.Buffer
	if err := json.Indent(&out, doc.Bytes(), "", "  "); err != nil {
		t.Fatalf("indent %s: %v", doc.Bytes(), err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// lineDiff shows where two texts part: the first differing line with some
// context, then the rest of both.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	for j := max(0, i-3); j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	for j := i; j < min(len(w), i+8); j++ {
		fmt.Fprintf(&b, "- %s\n", w[j])
	}
	for j := i; j < min(len(g), i+8); j++ {
		fmt.Fprintf(&b, "+ %s\n", g[j])
	}
	return b.String()
}
