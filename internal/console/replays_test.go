package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// TestReplayFlow: a member follows "Replay all matching" from the failed
// events, counts them, confirms, sees the job, and cancels it; a filter
// the API refuses is shown next to its field.
func TestReplayFlow(t *testing.T) {
	t.Parallel()
	srv, _, _, member := shellSetup(t)
	pid := srv.Admin.Project.ID
	api := func(method, path string, body any) *testserver.Response {
		t.Helper()
		res := srv.Do(t, testserver.Request{Method: method, Path: path, Token: testserver.AdminToken, Org: srv.Admin.Org.ID, Body: body})
		if res.Status >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, res.Status, res.Body)
		}
		return res
	}
	var src, dst struct {
		ID           uint64 `json:"id"`
		IngestionURL string `json:"ingestion_url"`
	}
	api("POST", fmt.Sprintf("/api/projects/%d/sources", pid), map[string]any{"name": "shop"}).JSON(t, &src)
	api("POST", fmt.Sprintf("/api/projects/%d/destinations", pid), map[string]any{"name": "gone", "url": "http://127.0.0.1:9/gone"}).JSON(t, &dst)
	api("POST", fmt.Sprintf("/api/projects/%d/connections", pid), map[string]any{"source_id": src.ID, "destination_id": dst.ID, "max_retries": 0})
	for i := range 3 {
		if s := hook(t, src.IngestionURL, "", fmt.Sprintf(`{"n":%d}`, i)); s != http.StatusAccepted {
			t.Fatalf("ingest: %d", s)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct {
			Total int `json:"total"`
		}
		res := api("GET", fmt.Sprintf("/api/projects/%d/events?status=failed", pid), nil)
		if err := json.Unmarshal(res.Body, &list); err != nil {
			t.Fatal(err)
		}
		if list.Total == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events failed, want 3", list.Total)
		}
		time.Sleep(10 * time.Millisecond)
	}

	base := fmt.Sprintf("/projects/%d", pid)
	member.get(base+"/events?status=failed").want(t, "the events list", http.StatusOK,
		`id="replay-matching" href="`+base+`/replays?status=failed"`)
	p := member.get(base + "/replays?status=failed")
	p.want(t, "the replays page", http.StatusOK, `aria-current="page">Replays</a>`, `<option value="failed" selected>`, "No replay yet.")
	form := url.Values{"csrf": {p.csrf(t)}, "status": {"failed"}, "source_id": {fmt.Sprint(src.ID)}}
	p = member.post(base+"/replays/count", form)
	p.want(t, "the dry run", http.StatusOK, `id="replay-count">3 events match.`, "Replay 3 events", `id="replay-confirm"`)

	created := member.post(base+"/replays", form)
	loc := created.Header.Get("Location")
	if created.Status != http.StatusSeeOther || loc == "" {
		t.Fatalf("create: %d, Location %q", created.Status, loc)
	}
	p = member.get(loc)
	id := one(t, "the job's id", `data-replay="([0-9]+)"`, p.Body)
	p.want(t, "the started job", http.StatusOK, "Replay "+id+" started.", `<table id="replays">`)

	member.post(base+"/replays/"+id+"/cancel", url.Values{"csrf": {p.csrf(t)}}).wantRedirect(t, "cancel", base+"/replays")
	var job struct {
		Replay struct {
			Status string `json:"status"`
		} `json:"replay"`
	}
	api("GET", "/api/replays/"+id, nil).JSON(t, &job)
	if s := job.Replay.Status; s != "cancelled" && s != "done" {
		t.Fatalf("after cancel the job is %s, want cancelled (or done, when it finished first)", s)
	}

	form.Set("source_id", "999999")
	member.post(base+"/replays/count", form).want(t, "an unknown source", http.StatusBadRequest,
		"no source 999999 in this project", `id="r-source" name="source_id" aria-invalid="true"`)
}
