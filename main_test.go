package volley_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/testserver"
)

// srv is a real Volley server on 127.0.0.1 shared by the examples and the
// end-to-end SDK tests of this package.
var srv *testserver.Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "volley-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s, stop, err := testserver.Launch(dir, testserver.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test server:", err)
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop test server:", err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

var accounts atomic.Int64

// newAccount creates a fresh account on the test server, so each example and
// test starts from its own organization and default project.
func newAccount(name string) *tenant.NewAccount {
	n := accounts.Add(1)
	a, err := srv.Node.Tenant().CreateAccount(context.Background(), tenant.AccountParams{
		Email: fmt.Sprintf("user%d@example.com", n), Name: name, Password: "password-123",
	})
	if err != nil {
		panic(err)
	}
	return a
}

// apiToken stands in for "your-api-token" in the examples: the token of a
// fresh account named name.
func apiToken(name string) string { return newAccount(name).Token }

// baseURL is the test server's base URL.
func baseURL() string { return srv.URL }
