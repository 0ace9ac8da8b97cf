package server_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/testserver"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	if code, body := get(t, s.URL+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz = %d %s", code, body)
	}
	if code, body := get(t, s.URL+"/readyz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("readyz = %d %s", code, body)
	}
	// A schema this binary does not expect makes the node unready (but
	// alive).
	if _, err := s.Store.(*storesqlite.Store).MigrateDown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, s.URL+"/readyz"); code != 503 || !strings.Contains(body, "schema") {
		t.Fatalf("readyz after migrate down = %d %s", code, body)
	}
	if code, _ := get(t, s.URL+"/healthz"); code != 200 {
		t.Fatalf("healthz after migrate down = %d", code)
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	code, body := get(t, s.URL+"/api/nope")
	if code != 404 || !strings.Contains(body, `"error"`) {
		t.Fatalf("GET /api/nope = %d %s", code, body)
	}
}

// TestReadyWithNewerSchema: a schema a newer version migrated further (a
// rolling upgrade: the new version migrates first) keeps an older node
// ready; one lacking a migration it needs does not.
func TestReadyWithNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	st, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	node := startOn(t, st, true, true)
	defer node.Stop(context.Background())
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_a_newer_version', 0)`); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, node.URL()+"/readyz"); code != 200 {
		t.Fatalf("readyz with a newer migration applied = %d %s", code, body)
	}
	if _, err := raw.Exec(`DELETE FROM schema_migrations WHERE version = (SELECT MIN(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, node.URL()+"/readyz"); code != 503 || !strings.Contains(body, "lacks migrations") {
		t.Fatalf("readyz without a needed migration = %d %s", code, body)
	}
}
