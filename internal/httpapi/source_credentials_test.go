package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

type credentials struct {
	AuthType     string `json:"auth_type"`
	AuthUsername string `json:"auth_username"`
	AuthKeyName  string `json:"auth_key_name"`
	AuthKey      string `json:"auth_key"`
	AuthKeyCamel string `json:"authKey"`
}

// hookStatus posts a small body to a source's ingestion URL and returns the
// status.
func hookStatus(t *testing.T, srv *testserver.Server, ingestionID string, header map[string]string) int {
	t.Helper()
	return rawDo(t, srv, "POST", "/hook/"+ingestionID, header, []byte(`{"ok":true}`)).Status
}

// TestSourceGeneratedCredentials: a basic or api_key source created or
// switched without credentials (the Go, Node and Java SDKs have no field
// for them) gets a generated key, shown once, readable again and
// replaceable by owners and admins, and working at ingestion.
func TestSourceGeneratedCredentials(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	admin := callerOf(srv, testserver.AdminToken)
	pid := srv.AdminAccount().ProjectID
	srcs := fmt.Sprintf("/api/projects/%d/sources", pid)

	// basic, no credentials: user "volley" and a generated password.
	resp := admin.must(t, http.StatusCreated, "POST", srcs, map[string]any{"name": "Basic", "auth_type": "basic"})
	var created struct {
		Source struct {
			ID          uint64 `json:"id"`
			IngestionID string `json:"ingestion_id"`
			credentials
		} `json:"source"`
		credentials
	}
	resp.JSON(t, &created)
	src := created.Source
	if len(src.AuthKey) < 32 || src.AuthKeyCamel != src.AuthKey || created.AuthKey != src.AuthKey {
		t.Fatalf("generated key %q (camelCase %q, top level %q): want one key of at least 32 characters everywhere",
			src.AuthKey, src.AuthKeyCamel, created.AuthKey)
	}
	if src.AuthUsername != "volley" {
		t.Errorf("auth_username = %q, want volley", src.AuthUsername)
	}
	basic := map[string]string{"Authorization": basicAuth("volley", src.AuthKey)}
	if got := hookStatus(t, srv, src.IngestionID, basic); got != http.StatusAccepted {
		t.Errorf("ingest with the generated credentials = %d, want 202", got)
	}
	if got := hookStatus(t, srv, src.IngestionID, nil); got != http.StatusUnauthorized {
		t.Errorf("ingest without credentials = %d, want 401", got)
	}

	// Shown once: reads of the source do not carry it.
	path := fmt.Sprintf("/api/sources/%d", src.ID)
	for _, p := range []string{path, srcs} {
		var got map[string]any
		admin.must(t, http.StatusOK, "GET", p, nil).JSON(t, &got)
		if body := fmt.Sprint(got); strings.Contains(body, src.AuthKey) {
			t.Errorf("GET %s shows the key: %s", p, body)
		}
	}

	// Owners and admins read it again.
	var cred credentials
	admin.must(t, http.StatusOK, "GET", path+"/credentials", nil).JSON(t, &cred)
	if cred.AuthType != "basic" || cred.AuthUsername != "volley" || cred.AuthKey != src.AuthKey {
		t.Errorf("credentials = %+v, want basic volley:%s", cred, src.AuthKey)
	}

	// Rotation replaces the key at once.
	var rotated credentials
	admin.must(t, http.StatusOK, "POST", path+"/credentials/rotate", nil).JSON(t, &rotated)
	if len(rotated.AuthKey) < 32 || rotated.AuthKey == src.AuthKey {
		t.Fatalf("rotated key %q: want a new key of at least 32 characters", rotated.AuthKey)
	}
	if got := hookStatus(t, srv, src.IngestionID, basic); got != http.StatusUnauthorized {
		t.Errorf("ingest with the old key after rotation = %d, want 401", got)
	}
	if got := hookStatus(t, srv, src.IngestionID, map[string]string{"Authorization": basicAuth("volley", rotated.AuthKey)}); got != http.StatusAccepted {
		t.Errorf("ingest with the rotated key = %d, want 202", got)
	}
	admin.must(t, http.StatusOK, "POST", path+"/credentials/rotate", map[string]any{"auth_key": "chosen-password"})
	if got := hookStatus(t, srv, src.IngestionID, map[string]string{"Authorization": basicAuth("volley", "chosen-password")}); got != http.StatusAccepted {
		t.Errorf("ingest with a chosen key = %d, want 202", got)
	}
	bad := admin.do(t, "POST", path+"/credentials/rotate", map[string]any{"auth_key": ""})
	if bad.Status != http.StatusBadRequest || errorOf(t, bad).Field != "auth_key" {
		t.Errorf("rotate to an empty key = %d %s, want 400 on auth_key", bad.Status, bad.Body)
	}

	// Switching a source to api_key on update generates a key too.
	var none struct {
		Source struct {
			ID          uint64 `json:"id"`
			IngestionID string `json:"ingestion_id"`
		} `json:"source"`
	}
	admin.must(t, http.StatusCreated, "POST", srcs, map[string]any{"name": "Open"}).JSON(t, &none)
	open := fmt.Sprintf("/api/sources/%d", none.Source.ID)
	resp = admin.must(t, http.StatusConflict, "GET", open+"/credentials", nil)
	if errorOf(t, resp).Field != "auth_type" {
		t.Errorf("credentials of an open source: %s, want a 409 naming auth_type", resp.Body)
	}
	var switched struct {
		Source credentials `json:"source"`
	}
	admin.must(t, http.StatusOK, "PUT", open, map[string]any{"authType": "api_key"}).JSON(t, &switched)
	if len(switched.Source.AuthKey) < 32 || switched.Source.AuthKeyName != "X-API-Key" {
		t.Fatalf("switch to api_key: %+v, want a generated key read from X-API-Key", switched.Source)
	}
	if got := hookStatus(t, srv, none.Source.IngestionID, map[string]string{"X-API-Key": switched.Source.AuthKey}); got != http.StatusAccepted {
		t.Errorf("ingest with the generated api key = %d, want 202", got)
	}
	// A later update that leaves auth alone keeps the key and shows none.
	var kept struct {
		Source credentials `json:"source"`
	}
	admin.must(t, http.StatusOK, "PUT", open, map[string]any{"eps": 5, "auth_type": "api_key"}).JSON(t, &kept)
	if kept.Source.AuthKey != "" {
		t.Errorf("an update that generated nothing shows auth_key %q", kept.Source.AuthKey)
	}
	if got := hookStatus(t, srv, none.Source.IngestionID, map[string]string{"X-API-Key": switched.Source.AuthKey}); got != http.StatusAccepted {
		t.Errorf("ingest after an unrelated update = %d, want 202", got)
	}

	// Credentials given explicitly work as before and are not echoed.
	var explicit struct {
		Source struct {
			IngestionID string `json:"ingestion_id"`
			credentials
		} `json:"source"`
	}
	admin.must(t, http.StatusCreated, "POST", srcs,
		map[string]any{"name": "Explicit", "auth_type": "basic", "auth_username": "shop", "auth_key": "pw"}).JSON(t, &explicit)
	if explicit.Source.AuthKey != "" || explicit.Source.AuthUsername != "shop" {
		t.Errorf("explicit credentials: %+v, want user shop and no key shown", explicit.Source.credentials)
	}
	if got := hookStatus(t, srv, explicit.Source.IngestionID, map[string]string{"Authorization": basicAuth("shop", "pw")}); got != http.StatusAccepted {
		t.Errorf("ingest with explicit credentials = %d, want 202", got)
	}
}
