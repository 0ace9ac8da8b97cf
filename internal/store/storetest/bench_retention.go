package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/retention"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// BenchRetention measures a retention pass over old events with one
// delivery and one attempt each and a body of about 1 KiB, as `volley
// bench --scale` builds them (with the body search index filled, on a
// driver that fills it apart), while an ingest of one event every 5 ms
// (200/s) runs. The store gets VOLLEY_BENCH_RETENTION_EVENTS events
// (default 500,000). The pass is a retention.Sweeper's, round after round
// as the server runs them; VOLLEY_BENCH_RETENTION_BATCH sets its Batch
// (default: the Sweeper's). Run it once: -benchtime 1x. It reports events/s (deleted) and, measured
// in the same run for the ratio, ingest-max-events/s (4 writers of
// 16-event batches for 2 s, the way ingestion groups commits), the p99 and
// longest round, and the ingest p50/p99/max, alone first (base-) and
// during the purge, and, where the driver counts them, the share of the
// pass each kind of write held the writer (<kind>-held/pass).
func BenchRetention(b *testing.B, s store.Store) {
	n := EnvInt(b, "VOLLEY_BENCH_RETENTION_EVENTS", 500_000)
	batch := EnvInt(b, "VOLLEY_BENCH_RETENTION_BATCH", 0)
	c := Graph(b, s)
	ctx := context.Background()
	for i := range b.N {
		b.StopTimer()
		OldEvents(b, s, c, n, i)
		IndexAll(b, s)
		// Planner statistics, as autovacuum would soon gather them on
		// PostgreSQL (SQLite's driver has no such method: it refreshes
		// them itself).
		if a, ok := s.(interface{ Analyze(context.Context) error }); ok {
			if err := a.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
		}
		maxRate := ingestRate(b, s, c, 2*time.Second)
		base := ingestDuring(b, s, c, func() { time.Sleep(2 * time.Second) })
		var rounds []time.Duration
		var took time.Duration
		deleted := 0
		held := writerHeld(s)
		during := ingestDuring(b, s, c, func() {
			b.StartTimer()
			start := time.Now()
			sw := retention.New(retention.Config{Store: s, Period: 24 * time.Hour, Batch: batch})
			for {
				t0 := time.Now()
				res, err := sw.Sweep(ctx)
				if err != nil {
					b.Fatal(err)
				}
				rounds = append(rounds, time.Since(t0))
				deleted += res.Deleted
				if res.Done {
					break
				}
			}
			took = time.Since(start)
			b.StopTimer()
		})
		if deleted < n {
			b.Fatalf("the pass deleted %d events, want %d", deleted, n)
		}
		b.ReportMetric(float64(deleted)/took.Seconds(), "events/s")
		// What held the writer meanwhile, as a share of the pass's time.
		for kind, sum := range writerHeld(s) {
			if d := sum - held[kind]; d > 0 {
				b.ReportMetric(d/took.Seconds(), kind+"-held/pass")
			}
		}
		b.ReportMetric(maxRate, "ingest-max-events/s")
		b.ReportMetric(float64(len(rounds)), "rounds")
		slices.Sort(rounds)
		b.ReportMetric(ms(pct(rounds, 99)), "round-p99-ms")
		b.ReportMetric(ms(rounds[len(rounds)-1]), "round-max-ms")
		b.ReportMetric(ms(pct(base, 99)), "base-ingest-p99-ms")
		b.ReportMetric(ms(pct(during, 50)), "ingest-p50-ms")
		b.ReportMetric(ms(pct(during, 99)), "ingest-p99-ms")
		b.ReportMetric(ms(during[len(during)-1]), "ingest-max-ms")
	}
}

// OldEvents stores n events created 60 days ago onwards, oldest first, in
// batches of 2,000, each with one delivery settled with one attempt.
func OldEvents(b testing.TB, s store.Store, c *volley.Connection, n, seq int) {
	ctx := context.Background()
	start := time.Now().Add(-60 * 24 * time.Hour)
	const size = 2000
	for first := 0; first < n; first += size {
		evs := Events(min(size, n-first), 0, c, time.Time{})
		for i := range evs {
			evs[i].Event.Body = benchBody(first + i)
			evs[i].Event.UID = fmt.Sprintf("evt_old_%d_%d", seq, first+i)
			evs[i].Event.CreatedAt = start.Add(time.Duration(first+i) * time.Millisecond)
		}
		res, err := s.EventInsert(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		out := make([]store.Outcome, len(res))
		for i, r := range res {
			at := evs[i].Event.CreatedAt.Add(time.Millisecond)
			out[i] = store.Outcome{DeliveryID: r.DeliveryIDs[0], LeaseToken: 1, EventID: r.ID, State: volley.DeliverySuccess, Now: at,
				ConnectionID: c.ID,
				Attempt: &volley.Attempt{DeliveryID: r.DeliveryIDs[0], EventID: r.ID, EventUID: r.UID, ProjectID: c.ProjectID,
					SourceID: c.SourceID, ConnectionID: c.ID, DestinationID: c.DestinationID, Number: 1,
					Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200, DurationMS: 1,
					ResponseHeaders: http.Header{"Content-Type": {"text/plain"}}, ResponseBody: []byte("ok"), CreatedAt: at}}
		}
		if err := s.DeliveryFinish(ctx, out); err != nil {
			b.Fatal(err)
		}
	}
}

// IndexAll fills the body search index of a driver that fills it apart,
// as its indexer would have long before the events are old.
func IndexAll(b testing.TB, s store.Store) {
	ix, ok := s.(store.SearchIndexer)
	if !ok {
		return
	}
	for {
		res, err := ix.SearchIndex(context.Background(), 2000)
		if err != nil {
			b.Fatal(err)
		}
		if res.Done {
			return
		}
	}
}

// benchBody is the body of old event i: about 1 KiB of JSON like a payment
// provider's invoice.paid, with random ids and amounts and free text, so
// that it compresses and indexes like a real one (internal/bench's
// realisticBody, which this package cannot import, in short).
func benchBody(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0x7265746e))
	words := strings.Fields(`the invoice for your monthly subscription has been paid in full thank you for
		choosing our service plan pro team enterprise starter seats storage bandwidth support priority annual
		renewal discount coupon applied credit balance remaining account customer billing portal update payment
		method card ending receipt available download statement period usage metered api requests overage`)
	id := func(prefix string, n int) string {
		const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		out := []byte(prefix)
		for range n {
			out = append(out, alnum[r.IntN(len(alnum))])
		}
		return string(out)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"id":%q,"object":"event","type":"invoice.paid","created":%d,"data":{"object":{"id":%q,`+
		`"customer":%q,"customer_email":"user%d@example.com","amount_paid":%d,"currency":"usd","lines":[`,
		id("evt_", 24), 1_700_000_000+i, id("in_", 24), id("cus_", 14), r.IntN(1e6), 500+r.IntN(200_000))
	for n := 0; sb.Len() < 900; n++ {
		if n > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%q,"amount":%d,"quantity":%d,"description":"`, id("il_", 24), r.IntN(50_000), 1+r.IntN(9))
		for w := range 6 {
			if w > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[r.IntN(len(words))])
		}
		sb.WriteString(`"}`)
	}
	sb.WriteString(`]}}}`)
	return []byte(sb.String())
}

// ingestDuring ingests one event every 5 ms while work runs and returns
// the sorted latencies of those ingests.
func ingestDuring(b *testing.B, s store.Store, c *volley.Connection, work func()) []time.Duration {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var lat []time.Duration
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			if _, err := s.EventInsert(context.Background(), Events(1, 1<<40+int(t0.UnixNano()%1e12), c, time.Time{})); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t0))
		}
	})
	work()
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		lat = append(lat, 0)
	}
	return lat
}

// ingestRate returns how many events per second 4 writers of 16-event
// batches store for d.
func ingestRate(b *testing.B, s store.Store, c *volley.Connection, d time.Duration) float64 {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	end := time.Now().Add(d)
	for w := range 4 {
		wg.Go(func() {
			n := 0
			for seq := 1 << 30 * (w + 1); time.Now().Before(end); seq++ {
				if _, err := s.EventInsert(context.Background(), Events(16, seq, c, time.Time{})); err != nil {
					b.Error(err)
					return
				}
				n += 16
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(total) / d.Seconds()
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// EnvInt reads a benchmark's size from the environment variable name, def
// when it is unset; anything but a positive number fails the benchmark.
func EnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// writerHeld returns how long each kind of write has held the store's
// writer, in seconds, if the driver counts it (store.WriterStats).
func writerHeld(s store.Store) map[string]float64 {
	ws, ok := s.(store.WriterStats)
	if !ok {
		return nil
	}
	out := map[string]float64{}
	for _, st := range ws.WriterStats() {
		out[st.Kind] = st.Hold.Sum
	}
	return out
}
