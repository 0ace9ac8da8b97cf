package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// cutProxy forwards TCP connections to a server and can cut them all at
// once, as a dropped network or a sleeping laptop does.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// received is a request as the local server saw it.
type received struct {
	method, query string
	header        http.Header
	body          []byte
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

func adminDo(t *testing.T, srv *testserver.Server, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestCLILoginListenLogout runs the real CLI code against a real server:
// device login approved with a bearer token, status, listen forwarding
// exact bytes and headers to a local server through a stream that is cut
// mid-way (nothing skipped or repeated), and logout revoking the token.
func TestCLILoginListenLogout(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("VOLLEY_API_URL", "")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// A source without connections: listen works all the same.
	status, body := adminDo(t, srv, testserver.AdminToken, "POST", fmt.Sprintf("/api/projects/%d/sources", srv.Admin.Project.ID),
		map[string]any{"name": "Local dev"})
	var src struct {
		Source struct {
			ID          uint64 `json:"id"`
			IngestionID string `json:"ingestion_id"`
		} `json:"source"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &src) != nil {
		t.Fatalf("create source = %d %s", status, body)
	}

	// Login: approve the pairing code the CLI prints.
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"login", "--api-url", srv.URL, "--no-browser"}, &out, &errOut) }()
	code := regexp.MustCompile(`pairing code is: ([A-Z]{4}-[0-9]{4})`)
	waitFor(t, "the pairing code", func() bool { return code.MatchString(out.String()) })
	pairing := code.FindStringSubmatch(out.String())[1]
	if status, body := adminDo(t, srv, testserver.AdminToken, "POST", "/api/auth/cli/approve",
		map[string]any{"pairing_code": pairing, "device_name": "test-laptop"}); status != http.StatusOK {
		t.Fatalf("approve = %d %s", status, body)
	}
	if err := <-done; err != nil {
		t.Fatalf("login: %v\n%s%s", err, out.String(), errOut.String())
	}
	path, _ := cliConfigPath()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config %s: %v, mode %v; want 0600", path, err, fi.Mode())
	}
	cfg, err := loadCLIConfig()
	if err != nil || !strings.HasPrefix(cfg.Token, "vk_") || cfg.APIURL != srv.URL || cfg.Email != "admin@localhost" {
		t.Fatalf("saved config = %+v, %v", cfg, err)
	}

	var st syncBuffer
	if err := run(ctx, []string{"status"}, &st, io.Discard); err != nil || !strings.Contains(st.String(), "✓ Authenticated") {
		t.Fatalf("status: %v\n%s", err, st.String())
	}

	// Listen through a proxy that the test cuts.
	var mu sync.Mutex
	var got []received
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{method: r.Method, query: r.URL.RawQuery, header: r.Header.Clone(), body: b})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer local.Close()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	proxy := newCutProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	var lout, lerr syncBuffer
	listenCtx, stopListen := context.WithCancel(ctx)
	listenDone := make(chan error, 1)
	go func() {
		listenDone <- run(listenCtx, []string{"listen", "--api-url", proxy.url(), "--source", src.Source.IngestionID,
			"--forward-to", local.URL + "/webhooks"}, &lout, &lerr)
	}()
	waitFor(t, "listen to be ready", func() bool { return strings.Contains(lerr.String(), "Ready") })

	var sent []string
	var bodies [][]byte
	hook := func(i int) {
		b := []byte(fmt.Sprintf(`{"n":%d,"text":"héllo"}`, i))
		if i%3 == 2 {
			b = []byte{0xff, 0x00, byte(i), 0xfe} // not UTF-8: must arrive byte for byte
		}
		req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/hook/%s?n=%d&x=a%%20b", srv.URL, src.Source.IngestionID, i), bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Add("X-Multi", "one")
		req.Header.Add("X-Multi", "two")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			EventID string `json:"event_id"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("ingest = %d", resp.StatusCode)
		}
		sent, bodies = append(sent, r.EventID), append(bodies, b)
	}
	for i := range 3 {
		hook(i)
	}
	waitFor(t, "3 forwarded events", func() bool { return count() == 3 })
	proxy.cut() // the stream drops; events keep coming meanwhile
	for i := 3; i < 6; i++ {
		hook(i)
	}
	waitFor(t, "6 forwarded events", func() bool { return count() >= 6 })
	stopListen()
	if err := <-listenDone; err != nil {
		t.Fatalf("listen: %v", err)
	}
	if !strings.Contains(lerr.String(), "reconnecting") {
		t.Errorf("listen did not report the cut stream:\n%s", lerr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 6 {
		t.Fatalf("forwarded %d requests, want 6 (none repeated)", len(got))
	}
	for i, r := range got {
		if id := r.header.Get("X-Volley-Event-ID"); id != sent[i] {
			t.Errorf("request %d: X-Volley-Event-ID %q, want %q (in order, none skipped)", i, id, sent[i])
		}
		if r.method != "PUT" || r.query != fmt.Sprintf("n=%d&x=a%%20b", i) || !bytes.Equal(r.body, bodies[i]) {
			t.Errorf("request %d: %s ?%s %q; want PUT ?n=%d&x=a%%20b %q", i, r.method, r.query, r.body, i, bodies[i])
		}
		if r.header.Get("X-Volley-Source-ID") != fmt.Sprint(src.Source.ID) || r.header.Get("Content-Type") != "application/octet-stream" ||
			strings.Join(r.header.Values("X-Multi"), ",") != "one,two" {
			t.Errorf("request %d headers: %v", i, r.header)
		}
	}
	if lines := strings.Count(lout.String(), "\n"); lines != 6 || !strings.Contains(lout.String(), " 204 ") {
		t.Errorf("listen printed %d lines, want one per event with the local status:\n%s", lines, lout.String())
	}

	// Logout revokes the token on the server.
	if err := run(ctx, []string{"logout"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if status, _ := adminDo(t, srv, cfg.Token, "GET", "/api/user", nil); status != http.StatusUnauthorized {
		t.Fatalf("GET /api/user with the logged-out token = %d, want 401", status)
	}
	if err := run(ctx, []string{"status"}, io.Discard, io.Discard); exitCode(err) != exitNotAuthenticated {
		t.Fatalf("status after logout: %v (exit %d), want exit %d", err, exitCode(err), exitNotAuthenticated)
	}
}
