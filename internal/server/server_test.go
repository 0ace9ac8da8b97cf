package server_test

import (
	"context"
	"io"
	"net/http"
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
