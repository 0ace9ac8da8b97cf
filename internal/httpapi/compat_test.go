package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
var nullable = map[string]bool{"headers": true, "remarks": true, "entry_time": true, "exit_time": true, "exitTime": true,
	// A token never used, or that never expires; a payload without a
	// delivery (contract §2.8).
	"last_used_at": true, "lastUsedAt": true, "expires_at": true, "expiresAt": true,
	"connection_id": true, "connectionId": true, "destination_id": true, "destinationId": true}

// stringIDs are the *_id keys that are strings by contract (an audit
// record's target may be an event, "evt_…").
var stringIDs = map[string]bool{"event_id": true, "ingestion_id": true, "target_id": true}

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
		"member_add", "member_update", "event_get", "event_get_b",
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

// cancels lists the DELETE routes that cancel a job rather than remove a
// resource: the job stays readable, and the answer is it, as JSON (which
// the .NET SDK reads; only non-JSON text breaks it).
var cancels = map[string]bool{"DELETE /api/replays/{replay_id}": true}

// TestCompatDelete: every DELETE route answers 204 with an empty body (the
// .NET SDK rejects non-JSON text), and the resource is gone afterwards.
// Routes in cancels answer 200 with the job instead.
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
		if cancels[pattern] {
			if resp.Status != http.StatusOK || !json.Valid(resp.Body) {
				t.Errorf("%s = %d with body %q, want 200 and the cancelled job", path, resp.Status, resp.Body)
			}
			continue
		}
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

// listCases are the golden cases of paginated lists, with their list key.
var listCases = map[string]string{
	"event_list": "requests", "event_list_b": "requests",
	"attempt_list": "attempts", "attempt_list_b": "attempts",
}

// integerKeys are counters and codes that every client decodes as integers
// (.NET as Int32/Int64: 12.5 or null breaks it).
var integerKeys = map[string]bool{
	"status_code": true, "response_code": true, "duration_ms": true, "attempt_number": true,
	"total": true, "limit": true, "offset": true,
	"events_routed": true, "delivered": true, "failed": true, "pending": true,
	"latency_p50_ms": true, "latency_p95_ms": true,
}

// isInteger reports whether v is a JSON integer.
func isInteger(v any) bool {
	n, ok := v.(json.Number)
	_, err := strconv.ParseInt(string(n), 10, 64)
	return ok && err == nil
}

// checkHeaders reports a headers object whose values are not strings or
// arrays of strings.
func checkHeaders(t *testing.T, path string, v any, nullOK bool) {
	t.Helper()
	if v == nil && nullOK {
		return
	}
	h, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s = %#v, want a JSON object", path, v)
		return
	}
	for name, val := range h {
		switch val := val.(type) {
		case string:
		case []any:
			for _, s := range val {
				if _, ok := s.(string); !ok {
					t.Errorf("%s.%s = %#v, want a string or an array of strings", path, name, val)
				}
			}
		default:
			t.Errorf("%s.%s = %#v, want a string or an array of strings", path, name, val)
		}
	}
}

// checkAttempt checks one delivery attempt object.
func checkAttempt(t *testing.T, path string, a map[string]any) {
	t.Helper()
	for _, k := range []string{"id", "event_id", "connection_id", "status", "status_code", "response_code", "duration_ms", "created_at"} {
		if _, ok := a[k]; !ok {
			t.Errorf("%s has no %q: %v", path, k, a)
		}
	}
	if !isInteger(a["status_code"]) || fmt.Sprint(a["status_code"]) != fmt.Sprint(a["response_code"]) {
		t.Errorf("%s: status_code %v and response_code %v, want the same integer", path, a["status_code"], a["response_code"])
	}
	if s := a["status"]; s != "success" && s != "failed" {
		t.Errorf("%s.status = %v, want success or failed", path, s)
	}
	if r, ok := a["error_reason"]; ok {
		if _, isString := r.(string); !isString {
			t.Errorf("%s.error_reason = %#v, want a string", path, r)
		}
	}
}

// TestCompatTrafficJSON: in every golden response, event headers are
// objects of strings or string arrays, raw bodies strings, counters and
// codes integers, attempts carry status_code and response_code alike, list
// envelopes carry total, limit and offset, and the replay answer has both
// families' fields.
func TestCompatTrafficJSON(t *testing.T) {
	t.Parallel()
	bodies := goldenBodies(t)
	for name, body := range bodies {
		walk(body, "", name, func(key, path string, v any) {
			switch {
			case key == "headers":
				checkHeaders(t, path, v, true)
			case key == "response_headers":
				checkHeaders(t, path, v, false)
			case key == "raw_body" || key == "raw_body_base64" || key == "response_body":
				if _, ok := v.(string); !ok {
					t.Errorf("%s = %#v, want a JSON string", path, v)
				}
			case integerKeys[key]:
				if !isInteger(v) {
					t.Errorf("%s = %#v, want a JSON integer", path, v)
				}
			case key == "attempts" || key == "delivery_attempts":
				// walk visits the array, then each item under the same key.
				switch v := v.(type) {
				case []any:
				case map[string]any:
					checkAttempt(t, path, v)
				default:
					t.Errorf("%s = %#v, want an array of attempts", path, v)
				}
			}
		})
	}
	for name, key := range listCases {
		obj, _ := bodies[name].(map[string]any)
		if _, ok := obj[key].([]any); !ok {
			t.Errorf("%s: no %q array: %v", name, key, obj)
		}
		for _, k := range []string{"total", "limit", "offset"} {
			if !isInteger(obj[k]) {
				t.Errorf("%s: %s = %#v, want an integer next to %q", name, k, obj[k], key)
			}
		}
	}
	replay, _ := bodies["replay"].(map[string]any)
	if _, ok := replay["success"].(bool); !ok {
		t.Errorf("replay: success = %#v, want a boolean", replay["success"])
	}
	for _, k := range []string{"status", "message"} {
		if s, _ := replay[k].(string); s == "" {
			t.Errorf("replay: %s = %#v, want a non-empty string", k, replay[k])
		}
	}
	for _, k := range []string{"status_code", "duration_ms", "attempt_id", "delivery_attempt_id"} {
		if !isInteger(replay[k]) {
			t.Errorf("replay: %s = %#v, want an integer", k, replay[k])
		}
	}
	sent, _ := bodies["webhook_send"].(map[string]any)
	if id, _ := sent["event_id"].(string); !strings.HasPrefix(id, "evt_") || sent["message"] == "" {
		t.Errorf("webhook_send = %v, want a message and a string event_id", sent)
	}
	for _, name := range []string{"event_get", "event_get_b"} {
		obj, _ := bodies[name].(map[string]any)
		if _, ok := obj["delivery_attempts"].([]any); !ok {
			t.Errorf("%s: no delivery_attempts array: %v", name, obj)
		}
	}
	conn, _ := bodies["connection_get"].(map[string]any)
	if _, ok := conn["metrics"].(map[string]any); !ok {
		t.Errorf("connection_get: no metrics object: %v", conn)
	}
}

// The Go SDK's types (the seed, v1.0.1): its decoder is the strictest
// (time.Time fields reject "" and numbers where strings belong).
type (
	sdkAttempt struct {
		ID           uint64    `json:"id"`
		EventID      string    `json:"event_id"`
		ConnectionID uint64    `json:"connection_id"`
		Status       string    `json:"status"`
		StatusCode   int       `json:"status_code"`
		ErrorReason  string    `json:"error_reason,omitempty"`
		DurationMs   int64     `json:"duration_ms"`
		CreatedAt    time.Time `json:"created_at"`
	}
	sdkEvent struct {
		ID               uint64                 `json:"id"`
		EventID          string                 `json:"event_id"`
		SourceID         uint64                 `json:"source_id"`
		ProjectID        uint64                 `json:"project_id"`
		RawBody          string                 `json:"raw_body"`
		Headers          map[string]interface{} `json:"headers"`
		Status           string                 `json:"status"`
		DeliveryAttempts []sdkAttempt           `json:"delivery_attempts,omitempty"`
		CreatedAt        time.Time              `json:"created_at"`
	}
	sdkPage struct {
		Total  int64 `json:"total"`
		Limit  int   `json:"limit"`
		Offset int   `json:"offset"`
	}
	sdkEvents struct {
		sdkPage
		Requests []sdkEvent `json:"requests"`
	}
	sdkAttempts struct {
		sdkPage
		Attempts []sdkAttempt `json:"attempts"`
	}
	sdkReplay struct {
		Success     bool   `json:"success"`
		Status      string `json:"status"`
		StatusCode  int    `json:"status_code"`
		ErrorReason string `json:"error_reason,omitempty"`
		DurationMs  int64  `json:"duration_ms"`
		AttemptID   uint64 `json:"attempt_id"`
	}
)

// strict decodes body into v, failing on any type mismatch.
func strict(t *testing.T, what string, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: the Go SDK cannot decode %s: %v", what, body, err)
	}
}

// TestCompatTrafficLive: on a live node, events keep their headers (several
// values as an array) and exact bytes (non-UTF-8 ones in raw_body_base64),
// attempts without a response report status_code 0, list envelopes page
// as asked, time filters take every offset and bare dates, and the Go SDK
// decodes every answer.
func TestCompatTrafficLive(t *testing.T) {
	t.Parallel()
	srv, clk := startFixed(t) // events are created at t0
	admin := callerOf(srv, testserver.AdminToken)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer sink.Close()

	pid := idOf(t, admin.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Compat"}), "project")
	base := fmt.Sprintf("/api/projects/%d", pid)
	src := admin.must(t, http.StatusCreated, "POST", base+"/sources", map[string]any{"name": "In"})
	sid, ingestion := idOf(t, src, "source"), stringOf(t, src, "source", "ingestion_id")
	ok := idOf(t, admin.must(t, http.StatusCreated, "POST", base+"/destinations", map[string]any{"name": "Sink", "url": sink.URL}), "destination")
	down := idOf(t, admin.must(t, http.StatusCreated, "POST", base+"/destinations",
		map[string]any{"name": "Down", "url": "http://127.0.0.1:9/down"}), "destination")
	for _, d := range []uint64{ok, down} {
		admin.must(t, http.StatusCreated, "POST", base+"/connections", map[string]any{"source_id": sid, "destination_id": d, "max_retries": 0})
	}

	// Two values of one header, and bytes that are not UTF-8.
	raw := "\xff\xfe binary \x00 payload"
	hr, err := http.NewRequest("POST", srv.URL+"/hook/"+ingestion, strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/octet-stream")
	hr.Header.Add("X-Multi", "one")
	hr.Header.Add("X-Multi", "two")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest = %d, want 202", resp.StatusCode)
	}
	ingest(t, srv, ingestion, nil, `{"second":true}`)
	waitSettled(t, admin, pid, 4)

	list := admin.must(t, http.StatusOK, "GET", base+"/requests", nil)
	var events sdkEvents
	strict(t, "GET requests", list.Body, &events)
	if events.Total != 2 || events.Limit != 50 || events.Offset != 0 || len(events.Requests) != 2 {
		t.Fatalf("GET requests: total %d limit %d offset %d with %d items, want 2, 50, 0 and 2", events.Total, events.Limit, events.Offset, len(events.Requests))
	}
	binary := events.Requests[1] // oldest last
	if got, want := binary.Headers["X-Multi"], []any{"one", "two"}; !reflect.DeepEqual(got, want) {
		t.Errorf("X-Multi = %#v, want %#v", got, want)
	}
	if got := binary.Headers["Content-Type"]; got != "application/octet-stream" {
		t.Errorf("Content-Type = %#v, want a single string", got)
	}
	var b64 struct {
		Request struct {
			RawBodyBase64 string `json:"raw_body_base64"`
		} `json:"request"`
	}
	detail := admin.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/requests/%d", binary.ID), nil)
	detail.JSON(t, &b64)
	if got, err := base64.StdEncoding.DecodeString(b64.Request.RawBodyBase64); err != nil || string(got) != raw {
		t.Errorf("raw_body_base64 = %q (%v), want the exact bytes %q", b64.Request.RawBodyBase64, err, raw)
	}
	var full sdkEvent
	strict(t, "GET request", detail.Body, &struct {
		Request *sdkEvent `json:"request"`
	}{&full})
	strict(t, "GET request (family B, top level)", detail.Body, &full)
	if len(full.DeliveryAttempts) != 2 {
		t.Fatalf("event detail: %d attempts, want 2", len(full.DeliveryAttempts))
	}
	byDest := map[uint64]map[string]any{}
	for _, a := range decodeObject(t, detail.Body)["delivery_attempts"].([]any) {
		a := a.(map[string]any)
		id, _ := strconv.ParseUint(string(a["destination_id"].(json.Number)), 10, 64)
		byDest[id] = a
	}
	if a := byDest[down]; a["status_code"] != json.Number("0") || a["response_code"] != json.Number("0") || a["error_reason"] != "connection refused" {
		t.Errorf("attempt without a response: %v, want status_code and response_code 0 and error_reason \"connection refused\"", a)
	}
	if h, _ := byDest[ok]["response_headers"].(map[string]any); !reflect.DeepEqual(h["Set-Cookie"], []any{"a=1", "b=2"}) {
		t.Errorf("response_headers = %v, want Set-Cookie as an array", byDest[ok]["response_headers"])
	}

	// Paging echoes limit and offset; total counts before paging.
	var page sdkAttempts
	strict(t, "GET delivery-attempts", admin.must(t, http.StatusOK, "GET", base+"/delivery-attempts?limit=1&offset=1&sort=status_code", nil).Body, &page)
	if page.Total != 4 || page.Limit != 1 || page.Offset != 1 || len(page.Attempts) != 1 {
		t.Errorf("attempts page: %+v, want total 4, limit 1, offset 1, one item", page)
	}
	strict(t, "GET /api/delivery-attempts", admin.must(t, http.StatusOK, "GET",
		fmt.Sprintf("/api/delivery-attempts?project_id=%d&event_id=%s&status=failed", pid, binary.EventID), nil).Body, &page)
	if page.Total != 1 || len(page.Attempts) != 1 || page.Attempts[0].StatusCode != 0 || page.Attempts[0].EventID != binary.EventID {
		t.Errorf("failed attempts of %s: %+v, want the one without a response", binary.EventID, page)
	}

	// Time filters are inclusive, in any offset; bare dates cover the day.
	// Both events were created at t0 = 2026-01-02T03:04:05Z.
	for q, want := range map[string]int64{
		"start_time=2026-01-02T08:34:05%2B05:30":    2, // Go: the caller's offset, encoded
		"start_time=2026-01-02T08:34:05+05:30":      2, // unencoded: the + arrives as a space
		"start_time=2026-01-02T08:34:06%2B05:30":    0,
		"end_time=2026-01-02T03:04:05Z":             2,
		"end_time=2026-01-02T03:04:04.999999Z":      0, // Java: fractional seconds
		"start_time=2026-01-01T22:04:05-05:00":      2,
		"start_date=2026-01-02&end_date=2026-01-02": 2, // family B
		"start_date=2026-01-03":                     0,
		"end_date=2026-01-01":                       0,
		"start_time=2026-01-02&end_time=2026-01-02": 2,
		"start_time=2026-01-02T03:04:05.000001Z":    0,
		"start_date=2026-01-02T03:04:05Z&limit=1":   2,
		"source_id=" + ingestion + "&status=failed": 2,
		"status=processed":                          0,
		"search=second":                             1,
		"search=" + binary.EventID[:len("evt_")+10]: 1,
	} {
		var got sdkEvents
		strict(t, q, admin.must(t, http.StatusOK, "GET", base+"/events?"+q, nil).Body, &got)
		if got.Total != want {
			t.Errorf("GET events?%s: total %d, want %d", q, got.Total, want)
		}
	}

	// Replay: family A's fields for the first attempt, and family B's. The
	// clock leaves whole microseconds, which the store does not keep: the
	// replay must answer with the time it will list.
	clk.Advance(1500*time.Millisecond + 789*time.Nanosecond)
	var rep sdkReplay
	body := admin.must(t, http.StatusOK, "POST", "/api/replay-event", map[string]any{"eventId": binary.EventID, "destinationId": ok}).Body
	strict(t, "POST replay-event", body, &rep)
	if !rep.Success || rep.Status != "success" || rep.StatusCode != http.StatusNoContent || rep.AttemptID == 0 {
		t.Errorf("replay = %+v, want a successful attempt with status_code 204", rep)
	}
	if m := decodeObject(t, body); m["message"] == "" || m["delivery_attempt_id"] != m["attempt_id"] {
		t.Errorf("replay: message %v, delivery_attempt_id %v, want a message and the attempt id", m["message"], m["delivery_attempt_id"])
	}
	var listed sdkAttempts
	strict(t, "attempts of the replay", admin.must(t, http.StatusOK, "GET", fmt.Sprintf("%s/delivery-attempts?limit=1", base), nil).Body, &listed)
	if len(listed.Attempts) != 1 || listed.Attempts[0].ID != rep.AttemptID {
		t.Fatalf("newest attempt %+v, want the replay's %d", listed.Attempts, rep.AttemptID)
	}
	var repFull struct {
		Attempts []struct {
			CreatedAt string `json:"created_at"`
		} `json:"attempts"`
	}
	json.Unmarshal(body, &repFull)
	var listedRaw struct {
		Attempts []struct {
			CreatedAt string `json:"created_at"`
		} `json:"attempts"`
	}
	admin.must(t, http.StatusOK, "GET", base+"/delivery-attempts?limit=1", nil).JSON(t, &listedRaw)
	if repFull.Attempts[0].CreatedAt != listedRaw.Attempts[0].CreatedAt {
		t.Errorf("replay attempt created_at %s, but %s when listed", repFull.Attempts[0].CreatedAt, listedRaw.Attempts[0].CreatedAt)
	}
}
