package replay_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/replay"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/testserver"
)

func start(t *testing.T, rc replay.Config) *node {
	t.Helper()
	srv := testserver.Start(t, testserver.Options{Replay: rc})
	return &node{srv: srv, pid: srv.AdminAccount().ProjectID}
}

// TestReplayFailedEvents: a dry run counts the failed events; the job
// replays each of them once, in several batches, and its counts say so;
// events that were delivered are left alone.
func TestReplayFailedEvents(t *testing.T) {
	t.Parallel()
	n := start(t, replay.Config{Batch: 7})
	sk := newSink(t, nil)
	src, dest, conn := n.route(t, "shop", sk.URL)
	failed := seedFailed(t, n.srv.Store, n.pid, src, dest, conn, 30)
	ingest(t, n.srv.URL, src.IngestionID, `{"live":1}`) // delivered: not failed
	eventually(t, 20*time.Second, func() bool { return sk.count(`"live"`) == 1 }, func() string { return "the live event was not delivered" })

	filter := map[string]any{"status": "failed", "source_id": src.ID}
	var dry struct {
		Count    int64 `json:"count"`
		Estimate *bool `json:"count_is_estimate"`
	}
	n.api(t, http.StatusOK, "POST", fmt.Sprintf("/api/projects/%d/replays", n.pid),
		map[string]any{"filter": filter, "dry_run": true}).JSON(t, &dry)
	if dry.Count != 30 || dry.Estimate != nil {
		t.Fatalf("dry run: %+v, want 30, exact", dry)
	}
	var list struct {
		Replays []job `json:"replays"`
	}
	n.api(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/replays", n.pid), nil).JSON(t, &list)
	if len(list.Replays) != 0 {
		t.Fatalf("the dry run created a job: %+v", list.Replays)
	}

	j := n.create(t, map[string]any{"filter": filter})
	if j.Status != "queued" || j.Counts.Matched != 30 || j.Counts.Queued != 30 {
		t.Fatalf("created %+v, want queued with 30 matched", j)
	}
	j = n.awaitJob(t, j.ID, "done", 60*time.Second)
	if c := j.Counts; c.Processed != 30 || c.Done != 30 || c.Failed != 0 || c.Skipped != 0 || c.Queued != 0 {
		t.Fatalf("done job counts %+v, want 30 processed and done", c)
	}
	for id, got := range replayAttempts(t, n.srv.Store, failed) {
		if got != 1 {
			t.Errorf("event %d replayed %d times, want once", id, got)
		}
	}
	if got := len(replayAttempts(t, n.srv.Store, failed)); got != 30 {
		t.Errorf("%d events replayed, want 30", got)
	}
	if got := sk.count(`"seeded"`); got != 30 {
		t.Errorf("the sink received %d replays, want 30", got)
	}
	if got := sk.count(`"live"`); got != 1 {
		t.Errorf("the delivered event was sent %d times, want once", got)
	}
	n.api(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/replays", n.pid), nil).JSON(t, &list)
	if len(list.Replays) != 1 || list.Replays[0].ID != j.ID {
		t.Fatalf("list: %+v, want the job", list.Replays)
	}
}

// TestReplayToConnection: replaying to a connection added after the events
// arrived creates their delivery on it, as a single replay does; the
// events' own deliveries are not sent.
func TestReplayToConnection(t *testing.T) {
	t.Parallel()
	n := start(t, replay.Config{})
	old, fresh := newSink(t, nil), newSink(t, nil)
	src, dest, conn := n.route(t, "shop", old.URL)
	seedFailed(t, n.srv.Store, n.pid, src, dest, conn, 5)
	var d, c created
	n.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/destinations", n.pid),
		map[string]any{"name": "fresh", "url": fresh.URL}).JSON(t, &d)
	n.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/connections", n.pid),
		map[string]any{"source_id": src.ID, "destination_id": d.ID}).JSON(t, &c)

	j := n.create(t, map[string]any{"filter": map[string]any{"source_id": src.ID}, "connection_id": c.ID})
	j = n.awaitJob(t, j.ID, "done", 60*time.Second)
	if j.Counts.Processed != 5 || j.Counts.Done != 5 {
		t.Fatalf("counts %+v, want 5 processed and done", j.Counts)
	}
	if fresh.count(`"seeded"`) != 5 || old.count(`"seeded"`) != 0 {
		t.Fatalf("sent %d to the new connection and %d to the old, want 5 and 0", fresh.count(`"seeded"`), old.count(`"seeded"`))
	}
}

// TestReplayCancel: a cancelled job stops within its batch, stays
// cancelled, and cancelling again answers it unchanged.
func TestReplayCancel(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	n := start(t, replay.Config{Batch: 5, Concurrency: 1})
	sk := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	src, dest, conn := n.route(t, "shop", sk.URL)
	seedFailed(t, n.srv.Store, n.pid, src, dest, conn, 50)
	j := n.create(t, map[string]any{"filter": map[string]any{"status": "failed"}})
	eventually(t, 20*time.Second, func() bool { return sk.count(`"seeded"`) == 1 }, func() string { return "no replay started" })

	var out struct {
		Replay job `json:"replay"`
	}
	n.api(t, http.StatusOK, "DELETE", fmt.Sprintf("/api/replays/%d", j.ID), nil).JSON(t, &out)
	if out.Replay.Status != "cancelled" || out.Replay.Counts.Queued != 0 {
		t.Fatalf("cancelled: %+v", out.Replay)
	}
	close(release)
	// The runner sees the cancel when its batch ends (or its lease is
	// renewed) and claims nothing more: wait until it is idle again.
	eventually(t, 20*time.Second, func() bool {
		return n.srv.Node.ReplayStats().Started == int64(sk.count(`"seeded"`))
	}, func() string { return "replays in flight did not finish" })
	if got := sk.count(`"seeded"`); got > 5 {
		t.Fatalf("%d replays after the cancel, want at most one batch (5)", got)
	}
	n.api(t, http.StatusOK, "DELETE", fmt.Sprintf("/api/replays/%d", j.ID), nil).JSON(t, &out)
	if out.Replay.Status != "cancelled" || out.Replay.Counts.Processed != 0 {
		t.Fatalf("after the batch: %+v, want cancelled, its batch not counted", out.Replay)
	}
}

// TestReplayResumesAfterRestart: a node stopped in the middle of a job
// frees it; another node on the same store goes on from the job's cursor
// and finishes it, every event replayed at least once.
func TestReplayResumesAfterRestart(t *testing.T) {
	t.Parallel()
	st, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hold := make(chan struct{})
	sk := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") == "" {
			return
		}
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	})
	rc := replay.Config{Batch: 10, Concurrency: 1}
	srv1, stop1, err := testserver.Launch(t.TempDir(), testserver.Options{Store: st, Replay: rc})
	if err != nil {
		t.Fatal(err)
	}
	n1 := &node{srv: srv1, pid: srv1.AdminAccount().ProjectID}
	src, dest, conn := n1.route(t, "shop", sk.URL)
	ids := seedFailed(t, st, n1.pid, src, dest, conn, 35)
	j := n1.create(t, map[string]any{"filter": map[string]any{"status": "failed"}})
	eventually(t, 30*time.Second, func() bool { return n1.job(t, j.ID).Counts.Processed >= 10 },
		func() string { return "the first batch did not finish" })
	// Hold the sink's answers once the first batch is through: a header
	// of the destination marks the requests to hold.
	n1.api(t, http.StatusOK, "PUT", fmt.Sprintf("/api/destinations/%d", dest), map[string]any{"headers": map[string]string{"X-Hold": "1"}})
	before := sk.count(`"seeded"`)
	eventually(t, 30*time.Second, func() bool { return sk.count(`"seeded"`) > before },
		func() string { return "no replay after the first batch" })
	if err := stop1(); err != nil {
		t.Fatal(err)
	}
	mid := n1.jobFrom(t, st, j.ID)
	if mid.Status == "done" || mid.Processed%10 != 0 || mid.LeaseOwner != "" {
		t.Fatalf("after the stop: %+v, want unfinished, whole batches, lease freed", mid)
	}
	close(hold)

	srv2, stop2, err := testserver.Launch(t.TempDir(), testserver.Options{Store: st, Replay: rc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop2() })
	n2 := &node{srv: srv2, pid: n1.pid}
	done := n2.awaitJob(t, j.ID, "done", 60*time.Second)
	// The batch cut short is not counted; those of its events whose replay
	// succeeded before the stop are failed no longer, so the resumed job
	// does not match them again.
	if p := done.Counts.Processed; p < 35-10 || p > 35 {
		t.Fatalf("counts %+v, want from 25 (all but one batch) to 35 processed", done.Counts)
	}
	got := replayAttempts(t, st, ids)
	for _, id := range ids {
		if got[id] < 1 {
			t.Errorf("event %d was never replayed", id)
		}
	}
}

// TestReplayBadInput: filter mistakes are 400s naming the field; another
// organization's job is a 404.
func TestReplayBadInput(t *testing.T) {
	t.Parallel()
	n := start(t, replay.Config{})
	src, _, _ := n.route(t, "shop", "http://127.0.0.1:9/x")
	_, _, otherConn := n.route(t, "other", "http://127.0.0.1:9/y")
	path := fmt.Sprintf("/api/projects/%d/replays", n.pid)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"filter": map[string]any{"status": "broken"}}, "filter.status"},
		{map[string]any{"filter": map[string]any{"source_id": 999}}, "filter.source_id"},
		{map[string]any{"filter": map[string]any{"connection_id": 999}}, "filter.connection_id"},
		{map[string]any{"filter": map[string]any{"destination_id": 999}}, "filter.destination_id"},
		{map[string]any{"filter": map[string]any{"start_time": "yesterday"}}, "filter.start_time"},
		{map[string]any{"filter": map[string]any{"start_time": "2026-02-01", "end_time": "2026-01-01"}}, "filter.start_time"},
		{map[string]any{"connection_id": 999}, "connection_id"},
		{map[string]any{"filter": map[string]any{"source_id": src.ID}, "connection_id": otherConn}, "connection_id"},
		{map[string]any{"filter": "failed"}, "filter"},
	} {
		resp := n.srv.Do(t, testserver.Request{Method: "POST", Path: path, Token: testserver.AdminToken, Body: tc.body})
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%v: %d %s, want 400 naming %s", tc.body, resp.Status, resp.Body, tc.field)
		}
	}
	j := n.create(t, map[string]any{"filter": map[string]any{"end_time": "2000-01-01"}})
	stranger := n.srv.NewAccount(t, "stranger@example.com", "Stranger")
	for _, method := range []string{"GET", "DELETE"} {
		resp := n.srv.Do(t, testserver.Request{Method: method, Path: fmt.Sprintf("/api/replays/%d", j.ID), Token: stranger.Token})
		if resp.Status != http.StatusNotFound {
			t.Errorf("%s another organization's job: %d, want 404", method, resp.Status)
		}
	}
}
