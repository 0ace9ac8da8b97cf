package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// pipeline is a source → connection → destination of the admin's project,
// delivering to a sink on 127.0.0.1.
type pipeline struct {
	srv                                   *testserver.Server
	sourceID, destinationID, connectionID uint64
	ingestion                             string
}

// newPipeline creates a pipeline through the API whose sink answers every
// delivery with status and body.
func newPipeline(t testing.TB, srv *testserver.Server, status int, body string) *pipeline {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Sink", "yes")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(sink.Close)
	base := fmt.Sprintf("/api/projects/%d", srv.Admin.Project.ID)
	var src struct {
		ID          uint64 `json:"id"`
		IngestionID string `json:"ingestion_id"`
	}
	api(t, srv, "POST", base+"/sources", map[string]any{"name": "Shop"}, &src)
	var dst, conn struct {
		ID uint64 `json:"id"`
	}
	api(t, srv, "POST", base+"/destinations", map[string]any{"name": "Orders service", "url": sink.URL + "/orders"}, &dst)
	api(t, srv, "POST", base+"/connections", map[string]any{"name": "shop-to-orders", "source_id": src.ID, "destination_id": dst.ID, "max_retries": 0}, &conn)
	return &pipeline{srv: srv, sourceID: src.ID, destinationID: dst.ID, connectionID: conn.ID, ingestion: src.IngestionID}
}

// api calls the API as the admin, decoding a 2xx answer into out.
func api(t testing.TB, srv *testserver.Server, method, path string, in, out any) {
	t.Helper()
	res := srv.Do(t, testserver.Request{Method: method, Path: path, Token: testserver.AdminToken, Body: in})
	if res.Status/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, res.Status, res.Body)
	}
	if out != nil {
		res.JSON(t, out)
	}
}

// send posts a webhook to the pipeline's ingestion URL and returns the
// event id.
func (p *pipeline) send(t testing.TB, contentType, body string, header http.Header) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/hook/"+p.ingestion+"?topic=orders%2Fcreate", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		EventID string `json:"event_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted || out.EventID == "" {
		t.Fatalf("ingest: %d %+v %v", resp.StatusCode, out, err)
	}
	return out.EventID
}

// waitAttempts waits until the event has n attempts.
func (p *pipeline) waitAttempts(t testing.TB, eventID string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ev struct {
			Attempts []any `json:"delivery_attempts"`
		}
		api(t, p.srv, "GET", fmt.Sprintf("/api/projects/%d/events/%s", p.srv.Admin.Project.ID, eventID), nil, &ev)
		if len(ev.Attempts) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s has %d attempts, want %d", eventID, len(ev.Attempts), n)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func TestEventsPages(t *testing.T) {
	t.Parallel()
	srv, _, owner, member := shellSetup(t)
	events := fmt.Sprintf("/projects/%d/events", srv.Admin.Project.ID)
	attempts := fmt.Sprintf("/projects/%d/attempts", srv.Admin.Project.ID)

	empty := owner.get(events)
	empty.want(t, "the empty events page", http.StatusOK, "<h1>Events</h1>", "no source", `href="`+events+`"`)
	if strings.Contains(empty.Body, "data-tail") {
		t.Fatal("the live tail is on in a project without sources")
	}

	p := newPipeline(t, srv, http.StatusOK, `{"ok":true,"<b>":"</pre><script>x()</script>"}`)
	owner.get(events).want(t, "the events page without events", http.StatusOK, "No events yet", "curl -X POST", "/hook/"+p.ingestion)
	first := p.send(t, "application/json", `{"order":{"id":1001,"total":25.5,"paid":true,"note":null}}`, nil)
	evil := p.send(t, "text/plain", `<script>window.pwned=1</script>`, http.Header{"X-Evil": {`"><img src=x onerror="window.pwned=2">`}})
	p.waitAttempts(t, first, 1)
	p.waitAttempts(t, evil, 1)

	page := owner.get(events)
	page.want(t, "the events page", http.StatusOK, first, evil, `data-tail="`+events+`/tail?last_event_id=`, "Refresh", `aria-current="page">Events</a>`)
	if strings.Index(page.Body, evil) > strings.Index(page.Body, first) {
		t.Fatal("the events are not newest first")
	}
	// Filters go to the API; a bad one is shown in place.
	owner.get(events+"?search="+first).want(t, "search by id", http.StatusOK, first)
	if strings.Contains(owner.get(events+"?search="+first).Body, evil) {
		t.Fatal("the search by id listed another event")
	}
	owner.get(events+"?status=processed&source_id="+fmt.Sprint(p.sourceID)).want(t, "status and source filters", http.StatusOK, first, evil)
	bad := owner.get(events + "?status=bogus")
	bad.want(t, "a bad status", http.StatusBadRequest, `class="error"`, `id="f-status" name="status" aria-invalid="true"`)
	owner.get(events+"?from=yesterday").want(t, "a bad time", http.StatusBadRequest, "start_time", `id="f-from" name="from" type="datetime-local" value="yesterday" aria-invalid="true"`)
	owner.get(events+"?from=2000-01-01T00:00&to=2000-01-02T00:00").want(t, "a time range", http.StatusOK, "No event matches these filters")
	if b := owner.get(events + "?status=failed").Body; strings.Contains(b, "data-tail") {
		t.Fatal("the live tail is on under a status filter")
	}

	// The event page: request line, headers and bodies, escaped.
	detail := owner.get(events + "/" + evil)
	detail.want(t, "the event page", http.StatusOK, "POST /hook/"+p.ingestion+"?topic=orders%2Fcreate",
		"&lt;script&gt;window.pwned=1&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=&#34;window.pwned=2&#34;&gt;",
		"Attempt 1 to shop-to-orders", "HTTP 200", `name="connection_id"`)
	if strings.Contains(detail.Body, "<script>window") || strings.Contains(detail.Body, "<img src=x") || strings.Contains(detail.Body, "</pre><script>") {
		t.Fatal("the event page shows attacker-controlled markup unescaped")
	}
	owner.get(events+"/"+first).want(t, "a JSON body", http.StatusOK,
		`<span class="j-key">&#34;total&#34;</span><span class="j-punct">:</span> <span class="j-num">25.5</span>`,
		`<span class="j-lit">true</span>`, `&lt;/pre&gt;&lt;script&gt;x()&lt;/script&gt;`)
	owner.get(events+"/evt_nope").want(t, "an unknown event", http.StatusNotFound)
	bin := p.send(t, "application/octet-stream", "\x89PNG\r\n\x1a\n\x00\x00<b>", nil)
	owner.get(events+"/"+bin).want(t, "a binary body", http.StatusOK, "Binary, 13 bytes",
		"89 50 4e 47 0d 0a 1a 0a  00 00 3c 62 3e", "|.PNG......&lt;b&gt;|")

	// Replay: to one connection, then to all, by a member too; without the
	// CSRF token it is refused.
	tok := detail.csrf(t)
	owner.post(events+"/"+evil+"/replay", url.Values{"connection_id": {fmt.Sprint(p.connectionID)}}).
		want(t, "replay without CSRF", http.StatusForbidden)
	res := owner.post(events+"/"+evil+"/replay", url.Values{"csrf": {tok}, "connection_id": {fmt.Sprint(p.connectionID)}})
	res.wantRedirect(t, "replay to one connection", events+"/"+evil+"?replayed=1/1#attempts")
	owner.get(events+"/"+evil+"?replayed=1/1").want(t, "after the replay", http.StatusOK, "Replayed: 1 of 1 attempts succeeded", "Replay to shop-to-orders")
	owner.post(events+"/"+evil+"/replay", url.Values{"csrf": {tok}, "connection_id": {"x"}}).want(t, "replay to a bad connection", http.StatusBadRequest, "Choose a connection")
	owner.post(events+"/"+evil+"/replay", url.Values{"csrf": {tok}, "connection_id": {"999999"}}).want(t, "replay to another connection", http.StatusBadRequest, "The replay was refused")
	mtok := member.get(events + "/" + first).csrf(t)
	member.post(events+"/"+first+"/replay", url.Values{"csrf": {mtok}}).wantRedirect(t, "a member replays to all", events+"/"+first+"?replayed=1/1#attempts")

	// Attempts: filters and sorts of the API.
	owner.get(attempts).want(t, "the attempts page", http.StatusOK, "<h1>Delivery attempts</h1>", first, evil, "replay", "shop-to-orders")
	owner.get(attempts+"?sort=duration&status=success").want(t, "sorted and filtered", http.StatusOK, first)
	owner.get(attempts+"?event_id="+first).want(t, "an event's attempts", http.StatusOK, first)
	if strings.Contains(owner.get(attempts+"?event_id="+first).Body, evil) {
		t.Fatal("the event filter listed another event's attempt")
	}
	owner.get(attempts+"?sort=bogus").want(t, "a bad sort", http.StatusBadRequest, `id="f-sort" name="sort" aria-invalid="true"`)
	owner.get(attempts+"?status=failed").want(t, "no failed attempt", http.StatusOK, "No attempt matches these filters")
}

func TestEventsTail(t *testing.T) {
	t.Parallel()
	srv, bob, owner, _ := shellSetup(t)
	tail := fmt.Sprintf("/projects/%d/events/tail", srv.Admin.Project.ID)
	newBrowser(t, srv.URL).get(tail).wantRedirect(t, "the tail signed out", "/signin?next="+url.QueryEscape(tail))
	owner.get(fmt.Sprintf("/projects/%d/events/tail", bob.ProjectID)).want(t, "another organization's tail", http.StatusNotFound)
	if p := owner.get(tail); p.Status != http.StatusNoContent {
		t.Fatalf("the tail of a project without sources: %d, want 204", p.Status)
	}
	p := newPipeline(t, srv, http.StatusOK, `{}`)
	before := p.send(t, "application/json", `{"n":1}`, nil)
	// The events page names where its tail starts: after the events it
	// lists.
	m := regexpAll(`data-tail="([^"]+)"`, owner.get(fmt.Sprintf("/projects/%d/events", srv.Admin.Project.ID)).Body)
	if len(m) != 1 {
		t.Fatal("the events page has no live tail")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+html.UnescapeString(m[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := owner.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	after := p.send(t, "application/json", `{"n":2}`, nil)
	sc := bufio.NewScanner(resp.Body)
	var events []string
	for sc.Scan() && len(events) == 0 {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(data, `"event_id"`) {
			events = append(events, data)
		}
	}
	if len(events) != 1 || !strings.Contains(events[0], `"event_id":"`+after+`"`) ||
		!strings.Contains(events[0], fmt.Sprintf(`"url":"/projects/%d/events/%s"`, srv.Admin.Project.ID, after)) ||
		!strings.Contains(events[0], `"source":"shop"`) || !strings.Contains(events[0], `"method":"POST"`) {
		t.Fatalf("tail messages %q, want only %s (not %s, which the page listed)", events, after, before)
	}
}
