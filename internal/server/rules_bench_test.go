package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

// benchConnections is how many connections the routing-rule benchmark's
// source has, each to its own destination.
const benchConnections = 4

// benchBatch is how many events one iteration ingests and waits for.
const benchBatch = 200

// BenchmarkRoutingRules measures end-to-end delivery rate (deliveries per
// second, from the first ingest of a batch to the last request reaching
// the sink) for a source with benchConnections connections and, on each
// connection, nothing, a filter (which every event passes), or a
// transformation (which rewrites body and headers). docs/benchmarks.md
// reports them as ratios of the rate without either.
//
//	go test -run '^$' -bench RoutingRules -benchtime 10x ./internal/server
func BenchmarkRoutingRules(b *testing.B) {
	for _, tc := range []struct {
		name  string
		rules func(t testing.TB, s *testserver.Server, pid uint64) map[string]any
	}{
		{"plain", func(testing.TB, *testserver.Server, uint64) map[string]any { return nil }},
		{"filter", func(testing.TB, *testserver.Server, uint64) map[string]any {
			return map[string]any{"filter": map[string]any{
				"body":    map[string]any{"type": map[string]any{"$startsWith": "order."}, "amount": map[string]any{"$gte": 10}, "tags": "vip"},
				"headers": map[string]any{"x-shop": map[string]any{"$in": []string{"eu-1", "eu-2"}}}}}
		}},
		{"transformation", func(t testing.TB, s *testserver.Server, pid uint64) map[string]any {
			resp := benchCall(t, s, "POST", fmt.Sprintf("/api/projects/%d/transformations", pid), map[string]any{"name": "t",
				"code": `(r) => { r.body.cents = Math.round(r.body.amount * 100); r.headers["x-seen"] = "1"; return r }`})
			return map[string]any{"transformation_id": idIn(t, resp, "transformation")}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var got atomic.Int64
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				got.Add(1)
			}))
			defer sink.Close()
			s := testserver.Start(b, testserver.Options{})
			pid := idIn(b, benchCall(b, s, "POST", "/api/projects", map[string]any{"name": "Bench"}), "project")
			src := benchCall(b, s, "POST", fmt.Sprintf("/api/projects/%d/sources", pid), map[string]any{"name": "shop"})
			var source struct {
				ID          uint64 `json:"id"`
				IngestionID string `json:"ingestion_id"`
			}
			src.JSON(b, &source)
			rules := tc.rules(b, s, pid)
			for i := range benchConnections {
				dst := idIn(b, benchCall(b, s, "POST", fmt.Sprintf("/api/projects/%d/destinations", pid),
					map[string]any{"name": fmt.Sprint("d", i), "url": sink.URL}), "destination")
				body := map[string]any{"source_id": source.ID, "destination_id": dst}
				for k, v := range rules {
					body[k] = v
				}
				benchCall(b, s, "POST", fmt.Sprintf("/api/projects/%d/connections", pid), body)
			}
			event := `{"type":"order.created","amount":125.5,"tags":["eu","vip"],"customer":{"id":"cus_1","email":"a@example.com"}}`
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			var want int64
			b.ResetTimer()
			for b.Loop() {
				want += benchBatch * benchConnections
				postAll(b, client, s.URL+"/hook/"+source.IngestionID, event, benchBatch)
				deadline := time.Now().Add(time.Minute)
				for got.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d deliveries after a minute", got.Load(), want)
					}
					time.Sleep(time.Millisecond)
				}
			}
			b.ReportMetric(float64(want)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// postAll ingests n copies of body with 8 concurrent clients.
func postAll(b *testing.B, client *http.Client, url, body string, n int) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Shop", "eu-1")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("ingest = %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
}

func benchCall(t testing.TB, s *testserver.Server, method, path string, body any) *testserver.Response {
	t.Helper()
	resp := s.Do(t, testserver.Request{Method: method, Path: path, Token: testserver.AdminToken, Body: body})
	if resp.Status >= 300 {
		t.Fatalf("%s %s = %d %s", method, path, resp.Status, resp.Body)
	}
	return resp
}

func idIn(t testing.TB, resp *testserver.Response, key string) uint64 {
	t.Helper()
	var v map[string]json.RawMessage
	resp.JSON(t, &v)
	var obj struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal(v[key], &obj); err != nil || obj.ID == 0 {
		t.Fatalf("no %s id in %s", key, resp.Body)
	}
	return obj.ID
}
