package delivery_test

import (
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// tlsSink starts an HTTPS receiver whose certificate ca issued, answering
// 200 to every delivery.
func tlsSink(t *testing.T, ca *testserver.CA) *httptest.Server {
	t.Helper()
	cert, _, _ := ca.Issue(t, "receiver")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestDestinationCertificateVerification delivers to an HTTPS receiver
// whose certificate a test CA issued: unknown to the node, the attempt
// fails and says why; with the destination's explicit opt-out it
// succeeds; and a node that trusts the CA delivers with verification on.
func TestDestinationCertificateVerification(t *testing.T) {
	t.Parallel()
	ca := testserver.NewCA(t, "Volley test CA")
	sink := tlsSink(t, ca)

	var logs lockedBuffer
	srv := testserver.Start(t, testserver.Options{Delivery: fastConfig(),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	e := newEnv(t, srv, srv.AdminAccount().ProjectID)
	src, destID, _ := e.route(t, sink.URL+"/hook", map[string]any{}, map[string]any{"max_retries": 0})
	uid := e.ingest(t, src.IngestionID, `{"n":1}`)
	e.awaitStatus(t, uid, volley.EventFailed)
	atts := e.attempts(t, "event_id="+uid)
	if len(atts) != 1 || !strings.HasPrefix(atts[0].ErrorReason, "tls: certificate not trusted: ") ||
		!strings.Contains(atts[0].ErrorReason, "unknown authority") {
		t.Fatalf("attempts %+v, want one refused for an unknown authority", atts)
	}

	// The opt-out is explicit, shown, and lets the delivery through.
	var shown struct {
		InsecureSkipVerify bool `json:"insecure_skip_verify"`
	}
	e.api(t, http.StatusOK, "PUT", "/api/destinations/"+strconv.FormatUint(destID, 10), map[string]any{"insecure_skip_verify": true}).JSON(t, &shown)
	if !shown.InsecureSkipVerify {
		t.Fatal("the update does not show insecure_skip_verify: true")
	}
	e.api(t, http.StatusOK, "GET", "/api/destinations/"+strconv.FormatUint(destID, 10), nil).JSON(t, &shown)
	if !shown.InsecureSkipVerify {
		t.Fatal("the destination does not show insecure_skip_verify: true")
	}
	e.awaitStatus(t, e.ingest(t, src.IngestionID, `{"n":2}`), volley.EventProcessed)
	e.awaitStatus(t, e.ingest(t, src.IngestionID, `{"n":2.5}`), volley.EventProcessed)
	// Warned when set, and when first used (once per node and destination).
	dest := "destination_id=" + strconv.FormatUint(destID, 10)
	for _, msg := range []string{"TLS certificate verification turned off for a destination",
		"delivering without TLS certificate verification (insecure_skip_verify)"} {
		if n := logs.count(`level=WARN msg="` + msg + `" ` + dest); n != 1 {
			t.Errorf("%d warnings %q for the destination, want 1; logs:\n%s", n, msg, logs.String())
		}
	}

	// Turned back on, verification fails again.
	e.api(t, http.StatusOK, "PUT", "/api/destinations/"+strconv.FormatUint(destID, 10), map[string]any{"insecure_skip_verify": false})
	e.awaitStatus(t, e.ingest(t, src.IngestionID, `{"n":3}`), volley.EventFailed)

	// A node that trusts the CA (VOLLEY_DESTINATION_CA_FILE) verifies and
	// delivers.
	cfg := fastConfig()
	cfg.RootCAs = ca.Pool
	trusting := setup(t, cfg)
	src2, _, _ := trusting.route(t, sink.URL+"/hook", map[string]any{}, map[string]any{"max_retries": 0})
	trusting.awaitStatus(t, trusting.ingest(t, src2.IngestionID, `{"n":4}`), volley.EventProcessed)
}

// lockedBuffer is a log destination that the node writes from several
// goroutines while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count returns how many lines contain s.
func (l *lockedBuffer) count(s string) int {
	n := 0
	for line := range strings.Lines(l.String()) {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}
