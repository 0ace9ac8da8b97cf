package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// tenants is a server with two unrelated accounts, each with a full graph:
// A is the bootstrap admin, B a second tenant.
type tenants struct {
	srv    *testserver.Server
	a, b   graph
	asA    *caller
	asB    *caller
	routes []string
}

func setupTenants(t *testing.T) *tenants {
	t.Helper()
	srv := testserver.Start(t, testserver.Options{})
	bAcct := srv.NewAccount(t, "bravo@example.com", "Bravo")
	return &tenants{
		srv:    srv,
		a:      buildGraph(t, srv, srv.AdminAccount(), "admin@localhost", "Alpha"),
		b:      buildGraph(t, srv, bAcct, "bravo@example.com", "Bravo"),
		asA:    callerOf(srv, testserver.AdminToken),
		asB:    callerOf(srv, bAcct.Token),
		routes: apiRoutes(t, srv),
	}
}

// idVariants lists the ways B can aim a pattern at A's resources: every id
// A's, and, on nested routes, one id A's and the others B's own.
func idVariants(pattern string, a, b graph) []map[string]string {
	ps := placeholders(pattern)
	if len(ps) == 0 {
		return nil
	}
	out := []map[string]string{a.ids()}
	if len(ps) > 1 {
		for _, p := range ps {
			v := maps.Clone(b.ids())
			v[p] = a.ids()[p]
			out = append(out, v)
		}
	}
	return out
}

// TestIsolationByID: B aiming any route at A's ids gets 404, learns nothing
// about A, and changes nothing.
func TestIsolationByID(t *testing.T) {
	t.Parallel()
	e := setupTenants(t)
	before := snapshot(t, e.asA)
	for _, pattern := range e.routes {
		for _, vals := range idVariants(pattern, e.a, e.b) {
			method, path, missing := fill(pattern, vals)
			if len(missing) > 0 {
				t.Errorf("unhandled route %q: no id for {%v}; add it to graph.ids", pattern, missing)
				continue
			}
			resp := e.asB.do(t, method, path, mutationBody(e.a, "admin@localhost"))
			if resp.Status != http.StatusNotFound {
				t.Errorf("B: %s %s = %d, want 404; body %s", method, path, resp.Status, resp.Body)
				continue
			}
			errorOf(t, resp)
			if leaks := e.a.leaks(resp.Body, true); len(leaks) > 0 {
				t.Errorf("B: %s %s leaks %q of A: %s", method, path, leaks, resp.Body)
			}
		}
	}
	sameSnapshot(t, before, snapshot(t, e.asA))
}

// TestIsolationBodyReferences: ids of A's resources in B's request bodies are
// rejected without revealing anything about them: as a bad field when they
// name a resource to use (400), as an unknown event when they name the
// event to act on (404). Replays and test events aimed at A send nothing
// and record nothing.
func TestIsolationBodyReferences(t *testing.T) {
	t.Parallel()
	e := setupTenants(t)
	before := snapshot(t, e.asA)
	conns := fmt.Sprintf("/api/projects/%d/connections", e.b.ProjectID)
	conn := fmt.Sprintf("/api/connections/%d", e.b.ConnectionID)
	body := map[string]any{"intrusion": true}
	tests := []struct {
		name, method, path string
		body               map[string]any
		status             int
		field              string
	}{
		{"A's source", "POST", conns, map[string]any{"source_id": e.a.SourceID, "destination_id": e.b.DestinationID}, 400, "source_id"},
		{"A's destination", "POST", conns, map[string]any{"source_id": e.b.SourceID, "destination_id": e.a.DestinationID}, 400, "destination_id"},
		{"move to A's source", "PUT", conn, map[string]any{"source_id": e.a.SourceID}, 400, "source_id"},
		{"move to A's destination", "PUT", conn, map[string]any{"destination_id": e.a.DestinationID}, 400, "destination_id"},
		{"replay of A's event", "POST", "/api/replay-event", map[string]any{"event_id": e.a.EventID}, 404, ""},
		{"replay of A's event through B's connection", "POST", "/api/replay-event",
			map[string]any{"event_id": e.a.EventID, "connection_id": e.b.ConnectionID}, 404, ""},
		{"replay through A's connection", "POST", "/api/replay-event",
			map[string]any{"event_id": e.b.EventID, "connection_id": e.a.ConnectionID}, 400, "connection_id"},
		{"replay to A's destination", "POST", "/api/replay-event",
			map[string]any{"event_id": e.b.EventID, "destination_id": e.a.DestinationID}, 400, "destination_id"},
		{"test event on A's source", "POST", "/api/webhooks", map[string]any{"source_id": e.a.SourceID, "body": body}, 400, "source_id"},
		{"test event on A's source to B's destination", "POST", "/api/webhooks",
			map[string]any{"source_id": e.a.SourceID, "destination_id": e.b.DestinationID, "body": body}, 400, "source_id"},
		{"test event to A's destination", "POST", "/api/webhooks",
			map[string]any{"source_id": e.b.SourceID, "destination_id": e.a.DestinationID, "body": body}, 400, "destination_id"},
	}
	bBefore := snapshot(t, e.asB)
	for _, tt := range tests {
		resp := e.asB.do(t, tt.method, tt.path, tt.body)
		if resp.Status != tt.status {
			t.Errorf("%s: status %d, want %d; body %s", tt.name, resp.Status, tt.status, resp.Body)
			continue
		}
		if got := errorOf(t, resp); got.Field != tt.field {
			t.Errorf("%s: error %+v, want field %q", tt.name, got, tt.field)
		}
		// The ids are B's own input, so only A's other data counts as a
		// leak; A's event id too is B's input where B sent it.
		for _, leak := range e.a.leaks(resp.Body, false) {
			if leak != tt.body["event_id"] {
				t.Errorf("%s: response leaks %q of A: %s", tt.name, leak, resp.Body)
			}
		}
	}
	sameSnapshot(t, before, snapshot(t, e.asA))
	sameSnapshot(t, bBefore, snapshot(t, e.asB))
}

// TestIsolationFilters: B filtering its own lists by A's ids finds nothing
// and learns nothing; a filter naming A's source by ingestion id is refused
// like an unknown one.
func TestIsolationFilters(t *testing.T) {
	t.Parallel()
	e := setupTenants(t)
	events := fmt.Sprintf("/api/projects/%d/requests", e.b.ProjectID)
	eventsB := fmt.Sprintf("/api/projects/%d/events", e.b.ProjectID)
	attempts := fmt.Sprintf("/api/projects/%d/delivery-attempts", e.b.ProjectID)
	attemptsB := fmt.Sprintf("/api/delivery-attempts?project_id=%d", e.b.ProjectID)
	var empty []string
	for _, list := range []string{events, eventsB, attempts, attemptsB} {
		sep := "?"
		if list == attemptsB {
			sep = "&"
		}
		// B's own unfiltered list holds exactly B's event (or its attempt).
		if n := total(t, e.asB.must(t, http.StatusOK, "GET", list, nil)); n != 1 {
			t.Errorf("B: GET %s: total %d, want B's 1", list, n)
		}
		for _, q := range []string{
			fmt.Sprintf("source_id=%d", e.a.SourceID),
			fmt.Sprintf("connection_id=%d", e.a.ConnectionID),
			fmt.Sprintf("destination_id=%d", e.a.DestinationID),
		} {
			empty = append(empty, list+sep+q)
		}
		if list == events || list == eventsB {
			empty = append(empty, list+sep+"search="+e.a.EventID, list+sep+"search=Alpha-payload",
				list+sep+"search="+e.a.EventID[:12])
		} else {
			empty = append(empty, list+sep+"event_id="+e.a.EventID)
		}
	}
	for _, path := range empty {
		resp := e.asB.must(t, http.StatusOK, "GET", path, nil)
		if n := total(t, resp); n != 0 {
			t.Errorf("B: GET %s: total %d, want 0; body %s", path, n, resp.Body)
		}
		if leaks := e.a.leaks(resp.Body, false); len(leaks) > 0 {
			t.Errorf("B: GET %s leaks %q of A: %s", path, leaks, resp.Body)
		}
	}
	for _, list := range []string{eventsB, attempts} {
		path := list + "?source_id=" + e.a.IngestionID
		resp := e.asB.do(t, "GET", path, nil)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("B: GET %s = %d, want 400; body %s", path, resp.Status, resp.Body)
			continue
		}
		if got := errorOf(t, resp); got.Field != "source_id" {
			t.Errorf("B: GET %s: error %+v, want field source_id", path, got)
		}
		for _, leak := range e.a.leaks(resp.Body, false) {
			if leak != e.a.IngestionID { // B's own input
				t.Errorf("B: GET %s leaks %q of A: %s", path, leak, resp.Body)
			}
		}
	}
}

// TestIsolationForeignOrgHeader: B naming A's organization in
// X-Organization-ID gets 403 on every route that acts inside an
// organization; the routes that do not (orgFree) ignore the header and show
// B only B's own data.
func TestIsolationForeignOrgHeader(t *testing.T) {
	t.Parallel()
	e := setupTenants(t)
	before := snapshot(t, e.asA)
	asBinA := e.asB.in(e.a.OrgID)
	for _, pattern := range e.routes {
		method, path, missing := fill(pattern, e.a.ids())
		if len(missing) > 0 {
			t.Errorf("unhandled route %q: no id for {%v}; add it to graph.ids", pattern, missing)
			continue
		}
		resp := asBinA.do(t, method, path, mutationBody(e.a, "bravo@example.com"))
		// The 403 names the organization id B sent, so ids are not checked.
		if leaks := e.a.leaks(resp.Body, false); len(leaks) > 0 {
			t.Errorf("B in A's org: %s %s leaks %q of A: %s", method, path, leaks, resp.Body)
		}
		if orgFree[pattern] {
			if resp.Status >= 300 {
				t.Errorf("B in A's org: %s %s = %d, want 2xx (the route ignores the org header); body %s", method, path, resp.Status, resp.Body)
			}
			continue
		}
		if resp.Status != http.StatusForbidden {
			t.Errorf("B in A's org: %s %s = %d, want 403; body %s", method, path, resp.Status, resp.Body)
			continue
		}
		if got := errorOf(t, resp); got.Error != "insufficient permissions" {
			t.Errorf("B in A's org: %s %s: error %q, want \"insufficient permissions\"", method, path, got.Error)
		}
	}
	sameSnapshot(t, before, snapshot(t, e.asA))
}

// TestIsolationListings: the routes that take no id show B only B's data.
func TestIsolationListings(t *testing.T) {
	t.Parallel()
	e := setupTenants(t)
	for _, pattern := range e.routes {
		method, path := splitPattern(pattern)
		if method != "GET" || len(placeholders(pattern)) > 0 || neverEnds[pattern] {
			continue
		}
		resp := e.asB.must(t, http.StatusOK, method, path, nil)
		if leaks := e.a.leaks(resp.Body, false); len(leaks) > 0 {
			t.Errorf("B: %s leaks %q of A: %s", pattern, leaks, resp.Body)
		}
	}
}

// TestUnauthorized: every route answers a missing, unknown or malformed
// token with 401 {"error":"unauthorized"} before looking at anything else.
func TestUnauthorized(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	a := buildGraph(t, srv, srv.AdminAccount(), "admin@localhost", "Alpha")
	before := snapshot(t, callerOf(srv, testserver.AdminToken))
	auths := map[string]string{
		"missing":   "",
		"unknown":   "Bearer vk_unknown000000000000000000000000000000",
		"malformed": "Bearer",
		"basic":     "Basic YWRtaW46YWRtaW4tcGFzc3dvcmQ=",
		"raw token": testserver.AdminToken,
	}
	for _, pattern := range apiRoutes(t, srv) {
		method, path := mustFill(t, pattern, a.ids())
		body, _ := json.Marshal(mutationBody(a, "admin@localhost"))
		for name, auth := range auths {
			h := map[string]string{"Content-Type": "application/json"}
			if auth != "" {
				h["Authorization"] = auth
			}
			resp := rawDo(t, srv, method, path, h, body)
			if resp.Status != http.StatusUnauthorized {
				t.Errorf("%s token: %s %s = %d, want 401; body %s", name, method, path, resp.Status, resp.Body)
				continue
			}
			var got map[string]any
			if err := json.Unmarshal(resp.Body, &got); err != nil || len(got) != 1 || got["error"] != "unauthorized" {
				t.Errorf("%s token: %s %s: body %s, want {\"error\":\"unauthorized\"}", name, method, path, resp.Body)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s token: %s %s: no WWW-Authenticate header", name, method, path)
			}
		}
	}
	sameSnapshot(t, before, snapshot(t, callerOf(srv, testserver.AdminToken)))
}
