package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHealth(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	t.Setenv("VOLLEY_ADDR", strings.TrimPrefix(srv.URL, "http://"))
	var out bytes.Buffer
	if err := run(context.Background(), []string{"health"}, &out, &out); err != nil {
		t.Fatalf("health on a ready server: %v", err)
	}
	ready.Store(false)
	err := run(context.Background(), []string{"health", "--url", srv.URL + "/readyz"}, &out, &out)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "store unreachable") {
		t.Errorf("health on an unready server: %v", err)
	}
	for addr, want := range map[string]string{"0.0.0.0:8080": "127.0.0.1:8080", "[::]:9000": "127.0.0.1:9000", "10.0.0.5:80": "10.0.0.5:80"} {
		if got := localAddr(addr); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", addr, got, want)
		}
	}
}
