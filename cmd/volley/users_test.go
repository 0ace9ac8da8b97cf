package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestUsersBesideRunningServer: `volley users create|list|reset-password`
// work while `volley serve` runs on the same store, and the server sees the
// result at once (the new person signs in).
func TestUsersBesideRunningServer(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("VOLLEY_SECRET_KEY", "")
		usersBesideServer(t, []string{"--data-dir", dir})
	})
	t.Run("postgres", func(t *testing.T) {
		dbURL := testDatabaseURL(t)
		u := withSearchPath(t, dbURL, freshSchema(t, dbURL))
		t.Setenv("VOLLEY_SECRET_KEY", clusterSecretKey)
		usersBesideServer(t, []string{"--data-dir", t.TempDir(), "--database", u})
	})
}

func usersBesideServer(t *testing.T, storeArgs []string) {
	t.Setenv("VOLLEY_ADMIN_TOKEN", "")
	t.Setenv("VOLLEY_ADMIN_PASSWORD", "")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var serverOut, serverErr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr, "--log-level", "warn"}, storeArgs...), &serverOut, &serverErr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, serverErr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	base := "http://" + addr
	waitHealthy(t, base)

	users := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(context.Background(), append(append([]string{"users"}, args...), storeArgs...), &out, io.Discard)
		return out.String(), err
	}
	out, err := users("create", "--email", "dev@example.com", "--name", "Dev", "--password", "first password")
	if err != nil || !strings.Contains(out, "dev@example.com") {
		t.Fatalf("users create beside a running server: %v\n%s", err, out)
	}
	if _, err := users("create", "--email", "dev@example.com", "--name", "Dev"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("users create twice: %v", err)
	}
	out, err = users("list")
	if err != nil || !strings.Contains(out, "admin@localhost") || !strings.Contains(out, "dev@example.com") {
		t.Fatalf("users list: %v\n%s", err, out)
	}

	// The server takes the new account at once.
	laptop := signInBrowser(t, base, "dev@example.com", "first password", http.StatusSeeOther)

	out, err = users("reset-password", "--email", "dev@example.com")
	generated := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(out)
	if err != nil || generated == nil {
		t.Fatalf("users reset-password: %v\n%s", err, out)
	}
	if _, err := users("reset-password", "--email", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("reset of an unknown email: %v", err)
	}
	// The reset signed the laptop out, the old password is refused and the
	// new one works.
	resp, err := laptop.Get(base + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the account page after a reset: %d, want a redirect to sign in", resp.StatusCode)
	}
	signInBrowser(t, base, "dev@example.com", "first password", http.StatusUnauthorized)
	signInBrowser(t, base, "dev@example.com", generated[1], http.StatusSeeOther)
}

// signInBrowser signs in through the sign-in form and checks the status of
// the answer; it returns the browser.
func signInBrowser(t *testing.T, base, email, password string, want int) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", page)
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("sign in as %s: %d, want %d", email, resp.StatusCode, want)
	}
	return c
}
