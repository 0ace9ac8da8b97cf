package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestMigrateSQLite runs `volley migrate down` and `up` on an embedded store
// with an account in it: the newest migration goes and comes back without
// losing the account, and the whole schema goes down to nothing and up again.
func TestMigrateSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VOLLEY_SECRET_KEY", "")
	cmd := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(context.Background(), append(args, "--data-dir", dir), &out, &bytes.Buffer{})
		return out.String(), err
	}
	migrate := func(action string) string {
		t.Helper()
		out, err := cmd("migrate", action)
		if err != nil {
			t.Fatalf("migrate %s: %v\n%s", action, err, out)
		}
		return out
	}
	if out, err := cmd("users", "create", "--email", "dev@example.com", "--name", "Dev"); err != nil {
		t.Fatalf("users create: %v\n%s", err, out)
	}
	status := migrate("status")
	n := strings.Count(status, "applied")
	if n < 3 || strings.Contains(status, "pending") {
		t.Fatalf("status of a migrated store:\n%s", status)
	}

	if out, want := migrate("down"), fmt.Sprintf("reverted %04d", n); !strings.Contains(out, want) {
		t.Fatalf("down: %s, want %s", out, want)
	}
	if out := migrate("status"); strings.Count(out, "pending") != 1 {
		t.Fatalf("status after one down:\n%s", out)
	}
	if out := migrate("up"); strings.Count(out, "applied") != 1 {
		t.Fatalf("up:\n%s", out)
	}
	if out, err := cmd("users", "create", "--email", "dev@example.com", "--name", "Dev"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("the account did not survive migrating down and up: %v\n%s", err, out)
	}

	for range n {
		if out := migrate("down"); !strings.Contains(out, "reverted") {
			t.Fatalf("down: %s", out)
		}
	}
	if out := migrate("down"); !strings.Contains(out, "no migration to revert") {
		t.Fatalf("down on an empty store: %s", out)
	}
	if out := migrate("up"); strings.Count(out, "applied") != n {
		t.Fatalf("up from nothing:\n%s", out)
	}
}
