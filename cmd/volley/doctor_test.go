package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doctorRun runs `volley doctor` with args and returns its output and
// whether it found a failure.
func doctorRun(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"doctor", "--timeout", "10s"}, args...), &out, &out)
	return out.String(), err != nil
}

func TestDoctor(t *testing.T) {
	t.Setenv("VOLLEY_SECRET_KEY", "")
	t.Setenv("VOLLEY_PUBLIC_URL", "")
	t.Setenv("VOLLEY_EGRESS_ALLOW", "")
	os.Unsetenv("VOLLEY_EGRESS_ALLOW")
	t.Setenv("VOLLEY_DATABASE_URL", "")

	t.Run("fresh directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		out, failed := doctorRun(t, "--data-dir", dir)
		if failed {
			t.Fatalf("doctor failed on a fresh directory:\n%s", out)
		}
		for _, want := range []string{"does not exist yet", "no secret key yet", "no database at", "loopback only"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("doctor created the data directory: %v", err)
		}
	})

	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"users", "create", "--email", "d@example.com", "--name", "D", "--data-dir", dir}, &out, &out); err != nil {
		t.Fatalf("users create: %v\n%s", err, out.String())
	}

	t.Run("healthy store", func(t *testing.T) {
		out, failed := doctorRun(t, "--data-dir", dir)
		if failed {
			t.Fatalf("doctor failed:\n%s", out)
		}
		for _, want := range []string{"is writable", "free on the file system", "secret key: the key in", "store reachable",
			"schema is current", "opens the store's sealed secrets (1 checked)"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("another key", func(t *testing.T) {
		t.Setenv("VOLLEY_SECRET_KEY", strings.Repeat("cd", 32))
		out, failed := doctorRun(t, "--data-dir", dir)
		if !failed || !strings.Contains(out, "FAIL  the secret key does not open") || !strings.Contains(out, "fix: use the key") {
			t.Errorf("failed=%v:\n%s", failed, out)
		}
	})

	t.Run("malformed key", func(t *testing.T) {
		t.Setenv("VOLLEY_SECRET_KEY", "short")
		out, failed := doctorRun(t, "--data-dir", dir)
		if !failed || !strings.Contains(out, "FAIL  secret key: VOLLEY_SECRET_KEY") {
			t.Errorf("failed=%v:\n%s", failed, out)
		}
	})

	t.Run("key file readable by others", func(t *testing.T) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "secret.key"), []byte(strings.Repeat("ef", 32)), 0o644)
		out, _ := doctorRun(t, "--data-dir", d)
		if !strings.Contains(out, "warn  ") || !strings.Contains(out, "chmod 600") {
			t.Errorf("no warning about the key file's mode:\n%s", out)
		}
	})

	t.Run("wide egress", func(t *testing.T) {
		out, failed := doctorRun(t, "--data-dir", dir, "--egress-allow", "10.0.0.0/8,192.168.1.0/24")
		if failed || !strings.Contains(out, "warn  egress allows wide private ranges (10.0.0.0/8)") {
			t.Errorf("failed=%v:\n%s", failed, out)
		}
		out, failed = doctorRun(t, "--data-dir", dir, "--egress-allow", "not-a-cidr")
		if !failed || !strings.Contains(out, "FAIL  VOLLEY_EGRESS_ALLOW") {
			t.Errorf("failed=%v:\n%s", failed, out)
		}
	})

	t.Run("public URL", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
			}
		}))
		defer srv.Close()
		out, failed := doctorRun(t, "--data-dir", dir, "--public-url", srv.URL)
		if failed || !strings.Contains(out, "ok    "+srv.URL+"/healthz answers") {
			t.Errorf("reachable: failed=%v:\n%s", failed, out)
		}

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String()
		ln.Close()
		out, failed = doctorRun(t, "--data-dir", dir, "--public-url", closed)
		if !failed || !strings.Contains(out, "is not reachable from this machine") {
			t.Errorf("unreachable: failed=%v:\n%s", failed, out)
		}

		out, failed = doctorRun(t, "--data-dir", dir, "--public-url", "ftp://x")
		if !failed || !strings.Contains(out, "is not an http(s) URL") {
			t.Errorf("bad URL: failed=%v:\n%s", failed, out)
		}
	})

	t.Run("postgres without a key", func(t *testing.T) {
		out, failed := doctorRun(t, "--data-dir", dir, "--database", "postgres://127.0.0.1:1/nothing")
		if !failed || !strings.Contains(out, "VOLLEY_SECRET_KEY is not set") || !strings.Contains(out, "FAIL  PostgreSQL at") {
			t.Errorf("failed=%v:\n%s", failed, out)
		}
	})
}

// TestDoctorPostgres: doctor on a migrated PostgreSQL store with the key
// that sealed it.
func TestDoctorPostgres(t *testing.T) {
	dbURL := testDatabaseURL(t)
	u := withSearchPath(t, dbURL, freshSchema(t, dbURL))
	t.Setenv("VOLLEY_SECRET_KEY", clusterSecretKey)
	t.Setenv("VOLLEY_PUBLIC_URL", "")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"users", "create", "--email", "p@example.com", "--name", "P", "--database", u}, &out, &out); err != nil {
		t.Fatalf("users create: %v\n%s", err, out.String())
	}
	got, failed := doctorRun(t, "--database", u)
	if failed || !strings.Contains(got, "schema is current") || !strings.Contains(got, "opens the store's sealed secrets") {
		t.Errorf("failed=%v:\n%s", failed, got)
	}
}
