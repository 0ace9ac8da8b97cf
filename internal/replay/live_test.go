package replay_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/replay"
)

// TestReplayTenThousandBesideLiveTraffic replays 10,000 failed events to a
// destination that live events keep flowing to, and checks that the live
// ones are never held up by the replay: a first wave of live events is
// delivered while the replay's requests are held in flight at the
// destination (replays take none of the lane's concurrency), a few later
// waves while the job runs, each live event exactly once; and the job replays
// every failed event exactly once. How long live deliveries take meanwhile
// is measured by BenchmarkLiveLatencyDuringReplay (docs/benchmarks.md).
func TestReplayTenThousandBesideLiveTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 10,000 events")
	}
	t.Parallel()
	const total, wave = 10_000, 20
	gate := make(chan struct{})
	n := start(t, replay.Config{Batch: 100})
	sk := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Live") != "" {
			return
		}
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	})
	src, dest, conn := n.route(t, "shop", sk.URL)
	t0 := time.Now()
	ids := seedFailed(t, n.srv.Store, n.pid, src, dest, conn, total)
	t.Logf("seeded in %v", time.Since(t0))
	j := n.create(t, map[string]any{"filter": map[string]any{"status": "failed"}})
	if j.Counts.Matched != total {
		t.Fatalf("matched %d, want %d", j.Counts.Matched, total)
	}
	eventually(t, 30*time.Second, func() bool { return sk.count(`"seeded"`) >= 1 }, func() string { return "no replay started" })

	live, during := 0, 0
	for w := 0; ; w++ {
		for i := range wave {
			ingestLive(t, n.srv.URL, src.IngestionID, fmt.Sprintf(`{"live":%d}`, w*wave+i))
		}
		live += wave
		eventually(t, 30*time.Second, func() bool { return sk.count(`"live"`) >= live },
			func() string {
				return fmt.Sprintf("wave %d: %d of %d live events delivered", w, sk.count(`"live"`), live)
			})
		st := n.job(t, j.ID).Status
		if w == 0 {
			if st != "running" {
				t.Fatalf("the first wave was delivered with the job %s, want running (its replays are held)", st)
			}
			close(gate)
		}
		if st != "running" {
			break
		}
		during++
		if w == 4 {
			break // enough to show it; the rest of the job runs alone
		}
	}
	t.Logf("waves done at %v", time.Since(t0))
	done := n.awaitJob(t, j.ID, "done", 10*time.Minute)
	t.Logf("job done at %v", time.Since(t0))
	if c := done.Counts; c.Processed != total || c.Done != total || c.Failed != 0 {
		t.Fatalf("counts %+v, want %d processed and done", c, total)
	}
	if got := sk.count(`"live"`); got != live {
		t.Errorf("the sink received %d live requests, want %d (each once)", got, live)
	}
	if st := n.srv.Node.ReplayStats(); st.Started != total {
		t.Errorf("replay stats %+v, want %d starts", st, total)
	}
	got := replayAttempts(t, n.srv.Store, ids)
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("event %d replayed %d times, want once", id, got[id])
		}
	}
	t.Logf("%d live events delivered in %d waves while the job ran", live, during)
}

// ingestLive sends a live webhook, marked for the sink by a header the
// destination does not add.
func ingestLive(t testing.TB, baseURL, ingestionID, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/hook/"+ingestionID, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Live", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: status %d", resp.StatusCode)
	}
}
