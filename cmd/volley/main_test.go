package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHealthy polls url's /healthz until it answers 200; the deadline only
// bounds the wait (a first start hashes the admin password, slow under
// -race on a loaded machine).
func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", url)
}

func TestServeBootstrapsAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	t.Setenv("VOLLEY_ADMIN_EMAIL", "ops@example.com")
	t.Setenv("VOLLEY_ADMIN_TOKEN", "")
	t.Setenv("VOLLEY_ADMIN_PASSWORD", "")
	t.Setenv("VOLLEY_SECRET_KEY", "")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir}, &stdout, &stderr) }()
	waitHealthy(t, "http://"+addr)

	out := stdout.String()
	if !strings.Contains(out, "ops@example.com") || !strings.Contains(out, "API token: vk_") || !strings.Contains(out, "Password:") ||
		!strings.Contains(out, "Volley is listening on http://"+addr+"\n") {
		t.Fatalf("first start did not print the admin credentials:\n%s", out)
	}
	tokenFile := filepath.Join(dir, "admin-token")
	st, err := os.Stat(tokenFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token: %v, mode %v", err, st.Mode())
	}
	tok, _ := os.ReadFile(tokenFile)
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/user", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/user with the admin token: %v %v", resp, err)
	}
	resp.Body.Close()

	cancel() // what SIGINT/SIGTERM do through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}

	// A second start keeps the same account and prints no secrets.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var stdout2 syncBuffer
	go func() { done <- run(ctx2, []string{"serve", "--addr", addr, "--data-dir", dir}, &stdout2, &stderr) }()
	waitHealthy(t, "http://"+addr)
	cancel2()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout2.String(), "API token") {
		t.Fatalf("restart printed credentials again:\n%s", stdout2.String())
	}
}

func TestServeHelpListsEnvironment(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "-h"}, &bytes.Buffer{}, &stderr)
	if exitCode(err) != 0 {
		t.Fatalf("serve -h: %v", err)
	}
	for _, want := range []string{"-addr", "VOLLEY_ADDR", "-data-dir", "VOLLEY_DATA_DIR", "-database", "VOLLEY_DATABASE_URL",
		"-public-url", "VOLLEY_PUBLIC_URL", "VOLLEY_ADMIN_EMAIL", "VOLLEY_ADMIN_TOKEN", "VOLLEY_ADMIN_PASSWORD", "VOLLEY_SECRET_KEY",
		"-api-rate", "VOLLEY_API_RATE", "-trusted-proxies", "VOLLEY_TRUSTED_PROXIES", "-tls-cert", "VOLLEY_TLS_CERT",
		"-tls-key", "VOLLEY_TLS_KEY", "-destination-ca-file", "VOLLEY_DESTINATION_CA_FILE",
		"-ingest-commit-target", "VOLLEY_INGEST_COMMIT_TARGET"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve -h does not mention %s", want)
		}
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--data-dir", dir, "--database", "mysql://x"}, "unsupported URL"},
		{[]string{"serve", "--data-dir", dir, "--egress-allow", "nonsense"}, "egress-allow"},
		{[]string{"serve", "--data-dir", dir, "--log-level", "loud"}, "log-level"},
		{[]string{"serve", "--data-dir", dir, "--api-rate", "-5"}, "api-rate"},
		{[]string{"serve", "--data-dir", dir, "--tls-cert", "cert.pem"}, "--tls-key go together"},
		{[]string{"serve", "--data-dir", dir, "--destination-ca-file", "/nonexistent/ca.pem"}, "destination-ca-file"},
		{[]string{"serve", "--data-dir", dir, "--destination-ca-file", "main_test.go"}, "no PEM certificate"},
		{[]string{"serve", "--data-dir", dir, "--api-rate", "NaN"}, "api-rate"},
		{[]string{"serve", "--data-dir", dir, "--ingest-commit-target", "-5ms"}, "ingest-commit-target"},
		{[]string{"serve", "--data-dir", dir, "--trusted-proxies", "10.0.0.0/8,proxy.local"}, "trusted-proxies"},
		{[]string{"bogus"}, "unknown command"},
	} {
		err := run(context.Background(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}

func TestUsersCreateAndMigrate(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VOLLEY_SECRET_KEY", "")
	var out bytes.Buffer
	err := run(context.Background(), []string{"users", "create", "--data-dir", dir, "--email", "dev@example.com", "--name", "Dev"}, &out, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "API token: vk_") || !strings.Contains(out.String(), "dev@example.com") {
		t.Fatalf("users create printed:\n%s", out.String())
	}
	err = run(context.Background(), []string{"users", "create", "--data-dir", dir, "--email", "dev@example.com", "--name", "Dev"}, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate email: %v", err)
	}

	out.Reset()
	if err := run(context.Background(), []string{"migrate", "status", "--data-dir", dir}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0001") || strings.Contains(out.String(), "pending") {
		t.Fatalf("migrate status:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "up", "--data-dir", dir}, &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate up: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"migrate", "sideways", "--data-dir", dir}, &out, &bytes.Buffer{}); exitCode(err) != 2 {
		t.Fatalf("migrate sideways: %v", err)
	}
}
