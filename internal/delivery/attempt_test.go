package delivery

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/volley"
)

// newSecret returns a fresh whsec_ secret and its HMAC key.
func newSecret(t *testing.T) (string, []byte) {
	t.Helper()
	secret, err := signature.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return secret, key
}

// headerSetup is an event with awkward headers, its delivery and a
// destination signing with one secret.
type headerSetup struct {
	ev     *eventView
	d      *volley.Delivery
	dest   *routing.Destination
	secret string
	now    time.Time
}

func setupHeaders(t *testing.T) *headerSetup {
	t.Helper()
	secret, key := newSecret(t)
	ev := &eventView{
		method: http.MethodPost,
		body:   []byte(`{"type":"invoice.paid","amount":42}`),
		headers: http.Header{
			"Content-Type":        {"application/json"},
			"X-Github-Event":      {"push"},
			"X-Hub-Signature-256": {"sha256=abc"},
			"X-Multi":             {"one", "two"},
			"Connection":          {"keep-alive, X-Per-Hop"},
			"X-Per-Hop":           {"dropped"},
			"Keep-Alive":          {"timeout=5"},
			"Proxy-Connection":    {"keep-alive"},
			"Proxy-Authorization": {"Basic cHJveHk6cHJveHk="},
			"Proxy-Authenticate":  {"Basic"},
			"Te":                  {"trailers"},
			"Trailer":             {"X-Checksum"},
			"Transfer-Encoding":   {"chunked"},
			"Upgrade":             {"websocket"},
			"Host":                {"gateway.example"},
			"Content-Length":      {"36"},
			"X-Volley-Event-Id":   {"evt_spoofed"},
			"X-Volley-Attempt":    {"99"},
			"X-Volley-Other":      {"spoofed"},
			"Webhook-Id":          {"msg_spoofed"},
			"Webhook-Timestamp":   {"1"},
			"Webhook-Signature":   {"v1,c3Bvb2ZlZA=="},
		},
	}
	d := &volley.Delivery{ID: 77, EventUID: "evt_2x9Qk3", SourceID: 12, ConnectionID: 34, DestinationID: 56}
	dest := &routing.Destination{
		Destination: volley.Destination{ID: 56, URL: "http://127.0.0.1:1/hook", Headers: map[string]string{
			"X-Static": "static", "authorization": "Bearer dest-token", "X-Volley-Event-Id": "evt_from_dest",
		}},
		SigningKeys: [][]byte{key},
	}
	return &headerSetup{ev: ev, d: d, dest: dest, secret: secret, now: time.Now()}
}

func TestOutboundHeaders(t *testing.T) {
	t.Parallel()
	s := setupHeaders(t)
	h := outboundHeaders(s.ev, s.d, s.dest, 3, s.now, "Volley")

	for _, k := range []string{"Connection", "X-Per-Hop", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
		"Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "X-Volley-Other"} {
		if v, ok := h[k]; ok {
			t.Errorf("%s: forwarded as %q, want removed", k, v)
		}
	}
	want := map[string][]string{
		"Content-Type":         {"application/json"},
		"X-Github-Event":       {"push"},
		"X-Hub-Signature-256":  {"sha256=abc"},
		"X-Multi":              {"one", "two"},
		"X-Static":             {"static"},
		"Authorization":        {"Bearer dest-token"},
		"User-Agent":           {"Volley"},
		"X-Volley-Event-Id":    {"evt_2x9Qk3"},
		"X-Volley-Source-Id":   {"12"},
		"X-Volley-Delivery-Id": {"77"},
		"X-Volley-Attempt":     {"3"},
		"Webhook-Id":           {"msg_2x9Qk3_34"},
		"Webhook-Timestamp":    {strconv.FormatInt(s.now.Unix(), 10)},
	}
	for k, vs := range want {
		if got := h[k]; !slices.Equal(got, vs) {
			t.Errorf("%s = %q, want %q", k, got, vs)
		}
	}
	if sigs := strings.Fields(h.Get("Webhook-Signature")); len(sigs) != 1 || h.Values("Webhook-Signature")[0] == "v1,c3Bvb2ZlZA==" {
		t.Errorf("Webhook-Signature = %q, want one fresh signature", h.Values("Webhook-Signature"))
	}
	for k := range h {
		if len(h[k]) > 1 && k != "X-Multi" {
			t.Errorf("%s sent %d times: %q", k, len(h[k]), h[k])
		}
	}
	v := signature.Verifier{Scheme: signature.StandardWebhooks, Secret: []byte(s.secret)}
	if err := v.Verify(h, s.ev.body, s.now); err != nil {
		t.Errorf("signature does not verify with the destination's secret: %v", err)
	}
	if err := v.Verify(h, []byte(`{"type":"invoice.paid","amount":43}`), s.now); !errors.Is(err, signature.ErrMismatch) {
		t.Errorf("signature of a tampered body: %v, want ErrMismatch", err)
	}
	if s.ev.headers.Get("X-Volley-Event-Id") != "evt_spoofed" || s.ev.headers.Get("Connection") == "" {
		t.Error("outboundHeaders changed the event's own headers")
	}
}

func TestOutboundHeadersUserAgent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		event     string
		static    string
		defaultUA string
		want      string
	}{
		{"default", "", "", "Volley", "Volley"},
		{"configured default", "", "", "Volley/2.1 (+https://volley.example)", "Volley/2.1 (+https://volley.example)"},
		{"sender's kept", "Stripe/1.0 (+https://stripe.com/docs/webhooks)", "", "Volley", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
		{"destination's wins", "Stripe/1.0", "Receiver-Wants-This", "Volley", "Receiver-Wants-This"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setupHeaders(t)
			s.ev.headers = http.Header{}
			if tt.event != "" {
				s.ev.headers.Set("User-Agent", tt.event)
			}
			s.dest.Headers = nil
			if tt.static != "" {
				s.dest.Headers = map[string]string{"User-Agent": tt.static}
			}
			h := outboundHeaders(s.ev, s.d, s.dest, 1, s.now, tt.defaultUA)
			if got := h.Values("User-Agent"); len(got) != 1 || got[0] != tt.want {
				t.Errorf("User-Agent = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOutboundHeadersRotation checks that during a secret rotation the
// signature header carries two signatures, the new secret's first, and that
// a receiver holding either secret accepts the request.
func TestOutboundHeadersRotation(t *testing.T) {
	t.Parallel()
	s := setupHeaders(t)
	oldSecret, oldKey := newSecret(t)
	s.dest.SigningKeys = append(s.dest.SigningKeys, oldKey)
	h := outboundHeaders(s.ev, s.d, s.dest, 1, s.now, "Volley")
	sigs := strings.Fields(h.Get("Webhook-Signature"))
	if len(sigs) != 2 {
		t.Fatalf("Webhook-Signature = %q, want two signatures", h.Get("Webhook-Signature"))
	}
	for _, secret := range []string{s.secret, oldSecret} {
		v := signature.Verifier{Scheme: signature.StandardWebhooks, Secret: []byte(secret)}
		if err := v.Verify(h, s.ev.body, s.now); err != nil {
			t.Errorf("secret %.10s…: %v", secret, err)
		}
	}
	// Each entry verifies on its own with its own secret, new one first.
	for i, secret := range []string{s.secret, oldSecret} {
		one := h.Clone()
		one.Set("Webhook-Signature", sigs[i])
		v := signature.Verifier{Scheme: signature.StandardWebhooks, Secret: []byte(secret)}
		if err := v.Verify(one, s.ev.body, s.now); err != nil {
			t.Errorf("signature %d with its secret: %v", i, err)
		}
	}
	stranger, _ := newSecret(t)
	v := signature.Verifier{Scheme: signature.StandardWebhooks, Secret: []byte(stranger)}
	if err := v.Verify(h, s.ev.body, s.now); !errors.Is(err, signature.ErrMismatch) {
		t.Errorf("an unrelated secret: %v, want ErrMismatch", err)
	}
}

func TestTargetURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dest, path, query, want string
	}{
		{"https://example.com/hook", "", "", "https://example.com/hook"},
		{"https://example.com/hook", "", "a=1&b=2", "https://example.com/hook?a=1&b=2"},
		{"https://example.com/hook?token=x", "", "a=1", "https://example.com/hook?token=x&a=1"},
		{"https://example.com/hook?token=x", "", "", "https://example.com/hook?token=x"},
		{"https://example.com/", "", "q=%20x", "https://example.com/?q=%20x"},
		{"http://127.0.0.1:8080", "", "flag", "http://127.0.0.1:8080?flag"},
		{"https://example.com/hook", "/orders/1", "", "https://example.com/hook/orders/1"},
		{"https://example.com/hook/", "/orders", "a=1", "https://example.com/hook/orders?a=1"},
		{"https://example.com/hook?token=x", "/v2", "a=1", "https://example.com/hook/v2?token=x&a=1"},
		{"https://example.com", "/a b", "", "https://example.com/a%20b"},
	}
	for _, tt := range tests {
		if got := targetURL(tt.dest, tt.path, tt.query); got != tt.want {
			t.Errorf("targetURL(%q, %q, %q) = %q, want %q", tt.dest, tt.path, tt.query, got, tt.want)
		}
	}
}

// closedPort returns a 127.0.0.1 address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// realErr performs a real request and returns its transport error.
func realErr(t *testing.T, ctx context.Context, client *http.Client, url string) error {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("POST %s: status %d, want a transport error", url, resp.StatusCode)
	}
	return err
}

func TestReason(t *testing.T) {
	t.Parallel()
	plain := &http.Client{Transport: &http.Transport{Proxy: nil}, CheckRedirect: egress.NoRedirect}
	t.Cleanup(plain.CloseIdleConnections)
	loopback := egress.NewPolicy(egress.DefaultAllow())

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-t.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plainSrv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plainSrv.Close)
	hangup := rawServer(t, nil)
	ssh := rawServer(t, []byte("SSH-2.0-OpenSSH_9.6\r\n"))

	tests := []struct {
		name    string
		err     func(t *testing.T) error
		timeout time.Duration
		want    string // exact, or a prefix when it ends with "…"
	}{
		{"connection refused", func(t *testing.T) error {
			return realErr(t, context.Background(), plain, "http://"+closedPort(t)+"/")
		}, 15 * time.Second, "connection refused"},
		{"timeout", func(t *testing.T) error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			return realErr(t, ctx, plain, slow.URL)
		}, time.Second, "timeout after 1s"},
		{"timeout of 15s", func(t *testing.T) error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			return realErr(t, ctx, plain, slow.URL)
		}, 15 * time.Second, "timeout after 15s"},
		{"egress blocked dial", func(t *testing.T) error {
			client := &http.Client{Transport: egress.NewTransport(egress.NewPolicy(nil), egress.TransportConfig{})}
			return realErr(t, context.Background(), client, plainSrv.URL)
		}, time.Second, "blocked by egress policy: 127.0.0.1 …"},
		{"egress blocked metadata", func(t *testing.T) error {
			client := &http.Client{Transport: egress.NewTransport(loopback, egress.TransportConfig{})}
			return realErr(t, context.Background(), client, "http://169.254.169.254/latest/meta-data/")
		}, time.Second, "blocked by egress policy: 169.254.169.254 …"},
		{"cancelled", func(t *testing.T) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return realErr(t, ctx, plain, slow.URL)
		}, time.Second, "cancelled: the server is shutting down"},
		{"dns not found", func(*testing.T) error {
			return &url.Error{Op: "Post", URL: "http://nope.invalid/", Err: &net.OpError{Op: "dial", Net: "tcp",
				Err: &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}}}
		}, time.Second, "dns: no such host nope.invalid"},
		{"dns failure", func(*testing.T) error {
			return &url.Error{Op: "Post", URL: "http://flaky.example/", Err: &net.OpError{Op: "dial", Net: "tcp",
				Err: &net.DNSError{Err: "server misbehaving", Name: "flaky.example", IsTemporary: true}}}
		}, time.Second, "dns: server misbehaving for flaky.example"},
		{"connection reset", func(*testing.T) error {
			return &url.Error{Op: "Post", URL: "http://x/", Err: &net.OpError{Op: "read", Net: "tcp",
				Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
		}, time.Second, "connection reset by peer"},
		{"host unreachable", func(*testing.T) error {
			return &url.Error{Op: "Post", URL: "http://x/", Err: &net.OpError{Op: "dial", Net: "tcp",
				Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}}
		}, time.Second, "host unreachable"},
		{"network unreachable", func(*testing.T) error {
			return &url.Error{Op: "Post", URL: "http://x/", Err: &net.OpError{Op: "dial", Net: "tcp",
				Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}}
		}, time.Second, "host unreachable"},
		{"untrusted certificate", func(t *testing.T) error {
			return realErr(t, context.Background(), plain, tlsSrv.URL)
		}, time.Second, "tls: certificate not trusted: …"},
		{"plain http on a tls url", func(t *testing.T) error {
			return realErr(t, context.Background(), plain, strings.Replace(plainSrv.URL, "http://", "https://", 1))
		}, time.Second, "tls: the destination does not speak TLS on this port"},
		{"not tls at all", func(t *testing.T) error {
			return realErr(t, context.Background(), plain, "https://"+ssh+"/")
		}, time.Second, "tls: the destination does not speak TLS on this port"},
		{"closed before a response", func(t *testing.T) error {
			return realErr(t, context.Background(), plain, "http://"+hangup+"/")
		}, time.Second, "connection closed before a response"},
		{"anything else", func(*testing.T) error {
			return &url.Error{Op: "Post", URL: "http://x/", Err: errors.New("something odd")}
		}, time.Second, "something odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err(t)
			got := reason(err, tt.timeout)
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(got, prefix) || len(got) == len(prefix) {
					t.Errorf("reason(%v) = %q, want %q followed by details", err, got, prefix)
				}
				return
			}
			if got != tt.want {
				t.Errorf("reason(%v) = %q, want %q", err, got, tt.want)
			}
		})
	}
}

// rawServer accepts TCP connections on 127.0.0.1, reads what the client
// sends first, writes greeting (nil: nothing) and hangs up; it returns its
// address.
func rawServer(t *testing.T, greeting []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Write(greeting)
			c.Close()
		}
	}()
	return ln.Addr().String()
}
