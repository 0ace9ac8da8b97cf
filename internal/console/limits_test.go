package console_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/testserver"
)

// TestSignInBruteForce checks the sign-in limit: wrong passwords from one
// address are answered late, then refused with 429 even for the right
// password, while the same account signs in from another address.
func TestSignInBruteForce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var delays []time.Duration
	proxies, err := limit.ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{Proxies: proxies, BruteForce: &limit.GuardConfig{
		Free: 2, Block: 4, BlockFor: 5 * time.Minute,
		SleepFunc: func(_ context.Context, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			delays = append(delays, d)
		},
	}})
	b := newBrowser(t, srv.URL)
	tok := b.get("/signin").csrf(t)
	post := func(addr, password string) *page {
		return b.postWith("/signin", url.Values{"csrf": {tok}, "email": {adminEmail}, "password": {password}, "next": {"/account"}},
			http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {srv.URL}, "X-Forwarded-For": {addr}})
	}
	const attacker, user = "203.0.113.40", "198.51.100.41"
	for range 3 {
		post(attacker, "guess").want(t, "a wrong password", http.StatusUnauthorized, "Wrong email or password.")
	}
	mu.Lock()
	if len(delays) != 1 || delays[0] != 250*time.Millisecond {
		t.Fatalf("delays %v, want one of 250ms (the third failure)", delays)
	}
	mu.Unlock()
	p := post(attacker, "guess")
	p.want(t, "the fourth wrong password", http.StatusTooManyRequests, "Too many failed sign-ins from your address. Try again in 5 minutes.")
	if p.Header.Get("Retry-After") != "300" {
		t.Fatalf("Retry-After %q, want 300", p.Header.Get("Retry-After"))
	}
	// The right password from the blocked address is refused too: a
	// correct guess must not show through the block.
	post(attacker, adminPassword).want(t, "the right password from the blocked address", http.StatusTooManyRequests)
	if b.cookie("volley_session") != "" {
		t.Fatal("a refused sign-in set a session")
	}
	// The real user, elsewhere, signs in.
	post(user, adminPassword).wantRedirect(t, "the right password from another address", "/account")
}
