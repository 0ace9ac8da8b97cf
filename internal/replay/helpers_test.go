package replay_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// The helpers below drive real nodes through their API, seed failed
// traffic straight into their store (ten thousand events through HTTP
// would take most of a test's time), and record what reaches a sink.

// node is a running node and its admin's default project.
type node struct {
	srv *testserver.Server
	pid uint64
}

func (n *node) api(t testing.TB, want int, method, path string, body any) *testserver.Response {
	t.Helper()
	resp := n.srv.Do(t, testserver.Request{Method: method, Path: path, Token: testserver.AdminToken, Body: body})
	if resp.Status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.Status, want, resp.Body)
	}
	return resp
}

type created struct {
	ID          uint64 `json:"id"`
	IngestionID string `json:"ingestion_id"`
}

// route creates a source, a destination for url and a connection between
// them (no retries), and returns the three.
func (n *node) route(t testing.TB, name, url string) (src created, destID, connID uint64) {
	t.Helper()
	n.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", n.pid), map[string]any{"name": name}).JSON(t, &src)
	var d, c created
	n.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/destinations", n.pid),
		map[string]any{"name": name, "url": url}).JSON(t, &d)
	n.api(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/connections", n.pid),
		map[string]any{"source_id": src.ID, "destination_id": d.ID, "max_retries": 0}).JSON(t, &c)
	return src, d.ID, c.ID
}

// job is a replay job as the API shows it.
type job struct {
	ID     uint64 `json:"id"`
	Status string `json:"status"`
	Counts struct {
		Matched, Queued, Processed, Done, Failed, Skipped int64
	} `json:"counts"`
	CountIsEstimate bool   `json:"count_is_estimate"`
	Error           string `json:"error"`
}

func (n *node) create(t testing.TB, body map[string]any) job {
	t.Helper()
	var out struct {
		Replay job `json:"replay"`
	}
	n.api(t, http.StatusAccepted, "POST", fmt.Sprintf("/api/projects/%d/replays", n.pid), body).JSON(t, &out)
	return out.Replay
}

func (n *node) job(t testing.TB, id uint64) job {
	t.Helper()
	var out struct {
		Replay job `json:"replay"`
	}
	n.api(t, http.StatusOK, "GET", fmt.Sprintf("/api/replays/%d", id), nil).JSON(t, &out)
	return out.Replay
}

// awaitJob waits until job id has status want.
func (n *node) awaitJob(t testing.TB, id uint64, want string, within time.Duration) job {
	t.Helper()
	var j job
	eventually(t, within, func() bool { j = n.job(t, id); return j.Status == want },
		func() string { return fmt.Sprintf("job %d is %+v, want %s", id, j, want) })
	return j
}

// seedFailed stores n events of src, each routed to connID with one
// failed attempt, created before now, straight through the store; it
// returns their ids, oldest first.
func seedFailed(t testing.TB, st store.Store, pid uint64, src created, destID, connID uint64, n int) []uint64 {
	t.Helper()
	ctx := context.Background()
	base := time.Now().UTC().Add(-time.Hour)
	ids := make([]uint64, 0, n)
	for len(ids) < n {
		batch := make([]store.NewEvent, 0, min(500, n-len(ids)))
		for i := len(ids); i < n && len(batch) < cap(batch); i++ {
			at := base.Add(time.Duration(i) * time.Microsecond)
			uid, err := volley.NewEventID(rand.Reader, at)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, store.NewEvent{
				Event: volley.Event{UID: uid, ProjectID: pid, SourceID: src.ID, Method: http.MethodPost,
					Headers: http.Header{"Content-Type": {"application/json"}}, Body: fmt.Appendf(nil, `{"seeded":%d}`, i), CreatedAt: at},
				Deliveries: []volley.Delivery{{ConnectionID: connID, DestinationID: destID, State: volley.DeliveryPending,
					NextAttemptAt: at.Add(24 * time.Hour), LeaseOwner: "seed", LeaseToken: 1}},
			})
		}
		res, err := st.EventInsert(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		outcomes := make([]store.Outcome, len(res))
		for i, r := range res {
			ev := batch[i].Event
			outcomes[i] = store.Outcome{DeliveryID: r.DeliveryIDs[0], LeaseToken: 1, EventID: r.ID, State: volley.DeliveryFailed,
				Now: ev.CreatedAt, Attempt: &volley.Attempt{DeliveryID: r.DeliveryIDs[0], EventID: r.ID, EventUID: r.UID,
					ProjectID: pid, SourceID: src.ID, ConnectionID: connID, DestinationID: destID, Number: 1,
					Trigger: volley.AttemptAuto, Status: volley.AttemptFailed, StatusCode: 500, ErrorReason: "HTTP 500",
					CreatedAt: ev.CreatedAt}}
			ids = append(ids, r.ID)
		}
		if err := st.DeliveryFinish(ctx, outcomes); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// replayAttempts returns how many successful replay attempts each event
// has, by event id.
func replayAttempts(t testing.TB, st store.Store, ids []uint64) map[uint64]int {
	t.Helper()
	out := map[uint64]int{}
	for _, id := range ids {
		as, err := st.AttemptListByEvent(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Trigger == volley.AttemptReplay && a.Status == volley.AttemptSuccess {
				out[id]++
			}
		}
	}
	return out
}

// sink is a destination that records the body of every request and
// answers with h (200 when nil).
type sink struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newSink(t testing.TB, h http.HandlerFunc) *sink {
	t.Helper()
	s := &sink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// count returns how many requests had a body containing substr.
func (s *sink) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bodies {
		if strings.Contains(b, substr) {
			n++
		}
	}
	return n
}

// ingest sends a webhook to a source and returns its event id.
func ingest(t testing.TB, baseURL, ingestionID, body string) string {
	t.Helper()
	resp, err := http.Post(baseURL+"/hook/"+ingestionID, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		EventID string `json:"event_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: status %d, %v", resp.StatusCode, err)
	}
	return out.EventID
}

// eventually calls cond until it holds, failing the test with msg() after
// within (a bound on a loaded machine, not a timing the test relies on).
func eventually(t testing.TB, within time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, msg())
		}
		<-tick.C
	}
}

// jobFrom reads a job straight from the store, lease included.
func (n *node) jobFrom(t testing.TB, st store.Store, id uint64) *volley.Replay {
	t.Helper()
	acct := n.srv.AdminAccount()
	r, err := st.ReplayGet(context.Background(), acct.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
