package ingest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// FuzzIngest sends arbitrary methods, query strings, headers and bodies to
// the ingestion URLs of a real node (SQLite in t.TempDir()) as raw HTTP/1.1
// bytes, so that Go's own parser is part of what is fuzzed. Whatever comes
// in, the answer is one of the documented refusals or a 202 whose event
// holds the body byte for byte; never a 5xx, never a hang. Run longer with:
//
//	go test -run '^$' -fuzz '^FuzzIngest$' -fuzztime 60s ./internal/ingest
func FuzzIngest(f *testing.F) {
	for _, seed := range []struct {
		which                   uint8
		method, query, hdr, val string
		body                    []byte
	}{
		{0, "POST", "", "Content-Type", "application/json", []byte(`{"order":1}`)},
		{1, "PUT", "a=1&b=%zz", "Authorization", "Basic dTpw", []byte("plain text")},
		{2, "PATCH", "", "X-API-Key", "fuzz-key", []byte{0xff, 0x00, 0xfe}},
		{2, "POST", "", "Authorization", "Bearer fuzz-key", nil},
		{3, "POST", "", "X-Hub-Signature-256", "sha256=00ff", []byte(`{"zen":"x"}`)},
		{4, "POST", "", "webhook-signature", "v1,AAAA v1a,BBBB", []byte(`{}`)},
		{5, "GET", "crc_token=abc", "X-Api-Key", "x", nil},
		{0, "DELETE", "", "Idempotency-Key", "key-1", []byte("x")},
		{0, "POST", "", "Content-Length", "-1", []byte("abc")},
		{0, "P\x00ST", "q", "X\r\nInjected", "v", []byte("x")},
	} {
		f.Add(seed.which, seed.method, seed.query, seed.hdr, seed.val, seed.body)
	}
	srv := testserver.Start(f, testserver.Options{})
	n := &node{srv: srv, acct: srv.AdminAccount()}
	ids := []string{
		n.newSource(f, nil).IngestionID,
		n.newSource(f, map[string]any{"auth_type": "basic", "auth_username": "u", "auth_key": "p"}).IngestionID,
		n.newSource(f, map[string]any{"auth_type": "api_key", "auth_key": "fuzz-key"}).IngestionID,
		n.newSource(f, map[string]any{"type": "github", "verify_signature": true, "webhook_secret": "gh-secret"}).IngestionID,
		n.newSource(f, map[string]any{"type": "standard_webhooks", "verify_signature": true,
			"webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}).IngestionID,
		n.newSource(f, map[string]any{"status": "disabled"}).IngestionID,
		"src_doesnotexist0000000000",
	}
	addr := strings.TrimPrefix(n.srv.URL, "http://")
	allowed := map[int]bool{http.StatusOK: true, http.StatusAccepted: true, http.StatusBadRequest: true,
		http.StatusUnauthorized: true, http.StatusForbidden: true, http.StatusNotFound: true,
		http.StatusMethodNotAllowed: true, http.StatusRequestEntityTooLarge: true, http.StatusTooManyRequests: true,
		http.StatusRequestHeaderFieldsTooLarge: true, http.StatusNotImplemented: true}
	f.Fuzz(func(t *testing.T, which uint8, method, query, hdr, val string, body []byte) {
		id := ids[int(which)%len(ids)]
		var req bytes.Buffer
		fmt.Fprintf(&req, "%s /hook/%s", method, id)
		if query != "" {
			req.WriteString("?" + query)
		}
		fmt.Fprintf(&req, " HTTP/1.1\r\nHost: fuzz\r\n%s: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", hdr, val, len(body))
		req.Write(body)
		status, answer := rawRoundTrip(t, addr, req.Bytes())
		if status == 0 {
			return // the request line or a header was so broken that the server closed the connection
		}
		if !allowed[status] {
			t.Fatalf("%q: status %d, body %s", req.Bytes(), status, answer)
		}
		if status != http.StatusAccepted {
			return
		}
		var ok acceptedBody
		if err := json.Unmarshal(answer, &ok); err != nil || !strings.HasPrefix(ok.EventID, "evt_") {
			t.Fatalf("202 without an event id: %s", answer)
		}
		ev, err := n.srv.Store.EventGetByUID(t.Context(), n.acct.OrgID, ok.EventID)
		if err != nil {
			t.Fatalf("event %s of a 202: %v", ok.EventID, err)
		}
		if !ok.Duplicate && !bytes.Equal(ev.Body, body) {
			t.Fatalf("event %s holds body %q, sent %q", ok.EventID, ev.Body, body)
		}
	})
}

// rawRoundTrip writes raw to addr and reads one response; status 0 means
// the server closed the connection without one.
func rawRoundTrip(t *testing.T, addr string, raw []byte) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bound on a broken exchange, not a timing assertion: a correct
	// server answers (or closes) at once.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		return 0, nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("no answer within 30s to %q", raw)
		}
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
