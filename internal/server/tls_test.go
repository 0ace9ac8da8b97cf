package server_test

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// TestServesHTTPSAndReloadsCertificates starts a node on a certificate of
// a test CA: it serves HTTPS with HTTP/2, picks up renewed files at the
// next check (clock advanced, no restart) or at once on ReloadTLS (SIGHUP),
// and keeps serving the previous certificate when the new files are broken.
func TestServesHTTPSAndReloadsCertificates(t *testing.T) {
	t.Parallel()
	ca := testserver.NewCA(t, "Volley test CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	generation := 0
	write := func(certPEM, keyPEM []byte) {
		t.Helper()
		generation++
		// Distinct modification times, whatever the file system's
		// resolution: the change is what the server looks for.
		mod := time.Date(2026, 1, 1, 0, 0, generation, 0, time.UTC)
		for path, b := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, mod, mod); err != nil {
				t.Fatal(err)
			}
		}
	}
	issue := func(cn string) {
		t.Helper()
		_, c, k := ca.Issue(t, cn)
		write(c, k)
	}
	issue("first")

	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	srv := testserver.Start(t, testserver.Options{NowFunc: clock, TLSCertFile: certFile, TLSKeyFile: keyFile, TLSCheckEvery: 5 * time.Second})

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, ForceAttemptHTTP2: true}}
	t.Cleanup(client.CloseIdleConnections)
	served := func() string {
		t.Helper()
		client.CloseIdleConnections() // a new handshake each time
		resp, err := client.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			t.Fatalf("GET /healthz: %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	if srv.URL[:8] != "https://" {
		t.Fatalf("URL %s, want https", srv.URL)
	}
	if cn := served(); cn != "first" {
		t.Fatalf("serving %q, want first", cn)
	}

	// Renewed files are read at the first handshake after the check
	// interval, not before.
	issue("second")
	advance(4 * time.Second)
	if cn := served(); cn != "first" {
		t.Fatalf("before the check: serving %q, want first", cn)
	}
	advance(time.Second)
	if cn := served(); cn != "second" {
		t.Fatalf("after the check: serving %q, want second", cn)
	}

	// Broken files: the reload fails and the previous certificate stays.
	write([]byte("not a certificate"), []byte("not a key"))
	if err := srv.Node.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS of broken files succeeded")
	}
	advance(time.Minute)
	if cn := served(); cn != "second" {
		t.Fatalf("after broken files: serving %q, want second", cn)
	}

	// SIGHUP's reload takes effect at once.
	issue("third")
	if err := srv.Node.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if cn := served(); cn != "third" {
		t.Fatalf("after ReloadTLS: serving %q, want third", cn)
	}
}
