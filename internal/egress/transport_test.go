package egress

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// setup starts a test server on 127.0.0.1 and returns it with a client
// built the way the delivery engine builds one.
func setup(t *testing.T, h http.Handler, p *Policy) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	tr := NewTransport(p, TransportConfig{})
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr, CheckRedirect: NoRedirect, Timeout: 10 * time.Second}
}

func TestTransportDialsAllowedLoopback(t *testing.T) {
	t.Parallel()
	srv, client := setup(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), NewPolicy(DefaultAllow()))
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s: %v", srv.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("GET %s = %d %q, want 200 ok", srv.URL, resp.StatusCode, body)
	}
}

func TestTransportRefusesLoopbackWithoutAllowList(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv, client := setup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		hits.Add(1)
	}), NewPolicy(nil))
	resp, err := client.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s succeeded, want it blocked", srv.URL)
	}
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("GET %s: %v does not wrap ErrBlocked", srv.URL, err)
	}
	var uerr *url.Error
	var operr *net.OpError
	if !errors.As(err, &uerr) || !errors.As(err, &operr) || operr.Op != "dial" {
		t.Fatalf("GET %s: %#v, want *url.Error wrapping a dial *net.OpError", srv.URL, err)
	}
	if hits.Load() != 0 {
		t.Fatalf("server saw %d requests, want none", hits.Load())
	}
}

func TestNoRedirect(t *testing.T) {
	t.Parallel()
	var targetHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/target", http.StatusFound)
	})
	mux.HandleFunc("/target", func(w http.ResponseWriter, _ *http.Request) {
		targetHits.Add(1)
		_, _ = io.WriteString(w, "target")
	})
	srv, client := setup(t, mux, NewPolicy(DefaultAllow()))
	resp, err := client.Post(srv.URL+"/hook", "application/json", nil)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/target" {
		t.Fatalf("POST = %d Location %q, want 302 to /target", resp.StatusCode, resp.Header.Get("Location"))
	}
	if targetHits.Load() != 0 {
		t.Fatalf("redirect target was requested %d times, want 0", targetHits.Load())
	}
}

func TestControl(t *testing.T) {
	t.Parallel()
	p := NewPolicy(DefaultAllow())
	tests := []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "127.0.0.1:8080", true},
		{"tcp6", "[::1]:443", true},
		{"tcp4", "93.184.216.34:443", true},
		{"tcp6", "[2606:2800:220:1:248:1893:25c8:1946]:443", true},
		{"tcp4", "10.0.0.1:80", false},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp6", "[::ffff:169.254.169.254]:80", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"tcp6", "[64:ff9b::a9fe:a9fe]:80", false},
		{"tcp4", "0.0.0.0:80", false},
		{"unix", "/var/run/docker.sock", false},
		{"tcp", "example.com:80", false},
		{"tcp", "", false},
	}
	for _, tt := range tests {
		err := p.Control(tt.network, tt.address, nil)
		if tt.ok && err != nil {
			t.Errorf("Control(%s, %s) = %v, want nil", tt.network, tt.address, err)
		}
		if !tt.ok && !errors.Is(err, ErrBlocked) {
			t.Errorf("Control(%s, %s) = %v, want ErrBlocked", tt.network, tt.address, err)
		}
	}
}

func TestNewTransportSettings(t *testing.T) {
	t.Parallel()
	p := NewPolicy(DefaultAllow())
	tests := []struct {
		cfg         TransportConfig
		wantPerHost int
	}{
		{TransportConfig{}, 256},
		{TransportConfig{DialTimeout: -1, MaxIdleConnsPerHost: -1}, 256},
		{TransportConfig{DialTimeout: time.Second, MaxIdleConnsPerHost: 32}, 32},
	}
	for _, tt := range tests {
		tr := NewTransport(p, tt.cfg)
		if tr.Proxy != nil {
			t.Errorf("%+v: Proxy is set; an environment proxy would bypass the policy", tt.cfg)
		}
		if tr.DialContext == nil || !tr.ForceAttemptHTTP2 {
			t.Errorf("%+v: DialContext %v, ForceAttemptHTTP2 %v", tt.cfg, tr.DialContext != nil, tr.ForceAttemptHTTP2)
		}
		if tr.MaxIdleConnsPerHost != tt.wantPerHost || tr.TLSHandshakeTimeout != 10*time.Second || tr.IdleConnTimeout != 90*time.Second {
			t.Errorf("%+v: per-host %d, TLS %v, idle %v", tt.cfg, tr.MaxIdleConnsPerHost, tr.TLSHandshakeTimeout, tr.IdleConnTimeout)
		}
	}
	if err := NoRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("NoRedirect = %v, want http.ErrUseLastResponse", err)
	}
}
