package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/testserver"
)

// pgSchema returns the test database and a new schema name, or skips the
// test without a database. The schema is dropped when the test ends, after
// every node started later has stopped (cleanups run last in, first out).
func pgSchema(t *testing.T) (dbURL, schema string) {
	t.Helper()
	dbURL = os.Getenv("VOLLEY_TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("VOLLEY_TEST_DATABASE_URL is not set: skipping the two-node API limit test")
	}
	var b [6]byte
	rand.Read(b[:])
	schema = "v_api_rate_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return dbURL, schema
}

// pgStore opens a store on schema and closes it when the test ends, after
// the node using it (started later) has stopped.
func pgStore(t *testing.T, dbURL, schema string) *storepg.Store {
	t.Helper()
	st, err := storepg.Open(context.Background(), storepg.Config{URL: dbURL, Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestAPIRateLimitSharedByTwoNodes runs two nodes on one PostgreSQL
// database: a token's burst is spent once between them, and a request
// refused by one is refused by the other until the refill.
func TestAPIRateLimitSharedByTwoNodes(t *testing.T) {
	t.Parallel()
	dbURL, schema := pgSchema(t)
	clk := newClock(t0)
	// The second store opens after the first migrated the schema.
	a := testserver.Start(t, testserver.Options{NowFunc: clk.Now, APIRate: 5, Store: pgStore(t, dbURL, schema)})
	c := testserver.Start(t, testserver.Options{NowFunc: clk.Now, APIRate: 5, Store: pgStore(t, dbURL, schema)})
	get := func(node *testserver.Server) *testserver.Response {
		return node.Do(t, testserver.Request{Method: "GET", Path: "/api/user", Token: testserver.AdminToken})
	}
	for i := range 10 {
		node := []*testserver.Server{a, c}[i%2]
		if resp := get(node); resp.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, resp.Status, resp.Body)
		}
	}
	for _, node := range []*testserver.Server{a, c} {
		resp := get(node)
		if resp.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("RateLimit-Limit") != "10" {
			t.Fatalf("11th request: %d %v %s", resp.Status, resp.Header, resp.Body)
		}
	}
	clk.Advance(200 * time.Millisecond)
	if resp := get(c); resp.Status != http.StatusOK {
		t.Fatalf("after the refill on node 2: %d %s", resp.Status, resp.Body)
	}
	if resp := get(a); resp.Status != http.StatusTooManyRequests {
		t.Fatalf("second request after the refill, on node 1: %d %s", resp.Status, resp.Body)
	}
}
