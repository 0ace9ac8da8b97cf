package delivery_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

func TestFanOut(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	release := make(chan struct{})
	sinks := []*sink{newSink(t, nil), newSink(t, nil), newSink(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-t.Context().Done():
		}
	})}
	src := e.source(t, "fanout")
	dests := make([]uint64, len(sinks))
	for i, s := range sinks {
		dests[i] = e.destination(t, fmt.Sprintf("dest-%d", i), s.URL, nil)
		e.connect(t, src.ID, dests[i], nil)
	}
	body := `{"fan":"out"}`
	uid := e.ingest(t, src.IngestionID, body)

	// Two destinations answered; the third is still thinking.
	for _, s := range sinks {
		s.awaitCount(t, 1, 5*time.Second)
	}
	var ev eventJSON
	eventually(t, 5*time.Second, func() bool {
		ev = e.event(t, uid)
		return len(ev.Attempts) == 2
	}, func() string {
		return fmt.Sprintf("%d attempts recorded, want the two answered ones", len(ev.Attempts))
	})
	if ev.Status != volley.EventPending {
		t.Errorf("with one delivery in flight: status %q, want pending", ev.Status)
	}

	close(release)
	ev = e.awaitStatus(t, uid, volley.EventProcessed)
	if len(ev.Attempts) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(ev.Attempts), ev.Attempts)
	}
	seenDest := map[uint64]bool{}
	for _, a := range ev.Attempts {
		if a.Status != volley.AttemptSuccess || a.Number != 1 {
			t.Errorf("attempt to destination %d: %s number %d", a.DestinationID, a.Status, a.Number)
		}
		seenDest[a.DestinationID] = true
	}
	if len(seenDest) != 3 {
		t.Errorf("attempts went to destinations %v, want all three", seenDest)
	}
	webhookIDs := map[string]bool{}
	for i, s := range sinks {
		reqs := s.requests()
		if len(reqs) != 1 {
			t.Fatalf("sink %d received %d requests, want 1", i, len(reqs))
		}
		r := reqs[0]
		if string(r.Body) != body || r.Header.Get("X-Volley-Event-Id") != uid {
			t.Errorf("sink %d: body %q event %q", i, r.Body, r.Header.Get("X-Volley-Event-Id"))
		}
		webhookIDs[r.Header.Get("Webhook-Id")] = true
		verifySigned(t, r, e.secret(t, dests[i]))
	}
	if len(webhookIDs) != 3 {
		t.Errorf("webhook-ids %v, want one per delivery", webhookIDs)
	}
}

func TestReplayFailedEvent(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	var code atomic.Int32
	code.Store(http.StatusGone)
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(code.Load())) })
	src, destID, _ := e.route(t, s.URL, nil, nil)
	uid := e.ingest(t, src.IngestionID, `{"replay":"me"}`)
	ev := e.awaitStatus(t, uid, volley.EventFailed)

	code.Store(http.StatusOK)
	var out struct {
		Success    bool          `json:"success"`
		Status     string        `json:"status"`
		StatusCode int           `json:"status_code"`
		AttemptID  uint64        `json:"attempt_id"`
		Message    string        `json:"message"`
		Attempts   []attemptJSON `json:"attempts"`
	}
	e.api(t, http.StatusOK, "POST", "/api/replay-event", map[string]any{"event_id": uid}).JSON(t, &out)
	if !out.Success || out.Status != volley.AttemptSuccess || out.StatusCode != 200 || len(out.Attempts) != 1 || out.Message == "" {
		t.Fatalf("replay answer: %+v", out)
	}
	if a := out.Attempts[0]; a.Trigger != volley.AttemptReplay || a.ID != out.AttemptID || a.DestinationID != destID {
		t.Errorf("replay attempt: %+v", a)
	}

	// The replay is synchronous: by the time it answered, it was recorded.
	ev = e.event(t, uid)
	if ev.Status != volley.EventProcessed {
		t.Errorf("event status after a successful replay: %q, want processed", ev.Status)
	}
	if len(ev.Attempts) != 2 || ev.Attempts[0].Trigger != volley.AttemptAuto || ev.Attempts[1].Trigger != volley.AttemptReplay ||
		ev.Attempts[1].StatusCode != 200 {
		t.Errorf("attempts: %+v, want the automatic 410 then the replayed 200", ev.Attempts)
	}
	if st := e.deliveryStates(t, ev.ID); len(st) != 1 || st[0] != volley.DeliverySuccess {
		t.Errorf("deliveries after the replay: %v, want one succeeded", st)
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("sink received %d requests, want 2", len(reqs))
	}
	if string(reqs[1].Body) != `{"replay":"me"}` || reqs[1].Header.Get("Webhook-Id") != reqs[0].Header.Get("Webhook-Id") {
		t.Errorf("replayed request: body %q webhook-id %q, want the original's", reqs[1].Body, reqs[1].Header.Get("Webhook-Id"))
	}
	verifySigned(t, reqs[1], e.secret(t, destID))
}

// TestGracefulStopAndRestart stops a node while a destination has attempts
// in flight and more queued: the attempts in flight finish and are
// recorded, and a new node over the same database delivers the rest, each
// exactly once. The destination holds its requests until the test has seen
// the node give its queue back, so what is in flight at the stop does not
// depend on the machine's speed.
func TestGracefulStopAndRestart(t *testing.T) {
	t.Parallel()
	const n = 20
	dir := t.TempDir()
	cfg := fastConfig()
	cfg.Concurrency = 4
	// The attempts in flight end only when the test releases them: with
	// fastConfig's 5 s timeout they ended by themselves on a loaded
	// machine before the stop had given the queue back, the node closed
	// its store, and the wait below read a closed database.
	cfg.Timeout = time.Minute
	opts := testserver.Options{Delivery: cfg}
	var answered atomic.Int32
	held := make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-held:
		case <-t.Context().Done():
		}
		answered.Add(1)
	})

	srv, stop, err := testserver.Launch(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	e := newEnv(t, srv, srv.AdminAccount().ProjectID)
	src, _, _ := e.route(t, s.URL, nil, nil)
	uids := e.ingestMany(t, src.IngestionID, n)
	eventIDs := make([]uint64, len(uids))
	for i, uid := range uids {
		eventIDs[i] = e.event(t, uid).ID
	}
	s.awaitCount(t, cfg.Concurrency, 30*time.Second)

	// No idle keep-alive connection of ours may hold up the HTTP server's
	// shutdown, which comes before the engine's.
	e.client.CloseIdleConnections()
	var stopErr error
	stopDone := make(chan struct{})
	go func() {
		stopErr = stop()
		close(stopDone)
	}()
	stopped = true
	t.Cleanup(func() { // if the test failed before the stop returned
		release()
		<-stopDone
	})
	// The stop has begun draining once every delivery not in flight is
	// back in the store, unleased: the leaser has stopped and the lane has
	// given its queue back, so nothing more can start. Only then are the
	// requests in flight answered.
	eventually(t, 50*time.Second, func() bool {
		back := 0
		for _, id := range eventIDs {
			ds, err := srv.Store.DeliveryListByEvent(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.State == volley.DeliveryPending && d.LeaseOwner == "" {
					back++
				}
			}
		}
		return back == n-cfg.Concurrency
	}, func() string { return "the stopping node did not give its queued deliveries back" })
	release()
	<-stopDone
	if stopErr != nil {
		t.Fatalf("stop: %v", stopErr)
	}
	sent := s.count()
	if got := int(answered.Load()); got != sent {
		t.Fatalf("stop returned with %d of %d requests unanswered: attempts in flight were cut off", sent-got, sent)
	}
	if sent != cfg.Concurrency {
		t.Fatalf("%d requests sent before the stop, want the %d in flight when it began", sent, cfg.Concurrency)
	}

	// Between the two runs: every answered attempt is recorded, the rest
	// is still pending.
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(dir, "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	atts, _, err := st.AttemptList(t.Context(), store.AttemptListParams{ProjectID: e.pid, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	pending, _, err := st.EventList(t.Context(), store.EventListParams{ProjectID: e.pid, Status: volley.EventPending, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if len(atts) != sent {
		t.Errorf("%d attempts recorded for %d answered requests", len(atts), sent)
	}
	for _, a := range atts {
		if a.Status != volley.AttemptSuccess {
			t.Errorf("attempt %d: %s (%s), want success", a.ID, a.Status, a.ErrorReason)
		}
	}
	if len(pending) != n-sent {
		t.Errorf("%d events pending after the stop, want %d", len(pending), n-sent)
	}

	srv2, stop2, err := testserver.Launch(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop2() })
	e2 := newEnv(t, srv2, e.pid)
	for _, uid := range uids {
		ev := e2.awaitStatus(t, uid, volley.EventProcessed)
		if len(ev.Attempts) != 1 {
			t.Errorf("event %s: %d attempts, want exactly 1: %+v", uid, len(ev.Attempts), ev.Attempts)
		}
	}
	reqs := s.requests()
	seen := map[string]int{}
	for _, r := range reqs {
		seen[r.Header.Get("Webhook-Id")]++
	}
	if len(reqs) != n || len(seen) != n {
		t.Errorf("the sink received %d requests for %d distinct deliveries, want %d each once", len(reqs), len(seen), n)
	}
}
