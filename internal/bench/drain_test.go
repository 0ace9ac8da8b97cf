package bench

import (
	"context"
	"flag"
	"io"
	"os"
	"testing"
)

var (
	drainBacklog  = flag.Int("drain.backlog", 200000, "deliveries in BenchmarkDrain's big backlog")
	drainBurst    = flag.Int("drain.burst", 20000, "deliveries in BenchmarkDrain's small burst")
	drainDatabase = flag.String("drain.database", "", "PostgreSQL URL for BenchmarkDrain; empty uses SQLite")
)

// TestDrain runs the drain measurement at a small size: every delivery of
// both phases must reach the sink once and be recorded.
func TestDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	for name, db := range map[string]string{"sqlite": "", "postgres": os.Getenv("VOLLEY_TEST_DATABASE_URL")} {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" && db == "" {
				t.Skip("VOLLEY_TEST_DATABASE_URL is not set")
			}
			res, err := RunDrain(context.Background(), DrainConfig{Backlog: 2500, Burst: 300, Searches: 2, Database: db}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []DrainPhase{res.Burst, res.Backlog} {
				if p.Requests != p.Deliveries || p.RecordedTook < p.DeliveredTook || p.PeakRSSMiB <= 0 {
					t.Errorf("phase %+v: want one request per delivery, recorded after delivered, a peak RSS", p)
				}
			}
			if res.SearchesMatched == 0 {
				t.Errorf("the body searches matched nothing")
			}
		})
	}
}

// BenchmarkDrain reports the drain rates of a burst and of a big backlog
// measured in the same run, and the node's memory. Run once:
//
//	go test -run '^$' -bench Drain -benchtime 1x ./internal/bench -drain.backlog 500000
func BenchmarkDrain(b *testing.B) {
	for range b.N {
		res, err := RunDrain(context.Background(), DrainConfig{Backlog: *drainBacklog, Burst: *drainBurst, Database: *drainDatabase}, os.Stdout)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Burst.Rate(), "burst/s")
		b.ReportMetric(res.Backlog.Rate(), "backlog/s")
		b.ReportMetric(100*res.Ratio(), "ratio%")
		b.ReportMetric(res.Burst.CPUPerDelivery(), "burstCPU_µs")
		b.ReportMetric(res.Backlog.CPUPerDelivery(), "backlogCPU_µs")
		b.ReportMetric(res.Backlog.PeakRSSMiB, "peakRSS_MiB")
		b.ReportMetric(res.SearchRSSMiB, "searchRSS_MiB")
	}
}
