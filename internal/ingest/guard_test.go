package ingest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/testserver"
)

// TestFailedAuthenticationsSlowThenRefuse checks the brute-force limit of
// ingestion: one address's bad credentials are delayed, then refused with
// 429, while a delayed failure holds up no valid request, and valid
// requests from that address and every other one are accepted throughout.
func TestFailedAuthenticationsSlowThenRefuse(t *testing.T) {
	t.Parallel()
	entered, release := make(chan time.Duration), make(chan struct{})
	proxies, err := limit.ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	n := setupWith(t, testserver.Options{Proxies: proxies, BruteForce: &limit.GuardConfig{
		Free: 1, Block: 3, BlockFor: 10 * time.Minute,
		// The slow-down waits for the test, which meanwhile sends valid
		// requests: they must not wait behind it.
		SleepFunc: func(ctx context.Context, d time.Duration) {
			entered <- d
			select {
			case <-release:
			case <-ctx.Done():
			}
		},
	}})
	src, sink := n.routed(t, map[string]any{"auth_type": "api_key", "auth_key": "k-right"})
	send := func(addr, key string) hookResponse {
		return n.post(t, src.IngestionID, []byte(`{"n":1}`), "X-Forwarded-For", addr, "X-API-Key", key)
	}
	const attacker, provider = "203.0.113.9", "198.51.100.30"

	refused(t, send(attacker, "k-wrong"), http.StatusUnauthorized) // free
	held := make(chan hookResponse, 1)
	go func() {
		r, err := tryHook(n.srv.URL, src.IngestionID, hookRequest{Header: http.Header{
			"X-Forwarded-For": {attacker}, "X-Api-Key": {"k-wrong"}}})
		if err != nil {
			t.Error(err)
		}
		held <- r
	}()
	if d := <-entered; d != 250*time.Millisecond {
		t.Fatalf("first slow-down %v, want the default 250ms", d)
	}
	// While that failure is held, valid webhooks from both addresses are
	// accepted.
	first := accepted(t, send(attacker, "k-right"))
	accepted(t, send(provider, "k-right"))
	close(release)
	if r := <-held; r.Status != http.StatusUnauthorized {
		t.Fatalf("delayed failure: %d %s", r.Status, r.Body)
	}

	r := send(attacker, "k-wrong")
	refused(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "600" {
		t.Fatalf("Retry-After %q, want 600", r.Header.Get("Retry-After"))
	}
	// Successes are never refused nor delayed: providers share addresses.
	accepted(t, send(attacker, "k-right"))
	// Another address's failure is a prompt 401.
	refused(t, send(provider, "k-wrong"), http.StatusUnauthorized)
	sink.waitDelivered(t, first.EventID)
}
