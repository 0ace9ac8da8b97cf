package console_test

import (
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// TestBrowserSignIn drives the sign-in form in Chromium: the harness's
// own check, independent of the pages behind it.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	c := newChrome(t, srv.URL)
	c.open("/account")
	c.accessible()
	c.fill(`input[name=email]`, adminEmail)
	c.fill(`input[name=password]`, adminPassword)
	c.follow(`form button[type=submit]`)
	c.wantText("main", adminEmail)
	c.accessible()
}
