package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// transformation creates a transformation in the rules project.
func (r *rulesSetup) transformation(t *testing.T, name, code string) uint64 {
	t.Helper()
	return idOf(t, r.admin.must(t, http.StatusCreated, "POST", r.base+"/transformations",
		map[string]any{"name": name, "code": code}), "transformation")
}

func TestTransformationRewrites(t *testing.T) {
	t.Parallel()
	r := setupRules(t)
	tid := r.transformation(t, "Reshape", `(request) => {
		console.log("order", request.body.order, request.headers["x-shop"]);
		request.body = {id: request.body.order, cents: Math.round(request.body.total * 100)};
		request.headers["x-tagged"] = "yes";
		delete request.headers["x-shop"];
		request.path = "/v2/orders";
		request.query = "source=volley";
		return request;
	}`)
	conn := r.connect(t, "Orders", "/in", map[string]any{"transformation_id": tid})
	uid := r.send(t, `{"order":1001,"total":12.5}`, 1)
	got := r.sink.at("/in/v2/orders")
	if len(got) != 1 {
		t.Fatalf("sink got %+v, want one request at /in/v2/orders", r.sink.at("/"))
	}
	req := got[0]
	if req.body != `{"cents":1250,"id":1001}` || req.path != "/in/v2/orders?source=volley" {
		t.Errorf("sink saw %s %s", req.path, req.body)
	}
	if req.header.Get("X-Tagged") != "yes" || req.header.Get("X-Shop") != "" || req.header.Get("Webhook-Signature") == "" {
		t.Errorf("sink saw headers %v", req.header)
	}
	ev := r.event(t, uid)
	if ev.Status != "processed" || len(ev.Attempts) != 1 || ev.Attempts[0].TransformationLogs != "order 1001 eu-1\n" {
		t.Errorf("event = %+v", ev)
	}
	var c struct {
		TransformationID uint64 `json:"transformation_id"`
	}
	r.admin.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/connections/%d", conn), nil).JSON(t, &c)
	if c.TransformationID != tid {
		t.Errorf("connection transformation_id = %d, want %d", c.TransformationID, tid)
	}

	// The test endpoint runs the code on the stored event and sends nothing.
	var res struct {
		Dropped bool   `json:"dropped"`
		Logs    string `json:"logs"`
		Error   string `json:"error"`
		Result  struct {
			Path, Query, Body string
			Headers           map[string]any
		} `json:"result"`
	}
	r.admin.must(t, http.StatusOK, "POST", fmt.Sprintf("/api/transformations/%d/test", tid), map[string]any{"event_id": uid}).JSON(t, &res)
	if res.Dropped || res.Error != "" || res.Result.Body != `{"cents":1250,"id":1001}` || res.Result.Path != "/v2/orders" ||
		res.Result.Headers["X-Tagged"] != "yes" || res.Logs != "order 1001 eu-1\n" {
		t.Errorf("test on the stored event = %+v", res)
	}
	// Unsaved code on a given request.
	r.admin.must(t, http.StatusOK, "POST", fmt.Sprintf("/api/transformations/%d/test", tid), map[string]any{
		"code": `(r) => { throw new Error("nope " + r.body.x) }`, "request": map[string]any{"body": map[string]any{"x": 1}}}).JSON(t, &res)
	if !strings.Contains(res.Error, "nope 1") {
		t.Errorf("test of throwing code = %+v", res)
	}
	if got := len(r.sink.at("/")); got != 1 {
		t.Errorf("the test endpoint sent requests: sink got %d", got)
	}

	// A transformation in use cannot be deleted.
	resp := r.admin.do(t, "DELETE", fmt.Sprintf("/api/transformations/%d", tid), nil)
	if resp.Status != http.StatusConflict || !strings.Contains(errorOf(t, resp).Error, "used by a connection") {
		t.Errorf("DELETE of a used transformation = %d %s", resp.Status, resp.Body)
	}
}

func TestTransformationDropsAndFails(t *testing.T) {
	t.Parallel()
	r := setupRules(t)
	drop := r.transformation(t, "Drop pings", `(request) => request.body.type === "ping" ? null : request`)
	loop := r.transformation(t, "Loop", `(request) => { console.log("looping"); while (true) {} }`)
	r.connect(t, "Pings dropped", "/a", map[string]any{"transformation_id": drop})
	looping := r.connect(t, "Stuck", "/b", map[string]any{"transformation_id": loop, "max_retries": 5})

	// Dropped on one connection (no request), stopped at the time limit on
	// the other: one failed attempt, no retry, no request.
	uid := r.send(t, `{"type":"ping"}`, 1)
	if got := r.sink.at("/"); len(got) != 0 {
		t.Fatalf("sink got %+v, want nothing", got)
	}
	ev := r.event(t, uid)
	if ev.Status != "failed" || len(ev.Deliveries) != 2 || len(ev.Attempts) != 1 {
		t.Fatalf("event = %+v", ev)
	}
	for _, d := range ev.Deliveries {
		if d.ConnectionID == looping {
			if d.State != "failed" || d.AttemptCount != 1 {
				t.Errorf("looping delivery = %+v, want failed after one attempt", d)
			}
		} else if d.State != "filtered" || d.Reason != "dropped by transformation" {
			t.Errorf("dropped delivery = %+v", d)
		}
	}
	a := ev.Attempts[0]
	want := "transformation stopped: time limit of 1s exceeded"
	if a.Status != "failed" || a.ErrorReason != want || a.TransformationError != want || a.TransformationLogs != "looping\n" {
		t.Errorf("attempt = %+v", a)
	}

	// Fixed, the code runs again on replay, and the event is delivered.
	r.admin.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/transformations/%d", loop),
		map[string]any{"code": `(request) => { request.headers["x-fixed"] = "1"; return request }`})
	var replay struct {
		Success bool `json:"success"`
	}
	r.admin.must(t, http.StatusOK, "POST", "/api/replay-event", map[string]any{"event_id": uid, "connection_id": looping}).JSON(t, &replay)
	got := r.sink.at("/b")
	if !replay.Success || len(got) != 1 || got[0].header.Get("X-Fixed") != "1" {
		t.Fatalf("replay with the fixed code: %+v, sink /b got %+v", replay, got)
	}
	if ev := r.event(t, uid); ev.Status != "processed" {
		t.Errorf("after the replay the event is %q, want processed", ev.Status)
	}
	r.settled++

	// Not a ping: delivered through the first connection.
	r.send(t, `{"type":"order"}`, 2)
	if got := len(r.sink.at("/a")); got != 1 {
		t.Errorf("sink /a got %d requests, want 1", got)
	}
}

func TestTransformationValidation(t *testing.T) {
	t.Parallel()
	r := setupRules(t)
	for code, want := range map[string]string{
		"(r) => {":  "code: does not compile",
		"42":        "code: must be a function",
		"   ":       "code: is required",
		"function(": "code: does not compile",
	} {
		resp := r.admin.do(t, "POST", r.base+"/transformations", map[string]any{"name": "x", "code": code})
		if e := errorOf(t, resp); resp.Status != http.StatusBadRequest || !strings.HasPrefix(e.Error, want) {
			t.Errorf("code %q: %d %+v, want 400 %q", code, resp.Status, e, want)
		}
	}
	tid := r.transformation(t, "ok", "(r) => r")
	resp := r.admin.do(t, "POST", r.base+"/transformations", map[string]any{"name": "ok", "code": "(r) => r"})
	if resp.Status != http.StatusConflict {
		t.Errorf("duplicate name: %d %s", resp.Status, resp.Body)
	}
	resp = r.admin.do(t, "PUT", fmt.Sprintf("/api/transformations/%d", tid), map[string]any{"code": "(r) =>"})
	if resp.Status != http.StatusBadRequest {
		t.Errorf("update with broken code: %d %s", resp.Status, resp.Body)
	}
	// A connection may only use its own project's transformations.
	other := idOf(t, r.admin.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Other"}), "project")
	foreign := idOf(t, r.admin.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/transformations", other),
		map[string]any{"name": "theirs", "code": "(r) => r"}), "transformation")
	dst := idOf(t, r.admin.must(t, http.StatusCreated, "POST", r.base+"/destinations",
		map[string]any{"name": "D", "url": r.sink.URL}), "destination")
	resp = r.admin.do(t, "POST", r.base+"/connections", map[string]any{"source_id": r.source, "destination_id": dst, "transformation_id": foreign})
	if e := errorOf(t, resp); resp.Status != http.StatusBadRequest || e.Field != "transformation_id" {
		t.Errorf("another project's transformation: %d %+v", resp.Status, e)
	}
	r.admin.must(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/api/transformations/%d", tid), nil)
	r.admin.must(t, http.StatusNotFound, "GET", fmt.Sprintf("/api/transformations/%d", tid), nil)
}
