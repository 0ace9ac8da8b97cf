package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// sampleReport is a report of a finished run.
func sampleReport() *scaleReport {
	return &scaleReport{
		store: "SQLite", events: 1000, backlog: 500, clients: 16, probeRate: 200, runs: 5, build: 2 * time.Second,
		emptyIngest: stats{perSecond: 5000, p50: time.Millisecond, p99: 4 * time.Millisecond},
		bigIngest:   stats{perSecond: 4000, p50: 2 * time.Millisecond, p99: 8 * time.Millisecond},
		turns:       sampleTurns(),
		puts:        []statusPut{{"enabled", 12 * time.Millisecond}, {"paused", 30 * time.Millisecond}},
		pauseProbe:  probeStats{sent: 10, accepted: 10, p50: time.Millisecond, p99: 3 * time.Millisecond, max: 3 * time.Millisecond},
		burst:       drainResult{target: 1000, delivered: 1000, deliveredTook: time.Second, recordedTook: time.Second},
		drain: drainResult{before: 100, target: 600, delivered: 600, deliveredTook: 2 * time.Second, recordedTook: 4 * time.Second,
			probe: probeStats{sent: 400, accepted: 400, p50: time.Millisecond, p99: 20 * time.Millisecond, max: 30 * time.Millisecond}},
		purge: purgeResult{expired: 800, took: 4 * time.Second, pollSlowest: 35 * time.Millisecond},
		lists: []listTiming{
			{listQuery{"requests, default", "/x"}, queryTiming{median: 2 * time.Millisecond, p99: 5 * time.Millisecond, runs: 5, total: 10000, estimate: true}},
			{listQuery{"event detail", "/y"}, queryTiming{median: time.Millisecond, p99: time.Millisecond, runs: 5, total: -1}},
			{listQuery{"requests?search= body text", "/z"}, queryTiming{median: 31 * time.Second, p99: 32 * time.Second, runs: 2, total: 3}},
		},
		sizeBuilt: 2 << 20, sizeDrained: 3 << 20, sizePurged: 1 << 20, sizeSettled: 1 << 19, settleTook: 12 * time.Second, eventsDrained: 1024,
		rss:        []rssStep{{"ingest, empty store", 30}, {"drain", 61}},
		buildPages: &store.PageMemory{Slots: 100, Used: 40, UsedMax: 90, OverflowBytes: 8192},
	}
}

// sampleTurns is two rounds of ingest in turns whose rates differ by the
// round: the ratio is taken over their sums.
func sampleTurns() turnsResult {
	t := turnsResult{each: 5 * time.Second}
	t.add(stats{n: 5000, elapsed: time.Second, perSecond: 5000}, stats{n: 4000, elapsed: time.Second, perSecond: 4000})
	t.add(stats{n: 3000, elapsed: time.Second, perSecond: 3000, errors: 1}, stats{n: 3000, elapsed: time.Second, perSecond: 3000})
	return t
}

func TestScaleReportRender(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	sampleReport().render(&out)
	got := out.String()
	for _, want := range []string{
		"| What | SQLite, 1000 events | target (issue 8) |\n|---|---|---|\n",
		"| build (store API, 5000 events a batch) | 1000 events in 2.0 s: 500/s; SQLite's page buffer: 90 of 100 slots used at most (40 now), 8192 bytes beyond it now | 10M in reasonable time |",
		"| ingest, 16 clients, empty store | 5000/s, p50 1.0 ms, p99 4.0 ms, 0 errors |  |",
		"| ingest, 16 clients, 1000 events | 4000/s, p50 2.0 ms, p99 8.0 ms, 0 errors (80 % of the empty store's rate) | see the next row |",
		"| ingest in turns, 16 clients: 1000 events / a new empty store | big store 3500/s, empty store 4000/s: **88 %** (2 rounds of 5s on each; rounds: big 4000, 3000, empty 5000, 3000; 1 errors) | ≥ 80 % of the empty store's |",
		"| `PUT` connection enabled / paused, 500 held; ingest at 200/s meanwhile | slowest 30 ms (enabled 12 ms, paused 30 ms); probe p50 1.0 ms, p99 3.0 ms",
		"| burst drain, empty store (the events its ingest left held) | 1000 deliveries/s: 1000 events delivered in 1.0 s, every attempt recorded after 1.0 s (1000/s) | the drain's reference |",
		"| backlog drain; ingest at 200/s meanwhile | 250 deliveries/s: 500 events delivered in 2.0 s, every attempt recorded after 4.0 s (125/s); probe p50 1.0 ms, p99 20.0 ms, max 30.0 ms; 400 sent, 0 timeouts, 0 errors (25 % of the empty store's burst) | ≥ 5,000/s (SQLite), ≥ 3,000/s (PostgreSQL), ≥ 70 % of the empty store's burst; probe p99 < 25 ms, 0 timeouts |",
		"| retention purge (33.6 h kept of the 7 days built); ingest at 200/s meanwhile | 200 events deleted/s: 800 expired events gone 4.0 s after",
		"; progress list `requests?end_time=` slowest 35 ms |",
		"| `requests, default` | p50 2.0 ms, p99 5.0 ms (total >10000) | p99 < 50 ms |",
		"| `event detail` | p50 1.0 ms, p99 1.0 ms | p99 < 50 ms |",
		"| `requests?search= body text` | p50 31000.0 ms, p99 32000.0 ms (2 runs) (total 3) | p99 < 200 ms |",
		"| store size | built: 2.05 KiB per event (2.0 MiB for 1000 events); after the drain: 3.00 KiB per event (3.0 MiB for 1024 events); after the purge: 1.0 MiB, 0.5 MiB 12 s later | ≤ 0.8 KiB per event |",
		"| peak RSS of the node | ingest, empty store 30 MiB; drain 61 MiB | < 200 MiB |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 2+len(sampleReport().rows()) {
		t.Errorf("table has %d lines, want a header and %d rows:\n%s", n, len(sampleReport().rows()), got)
	}
}

// TestScaleReportIncomplete: a drain or purge that gave up says INCOMPLETE
// with the counts reached, and no rate of work that did not finish.
func TestScaleReportIncomplete(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	rep.burst = drainResult{target: 1000, delivered: 400, pending: 600, gaveUp: 10 * time.Second, timeout: 10 * time.Second}
	rep.drain = drainResult{before: 100, target: 600, delivered: 350, deliveredTook: 0, pending: 250, gaveUp: 10 * time.Second, timeout: 10 * time.Second}
	rep.purge = purgeResult{expired: 800, left: 300, gaveUp: 10 * time.Second, timeout: 10 * time.Second,
		pollSlowest: 30 * time.Second, pollFailed: 2, pollErr: "context deadline exceeded"}
	if rep.drain.complete() || rep.purge.complete() {
		t.Fatal("gave-up steps count as complete")
	}
	var out strings.Builder
	rep.render(&out)
	got := out.String()
	for _, want := range []string{
		"INCOMPLETE: gave up after 10s: 350 of 600 events at the sink (25/s), 250 deliveries still pending",
		"INCOMPLETE: gave up after 10s: 400 of 1000 events at the sink (40/s), 600 deliveries still pending |",
		"INCOMPLETE: gave up after 10s with 300 of 800 expired events still listed",
		"; progress list `requests?end_time=` slowest 30000 ms, 2 failed (last: context deadline exceeded) |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if got := (turnsResult{}).text(); got != "not measured" {
		t.Errorf("no rounds in turns: %q, want \"not measured\"", got)
	}
	for _, bad := range []string{"deliveries/s", "deleted/s", "every attempt recorded", "of the empty store's burst)"} {
		if strings.Contains(got, bad) {
			t.Errorf("table has %q:\n%s", bad, got)
		}
	}
}

// TestScaleReportEscapesPipes: a figure never breaks the Markdown table.
func TestScaleReportEscapesPipes(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	rep.rss = []rssStep{{"a|b", 1}}
	var out strings.Builder
	rep.render(&out)
	if !strings.Contains(out.String(), `a\|b 1 MiB | < 200 MiB |`) {
		t.Errorf("pipe not escaped:\n%s", out.String())
	}
}

// TestCommitTarget: the scale run's header names the node's ingest commit
// target from the bench's own settings over its environment.
func TestCommitTarget(t *testing.T) {
	t.Setenv("VOLLEY_INGEST_COMMIT_TARGET", "")
	if got := commitTarget(nil); got != "25ms (default)" {
		t.Errorf("unset: %q, want the default", got)
	}
	t.Setenv("VOLLEY_INGEST_COMMIT_TARGET", "0")
	if got := commitTarget(nil); got != "0" {
		t.Errorf("environment 0: %q", got)
	}
	if got := commitTarget([]string{"VOLLEY_LOG_LEVEL=warn", "VOLLEY_INGEST_COMMIT_TARGET=25ms"}); got != "25ms" {
		t.Errorf("bench setting over environment: %q", got)
	}
}

// fakeSettleClock is a settleClock whose time moves only when settledSize
// sleeps.
func fakeSettleClock() settleClock {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	return settleClock{
		now:   func() time.Time { return now },
		sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil },
	}
}

// TestSettledSize: a file that stops shrinking is read until it has stayed
// put for settleQuiet; one that keeps shrinking ends the wait at its bound,
// which the report and its table say.
func TestSettledSize(t *testing.T) {
	t.Parallel()
	t.Run("settles", func(t *testing.T) {
		size := int64(10 << 20)
		shrinksThrice := func(context.Context) (int64, error) {
			if size > 7<<20 {
				size -= 1 << 20
			}
			return size, nil
		}
		got, took, unsettled, err := settledSize(t.Context(), fakeSettleClock(), shrinksThrice, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// The first read shrinks to 9 MiB, the reads after 1 s and 2 s to
		// 8 and 7 MiB; then it stays put.
		if got != 7<<20 || took != 2*time.Second || unsettled {
			t.Errorf("got %d bytes, last shrank after %v, unsettled %v; want %d, 2s, false", got, took, unsettled, 7<<20)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		size := int64(1 << 30)
		shrinking := func(context.Context) (int64, error) { size -= 1 << 20; return size, nil }
		got, took, unsettled, err := settledSize(t.Context(), fakeSettleClock(), shrinking, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got != size || took != 2*time.Second || !unsettled {
			t.Errorf("got %d bytes, last shrank after %v, unsettled %v; want the last read %d, 2s, true", got, took, unsettled, size)
		}
		r := sampleReport()
		r.stillShrinking = unsettled
		var out strings.Builder
		r.render(&out)
		if want := "after the purge: 1.0 MiB, 0.5 MiB 12 s later (still shrinking when the wait ended) |"; !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	})
}

// TestListTarget: each list row gets issue 8's target for it.
func TestListTarget(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"requests, default":               targetList,
		"requests?search= body text":      targetSearch,
		"requests, deep page by offset":   targetOffset,
		"requests, deep page by cursor":   targetList,
		"delivery-attempts?status=failed": targetList,
	} {
		if got := listTarget(name); got != want {
			t.Errorf("listTarget(%q) = %q, want %q", name, got, want)
		}
	}
}
