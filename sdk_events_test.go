package volley_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

// sink is a destination on 127.0.0.1 that records what it receives and
// answers with status.
type sink struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	status int
}

func newSink(t *testing.T, status int) *sink {
	s := &sink{status: status}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		code := s.status
		s.mu.Unlock()
		w.WriteHeader(code)
		io.WriteString(w, "thanks")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

func (s *sink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSDKEventsAttemptsAndReplay(t *testing.T) {
	t.Parallel()
	acct := newAccount("Event Watcher")
	c := volley.NewClient(acct.Token, volley.WithBaseURL(baseURL()))
	pid := acct.Project.ID
	good, gone := newSink(t, http.StatusOK), newSink(t, http.StatusGone)

	src, err := c.CreateSource(pid, volley.CreateSourceRequest{Name: "Orders"})
	if err != nil {
		t.Fatal(err)
	}
	d1, err := c.CreateDestination(pid, volley.CreateDestinationRequest{Name: "good", URL: good.URL})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := c.CreateDestination(pid, volley.CreateDestinationRequest{Name: "gone", URL: gone.URL})
	if err != nil {
		t.Fatal(err)
	}
	c1, err := c.CreateConnection(pid, volley.CreateConnectionRequest{SourceID: src.ID, DestinationID: d1.ID, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := c.CreateConnection(pid, volley.CreateConnectionRequest{SourceID: src.ID, DestinationID: d2.ID, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}

	// SendWebhook needs exactly 202 and returns the event id.
	eventID, err := c.SendWebhook(src.IngestionID, map[string]any{"event": "order.created", "id": 42})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(eventID, "evt_") || len(eventID) != 26 {
		t.Fatalf("SendWebhook = %q", eventID)
	}
	if _, err := c.SendWebhook("src_doesnotexist", map[string]any{}); err == nil {
		t.Fatal("SendWebhook to an unknown source succeeded")
	} else {
		wantStatus(t, err, http.StatusNotFound)
	}

	// The 410 destination fails at once, so the event ends failed.
	var events *volley.ListEventsResponse
	eventually(t, "the event to be failed", func() bool {
		events, err = c.ListEvents(pid, &volley.ListEventsOptions{Status: "failed"})
		return err == nil && len(events.Requests) == 1
	})
	ev := events.Requests[0]
	if ev.EventID != eventID || ev.SourceID != src.ID || ev.ProjectID != pid || ev.Status != "failed" ||
		ev.RawBody != `{"event":"order.created","id":42}` || ev.Headers["Content-Type"] != "application/json" || ev.ID == 0 {
		t.Fatalf("listed event = %+v", ev)
	}
	recent(t, "event created_at", ev.CreatedAt)
	if events.Total != 1 || events.Limit != 50 || events.Offset != 0 {
		t.Fatalf("paging = %+v", events.PaginatedResponse)
	}
	limit := 1
	if byID, err := c.ListEvents(pid, &volley.ListEventsOptions{Search: eventID, SourceID: &src.ID, ConnectionID: &c1.ID, Limit: &limit}); err != nil || len(byID.Requests) != 1 {
		t.Fatalf("search by event id = %+v, %v", byID, err)
	}
	start, end := ev.CreatedAt.Add(-time.Minute).In(time.FixedZone("IST", 5*3600+1800)), ev.CreatedAt.Add(time.Minute)
	if inWindow, err := c.ListEvents(pid, &volley.ListEventsOptions{StartTime: &start, EndTime: &end, DestinationID: &d2.ID}); err != nil || inWindow.Total != 1 {
		t.Fatalf("time window = %+v, %v", inWindow, err)
	}
	if none, err := c.ListEvents(pid, &volley.ListEventsOptions{Status: "processed"}); err != nil || none.Total != 0 {
		t.Fatalf("processed = %+v, %v", none, err)
	}

	full, err := c.GetEvent(ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if full.EventID != eventID || len(full.DeliveryAttempts) != 2 {
		t.Fatalf("GetEvent = %+v", full)
	}
	byConn := map[uint64]volley.DeliveryAttempt{}
	for _, a := range full.DeliveryAttempts {
		byConn[a.ConnectionID] = a
	}
	if a := byConn[c1.ID]; a.Status != "success" || a.StatusCode != 200 || a.EventID != eventID || a.ErrorReason != "" || a.ID == 0 {
		t.Fatalf("attempt to good = %+v", a)
	}
	if a := byConn[c2.ID]; a.Status != "failed" || a.StatusCode != 410 || a.ErrorReason != "HTTP 410" {
		t.Fatalf("attempt to gone = %+v", a)
	}
	_, err = c.GetEvent(999999999)
	wantStatus(t, err, http.StatusNotFound)

	attempts, err := c.ListDeliveryAttempts(pid, &volley.ListDeliveryAttemptsOptions{EventID: eventID, Status: "failed", Sort: "time"})
	if err != nil || attempts.Total != 1 || len(attempts.Attempts) != 1 || attempts.Attempts[0].ConnectionID != c2.ID {
		t.Fatalf("ListDeliveryAttempts(failed) = %+v, %v", attempts, err)
	}
	all, err := c.ListDeliveryAttempts(pid, &volley.ListDeliveryAttemptsOptions{DestinationID: &d1.ID, ConnectionID: &c1.ID, SourceID: &src.ID})
	if err != nil || all.Total != 1 || all.Attempts[0].Status != "success" {
		t.Fatalf("ListDeliveryAttempts(good) = %+v, %v", all, err)
	}

	// Replay the failed delivery once the destination is fixed.
	gone.setStatus(http.StatusOK)
	res, err := c.ReplayEvent(volley.ReplayEventRequest{EventID: eventID, ConnectionID: &c2.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success || res.Status != "success" || res.StatusCode != 200 || res.AttemptID == 0 || res.ErrorReason != "" {
		t.Fatalf("ReplayEvent = %+v", res)
	}
	if got, err := c.GetEvent(ev.ID); err != nil || got.Status != "processed" || len(got.DeliveryAttempts) != 3 {
		t.Fatalf("after replay = %+v, %v", got, err)
	}
	if gone.received() != 2 || good.received() != 1 {
		t.Fatalf("sinks received %d and %d", gone.received(), good.received())
	}
	// A replay to a failing destination answers 200 with success false.
	good.setStatus(http.StatusInternalServerError)
	res, err = c.ReplayEvent(volley.ReplayEventRequest{EventID: eventID, DestinationID: &d1.ID})
	if err != nil || res.Success || res.StatusCode != 500 || res.ErrorReason != "HTTP 500" {
		t.Fatalf("failing replay = %+v, %v", res, err)
	}
	_, err = c.ReplayEvent(volley.ReplayEventRequest{EventID: "evt_unknown"})
	wantStatus(t, err, http.StatusNotFound)

	// Connection metrics.
	conn, err := c.GetConnection(c2.ID)
	if err != nil || conn.Metrics == nil || conn.Metrics.EventsRouted != 1 || conn.Metrics.Delivered != 1 || conn.Metrics.SuccessRate != 1 || conn.Metrics.LastDeliveryAt == nil {
		t.Fatalf("metrics = %+v, %v", conn.Metrics, err)
	}
}
