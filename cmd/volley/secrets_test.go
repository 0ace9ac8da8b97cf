package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecretsRotateKey follows docs/security.md's procedure on the
// embedded store: a server seals under the old key; it restarts with the
// new key and the old one as previous (key file, new line first);
// `volley secrets rotate-key` runs beside it; after a restart with the new
// key alone, the source's credentials still open and ingestion still
// authenticates with them.
func TestSecretsRotateKey(t *testing.T) {
	t.Setenv("VOLLEY_SECRET_KEY", "")
	t.Setenv("VOLLEY_SECRET_KEY_PREVIOUS", "")
	t.Setenv("VOLLEY_ADMIN_PASSWORD", "")
	const token = "vk_rotatekeytest00000000000000000000000"
	t.Setenv("VOLLEY_ADMIN_TOKEN", token)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "secret.key")
	oldKey := strings.Repeat("11", 32)
	newKey := strings.Repeat("22", 32)
	if err := os.WriteFile(keyFile, []byte(oldKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	stop, base := serveInProcess(t, dir)
	api := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	_, projects := api("GET", "/api/projects", nil)
	pid := projects["projects"].([]any)[0].(map[string]any)["id"].(float64)
	status, src := api("POST", "/api/projects/"+jsonNum(pid)+"/sources",
		map[string]any{"name": "rotated", "auth_type": "api_key", "auth_key": "the-source-key"})
	if status != http.StatusCreated {
		t.Fatalf("create source: %d %v", status, src)
	}
	sid, ingestion := jsonNum(src["id"].(float64)), src["ingestion_id"].(string)
	stop()

	// Phase 2: the new key seals, the old one is still read.
	if err := os.WriteFile(keyFile, []byte(newKey+"\n"+oldKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stop, base = serveInProcess(t, dir)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"secrets", "rotate-key", "--data-dir", dir, "--batch", "1"}, &out, io.Discard); err != nil {
		t.Fatalf("rotate-key beside a running server: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "previous keys may now be removed") {
		t.Fatalf("rotate-key said:\n%s", out.String())
	}
	// doctor reads the two-key file as serve does.
	out.Reset()
	if err := run(context.Background(), []string{"doctor", "--data-dir", dir}, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "1 previous secret key(s) still read") || !strings.Contains(out.String(), "opens the store's sealed secrets") {
		t.Fatalf("doctor during the rotation: %v\n%s", err, out.String())
	}
	stop()

	// Phase 3: the old key is gone.
	if err := os.WriteFile(keyFile, []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stop, base = serveInProcess(t, dir)
	defer stop()
	if status, creds := api("GET", "/api/sources/"+sid+"/credentials", nil); status != http.StatusOK || creds["auth_key"] != "the-source-key" {
		t.Fatalf("credentials after the rotation: %d %v", status, creds)
	}
	req, _ := http.NewRequest("POST", base+"/hook/"+ingestion, strings.NewReader(`{"rotated":true}`))
	req.Header.Set("X-API-Key", "the-source-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest with the source key after the rotation: %d", resp.StatusCode)
	}
	// The admin token was sealed under the old key too: it still works.
	if status, _ := api("GET", "/api/user", nil); status != http.StatusOK {
		t.Fatalf("API token after the rotation: %d", status)
	}
}

// jsonNum formats an id decoded as a JSON number.
func jsonNum(f float64) string { return strconv.FormatUint(uint64(f), 10) }

// serveInProcess runs `volley serve` on dataDir until stop.
func serveInProcess(t *testing.T, dataDir string) (stop func(), base string) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var serverErr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--log-level", "warn", "--data-dir", dataDir}, io.Discard, &serverErr)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, serverErr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}
	t.Cleanup(stop)
	base = "http://" + addr
	waitHealthy(t, base)
	return stop, base
}
