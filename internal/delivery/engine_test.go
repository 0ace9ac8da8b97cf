package delivery_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/volley"
)

// verifySigned checks a request's Standard Webhooks headers against a
// destination's secret, as a receiver would.
func verifySigned(t *testing.T, r received, secret string) {
	t.Helper()
	v := signature.Verifier{Scheme: signature.StandardWebhooks, Secret: []byte(secret)}
	if err := v.Verify(r.Header, r.Body, time.Now()); err != nil {
		t.Errorf("webhook-signature %q does not verify: %v", r.Header.Get("Webhook-Signature"), err)
	}
}

// secret returns a destination's signing secret from the API.
func (e *env) secret(t *testing.T, destID uint64) string {
	t.Helper()
	var out struct {
		Secret string `json:"secret"`
	}
	e.api(t, http.StatusOK, "GET", fmt.Sprintf("/api/destinations/%d/secret", destID), nil).JSON(t, &out)
	if !strings.HasPrefix(out.Secret, "whsec_") {
		t.Fatalf("destination secret %q is not a whsec_ secret", out.Secret)
	}
	return out.Secret
}

func TestDeliverySuccess(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(25 * time.Millisecond) // a receiver that takes a moment: duration_ms is measured
		w.Header().Set("X-Sink", "yes")
		io.WriteString(w, `{"received":true}`)
	})
	src, destID, connID := e.route(t, s.URL+"/in?token=abc", nil, nil)
	body := "{\"id\": 1, \"note\": \"caf\u00e9 \U0001F680\"}\n"
	sent := http.Header{
		"Content-Type":   {"application/json; charset=utf-8"},
		"User-Agent":     {"Sender/1.0"},
		"X-Custom":       {"hello"},
		"X-Multi":        {"one", "two"},
		"Stripe-Version": {"2024-06-20"},
	}
	before := time.Now()
	uid := e.ingestRequest(t, http.MethodPut, src.IngestionID, "a=1&b=two%20words", sent, body)
	s.awaitCount(t, 1, 5*time.Second)
	ev := e.awaitStatus(t, uid, volley.EventProcessed)
	after := time.Now()

	got := s.requests()[0]
	if got.Method != http.MethodPut || got.Path != "/in" || got.Query != "token=abc&a=1&b=two%20words" {
		t.Errorf("request line: %s %s?%s, want PUT /in?token=abc&a=1&b=two%%20words", got.Method, got.Path, got.Query)
	}
	if string(got.Body) != body {
		t.Errorf("body %q, want %q", got.Body, body)
	}
	for k, vs := range sent {
		if !slices.Equal(got.Header[k], vs) {
			t.Errorf("%s: %q, want %q", k, got.Header[k], vs)
		}
	}
	want := map[string]string{
		"X-Volley-Event-Id":  uid,
		"X-Volley-Source-Id": strconv.FormatUint(src.ID, 10),
		"X-Volley-Attempt":   "1",
	}
	for k, v := range want {
		if got.Header.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, got.Header.Get(k), v)
		}
	}
	if id := got.Header.Get("Webhook-Id"); id == "" || id == uid || strings.Contains(id, ".") {
		t.Errorf("webhook-id %q: want a delivery id of its own without dots", id)
	}
	ts, err := strconv.ParseInt(got.Header.Get("Webhook-Timestamp"), 10, 64)
	if err != nil || ts < before.Unix() || ts > after.Unix() {
		t.Errorf("webhook-timestamp %q, want the send time (%d…%d)", got.Header.Get("Webhook-Timestamp"), before.Unix(), after.Unix())
	}
	verifySigned(t, got, e.secret(t, destID))

	if len(ev.Attempts) != 1 {
		t.Fatalf("%d attempts, want 1: %+v", len(ev.Attempts), ev.Attempts)
	}
	a := ev.Attempts[0]
	if a.Status != volley.AttemptSuccess || a.StatusCode != 200 || a.ErrorReason != "" || a.Number != 1 || a.Trigger != volley.AttemptAuto {
		t.Errorf("attempt: %+v, want success 200 number 1 auto", a)
	}
	if a.EventID != uid || a.ConnectionID != connID || a.DestinationID != destID {
		t.Errorf("attempt names event %s connection %d destination %d, want %s %d %d", a.EventID, a.ConnectionID, a.DestinationID, uid, connID, destID)
	}
	if a.DurationMS < 25 {
		t.Errorf("duration_ms %d, want at least the receiver's 25ms", a.DurationMS)
	}
	if a.Body == nil || *a.Body != `{"received":true}` || a.Headers["X-Sink"] != "yes" {
		t.Errorf("captured response: body %v headers %v", a.Body, a.Headers)
	}
	if a.CreatedAt.Before(before.Add(-time.Second)) || a.CreatedAt.After(after) {
		t.Errorf("created_at %v outside the test (%v…%v)", a.CreatedAt, before, after)
	}
	// The same attempt through the project's attempt list and
	// /api/requests/{id}.
	if list := e.attempts(t, "event_id="+uid); len(list) != 1 || list[0].ID != a.ID || list[0].Status != volley.AttemptSuccess {
		t.Errorf("attempt list: %+v, want attempt %d", list, a.ID)
	}
	var byID eventJSON
	e.api(t, http.StatusOK, "GET", fmt.Sprintf("/api/requests/%d", ev.ID), nil).JSON(t, &byID)
	if byID.EventID != uid || byID.Status != volley.EventProcessed || len(byID.Attempts) != 1 {
		t.Errorf("GET /api/requests/%d: %+v", ev.ID, byID)
	}
}

func TestDeliveryRetryThenSuccess(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	var calls atomic.Int32
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	src, destID, _ := e.route(t, s.URL, nil, nil)
	uid := e.ingest(t, src.IngestionID, `{"retry":true}`)
	ev := e.awaitStatus(t, uid, volley.EventProcessed)

	if len(ev.Attempts) != 2 {
		t.Fatalf("%d attempts, want 2: %+v", len(ev.Attempts), ev.Attempts)
	}
	first, second := ev.Attempts[0], ev.Attempts[1]
	if first.Number != 1 || first.Status != volley.AttemptFailed || first.StatusCode != 502 || first.ErrorReason != "HTTP 502" {
		t.Errorf("first attempt: %+v", first)
	}
	if second.Number != 2 || second.Status != volley.AttemptSuccess || second.StatusCode != 200 {
		t.Errorf("second attempt: %+v", second)
	}
	if first.DeliveryID != second.DeliveryID {
		t.Errorf("attempts of deliveries %d and %d, want one delivery", first.DeliveryID, second.DeliveryID)
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("sink received %d requests, want 2", len(reqs))
	}
	if a, b := reqs[0].Header.Get("Webhook-Id"), reqs[1].Header.Get("Webhook-Id"); a == "" || a != b {
		t.Errorf("webhook-id %q then %q, want the same on the retry", a, b)
	}
	for i, r := range reqs {
		if r.Header.Get("X-Volley-Attempt") != strconv.Itoa(i+1) {
			t.Errorf("request %d: X-Volley-Attempt %q", i+1, r.Header.Get("X-Volley-Attempt"))
		}
	}
	secret := e.secret(t, destID)
	verifySigned(t, reqs[0], secret)
	verifySigned(t, reqs[1], secret)
}

// awaitFailed waits until an event has failed, and returns it.
func (e *env) awaitFailed(t *testing.T, uid string) eventJSON {
	t.Helper()
	return e.awaitStatus(t, uid, volley.EventFailed)
}

// onlyAttempt returns the single attempt of an event.
func onlyAttempt(t *testing.T, ev eventJSON) attemptJSON {
	t.Helper()
	if len(ev.Attempts) != 1 {
		t.Fatalf("%d attempts, want 1: %+v", len(ev.Attempts), ev.Attempts)
	}
	return ev.Attempts[0]
}

func TestDeliveryTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) { hang(t, r) })
	src, _, _ := e.route(t, s.URL, map[string]any{"timeout_ms": 1000}, map[string]any{"max_retries": 0})
	uid := e.ingest(t, src.IngestionID, `{}`)
	a := onlyAttempt(t, e.awaitFailed(t, uid))
	if a.Status != volley.AttemptFailed || a.StatusCode != 0 || a.ErrorReason != "timeout after 1s" {
		t.Errorf("attempt: status %s code %d reason %q, want failed 0 %q", a.Status, a.StatusCode, a.ErrorReason, "timeout after 1s")
	}
	// The duration spans what the timeout spans, so it cannot be shorter.
	// No upper bound: how late a loaded machine notices is not ours to
	// promise.
	if a.DurationMS < 1000 {
		t.Errorf("duration_ms %d, want at least the 1s timeout", a.DurationMS)
	}
}

func TestDeliveryConnectionRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	src, _, _ := e.route(t, closedURL(t), nil, map[string]any{"max_retries": 0})
	uid := e.ingest(t, src.IngestionID, `{}`)
	a := onlyAttempt(t, e.awaitFailed(t, uid))
	if a.Status != volley.AttemptFailed || a.StatusCode != 0 || a.ErrorReason != "connection refused" {
		t.Errorf("attempt: status %s code %d reason %q, want failed 0 %q", a.Status, a.StatusCode, a.ErrorReason, "connection refused")
	}
}

func TestDeliveryGoneStopsRetrying(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	src, _, _ := e.route(t, s.URL, nil, map[string]any{"max_retries": 5})
	uid := e.ingest(t, src.IngestionID, `{}`)
	ev := e.awaitFailed(t, uid)
	a := onlyAttempt(t, ev)
	if a.StatusCode != 410 || a.ErrorReason != "HTTP 410" {
		t.Errorf("attempt: code %d reason %q, want 410 %q", a.StatusCode, a.ErrorReason, "HTTP 410")
	}
	// The delivery is final, so no retry can follow.
	ds, err := e.srv.Store.DeliveryListByEvent(t.Context(), ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != volley.DeliveryFailed || ds[0].Attempts != 1 {
		t.Fatalf("deliveries: %+v, want one failed after 1 attempt", ds)
	}
	if n := s.count(); n != 1 {
		t.Errorf("sink received %d requests, want 1", n)
	}
}

func TestDeliveryRetryAfter(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	var calls atomic.Int32
	var answered atomic.Pointer[time.Time] // when the sink answered 429
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			now := time.Now() // before the engine can have the answer
			answered.Store(&now)
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	src, _, _ := e.route(t, s.URL, nil, nil)
	uid := e.ingest(t, src.IngestionID, `{}`)
	ev := e.awaitStatus(t, uid, volley.EventProcessed)
	if len(ev.Attempts) != 2 {
		t.Fatalf("%d attempts, want 2: %+v", len(ev.Attempts), ev.Attempts)
	}
	if ev.Attempts[0].StatusCode != 429 || ev.Attempts[1].StatusCode != 200 {
		t.Errorf("status codes %d then %d, want 429 then 200", ev.Attempts[0].StatusCode, ev.Attempts[1].StatusCode)
	}
	// The schedule says 50ms; Retry-After says 1s, and wins. Only lower
	// bounds: how much later a loaded machine gets to the retry is not
	// the engine's to promise. The waits are measured from points that
	// come before what the engine waits from (the first attempt's start,
	// the sink's answer), so they cannot come out short; a millisecond is
	// allowed for the store's microseconds and a slewed wall clock.
	gap := ev.Attempts[1].CreatedAt.Sub(ev.Attempts[0].CreatedAt)
	if gap < time.Second-time.Millisecond {
		t.Errorf("retry started %v after the first attempt, want at least Retry-After's 1s", gap)
	}
	reqs := s.requests()
	if d := reqs[1].At.Sub(*answered.Load()); d < time.Second-time.Millisecond {
		t.Errorf("the retry reached the sink %v after it answered 429, want at least 1s", d)
	}
}

func TestDeliveryRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	elsewhere := newSink(t, nil)
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/moved", http.StatusFound)
	})
	src, _, _ := e.route(t, s.URL, nil, map[string]any{"max_retries": 0})
	uid := e.ingest(t, src.IngestionID, `{}`)
	a := onlyAttempt(t, e.awaitFailed(t, uid))
	if a.StatusCode != 302 || !strings.Contains(a.ErrorReason, "redirect") || !strings.Contains(a.ErrorReason, elsewhere.URL+"/moved") {
		t.Errorf("attempt: code %d reason %q, want 302 and a reason naming the redirect and its target", a.StatusCode, a.ErrorReason)
	}
	if n := elsewhere.count(); n != 0 {
		t.Errorf("the redirect target received %d requests, want none", n)
	}
}

func TestDeliveryMaxRetriesExhausted(t *testing.T) {
	t.Parallel()
	e := setup(t, fastConfig())
	s := newSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	src, _, _ := e.route(t, s.URL, nil, map[string]any{"max_retries": 2})
	uid := e.ingest(t, src.IngestionID, `{}`)
	ev := e.awaitFailed(t, uid)
	if len(ev.Attempts) != 3 {
		t.Fatalf("%d attempts, want 3 (1 + max_retries 2): %+v", len(ev.Attempts), ev.Attempts)
	}
	for i, a := range ev.Attempts {
		if a.Number != i+1 || a.Status != volley.AttemptFailed || a.StatusCode != 500 || a.ErrorReason != "HTTP 500" {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	if n := s.count(); n != 3 {
		t.Errorf("sink received %d requests, want 3", n)
	}
}
