package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// The helpers below are shared by every test file of the package: a caller
// bound to one token and organization, a small routing graph per tenant,
// route-pattern arithmetic driven by Server.APIRoutes, and snapshots that
// prove a failed call changed nothing.

// t0 is the fixed time of servers that need stable timestamps.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a settable clock for testserver.Options.NowFunc.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(at time.Time) *clock { return &clock{now: at} }

// Now returns the clock's current time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lockedReader makes a deterministic source safe for handlers that read it
// concurrently.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// seededRand returns a deterministic, concurrency-safe random source.
func seededRand(seed string) io.Reader {
	var s [32]byte
	copy(s[:], seed)
	return &lockedReader{r: rand.NewChaCha8(s)}
}

// startFixed starts a server whose clock stands still at t0 (unless the test
// advances it) and whose randomness is seeded. The delivery engine reads the
// same clock.
func startFixed(t *testing.T) (*testserver.Server, *clock) {
	t.Helper()
	clk := newClock(t0)
	srv := testserver.Start(t, testserver.Options{
		// The node gives NowFunc to the delivery engine too (timers stay
		// real), so attempts carry the same standing time as the events.
		NowFunc: clk.Now, Rand: seededRand("volley httpapi tests"),
	})
	return srv, clk
}

// caller sends API requests with one token, optionally in one organization.
type caller struct {
	srv   *testserver.Server
	token string
	org   uint64 // X-Organization-ID; 0 sends none
}

func callerOf(srv *testserver.Server, token string) *caller { return &caller{srv: srv, token: token} }

// in returns a copy of c acting in organization org.
func (c *caller) in(org uint64) *caller {
	cp := *c
	cp.org = org
	return &cp
}

func (c *caller) do(t testing.TB, method, path string, body any) *testserver.Response {
	t.Helper()
	return c.srv.Do(t, testserver.Request{Method: method, Path: path, Token: c.token, Org: c.org, Body: body})
}

// must calls the API and fails the test at once unless the status is want.
func (c *caller) must(t testing.TB, want int, method, path string, body any) *testserver.Response {
	t.Helper()
	resp := c.do(t, method, path, body)
	if resp.Status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.Status, want, resp.Body)
	}
	return resp
}

// rawDo sends a request with arbitrary headers (testserver.Request cannot
// send a non-numeric X-Organization-ID).
func rawDo(t testing.TB, srv *testserver.Server, method, path string, header map[string]string, body []byte) *testserver.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &testserver.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// decodeObject decodes a JSON object body, keeping numbers exact.
func decodeObject(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// apiError is the error body every client reads.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func errorOf(t testing.TB, resp *testserver.Response) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(resp.Body, &e); err != nil || e.Error == "" {
		t.Fatalf("status %d: body %q is not an error body (%v)", resp.Status, resp.Body, err)
	}
	return e
}

// idOf returns the "id" of a single-object response, read from the wrapper
// key when there is one.
func idOf(t testing.TB, resp *testserver.Response, key string) uint64 {
	t.Helper()
	var v map[string]json.RawMessage
	resp.JSON(t, &v)
	raw := v["id"]
	if inner, ok := v[key]; ok {
		var w map[string]json.RawMessage
		if err := json.Unmarshal(inner, &w); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		raw = w["id"]
	}
	id, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		t.Fatalf("no integer id in %s", resp.Body)
	}
	return id
}

// stringOf returns field of the wrapper object key.
func stringOf(t testing.TB, resp *testserver.Response, key, field string) string {
	t.Helper()
	var v map[string]json.RawMessage
	resp.JSON(t, &v)
	var inner map[string]any
	if err := json.Unmarshal(v[key], &inner); err != nil {
		t.Fatalf("no object %s in %s", key, resp.Body)
	}
	s, ok := inner[field].(string)
	if !ok {
		t.Fatalf("no string %s.%s in %s", key, field, resp.Body)
	}
	return s
}

// graph is one tenant's routing graph: a project with a source, a
// destination and a connection between them, and one event that went
// through it (its single attempt failed: the destination refuses
// connections and the connection makes no retries, so the graph's traffic
// no longer changes by itself).
type graph struct {
	AccountID, OrgID, DefaultProjectID uint64
	ProjectID, SourceID, DestinationID uint64
	ConnectionID, TokenID              uint64
	TransformationID                   uint64
	// ReplayID is a bulk replay job that matched no event (it ended at
	// once, leaving the graph's traffic as it was).
	ReplayID                                uint64
	SourceSlug, IngestionID, DestinationURL string
	// RequestID and EventID are the event's numeric and public ids.
	RequestID uint64
	EventID   string
	// InvitationID is a pending invitation to the organization, whose
	// link InvitationURL carries a secret.
	InvitationID  uint64
	InvitationURL string
	// Secrets lists every name, slug, id string and URL of the graph: none
	// of them may appear in another tenant's responses.
	Secrets []string
}

// buildGraph creates a graph for acct; label makes its names distinctive.
func buildGraph(t testing.TB, srv *testserver.Server, acct *testserver.Account, email, label string) graph {
	t.Helper()
	c := callerOf(srv, acct.Token)
	g := graph{AccountID: acct.AccountID, OrgID: acct.OrgID, DefaultProjectID: acct.ProjectID}
	org := decodeObject(t, c.must(t, http.StatusOK, "GET", "/api/org", nil).Body)
	projectName := label + " Project"
	g.ProjectID = idOf(t, c.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": projectName}), "project")
	src := c.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", g.ProjectID),
		map[string]any{"name": label + " Source", "auth_type": "basic", "auth_username": label + "-user", "auth_key": label + "-password"})
	g.SourceID = idOf(t, src, "source")
	g.SourceSlug = stringOf(t, src, "source", "slug")
	g.IngestionID = stringOf(t, src, "source", "ingestion_id")
	g.DestinationURL = "http://127.0.0.1:9/" + strings.ToLower(label) + "-inbox"
	dst := c.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/destinations", g.ProjectID),
		map[string]any{"name": label + " Destination", "url": g.DestinationURL, "headers": map[string]string{"X-Tenant": label + "-header"}})
	g.DestinationID = idOf(t, dst, "destination")
	conn := c.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/connections", g.ProjectID),
		map[string]any{"source_id": g.SourceID, "destination_id": g.DestinationID, "name": label + " Connection", "max_retries": 0})
	g.ConnectionID = idOf(t, conn, "connection")
	g.TransformationID = idOf(t, c.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/transformations", g.ProjectID),
		map[string]any{"name": label + " Transformation", "code": "(request) => request // " + label + "-code"}), "transformation")
	g.ReplayID = idOf(t, c.must(t, http.StatusAccepted, "POST", fmt.Sprintf("/api/projects/%d/replays", g.ProjectID),
		map[string]any{"filter": map[string]any{"end_time": "2000-01-01"}}), "replay")
	g.TokenID = idOf(t, c.must(t, http.StatusCreated, "POST", "/api/tokens", map[string]any{"name": label + " Token"}), "")
	secret := c.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/destinations/%d/secret", g.DestinationID), nil)
	var sec struct{ Secret string }
	secret.JSON(t, &sec)
	payload := label + "-payload"
	g.EventID = ingest(t, srv, g.IngestionID, map[string]string{"Authorization": basicAuth(label+"-user", label+"-password"),
		"X-Tenant-Trace": label + "-trace"}, `{"tenant":"`+payload+`"}`)
	g.RequestID = requestIDOf(t, c, g.ProjectID, g.EventID)
	waitSettled(t, c, g.ProjectID, 1)
	inv := c.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": label + "-invitee@example.com", "role": "member"})
	g.InvitationID = idOf(t, inv, "invitation")
	g.InvitationURL = stringOf(t, inv, "invitation", "url")
	g.Secrets = []string{
		email, org["name"].(string), org["slug"].(string), projectName,
		label + " Source", g.SourceSlug, g.IngestionID, label + "-user",
		label + " Destination", g.DestinationURL, label + "-header", label + " Connection", sec.Secret,
		label + " Transformation", label + "-code",
		g.EventID, payload, label + "-trace", label + " Token", g.InvitationURL, label + "-invitee@example.com",
	}
	return g
}

// basicAuth is the Authorization header value of HTTP basic auth.
func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// ingest posts body to a source's ingestion URL (pathAndQuery is
// "<ingestion id>[?query]") with the given headers and returns the event id
// of the 202 answer.
func ingest(t testing.TB, srv *testserver.Server, pathAndQuery string, header map[string]string, body string) string {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json", "User-Agent": "volley-httpapi-test/1.0"}
	maps.Copy(h, header)
	resp := rawDo(t, srv, "POST", "/hook/"+pathAndQuery, h, []byte(body))
	var out struct {
		EventID string `json:"event_id"`
	}
	if resp.Status != http.StatusAccepted || json.Unmarshal(resp.Body, &out) != nil || !strings.HasPrefix(out.EventID, "evt_") {
		t.Fatalf("POST /hook/%s = %d, want 202 with an event_id; body %s", pathAndQuery, resp.Status, resp.Body)
	}
	return out.EventID
}

// requestIDOf finds the numeric id of event uid in a project.
func requestIDOf(t testing.TB, c *caller, projectID uint64, uid string) uint64 {
	t.Helper()
	var list struct {
		Requests []struct {
			ID      uint64 `json:"id"`
			EventID string `json:"event_id"`
		} `json:"requests"`
	}
	c.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/requests?search=%s", projectID, uid), nil).JSON(t, &list)
	for _, r := range list.Requests {
		if r.EventID == uid {
			return r.ID
		}
	}
	t.Fatalf("event %s not listed in project %d", uid, projectID)
	return 0
}

// total reads the "total" of a list envelope.
func total(t testing.TB, resp *testserver.Response) int64 {
	t.Helper()
	var v struct {
		Total *int64 `json:"total"`
	}
	resp.JSON(t, &v)
	if v.Total == nil {
		t.Fatalf("no total in %s", resp.Body)
	}
	return *v.Total
}

// waitSettled waits until the delivery engine has recorded exactly attempts
// attempts in the project and no event there is pending any more: the
// engine works in the background, so list and detail calls must wait for it
// to have a result to show.
func waitSettled(t testing.TB, c *caller, projectID uint64, attempts int64) {
	t.Helper()
	base := fmt.Sprintf("/api/projects/%d", projectID)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := total(t, c.must(t, http.StatusOK, "GET", base+"/delivery-attempts?limit=1", nil))
		pending := total(t, c.must(t, http.StatusOK, "GET", base+"/requests?status=pending&limit=1", nil))
		switch {
		case got > attempts:
			t.Fatalf("project %d: %d attempts recorded, want %d", projectID, got, attempts)
		case got == attempts && pending == 0:
			return
		case time.Now().After(deadline):
			t.Fatalf("project %d: %d of %d attempts recorded and %d events pending after 20s", projectID, got, attempts, pending)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ids maps every path placeholder to this graph's id for it.
func (g graph) ids() map[string]string {
	return map[string]string{
		"account_id":        strconv.FormatUint(g.AccountID, 10),
		"project_id":        strconv.FormatUint(g.ProjectID, 10),
		"token_id":          strconv.FormatUint(g.TokenID, 10),
		"source_id":         strconv.FormatUint(g.SourceID, 10),
		"destination_id":    strconv.FormatUint(g.DestinationID, 10),
		"connection_id":     strconv.FormatUint(g.ConnectionID, 10),
		"request_id":        strconv.FormatUint(g.RequestID, 10),
		"event_id":          g.EventID,
		"invitation_id":     strconv.FormatUint(g.InvitationID, 10),
		"transformation_id": strconv.FormatUint(g.TransformationID, 10),
		"replay_id":         strconv.FormatUint(g.ReplayID, 10),
	}
}

// stringIDParams are the placeholders whose ids are strings ("evt_…"), not
// positive integers: a malformed one is just an id that does not exist.
var stringIDParams = map[string]bool{"event_id": true}

// idStrings lists the graph's numeric ids as strings.
func (g graph) idStrings() []string {
	var out []string
	for _, v := range g.ids() {
		out = append(out, v)
	}
	return append(out, strconv.FormatUint(g.OrgID, 10))
}

// leaks returns the secrets and ids of g that occur in body. Ids count only
// as whole numbers.
func (g graph) leaks(body []byte, withIDs bool) []string {
	var found []string
	for _, s := range g.Secrets {
		if bytes.Contains(body, []byte(s)) {
			found = append(found, s)
		}
	}
	if withIDs {
		for _, id := range g.idStrings() {
			if regexp.MustCompile(`(^|[^0-9])` + regexp.QuoteMeta(id) + `([^0-9]|$)`).Match(body) {
				found = append(found, "id "+id)
			}
		}
	}
	return found
}

// placeholderRE matches the {name} segments of a route pattern.
var placeholderRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// routeQuery lists the query a route cannot do without, as a template with
// placeholders like a path's: family B's attempt list names its project in
// the query. fill and placeholders treat it as part of the route's path.
var routeQuery = map[string]string{
	"GET /api/delivery-attempts": "project_id={project_id}",
}

// splitPattern splits "GET /api/x" into its method and path.
func splitPattern(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, path
}

// withQuery returns pattern followed by its routeQuery, if any.
func withQuery(pattern string) string {
	if q := routeQuery[pattern]; q != "" {
		return pattern + "?" + q
	}
	return pattern
}

// placeholders lists the {names} of a pattern's path and required query.
func placeholders(pattern string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(withQuery(pattern), -1) {
		out = append(out, m[1])
	}
	return out
}

// fill substitutes the placeholders of pattern (and of its routeQuery) from
// vals. It reports the placeholders vals has no value for, so that a route
// with a new kind of id fails loudly instead of being skipped.
func fill(pattern string, vals map[string]string) (method, path string, missing []string) {
	method, path = splitPattern(withQuery(pattern))
	path = placeholderRE.ReplaceAllStringFunc(path, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := vals[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	return method, path, missing
}

// mustFill is fill for tests that cannot go on with an unknown placeholder.
func mustFill(t testing.TB, pattern string, vals map[string]string) (method, path string) {
	t.Helper()
	method, path, missing := fill(pattern, vals)
	if len(missing) > 0 {
		t.Fatalf("unhandled route %q: no value for {%s}; teach the test about it", pattern, strings.Join(missing, "}, {"))
	}
	return method, path
}

// apiRoutes returns the server's authenticated route patterns.
func apiRoutes(t testing.TB, srv *testserver.Server) []string {
	t.Helper()
	rs := srv.Node.APIRoutes()
	if len(rs) == 0 {
		t.Fatal("Server.APIRoutes() is empty")
	}
	return rs
}

// orgFree lists the routes that do not act inside an organization, so the
// X-Organization-ID header is irrelevant to them: who am I, my
// organizations, and creating a new organization of my own.
var orgFree = map[string]bool{
	"GET /api/user":     true,
	"GET /api/org/list": true,
	"POST /api/org":     true,
}

// mutationBody is a valid body for every POST and PUT route of g's graph
// (unknown keys are ignored by the API), so that a missing permission check
// shows up as a success rather than as a validation error.
func mutationBody(g graph, email string) map[string]any {
	return map[string]any{
		"name": "Intruder", "url": "http://127.0.0.1:9/intruder", "eps": 7, "status": "active",
		"email": email, "role": "member",
		"source_id": g.SourceID, "destination_id": g.DestinationID,
	}
}

// snapshot reads everything c can see in its organization context, keyed by
// path: the org, its members, projects and their sources (with their
// credentials), destinations, connections, destination secrets, events and delivery attempts. Comparing
// two snapshots proves that calls in between changed nothing; the traffic
// must be settled (see waitSettled) for that. c must be an owner or admin.
func snapshot(t testing.TB, c *caller) map[string]string {
	t.Helper()
	out := map[string]string{}
	get := func(path string) []byte {
		t.Helper()
		b := c.must(t, http.StatusOK, "GET", path, nil).Body
		out[path] = string(b)
		return b
	}
	get("/api/org")
	get("/api/org/list")
	get("/api/org/members")
	var ps struct{ Projects []struct{ ID uint64 } }
	if err := json.Unmarshal(get("/api/projects"), &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.Projects {
		base := fmt.Sprintf("/api/projects/%d", p.ID)
		get(base)
		var ss struct {
			Sources []struct {
				ID       uint64
				AuthType string `json:"auth_type"`
			}
		}
		if err := json.Unmarshal(get(base+"/sources"), &ss); err != nil {
			t.Fatal(err)
		}
		for _, s := range ss.Sources {
			if s.AuthType != "none" {
				get(fmt.Sprintf("/api/sources/%d/credentials", s.ID))
			}
		}
		get(base + "/connections")
		get(base + "/requests?limit=500")
		get(base + "/delivery-attempts?limit=500")
		var ds struct{ Destinations []struct{ ID uint64 } }
		if err := json.Unmarshal(get(base+"/destinations"), &ds); err != nil {
			t.Fatal(err)
		}
		for _, d := range ds.Destinations {
			get(fmt.Sprintf("/api/destinations/%d/secret", d.ID))
		}
	}
	return out
}

// sameSnapshot reports every path whose content differs between two
// snapshots.
func sameSnapshot(t testing.TB, before, after map[string]string) {
	t.Helper()
	var paths []string
	for p := range before {
		paths = append(paths, p)
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range slices.Compact(paths) {
		if before[p] != after[p] {
			t.Errorf("GET %s changed:\nbefore: %s\nafter:  %s", p, before[p], after[p])
		}
	}
}

// eventually polls cond until it holds, failing the test after 20s (a
// bound on a loaded machine, not a timing the test relies on).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
