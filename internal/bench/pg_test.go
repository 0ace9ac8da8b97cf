package bench

import (
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestBulkSession checks that the build's connections to PostgreSQL run
// with synchronous_commit and jit off, and that the nodes' keep the
// server's settings.
func TestBulkSession(t *testing.T) {
	t.Parallel()
	dbURL := os.Getenv("VOLLEY_TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("VOLLEY_TEST_DATABASE_URL is not set")
	}
	ctx := t.Context()
	ls, err := newListStore(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ls.cleanup)
	if ls.openBulk == nil || ls.finishBatch != pgFinishBatch {
		t.Errorf("PostgreSQL store: openBulk set %t, finishBatch %d; want set, %d", ls.openBulk != nil, ls.finishBatch, pgFinishBatch)
	}
	for _, env := range ls.env {
		if strings.Contains(env, "synchronous_commit") || strings.Contains(env, "jit") {
			t.Errorf("the nodes' environment carries the build's settings: %s", env)
		}
	}
	bulkURL, err := bulkSessionURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, bulkURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for name, want := range map[string]string{"synchronous_commit": "off", "jit": "off"} {
		var got string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}
