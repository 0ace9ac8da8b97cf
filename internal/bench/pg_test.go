package bench

import (
	"maps"
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

// TestDeferGINIndexes checks that the build's deferred indexes are gone
// during the build and come back with their definitions after it.
func TestDeferGINIndexes(t *testing.T) {
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
	schemaURL := strings.TrimPrefix(ls.env[0], "VOLLEY_DATABASE_URL=")
	conn, err := pgx.Connect(ctx, schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	indexes := func() map[string]string {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
			WHERE schemaname = current_schema() AND indexdef LIKE '% USING gin %'`)
		if err != nil {
			t.Fatal(err)
		}
		defs := map[string]string{}
		var name, def string
		if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error { defs[name] = def; return nil }); err != nil {
			t.Fatal(err)
		}
		return defs
	}
	before := indexes()
	if before["event_payloads_search"] == "" {
		t.Fatalf("no full-text index to defer among %v", before)
	}
	rebuild, err := ls.deferIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if during := indexes(); len(during) != 0 {
		t.Errorf("GIN indexes during the build: %v", during)
	}
	if err := rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if after := indexes(); !maps.Equal(after, before) {
		t.Errorf("GIN indexes after the build: %v, want %v", after, before)
	}
}
