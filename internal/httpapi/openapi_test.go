package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/volleyhq/volley/internal/httpapi/openapi"
	"github.com/volleyhq/volley/internal/testserver"
)

// The OpenAPI document (internal/httpapi/openapi/openapi.yaml) is checked
// three ways: TestOpenAPIMatchesRouter compares its operations with the
// routes the server serves; TestGolden validates every answer it pins
// against the document, and fails for any documented operation it never
// validated (except nodeOperations); TestOpenAPINodeEndpoints drives and
// validates nodeOperations, and the stream's own messages.

// nodeOperations are the documented operations TestOpenAPINodeEndpoints
// drives instead of TestGolden: ingestion, the health checks and the
// document itself.
var nodeOperations = []string{
	"POST /hook/{ingestion_id}", "PUT /hook/{ingestion_id}", "PATCH /hook/{ingestion_id}",
	"GET /healthz", "GET /readyz", "GET /api/openapi.json",
}

// openapiUndriven lists documented operations no test can drive, with the
// reason. Keep it empty unless there is no way to call an operation
// against a real node.
var openapiUndriven = map[string]string{}

// docChecker validates real answers against the OpenAPI document and
// remembers which operations it validated.
type docChecker struct {
	doc *openapi3.T
	ops map[string]*routers.Route // "GET /api/sources/{source_id}" → its operation

	mu   sync.Mutex
	seen map[string]bool
}

func newDocChecker(t testing.TB) *docChecker {
	t.Helper()
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	d := &docChecker{doc: doc, ops: map[string]*routers.Route{}, seen: map[string]bool{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			d.ops[method+" "+path] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return d
}

// check validates resp, the answer of a call to path, against the
// operation pattern documents ("GET /api/sources/{source_id}"): its status
// must be documented, and its content type and body must match. A pattern
// the document does not have is left to TestOpenAPIMatchesRouter (the
// golden test also pins answers of paths that are no route).
func (d *docChecker) check(t testing.TB, pattern, path string, resp *testserver.Response) {
	t.Helper()
	route, ok := d.ops[pattern]
	if !ok {
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: httptest.NewRequest(route.Method, path, nil), Route: route,
		},
		Status:  resp.Status,
		Header:  resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(resp.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("%s (called as %s): the answer does not match internal/httpapi/openapi/openapi.yaml "+
			"(a new field goes in its schema under components/schemas, in snake_case: twins are added):\n%v\nstatus %d, Content-Type %q, body %s",
			pattern, path, err, resp.Status, resp.Header.Get("Content-Type"), clip(resp.Body))
	}
	d.mu.Lock()
	d.seen[pattern] = true
	d.mu.Unlock()
}

// checkRequest validates a request the server accepted against its
// operation: the documented parameters, headers and request body must
// admit what the clients really send. body is what testserver.Request
// takes.
func (d *docChecker) checkRequest(t testing.TB, pattern, path string, org uint64, body any) {
	t.Helper()
	route, ok := d.ops[pattern]
	if !ok {
		return
	}
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(route.Method, path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+testserver.AdminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if org != 0 {
		req.Header.Set("X-Organization-ID", strconv.FormatUint(org, 10))
	}
	input := &openapi3filter.RequestValidationInput{
		Request: req, Route: route, PathParams: pathParams(route.Path, req.URL.Path),
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		t.Errorf("%s (called as %s): the server accepted a request that internal/httpapi/openapi/openapi.yaml does not admit "+
			"(fix the operation's parameters or request body):\n%v\nbody %s", pattern, path, err, clip(raw))
	}
}

// pathParams matches a path against a template's {name} segments.
func pathParams(template, path string) map[string]string {
	out := map[string]string{}
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	for i := range min(len(ts), len(ps)) {
		if strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}") {
			out[ts[i][1:len(ts[i])-1]] = ps[i]
		}
	}
	return out
}

// requireSeen fails for every documented operation, among those want
// selects, that check never validated and openapiUndriven does not excuse.
func (d *docChecker) requireSeen(t testing.TB, who string, want func(op string) bool) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, op := range slices.Sorted(maps.Keys(d.ops)) {
		if _, excused := openapiUndriven[op]; excused || !want(op) || d.seen[op] {
			continue
		}
		t.Errorf("%s never validated a real answer of the documented operation %q: call it there "+
			"(or, if no test can, list it in openapiUndriven with the reason)", who, op)
	}
}

// TestOpenAPIMatchesRouter fails when a route the server serves is not in
// the document, or the document has an operation no route serves. Methods
// and path templates must be equal, parameter names included.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	d := newDocChecker(t)
	routes := append(apiRoutes(t, srv), srv.Node.PublicRoutes()...)
	for _, r := range routes {
		if _, ok := d.ops[r]; !ok {
			method, path, _ := strings.Cut(r, " ")
			t.Errorf("route %q is not documented: add `%s:` with an operationId, tags, summary and every answer "+
				"under `paths: %s:` in internal/httpapi/openapi/openapi.yaml (see DEVELOPERS.md, \"Adding a route\"), "+
				"then run go generate ./internal/httpapi/openapi", r, strings.ToLower(method), path)
		}
	}
	for op := range d.ops {
		if !slices.Contains(routes, op) {
			t.Errorf("internal/httpapi/openapi/openapi.yaml documents %q, which the server does not serve "+
				"(Server.APIRoutes and PublicRoutes): remove the operation or fix its method and path template", op)
		}
	}
	for op, reason := range openapiUndriven {
		if _, ok := d.ops[op]; !ok {
			t.Errorf("openapiUndriven names %q (%s), which the document does not have", op, reason)
		}
	}
}

// TestOpenAPIServed checks that GET /api/openapi.json serves the expanded
// document without a token, and that what it serves loads and validates
// as OpenAPI 3.1 on its own.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	resp := srv.Do(t, testserver.Request{Method: "GET", Path: "/api/openapi.json"})
	if resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/openapi.json = %d %q, want 200 application/json; body %s", resp.Status, resp.Header.Get("Content-Type"), clip(resp.Body))
	}
	want, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body, want) {
		t.Errorf("GET /api/openapi.json serves something else than openapi.JSON()")
	}
	doc, err := openapi3.NewLoader().LoadFromData(resp.Body)
	if err != nil {
		t.Fatalf("load the served document: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Errorf("the served document is not valid OpenAPI 3.1: %v", err)
	}
}

// TestOpenAPINodeEndpoints drives the documented operations outside the
// management API's router (nodeOperations) and the stream's 200, and
// validates every answer, and the stream's messages against StreamReady and
// StreamEvent.
func TestOpenAPINodeEndpoints(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	srv := testserver.Start(t, testserver.Options{NowFunc: clk.Now})
	d := newDocChecker(t)
	admin := callerOf(srv, testserver.AdminToken)
	pid := srv.Admin.Project.ID
	hook := func(method, ingestionID string, header map[string]string, body string) *testserver.Response {
		t.Helper()
		path := "/hook/" + ingestionID
		resp := rawDo(t, srv, method, path, header, []byte(body))
		d.check(t, method+" /hook/{ingestion_id}", path, resp)
		return resp
	}
	newSource := func(body map[string]any) string {
		t.Helper()
		resp := admin.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", pid), body)
		return stringOf(t, resp, "source", "ingestion_id")
	}

	open := newSource(map[string]any{"name": "Open", "eps": 1})
	stream := openStream(t, srv, d, open)

	for _, m := range []string{"POST", "PUT", "PATCH"} {
		if r := hook(m, open, map[string]string{"Content-Type": "text/plain"}, "hello "+m); r.Status != http.StatusAccepted {
			t.Fatalf("%s /hook: %d %s", m, r.Status, r.Body)
		}
		clk.Advance(2 * time.Second) // the next one is within eps 1
	}
	// The stream's message of the first event.
	ev := stream.next(t, "event")
	if err := d.doc.Components.Schemas["StreamEvent"].Value.VisitJSON(ev, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		t.Errorf("an event: message of /api/stream does not match StreamEvent: %v\n%v", err, ev)
	}

	if r := hook("POST", open, nil, "twice"); r.Status != http.StatusAccepted {
		t.Fatalf("POST /hook: %d %s", r.Status, r.Body)
	}
	if r := hook("POST", open, nil, "too fast"); r.Status != http.StatusTooManyRequests {
		t.Errorf("POST /hook over eps: %d, want 429", r.Status)
	}
	if r := hook("POST", "src_unknown", nil, "{}"); r.Status != http.StatusNotFound {
		t.Errorf("POST /hook of an unknown source: %d, want 404", r.Status)
	}
	locked := newSource(map[string]any{"name": "Locked", "auth_type": "api_key", "auth_key": "sesame"})
	if r := hook("PUT", locked, map[string]string{"X-API-Key": "wrong"}, "{}"); r.Status != http.StatusUnauthorized {
		t.Errorf("PUT /hook with a wrong key: %d, want 401", r.Status)
	}
	off := newSource(map[string]any{"name": "Off", "status": "disabled"})
	if r := hook("PATCH", off, nil, "{}"); r.Status != http.StatusForbidden {
		t.Errorf("PATCH /hook of a disabled source: %d, want 403", r.Status)
	}
	slack := newSource(map[string]any{"name": "Slack", "type": "slack"})
	if r := hook("POST", slack, nil, `{"type":"url_verification","challenge":"c-123"}`); r.Status != http.StatusOK {
		t.Errorf("POST /hook of Slack's handshake: %d, want 200", r.Status)
	}

	for _, p := range []string{"/healthz", "/readyz", "/api/openapi.json"} {
		d.check(t, "GET "+p, p, srv.Do(t, testserver.Request{Method: "GET", Path: p}))
	}
	d.requireSeen(t, "TestOpenAPINodeEndpoints", func(op string) bool { return slices.Contains(nodeOperations, op) })
}

// TestOpenAPIErrorAnswers calls every authenticated route four ways that
// must fail (no token; an X-Organization-ID that is not a number; an
// organization the caller is not a member of; ids that do not exist) and
// validates each answer against the document: its status must be one the
// operation documents, with the documented error body.
func TestOpenAPIErrorAnswers(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	d := newDocChecker(t)
	stranger := srv.NewAccount(t, "stranger@example.com", "Stranger")
	for _, pattern := range apiRoutes(t, srv) {
		// Ids that do not exist: numbers, and an evt_ id for {event_id}.
		missing := map[string]string{}
		for _, name := range placeholders(pattern) {
			missing[name] = "999999"
		}
		if _, ok := missing["event_id"]; ok {
			missing["event_id"] = "evt_missing"
		}
		method, path := mustFill(t, pattern, missing)
		for _, c := range []struct {
			name   string
			header map[string]string
			skip   bool
		}{
			{name: "no token"},
			{name: "X-Organization-ID: abc", header: map[string]string{"Authorization": "Bearer " + testserver.AdminToken, "X-Organization-ID": "abc"},
				skip: orgFree[pattern]},
			{name: "another organization", header: map[string]string{"Authorization": "Bearer " + stranger.Token,
				"X-Organization-ID": strconv.FormatUint(srv.Admin.Org.ID, 10)}, skip: orgFree[pattern]},
			// Only routes with ids: the others would act on the stranger's
			// own organization (DELETE /api/org).
			{name: "missing ids", header: map[string]string{"Authorization": "Bearer " + stranger.Token},
				skip: !strings.Contains(pattern, "{")},
		} {
			if c.skip {
				continue
			}
			resp := rawDo(t, srv, method, path, c.header, nil)
			if resp.Status < 400 {
				t.Errorf("%s with %s: %d, want an error; body %s", pattern, c.name, resp.Status, clip(resp.Body))
				continue
			}
			d.check(t, pattern, path, resp)
		}
	}
}

// sseStream reads the messages of an open /api/stream.
type sseStream struct {
	r *bufio.Reader
}

// openStream opens /api/stream for one source, validates its answer (its
// status and content type: the body never ends) and its ready message.
func openStream(t *testing.T, srv *testserver.Server, d *docChecker, ingestionID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // bounds the reads only
	t.Cleanup(cancel)
	path := "/api/stream?source_id=" + ingestionID
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testserver.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	route := d.ops["GET /api/stream"]
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, input); err != nil {
		t.Errorf("GET /api/stream: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); route.Operation.Responses.Status(resp.StatusCode).Value.Content.Get(ct) == nil {
		t.Errorf("GET /api/stream answers Content-Type %q, which the document does not list", ct)
	}
	s := &sseStream{r: bufio.NewReader(resp.Body)}
	ready := s.next(t, "ready")
	if err := d.doc.Components.Schemas["StreamReady"].Value.VisitJSON(ready, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("the ready message of /api/stream does not match StreamReady: %v\n%v", err, ready)
	}
	return s
}

// next reads messages up to the first of kind and returns its data.
func (s *sseStream) next(t *testing.T, kind string) any {
	t.Helper()
	var event, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read /api/stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && event == kind:
			var v any
			if err := json.Unmarshal([]byte(data), &v); err != nil {
				t.Fatalf("stream data %q: %v", data, err)
			}
			return v
		case line == "":
			event, data = "", ""
		}
	}
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
