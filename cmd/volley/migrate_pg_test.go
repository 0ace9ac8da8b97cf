package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMigratePostgres runs `volley migrate` on PostgreSQL: down to nothing,
// status, and up again.
func TestMigratePostgres(t *testing.T) {
	dbURL := testDatabaseURL(t)
	u := withSearchPath(t, dbURL, freshSchema(t, dbURL)) // created and migrated
	migrate := func(action string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate", action, "--database", u}, &out, &bytes.Buffer{}); err != nil {
			t.Fatalf("migrate %s: %v", action, err)
		}
		return out.String()
	}
	if out := migrate("status"); strings.Contains(out, "pending") || !strings.Contains(out, "0004") {
		t.Fatalf("status of a migrated schema:\n%s", out)
	}
	for _, v := range []string{"0004", "0003", "0002", "0001"} {
		if out := migrate("down"); !strings.Contains(out, "reverted "+v) {
			t.Fatalf("down: %s, want reverted %s", out, v)
		}
	}
	if out := migrate("down"); !strings.Contains(out, "no migration to revert") {
		t.Fatalf("down on an empty schema: %s", out)
	}
	if out := migrate("status"); strings.Count(out, "pending") != 4 {
		t.Fatalf("status after going down:\n%s", out)
	}
	if out := migrate("up"); strings.Count(out, "applied") != 4 {
		t.Fatalf("up:\n%s", out)
	}
	if out := migrate("up"); !strings.Contains(out, "up to date") {
		t.Fatalf("second up: %s", out)
	}
}
