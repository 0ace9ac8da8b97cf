package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/testserver"
)

// delays records the brute-force slow-downs of a server instead of waiting
// them.
type delays struct {
	mu sync.Mutex
	d  []time.Duration
}

func (d *delays) sleep(_ context.Context, v time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.d = append(d.d, v)
}

func (d *delays) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.d)
}

// startLimited starts a server with the API rate limit and the brute-force
// limits on, a standing clock, and 127.0.0.1 trusted as a proxy so that a
// test picks each request's client address with X-Forwarded-For.
func startLimited(t *testing.T, rate float64, guard limit.GuardConfig) (*testserver.Server, *clock, *delays) {
	t.Helper()
	clk, slept := newClock(t0), &delays{}
	guard.SleepFunc = slept.sleep
	proxies, err := limit.ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{NowFunc: clk.Now, APIRate: rate, BruteForce: &guard, Proxies: proxies})
	return srv, clk, slept
}

func from(addr, token string) map[string]string {
	h := map[string]string{"X-Forwarded-For": addr}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return h
}

func TestAPIRateLimitPerToken(t *testing.T) {
	t.Parallel()
	srv, clk, _ := startLimited(t, 5, limit.GuardConfig{}) // bursts of 10, one every 200ms
	other := srv.NewAccount(t, "other@example.com", "Other")
	for i := range 10 {
		resp := rawDo(t, srv, "GET", "/api/user", from("192.0.2.1", testserver.AdminToken), nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, resp.Status, resp.Body)
		}
		h := resp.Header
		if h.Get("RateLimit-Limit") != "10" || h.Get("RateLimit-Remaining") != strconv.Itoa(9-i) ||
			h.Get("RateLimit-Reset") != strconv.Itoa((i+5)/5) { // full again (i+1)×200ms later
			t.Fatalf("request %d: RateLimit headers %q %q %q", i+1, h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset"))
		}
	}
	resp := rawDo(t, srv, "GET", "/api/projects", from("192.0.2.1", testserver.AdminToken), nil)
	if resp.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		resp.Header.Get("RateLimit-Remaining") != "0" || resp.Header.Get("RateLimit-Reset") != "2" {
		t.Fatalf("11th request: %d %v %s", resp.Status, resp.Header, resp.Body)
	}
	var body struct{ Error, Message string }
	resp.JSON(t, &body)
	if body.Error != "rate limit exceeded" || body.Message == "" {
		t.Fatalf("429 body %s", resp.Body)
	}
	// The limit is the token's, not the address's: another token passes.
	if resp := rawDo(t, srv, "GET", "/api/user", from("192.0.2.1", other.Token), nil); resp.Status != http.StatusOK {
		t.Fatalf("another token: %d %s", resp.Status, resp.Body)
	}
	// 200ms refill one request; a second later, five.
	clk.Advance(200 * time.Millisecond)
	if resp := rawDo(t, srv, "GET", "/api/user", from("192.0.2.1", testserver.AdminToken), nil); resp.Status != http.StatusOK {
		t.Fatalf("after 200ms: %d %s", resp.Status, resp.Body)
	}
	if resp := rawDo(t, srv, "GET", "/api/user", from("192.0.2.1", testserver.AdminToken), nil); resp.Status != http.StatusTooManyRequests {
		t.Fatalf("second after 200ms: %d %s", resp.Status, resp.Body)
	}
	clk.Advance(time.Second)
	for i := range 5 {
		if resp := rawDo(t, srv, "GET", "/api/user", from("192.0.2.1", testserver.AdminToken), nil); resp.Status != http.StatusOK {
			t.Fatalf("refilled request %d: %d %s", i+1, resp.Status, resp.Body)
		}
	}
	// The refill is spent.
	if resp := rawDo(t, srv, "GET", "/api/user", from("192.0.2.1", testserver.AdminToken), nil); resp.Status != http.StatusTooManyRequests {
		t.Fatalf("after the refill: %d", resp.Status)
	}
}

func TestBadTokensSlowThenRefuseOneAddress(t *testing.T) {
	t.Parallel()
	srv, clk, slept := startLimited(t, 0, limit.GuardConfig{Free: 2, Block: 4, BlockFor: time.Minute})
	const attacker, neighbour = "203.0.113.7", "198.51.100.20"
	bad := "vk_" + "guessguessguessguessguessguessguess"
	for i := range 3 {
		if resp := rawDo(t, srv, "GET", "/api/user", from(attacker, bad), nil); resp.Status != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d %s", i+1, resp.Status, resp.Body)
		}
	}
	if n := slept.count(); n != 1 {
		t.Fatalf("%d failures delayed, want the third only", n)
	}
	resp := rawDo(t, srv, "GET", "/api/user", from(attacker, bad), nil)
	if resp.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("fourth bad token: %d %v %s", resp.Status, resp.Header, resp.Body)
	}
	var body struct{ Error, Message string }
	resp.JSON(t, &body)
	if body.Error != "too many failed attempts" {
		t.Fatalf("429 body %s", resp.Body)
	}
	// A request without a token guesses nothing: a plain 401.
	if resp := rawDo(t, srv, "GET", "/api/user", from(attacker, ""), nil); resp.Status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.Status)
	}
	// The real user's token works from the blocked address (tokens are too
	// long to guess; their owner is not locked out) and from anywhere else.
	for _, addr := range []string{attacker, neighbour} {
		if resp := rawDo(t, srv, "GET", "/api/user", from(addr, testserver.AdminToken), nil); resp.Status != http.StatusOK {
			t.Fatalf("valid token from %s: %d %s", addr, resp.Status, resp.Body)
		}
	}
	// Another address's bad token is a prompt 401.
	if resp := rawDo(t, srv, "GET", "/api/user", from(neighbour, bad), nil); resp.Status != http.StatusUnauthorized || slept.count() != 1 {
		t.Fatalf("neighbour's bad token: %d, %d delays", resp.Status, slept.count())
	}
	// The block ends.
	clk.Advance(time.Minute)
	if resp := rawDo(t, srv, "GET", "/api/user", from(attacker, bad), nil); resp.Status != http.StatusUnauthorized {
		t.Fatalf("bad token after the block: %d", resp.Status)
	}
}

func TestDeviceLoginFloodAndUnknownCodes(t *testing.T) {
	t.Parallel()
	srv, _, slept := startLimited(t, 0, limit.GuardConfig{Free: 3, Block: 5})
	const flooder = "203.0.113.8"
	for i := range 4 {
		if resp := rawDo(t, srv, "POST", "/api/auth/cli/start", from(flooder, ""), nil); resp.Status != http.StatusOK {
			t.Fatalf("start %d: %d %s", i+1, resp.Status, resp.Body)
		}
	}
	if resp := rawDo(t, srv, "GET", "/api/auth/cli/poll?device_code=dc_nope", from(flooder, ""), nil); resp.Status != http.StatusTooManyRequests ||
		resp.Header.Get("Retry-After") == "" {
		t.Fatalf("poll with an unknown code after 4 starts: %d %s", resp.Status, resp.Body)
	}
	if resp := rawDo(t, srv, "POST", "/api/auth/cli/start", from(flooder, ""), nil); resp.Status != http.StatusTooManyRequests {
		t.Fatalf("start from a blocked address: %d %s", resp.Status, resp.Body)
	}
	if n := slept.count(); n != 1 {
		t.Fatalf("%d delays, want 1 (the fourth start)", n)
	}
	// Another address logs in as usual.
	resp := rawDo(t, srv, "POST", "/api/auth/cli/start", from("198.51.100.21", ""), nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("start from another address: %d %s", resp.Status, resp.Body)
	}
	var start struct {
		DeviceCode string `json:"device_code"`
	}
	resp.JSON(t, &start)
	// A known device code is answered even from the blocked address.
	if resp := rawDo(t, srv, "GET", "/api/auth/cli/poll?device_code="+start.DeviceCode, from(flooder, ""), nil); resp.Status != http.StatusOK {
		t.Fatalf("poll with a live code from the blocked address: %d %s", resp.Status, resp.Body)
	}
}
