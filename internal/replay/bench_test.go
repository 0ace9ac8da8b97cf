package replay_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/replay"
	"github.com/volleyhq/volley/internal/testserver"
)

// BenchmarkLiveLatencyDuringReplay measures how long a live event takes
// from its ingest to its destination (one at a time: the latency, not the
// throughput) on a node that replays a backlog of failed events to the
// same destination at the same time, against the same node replaying
// nothing. It reports the median and 99th percentile in milliseconds, and
// how many replay attempts started while the live events were measured
// (the replay must really have been running). docs/benchmarks.md has the
// figures and the budget they set.
//
//	go test -run '^$' -bench LiveLatencyDuringReplay -benchtime 300x ./internal/replay
func BenchmarkLiveLatencyDuringReplay(b *testing.B) {
	for _, backlog := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("replaying=%d", backlog), func(b *testing.B) {
			var mu sync.Mutex
			arrived := map[int]chan struct{}{}
			sk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var v struct {
					Live *int `json:"live"`
				}
				if json.Unmarshal(body, &v) == nil && v.Live != nil {
					mu.Lock()
					if ch := arrived[*v.Live]; ch != nil {
						close(ch)
						delete(arrived, *v.Live)
					}
					mu.Unlock()
				}
			}))
			b.Cleanup(sk.Close)
			srv := testserver.Start(b, testserver.Options{Replay: replay.Config{}})
			n := &node{srv: srv, pid: srv.AdminAccount().ProjectID}
			src, dest, conn := n.route(b, "shop", sk.URL)
			var j job
			if backlog > 0 {
				seedFailed(b, srv.Store, n.pid, src, dest, conn, backlog)
				j = n.create(b, map[string]any{"filter": map[string]any{"status": "failed"}})
				eventually(b, time.Minute, func() bool { return srv.Node.ReplayStats().Started > 0 },
					func() string { return "the replay did not start" })
			}
			lat := make([]time.Duration, 0, b.N)
			started := srv.Node.ReplayStats().Started
			b.ResetTimer()
			for i := range b.N {
				ch := make(chan struct{})
				mu.Lock()
				arrived[i] = ch
				mu.Unlock()
				t0 := time.Now()
				ingestLive(b, srv.URL, src.IngestionID, fmt.Sprintf(`{"live":%d}`, i))
				select {
				case <-ch:
				case <-time.After(time.Minute):
					b.Fatalf("live event %d was not delivered within a minute", i)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			during := srv.Node.ReplayStats().Started - started
			if backlog > 0 && n.job(b, j.ID).Status != "running" {
				b.Logf("the replay finished during the measurement: %d replay attempts overlapped it", during)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(during), "replays_during")
		})
	}
}
