package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
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

	"GET /api/org/list":                           "org_list",
	"GET /api/org":                                "org_get",
	"POST /api/org":                               "org_create",
	"DELETE /api/org":                             "org_delete",
	"GET /api/org/members":                        "members_list",
	"POST /api/org/members":                       "member_add",
	"PUT /api/org/members/{account_id}":           "member_update",
	"DELETE /api/org/members/{account_id}":        "member_delete",
	"GET /api/org/invitations":                    "invitation_list",
	"DELETE /api/org/invitations/{invitation_id}": "invitation_delete",
	"GET /api/projects":                           "project_list",
	"POST /api/projects":                          "project_create",
	"GET /api/projects/{project_id}":              "project_get",
	"PUT /api/projects/{project_id}":              "project_update",
	"DELETE /api/projects/{project_id}":           "project_delete",
	"GET /api/projects/{project_id}/sources":      "source_list",

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
	"GET /api/sources/{source_id}/credentials":                                    "source_credentials",
	"POST /api/sources/{source_id}/credentials/rotate":                            "source_credentials_rotate",
	"GET /api/projects/{project_id}/sources/{source_id}/credentials":              "source_credentials_nested",
	"POST /api/projects/{project_id}/sources/{source_id}/credentials/rotate":      "source_credentials_rotate_nested",
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
	"POST /api/connections/test-filter":           "connection_test_filter",

	"GET /api/projects/{project_id}/transformations":     "transformation_list",
	"POST /api/projects/{project_id}/transformations":    "transformation_create",
	"GET /api/transformations/{transformation_id}":       "transformation_get",
	"PUT /api/transformations/{transformation_id}":       "transformation_update",
	"DELETE /api/transformations/{transformation_id}":    "transformation_delete",
	"POST /api/transformations/{transformation_id}/test": "transformation_test",
	"GET /api/projects/{project_id}/replays":             "replay_list",
	"POST /api/projects/{project_id}/replays":            "replay_create",
	"GET /api/replays/{replay_id}":                       "replay_get",
	"DELETE /api/replays/{replay_id}":                    "replay_cancel",

	"GET /api/projects/{project_id}/requests":          "event_list",
	"GET /api/projects/{project_id}/events":            "event_list_b",
	"GET /api/requests/{request_id}":                   "event_get",
	"GET /api/projects/{project_id}/events/{event_id}": "event_get_b",
	"GET /api/projects/{project_id}/delivery-attempts": "attempt_list",
	"GET /api/delivery-attempts":                       "attempt_list_b",
	"POST /api/replay-event":                           "replay",
	"POST /api/webhooks":                               "webhook_send",

	"GET /api/projects/{project_id}/payloads":       "payload_list",
	"GET /api/connections/{connection_id}/attempts": "connection_attempts",
	"GET /api/stream":               "stream_400",
	"GET /api/tokens":               "token_list",
	"POST /api/tokens":              "token_create",
	"DELETE /api/tokens/{token_id}": "token_delete",
	"POST /api/auth/cli/approve":    "device_approve",
	"POST /api/auth/cli/deny":       "device_deny",
	"GET /api/audit-log":            "audit_log_list",
}

// pendingGolden lists routes whose production code is still being written
// by someone else, with the reason; they get a golden case once they settle.
// Keep it empty otherwise.
var pendingGolden = map[string]string{}

// TestGolden calls every route once, in a fixed order on a server with a
// fixed clock and seeded randomness, and compares each response with its
// golden file. Run with -update to rewrite the files.
//
// Events are delivered by the real delivery engine, in real time, to a sink
// on 127.0.0.1 that always answers the same bytes (see goldenSink); the
// test waits for every delivery to be recorded before the next call. What
// still varies from run to run is normalised by goldenRun.normalise.
func TestGolden(t *testing.T) {
	t.Parallel()
	srv, clk := startFixed(t)
	sink := goldenSink(t)
	g := &goldenRun{t: t, srv: srv, routes: apiRoutes(t, srv), seen: map[string]bool{}, doc: newDocChecker(t),
		urls: []string{srv.URL, "http://volley.test", sink.URL, "http://sink.test"}}
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
	g.route(admin, "GET /api/sources/{source_id}/credentials", source, nil)
	g.route(admin, "GET /api/projects/{project_id}/sources/{source_id}/credentials", source, nil)
	clk.Advance(time.Minute)
	g.route(admin, "POST /api/sources/{source_id}/credentials/rotate", source, nil)
	g.route(admin, "POST /api/projects/{project_id}/sources/{source_id}/credentials/rotate", source,
		map[string]any{"auth_key": "new-shop-password"})

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
	clk.Advance(time.Minute)
	tid := idOf(t, g.route(admin, "POST /api/projects/{project_id}/transformations", project, map[string]any{"name": "Tag orders",
		"code": "(request) => {\n  console.log('order', request.body.order);\n  request.headers['x-tagged'] = 'yes';\n  return request;\n}"}), "transformation")
	transformation := map[string]uint64{"transformation_id": tid}
	g.route(admin, "GET /api/projects/{project_id}/transformations", project, nil)
	g.route(admin, "GET /api/transformations/{transformation_id}", transformation, nil)
	g.route(admin, "PUT /api/transformations/{transformation_id}", transformation, map[string]any{"name": "Tag EU orders"})
	g.route(admin, "POST /api/transformations/{transformation_id}/test", transformation, map[string]any{
		"request": map[string]any{"body": map[string]any{"order": 1001}, "headers": map[string]string{"X-Shop": "eu-1"}, "query": "a=1"}})
	g.route(admin, "POST /api/connections/test-filter", no, map[string]any{
		"filter":  map[string]any{"body": map[string]any{"amount": map[string]any{"$gte": 100}}, "headers": map[string]any{"x-shop": map[string]any{"$startsWith": "eu-"}}},
		"request": map[string]any{"body": map[string]any{"order": 1001, "amount": 12.5}, "headers": map[string]string{"X-Shop": "eu-1"}}})
	// A bulk replay of a project without events: the job is done as soon
	// as a batch finds nothing; the answers are read once it is, so that
	// the background runner cannot change them between runs.
	replayFilter := map[string]any{"status": "failed", "source_id": sid, "destination_id": did,
		"start_time": "2026-01-01", "end_time": "2026-01-31T00:00:00Z"}
	g.pin("replay_dry_run", admin, "POST /api/projects/{project_id}/replays", project,
		map[string]any{"filter": replayFilter, "dry_run": true})
	g.pin("error_400_replay_filter", admin, "POST /api/projects/{project_id}/replays", project,
		map[string]any{"filter": map[string]any{"destination_id": 999999}})
	rid := idOf(t, g.route(admin, "POST /api/projects/{project_id}/replays", project,
		map[string]any{"filter": replayFilter, "connection_id": cid}), "replay")
	replayJob := map[string]uint64{"replay_id": rid}
	eventually(t, "the replay job to finish", func() bool {
		return stringOf(t, admin.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/replays/%d", rid), nil), "replay", "status") == "done"
	})
	g.route(admin, "GET /api/replays/{replay_id}", replayJob, nil)
	g.route(admin, "GET /api/projects/{project_id}/replays", project, nil)
	g.route(admin, "DELETE /api/replays/{replay_id}", replayJob, nil)
	g.route(admin, "PUT /api/connections/{connection_id}", conn, map[string]any{"status": "paused", "eps": 2,
		"filter": map[string]any{"body": map[string]any{"amount": map[string]any{"$gte": 100}}}, "transformation_id": tid,
		"delay_ms": 30000, "ordering": "fifo", "ordering_key": "$.customer.id"})

	// Traffic, in a project of its own: "checkout" delivers to the sink's
	// /ok, "legacy" to its /fail without retries. No rate limits: the
	// engine's clock stands still, so a paced delivery would never start.
	clk.Advance(time.Minute)
	tp := idOf(t, admin.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Traffic"}), "project")
	traffic := map[string]uint64{"project_id": tp}
	tbase := fmt.Sprintf("/api/projects/%d", tp)
	checkout := admin.must(t, http.StatusCreated, "POST", tbase+"/sources",
		map[string]any{"name": "Checkout", "auth_type": "api_key", "auth_key": "checkout-key"})
	checkoutID, checkoutIngest := idOf(t, checkout, "source"), stringOf(t, checkout, "source", "ingestion_id")
	legacy := admin.must(t, http.StatusCreated, "POST", tbase+"/sources", map[string]any{"name": "Legacy"})
	legacyIngest := stringOf(t, legacy, "source", "ingestion_id")
	receiver := idOf(t, admin.must(t, http.StatusCreated, "POST", tbase+"/destinations",
		map[string]any{"name": "Receiver", "url": sink.URL + "/ok"}), "destination")
	broken := idOf(t, admin.must(t, http.StatusCreated, "POST", tbase+"/destinations",
		map[string]any{"name": "Broken", "url": sink.URL + "/fail"}), "destination")
	checkoutConn := idOf(t, admin.must(t, http.StatusCreated, "POST", tbase+"/connections",
		map[string]any{"source_id": checkoutID, "destination_id": receiver}), "connection")
	admin.must(t, http.StatusCreated, "POST", tbase+"/connections",
		map[string]any{"source_id": idOf(t, legacy, "source"), "destination_id": broken, "max_retries": 0})

	// One event at a time, each settled before the next, so that ids and
	// list orders do not depend on the engine's timing. ingest sends fixed
	// Content-Type and User-Agent headers; checkout's api key is not stored.
	var attempts int64
	hook := func(path, body string, header map[string]string) string {
		t.Helper()
		clk.Advance(time.Minute)
		uid := ingest(t, srv, path, header, body)
		attempts++
		waitSettled(t, admin, tp, attempts)
		return uid
	}
	key := map[string]string{"X-API-Key": "checkout-key", "X-Shop": "eu-1"}
	first := hook(checkoutIngest+"?attempt=1", `{"order":1001,"total":"12.50"}`, key)
	hook(checkoutIngest, `{"order":1002,"note":"<gift> & \"wrap\""}`, key)
	failed := hook(legacyIngest, `{"legacy":true}`, map[string]string{"X-Shop": "eu-2"})

	clk.Advance(time.Minute)
	g.route(admin, "POST /api/webhooks", no, map[string]any{"source_id": checkoutID, "destination_id": receiver,
		"body": map[string]any{"test": true, "order": 1003}, "headers": map[string]string{"X-Test": "golden"}})
	attempts++
	waitSettled(t, admin, tp, attempts)
	clk.Advance(time.Minute)
	g.route(admin, "POST /api/replay-event", no, map[string]any{"event_id": first})
	attempts++
	waitSettled(t, admin, tp, attempts)
	clk.Advance(time.Minute)

	g.route(admin, "GET /api/projects/{project_id}/requests", traffic, nil)
	g.routeQuery(admin, "GET /api/projects/{project_id}/events", map[string]string{"project_id": fmt.Sprint(tp)},
		"source_id="+checkoutIngest+"&start_date=2026-01-02&end_date=2026-01-02&limit=2&offset=1", nil)
	g.route(admin, "GET /api/requests/{request_id}", map[string]uint64{"request_id": requestIDOf(t, admin, tp, first)}, nil)
	g.routeQuery(admin, "GET /api/projects/{project_id}/events/{event_id}",
		map[string]string{"project_id": fmt.Sprint(tp), "event_id": failed}, "", nil)
	g.route(admin, "GET /api/projects/{project_id}/delivery-attempts", traffic, nil)
	g.routeQuery(admin, "GET /api/delivery-attempts", map[string]string{"project_id": fmt.Sprint(tp)},
		"event_id="+first+"&status=success&sort=time_oldest", nil)
	g.route(admin, "GET /api/connections/{connection_id}", map[string]uint64{"connection_id": checkoutConn}, nil)
	g.pinQuery("connection_list_metrics", admin, "GET /api/projects/{project_id}/connections",
		map[string]string{"project_id": fmt.Sprint(tp)}, "include=metrics", nil)
	g.routeQuery(admin, "GET /api/projects/{project_id}/payloads", map[string]string{"project_id": fmt.Sprint(tp)},
		"limit=50&source_id="+fmt.Sprint(checkoutID)+"&start_time=2026-01-02T08%3A30%3A00%2B05%3A30", nil)
	g.route(admin, "GET /api/connections/{connection_id}/attempts", map[string]uint64{"connection_id": checkoutConn}, nil)
	// The stream itself never ends; its refusal without a source is pinned
	// (stream_test.go reads the stream).
	g.route(admin, "GET /api/stream", no, nil)

	// Tokens and the device login.
	clk.Advance(time.Minute)
	tok := idOf(t, g.route(admin, "POST /api/tokens", no, map[string]any{"name": "CI", "expires_at": "2027-01-01T00:00:00+01:00"}), "")
	var start struct {
		PairingCode string `json:"pairing_code"`
		DeviceCode  string `json:"device_code"`
	}
	// start and poll take no token: they are not in Routes, and pinned by name.
	g.pin("device_start", admin, "POST /api/auth/cli/start", no, nil).JSON(t, &start)
	g.route(admin, "POST /api/auth/cli/approve", no, map[string]any{"pairing_code": start.PairingCode, "device_name": "ada-laptop"})
	g.pinQuery("device_poll", admin, "GET /api/auth/cli/poll", nil, "device_code="+start.DeviceCode, nil)
	denied := admin.must(t, http.StatusOK, "POST", "/api/auth/cli/start", nil)
	g.route(admin, "POST /api/auth/cli/deny", no, map[string]any{"pairing_code": stringField(t, denied, "pairing_code")})
	g.route(admin, "GET /api/tokens", no, nil)
	g.route(admin, "DELETE /api/tokens/{token_id}", map[string]uint64{"token_id": tok}, nil)

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
	g.route(admin, "DELETE /api/transformations/{transformation_id}", transformation, nil)
	g.route(admin, "DELETE /api/projects/{project_id}/sources/{source_id}", map[string]uint64{"project_id": pid, "source_id": sid2}, nil)
	g.route(admin, "DELETE /api/projects/{project_id}/destinations/{destination_id}", dest2, nil)
	g.route(admin, "DELETE /api/sources/{source_id}", source, nil)
	g.route(admin, "DELETE /api/destinations/{destination_id}", dest, nil)
	g.route(admin, "DELETE /api/projects/{project_id}", project, nil)
	g.route(admin.in(acme), "DELETE /api/org", no, nil)

	// Invitations last: their secrets come from the seeded randomness,
	// which every earlier id depends on too.
	inv := idOf(t, g.pin("invitation_create", admin, "POST /api/org/members", no, map[string]any{"email": "carol@example.com", "role": "admin"}), "invitation")
	g.route(admin, "GET /api/org/invitations", no, nil)
	g.route(admin, "DELETE /api/org/invitations/{invitation_id}", map[string]uint64{"invitation_id": inv}, nil)

	// The audit log of all the above: one target's page, and the page
	// after it.
	g.routeQuery(admin, "GET /api/audit-log", map[string]string{}, fmt.Sprintf("target=destination:%d&limit=4", did), nil)

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

// goldenSink is the destination of the golden traffic. It answers every
// request with the same bytes: a fixed status and body, and explicit
// Content-Type and Date headers (net/http would otherwise send the current
// date), so the response headers and bodies recorded with each attempt are
// deterministic. /ok answers 200, /fail 503.
func goldenSink(t *testing.T) *httptest.Server {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Date", "Fri, 02 Jan 2026 03:04:05 GMT")
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"down for maintenance"}`)
			return
		}
		io.WriteString(w, `{"received":true}`)
	}))
	t.Cleanup(sink.Close)
	return sink
}

// goldenRun pins responses in call order and remembers which cases ran.
type goldenRun struct {
	t      *testing.T
	srv    *testserver.Server
	routes []string
	seen   map[string]bool
	// urls lists pairs of base URLs with random ports and what they
	// become in golden files.
	urls []string
	// doc validates every answer against the OpenAPI document
	// (openapi_test.go).
	doc *docChecker
}

// goldenTimings matches the values measured with the wall clock: how long
// attempts took (duration_ms of attempts and of replay results) and the
// latency percentiles of connection metrics computed from them, and their
// camelCase twins.
var goldenTimings = regexp.MustCompile(`"(duration_ms|durationMs|latency_p50_ms|latencyP50Ms|latency_p95_ms|latencyP95Ms)":[0-9]+`)

// normalise replaces what differs between runs in a response body, and
// nothing else:
//   - the test server's base URL (random port, in ingestion URLs) becomes
//     http://volley.test;
//   - the sink's base URL (random port, in destination URLs) becomes
//     http://sink.test;
//   - duration_ms, latency_p50_ms and latency_p95_ms (and their twins)
//     become 0 (see goldenTimings).
//
// Everything else is deterministic at its source and pinned as is: times
// come from the fixed clock (the delivery engine reads it too), ids from
// the seeded rand and the call order, and the sink answers fixed bytes with
// fixed Date and Content-Type headers.
func (g *goldenRun) normalise(body []byte) []byte {
	for i := 0; i+1 < len(g.urls); i += 2 {
		body = bytes.ReplaceAll(body, []byte(g.urls[i]), []byte(g.urls[i+1]))
	}
	return goldenTimings.ReplaceAll(body, []byte(`"${1}":0`))
}

// route calls a listed route and pins the response as its golden case.
func (g *goldenRun) route(c *caller, pattern string, vars map[string]uint64, body any) *testserver.Response {
	g.t.Helper()
	return g.routeQuery(c, pattern, idVals(vars), "", body)
}

// routeQuery is route for string ids ({event_id}) and with query appended
// to the path.
func (g *goldenRun) routeQuery(c *caller, pattern string, vals map[string]string, query string, body any) *testserver.Response {
	g.t.Helper()
	name, ok := goldenCases[pattern]
	if !ok {
		g.t.Fatalf("route %q has no entry in goldenCases", pattern)
	}
	if !slices.Contains(g.routes, pattern) {
		g.t.Fatalf("route %q is not in Server.APIRoutes()", pattern)
	}
	return g.pinQuery(name, c, pattern, vals, query, body)
}

// idVals formats numeric ids for fill.
func idVals(vars map[string]uint64) map[string]string {
	vals := map[string]string{}
	for k, v := range vars {
		vals[k] = strconv.FormatUint(v, 10)
	}
	return vals
}

// pin calls pattern with vars and compares the response with the golden
// file of name.
func (g *goldenRun) pin(name string, c *caller, pattern string, vars map[string]uint64, body any) *testserver.Response {
	g.t.Helper()
	return g.pinQuery(name, c, pattern, idVals(vars), "", body)
}

// pinQuery is pin for string ids and with query appended to the path.
func (g *goldenRun) pinQuery(name string, c *caller, pattern string, vals map[string]string, query string, body any) *testserver.Response {
	g.t.Helper()
	if g.seen[name] {
		g.t.Fatalf("golden case %s pinned twice", name)
	}
	g.seen[name] = true
	method, path := mustFill(g.t, pattern, vals)
	if query != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + query
	}
	resp := c.do(g.t, method, path, body)
	if resp.Status >= 500 {
		g.t.Fatalf("%s %s: status %d: %s", method, path, resp.Status, resp.Body)
	}
	g.doc.check(g.t, pattern, path, resp)
	if resp.Status < 400 {
		g.doc.checkRequest(g.t, pattern, path, c.org, body)
	}
	got := goldenBytes(g.t, resp, g.normalise)
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

// finish checks that every table entry ran, that no golden file is left
// over from a case that no longer exists, and that every documented
// operation but nodeOperations had an answer validated.
func (g *goldenRun) finish() {
	g.t.Helper()
	g.doc.requireSeen(g.t, "TestGolden", func(op string) bool { return !slices.Contains(nodeOperations, op) })
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
// status, content type and body. The body is embedded verbatim after
// normalise, so only whitespace outside strings is reformatted.
func goldenBytes(t testing.TB, resp *testserver.Response, normalise func([]byte) []byte) []byte {
	t.Helper()
	var doc bytes.Buffer
	fmt.Fprintf(&doc, `{"status":%d`, resp.Status)
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		ctJSON, _ := json.Marshal(ct)
		fmt.Fprintf(&doc, `,"content_type":%s`, ctJSON)
	}
	body := normalise(resp.Body)
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

// stringField returns a top-level string field of a JSON response.
func stringField(t *testing.T, resp *testserver.Response, field string) string {
	t.Helper()
	var v map[string]any
	resp.JSON(t, &v)
	s, ok := v[field].(string)
	if !ok {
		t.Fatalf("no string %s in %s", field, resp.Body)
	}
	return s
}
