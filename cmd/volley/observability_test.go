package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTracingEnabled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "TRUE"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "false"}, true},
		{map[string]string{"OTEL_SERVICE_NAME": "volley"}, false},
	} {
		if got := tracingEnabled(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("tracingEnabled(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// otlpSink records the paths of the OTLP requests it receives.
type otlpSink struct {
	mu    sync.Mutex
	paths []string
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (s *otlpSink) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// TestServeMetricsAndTracing runs `volley serve` with the metrics on a
// private address behind a token and tracing to an OTLP endpoint, ingests
// one webhook, and checks the metrics it serves and the spans it exports
// at shutdown.
func TestServeMetricsAndTracing(t *testing.T) {
	dir := t.TempDir()
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	sink := &otlpSink{}
	collector := httptest.NewServer(sink)
	t.Cleanup(collector.Close)
	const token = "vk_obs0000000000000000000000000000000000"
	t.Setenv("VOLLEY_ADMIN_TOKEN", token)
	t.Setenv("VOLLEY_ADMIN_PASSWORD", "")
	t.Setenv("VOLLEY_SECRET_KEY", "")
	t.Setenv("VOLLEY_METRICS_TOKEN", "scrape-me")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SDK_DISABLED", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--metrics-addr", metricsAddr}, io.Discard, &stderr)
	}()
	waitHealthy(t, "http://"+addr)

	call := func(method, url, bearer, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := call("GET", "http://"+addr+"/api/projects", token, "")
	var projects struct{ Projects []struct{ ID uint64 } }
	if err := json.Unmarshal([]byte(body), &projects); status != http.StatusOK || err != nil || len(projects.Projects) == 0 {
		t.Fatalf("list projects: %d %s", status, body)
	}
	status, body = call("POST", fmt.Sprintf("http://%s/api/projects/%d/sources", addr, projects.Projects[0].ID), token, `{"name":"traced"}`)
	var src struct {
		IngestionID string `json:"ingestion_id"`
	}
	if err := json.Unmarshal([]byte(body), &src); status != http.StatusCreated || err != nil {
		t.Fatalf("create source: %d %s", status, body)
	}
	id := src.IngestionID
	if status, body := call("POST", "http://"+addr+"/hook/"+id, "", `{"n":1}`); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", status, body)
	}

	if status, _ := call("GET", "http://"+metricsAddr+"/metrics", "", ""); status != http.StatusUnauthorized {
		t.Errorf("metrics without the token: status %d, want 401", status)
	}
	status, body = call("GET", "http://"+metricsAddr+"/metrics", "scrape-me", "")
	if status != http.StatusOK || !strings.Contains(body, "volley_events_ingested_total 1") {
		t.Errorf("metrics with the token: status %d, body without volley_events_ingested_total 1:\n%s", status, body)
	}
	if status, body := call("GET", "http://"+addr+"/metrics", "scrape-me", ""); strings.Contains(body, "volley_events_ingested_total") {
		t.Errorf("the main listener serves metrics too (status %d)", status)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	// Shutdown flushed the spans of the ingest to the collector.
	if got := sink.received(); len(got) == 0 || got[0] != "/v1/traces" {
		t.Errorf("OTLP collector received %v, want the spans at /v1/traces\n%s", got, stderr.String())
	}
}

func TestServeRejectsBadMetricsConfig(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--metrics-destination-labels", "0"},
		&bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "metrics-destination-labels") {
		t.Errorf("--metrics-destination-labels 0: err = %v", err)
	}
}

// scrapeValue reads the value of an unlabelled metric from a /metrics URL.
func scrapeValue(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %q is not a number", name, v)
			}
			return f
		}
	}
	t.Fatalf("%s has no %s:\n%s", url, name, b)
	return 0
}
