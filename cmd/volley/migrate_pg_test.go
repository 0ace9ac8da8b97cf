package main

import (
	"bytes"
	"context"
	"fmt"
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
	status := migrate("status")
	n := strings.Count(status, "applied")
	if n < 5 || strings.Contains(status, "pending") {
		t.Fatalf("status of a migrated schema:\n%s", status)
	}
	for v := n; v >= 1; v-- {
		if out, want := migrate("down"), fmt.Sprintf("reverted %04d", v); !strings.Contains(out, want) {
			t.Fatalf("down: %s, want %s", out, want)
		}
	}
	if out := migrate("down"); !strings.Contains(out, "no migration to revert") {
		t.Fatalf("down on an empty schema: %s", out)
	}
	if out := migrate("status"); strings.Count(out, "pending") != n {
		t.Fatalf("status after going down:\n%s", out)
	}
	if out := migrate("up"); strings.Count(out, "applied") != n {
		t.Fatalf("up:\n%s", out)
	}
	if out := migrate("up"); !strings.Contains(out, "up to date") {
		t.Fatalf("second up: %s", out)
	}
}
