//go:build unix

package ingest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/volleyhq/volley/internal/ingest"
	"github.com/volleyhq/volley/internal/metrics"
	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/testserver"
)

// idleEngine is a delivery engine with no room: ingestion stores every
// delivery unleased, as it does when the engine is full. The benchmark
// measures the ingest path, not delivery.
type idleEngine struct{}

func (idleEngine) Reserve(int) bool                   { return false }
func (idleEngine) Unreserve(int)                      {}
func (idleEngine) Submit([]store.Job)                 {}
func (idleEngine) Wake()                              {}
func (idleEngine) Owner() string                      { return "bench" }
func (idleEngine) LeaseUntil(now time.Time) time.Time { return now }

// BenchmarkIngestInstrumentation runs the whole ingest request path
// (lookup, checks, group commit to SQLite with one fsync per batch) from 8
// goroutines, without instrumentation, with the Prometheus observer, and
// with both the observer and the OpenTelemetry SDK sampling every request.
// The ratio of their ns/op is the cost of instrumentation
// (docs/benchmarks.md).
func BenchmarkIngestInstrumentation(b *testing.B) {
	for _, tc := range []struct {
		name   string
		config func(*ingest.Config)
	}{
		{"plain", func(*ingest.Config) {}},
		{"metrics", func(c *ingest.Config) { c.Observer = metrics.New(metrics.Config{}) }},
		{"metrics+tracing", func(c *ingest.Config) {
			c.Observer = metrics.New(metrics.Config{})
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			b.Cleanup(func() { tp.Shutdown(context.Background()) })
			c.Tracer = tp.Tracer("bench")
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := setupWith(b, testserver.Options{})
			src := n.newSource(b, nil)
			n.connect(b, src.ID, n.newDestination(b, "http://127.0.0.1:1/"), "paused")
			box, err := seal.NewBox(bytes.Repeat([]byte{7}, 32), rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			cfg := ingest.Config{
				Store: n.srv.Store, Sources: routing.New(routing.Config{Store: n.srv.Store, Box: box}), Engine: idleEngine{},
			}
			tc.config(&cfg)
			h := ingest.New(cfg)
			h.Start()
			defer h.Stop()
			mux := http.NewServeMux()
			mux.Handle("/hook/{ingestion_id}", h)
			body := []byte(`{"type":"order.created","id":12345,"amount":1999}`)
			b.SetParallelism(4) // 4 × GOMAXPROCS concurrent requests share commits
			b.ResetTimer()
			// Wall time per request is dominated by fsync and by whatever
			// else the machine runs; the process's CPU time per request is
			// what instrumentation adds to.
			cpu0 := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/hook/"+src.IngestionID, bytes.NewReader(body))
					w := httptest.NewRecorder()
					mux.ServeHTTP(w, req)
					if w.Code != http.StatusAccepted {
						b.Errorf("status %d: %s", w.Code, w.Body)
						return
					}
				}
			})
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Skipf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
