package bench

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkKeptPurge measures a retention purge, with ingest at 200/s
// beside it, on copies of one kept SQLite store of the scale run's kind,
// by each of several `volley` binaries in turn: an A/B of two versions on
// the same store, on the machine at the same hour. It needs
// VOLLEY_BENCH_KEPT_DIR, where the store is built once (as `volley bench
// --scale` builds its big store; VOLLEY_BENCH_KEPT_EVENTS events, default
// 2,000,000, half of the newest held) and kept. VOLLEY_BENCH_EXES lists
// the binaries, comma-separated: A, B, … in the metrics (default: one
// built from this tree); a binary of a newer schema migrates its copy as
// it starts, before the measure. Each run copies the store, flushes it to disk (a copy's dirty
// pages made every fsync of the node wait seconds), starts a node with a
// retention period that 80 % of the events are past, and for
// VOLLEY_BENCH_FOR (default 60s) measures how fast the oldest event id
// moves (events deleted a second; the held backlog, the newest half, is
// kept) and the probe's latencies. A round runs each binary once, in
// turn; -count N runs N rounds:
//
//	VOLLEY_BENCH_KEPT_DIR=/var/tmp/kept2m VOLLEY_BENCH_EXES=/tmp/volley-a,/tmp/volley-b \
//	    go test -run '^$' -bench BenchmarkKeptPurge -benchtime 1x -count 2 -timeout 60m ./internal/bench
func BenchmarkKeptPurge(b *testing.B) {
	dir, exes := keptSetup(b)
	measure := keptDuration(b, "VOLLEY_BENCH_FOR", time.Minute)
	// Each round runs every binary in turn, so that -count alternates
	// them (sub-benchmarks would run each -count times in a row).
	for b.Loop() {
		for i, exe := range exes {
			rate, st, err := keptPurge(b, dir, exe, measure)
			if err != nil {
				b.Fatal(err)
			}
			tag := string(rune('A' + i))
			b.ReportMetric(rate, tag+"-deleted/s")
			b.ReportMetric(float64(st.p99)/float64(time.Millisecond), tag+"-probe-p99-ms")
			b.Logf("%s %s: %.0f events deleted/s; probe %s", tag, exe, rate, st)
		}
	}
}

// BenchmarkKeptIngest is BenchmarkKeptPurge's A/B for ingest: each binary
// in turn on a copy of the kept store (no retention due), 16 clients for
// 10 s, as `volley bench --scale` measures ingest on its big store:
//
//	VOLLEY_BENCH_KEPT_DIR=/var/tmp/kept2m VOLLEY_BENCH_EXES=/tmp/volley-a,/tmp/volley-b \
//	    go test -run '^$' -bench BenchmarkKeptIngest -benchtime 1x -count 3 -timeout 60m ./internal/bench
func BenchmarkKeptIngest(b *testing.B) {
	dir, exes := keptSetup(b)
	for b.Loop() {
		for i, exe := range exes {
			n, hook, _, err := keptNode(b, dir, exe)
			if err != nil {
				b.Fatal(err)
			}
			before, err := scrapeWriter(b.Context(), n.url)
			if err != nil {
				b.Fatal(err)
			}
			st := hammer(b.Context(), []string{hook}, 16, 10*time.Second, realisticBody(-1, 1024), 202)
			after, err := scrapeWriter(b.Context(), n.url)
			n.stop()
			if err != nil {
				b.Fatal(err)
			}
			tag := string(rune('A' + i))
			b.ReportMetric(float64(st.n)/10, tag+"-req/s")
			b.ReportMetric(float64(st.p99)/float64(time.Millisecond), tag+"-p99-ms")
			b.Logf("%s %s: %s; the writer: %s", tag, exe, st, after.since(before))
		}
	}
}

// BenchmarkKeptSize logs dbstat's bytes per event of each table and index
// of the kept store (built first if it is not there), and reports the
// file's:
//
//	VOLLEY_BENCH_KEPT_DIR=/var/tmp/kept2m go test -run '^$' -bench BenchmarkKeptSize -benchtime 1x -v ./internal/bench
func BenchmarkKeptSize(b *testing.B) {
	dir, events := keptDir(b)
	for b.Loop() {
		b.ReportMetric(logStoreSize(b, filepath.Join(dir, "volley.db"), events), "bytes/event")
	}
}

// keptDir returns the kept store's directory and its number of events,
// building the store there if needed.
func keptDir(b *testing.B) (dir string, events int) {
	dir = os.Getenv("VOLLEY_BENCH_KEPT_DIR")
	if dir == "" {
		b.Skip("VOLLEY_BENCH_KEPT_DIR is not set: no kept store")
	}
	events = storetest.EnvInt(b, "VOLLEY_BENCH_KEPT_EVENTS", 2_000_000)
	if err := keptStore(b.Context(), dir, events); err != nil {
		b.Fatal(err)
	}
	return dir, events
}

// keptSetup returns the kept store's directory, building the store there
// if needed, and the binaries to compare.
func keptSetup(b *testing.B) (dir string, exes []string) {
	dir, _ = keptDir(b)
	exes = strings.Split(os.Getenv("VOLLEY_BENCH_EXES"), ",")
	if exes[0] == "" {
		exe := filepath.Join(b.TempDir(), "volley")
		if out, err := exec.Command("go", "build", "-o", exe, "github.com/volleyhq/volley/cmd/volley").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		exes = []string{exe}
	}
	return dir, exes
}

// keptStore builds in dir, unless it is there, a store of n events of 1
// KiB bodies on one source as the scale run's big store (scaleKind,
// trained dictionary, search index filled), n/2 of the newest held by the
// paused connection.
func keptStore(ctx context.Context, dir string, n int) (err error) {
	path := filepath.Join(dir, "volley.db")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sk, err := startSink()
	if err != nil {
		return err
	}
	defer sk.close()
	ls := &listStore{exclusive: true, open: func(ctx context.Context) (store.Store, error) {
		return storesqlite.Open(ctx, storesqlite.Config{Path: path})
	}}
	r := &scaleRun{cfg: Config{Scale: n, Backlog: n / 2, BodySize: 1024}, sink: sk}
	var g *graph
	return prepareStore(ctx, ls, make([]byte, 32), r.scaleGraph(&g), func(ctx context.Context, st store.Store) error {
		_, err := r.fillBig(ctx, st, g, 0)
		return err
	})
}

// keptNode starts a node of exe on a copy of the kept store in dir,
// flushed to disk first, with extra environment; it stops at the end of
// the benchmark. It returns the node, the source's ingestion URL and the
// copy's directory.
func keptNode(b *testing.B, dir, exe string, extra ...string) (n *node, hook, work string, err error) {
	ctx := b.Context()
	work = b.TempDir()
	if out, err := exec.Command("cp", filepath.Join(dir, "volley.db"), work).CombinedOutput(); err != nil {
		return nil, "", "", fmt.Errorf("copy the kept store: %v: %s", err, out)
	}
	if err := exec.Command("sync").Run(); err != nil {
		return nil, "", "", fmt.Errorf("sync: %w", err)
	}
	log, err := os.Create(filepath.Join(work, "node.log"))
	if err != nil {
		return nil, "", "", err
	}
	b.Cleanup(func() { log.Close() })
	env := append([]string{"VOLLEY_ADMIN_TOKEN=" + benchToken, "VOLLEY_SECRET_KEY=" + hex.EncodeToString(make([]byte, 32)),
		"VOLLEY_LOG_LEVEL=warn", "VOLLEY_DATA_DIR=" + work}, extra...)
	if n, err = startNode(ctx, exe, env, log); err != nil {
		return nil, "", "", err
	}
	b.Cleanup(n.stop)
	api := volley.NewClient(benchToken, volley.WithBaseURL(n.url))
	projects, err := api.ListProjectsContext(ctx)
	if err != nil {
		return nil, "", "", err
	}
	srcs, err := api.ListSourcesContext(ctx, projects[0].ID)
	if err != nil {
		return nil, "", "", err
	}
	return n, n.url + "/hook/" + srcs[0].IngestionID, work, nil
}

// keptPurge runs one purge of a copy of the kept store in dir by exe: the
// rate at which the oldest event id moved over measure, and the probe's.
func keptPurge(b *testing.B, dir, exe string, measure time.Duration) (float64, probeStats, error) {
	ctx := b.Context()
	n, hook, work, err := keptNode(b, dir, exe, "VOLLEY_RETENTION="+scaleRetention.String())
	if err != nil {
		return 0, probeStats{}, err
	}
	defer n.stop()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(work, "volley.db")+"?mode=ro")
	if err != nil {
		return 0, probeStats{}, err
	}
	defer db.Close()
	oldest := func() (id int64, err error) {
		err = db.QueryRowContext(ctx, `SELECT min(id) FROM events`).Scan(&id)
		return id, err
	}
	var accepted atomic.Int64
	p := startProbe(ctx, hook, 200, realisticBody(-1, 1024), &accepted)
	first, err := oldest()
	if err != nil {
		p.finish()
		return 0, probeStats{}, err
	}
	start := time.Now()
	if err := sleepCtx(ctx, measure); err != nil {
		p.finish()
		return 0, probeStats{}, err
	}
	last, err := oldest()
	took := time.Since(start)
	st := p.finish()
	return float64(last-first) / took.Seconds(), st, err
}

// BenchmarkKeptDrain is BenchmarkKeptPurge's A/B for a backlog drain: each
// binary in turn on a copy of the kept store, whose destination is pointed
// at a fresh sink and whose connection is then enabled, with ingest at
// 200/s beside it; it measures the events that reach the sink over
// VOLLEY_BENCH_FOR (default 60s) from the PUT, or from VOLLEY_BENCH_SKIP
// after it (to leave out the start of a drain: versions before 2026-12-05
// evening had the sweeper release the held backlog first, a share of the
// node that the rest of a long drain did not pay), and the probe. With VOLLEY_BENCH_PROFILE set to a directory, a 30 s CPU
// profile of each node from the tenth second of the measure on is written
// there (<tag>-<round>.pprof):
//
//	VOLLEY_BENCH_KEPT_DIR=/var/tmp/kept2m VOLLEY_BENCH_EXES=/tmp/volley-a,/tmp/volley-b \
//	    go test -run '^$' -bench BenchmarkKeptDrain -benchtime 1x -count 2 -timeout 60m ./internal/bench
func BenchmarkKeptDrain(b *testing.B) {
	dir, exes := keptSetup(b)
	w := drainWindow{skip: keptDuration(b, "VOLLEY_BENCH_SKIP", 0), measure: keptDuration(b, "VOLLEY_BENCH_FOR", time.Minute)}
	round := 0
	for b.Loop() {
		round++
		for i, exe := range exes {
			tag := string(rune('A' + i))
			profile := ""
			if d := os.Getenv("VOLLEY_BENCH_PROFILE"); d != "" {
				profile = filepath.Join(d, fmt.Sprintf("%s-%d.pprof", tag, round))
			}
			rate, st, writer, err := keptDrain(b, dir, exe, w, profile)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rate, tag+"-delivered/s")
			b.ReportMetric(float64(st.p99)/float64(time.Millisecond), tag+"-probe-p99-ms")
			b.Logf("%s %s: %.0f events delivered/s; probe %s; the writer: %s", tag, exe, rate, st, writer)
		}
	}
}

// keptDuration is the duration in the environment variable name, def when
// it is unset.
func keptDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return d
}

// drainWindow is the part of a drain keptDrain measures: measure long,
// from skip after the PUT.
type drainWindow struct{ skip, measure time.Duration }

// keptDrain runs one drain of a copy of the kept store in dir by exe over
// the window w: the events delivered a second, the probe's latencies and
// what the writer did.
func keptDrain(b *testing.B, dir, exe string, w drainWindow, profile string) (float64, probeStats, string, error) {
	ctx := b.Context()
	var extra []string
	pprofAddr := ""
	if profile != "" {
		var err error
		if pprofAddr, err = freeAddr(); err != nil {
			return 0, probeStats{}, "", err
		}
		extra = append(extra, "VOLLEY_PPROF_ADDR="+pprofAddr)
	}
	n, hook, _, err := keptNode(b, dir, exe, extra...)
	if err != nil {
		return 0, probeStats{}, "", err
	}
	defer n.stop()
	sk, err := startSink()
	if err != nil {
		return 0, probeStats{}, "", err
	}
	defer sk.close()
	api := volley.NewClient(benchToken, volley.WithBaseURL(n.url))
	connID, err := keptPointAt(ctx, api, sk.url)
	if err != nil {
		return 0, probeStats{}, "", err
	}
	var accepted atomic.Int64
	p := startProbe(ctx, hook, 200, realisticBody(-1, 1024), &accepted)
	delivered, took, writer, err := keptMeasureDrain(ctx, api, n.url, connID, sk, w, pprofAddr, profile)
	st := p.finish()
	if err != nil {
		return 0, probeStats{}, "", err
	}
	return float64(delivered) / took.Seconds(), st, writer, nil
}

// keptPointAt points the kept store's one destination at url and returns
// its one connection.
func keptPointAt(ctx context.Context, api *volley.Client, url string) (uint64, error) {
	projects, err := api.ListProjectsContext(ctx)
	if err != nil {
		return 0, err
	}
	dests, err := api.ListDestinationsContext(ctx, projects[0].ID)
	if err != nil {
		return 0, err
	}
	conns, err := api.GetConnectionsContext(ctx, projects[0].ID)
	if err != nil {
		return 0, err
	}
	if len(dests) != 1 || len(conns) != 1 {
		return 0, fmt.Errorf("the kept store has %d destinations and %d connections, want 1 and 1", len(dests), len(conns))
	}
	_, err = api.UpdateDestinationContext(ctx, dests[0].ID, volley.UpdateDestinationRequest{URL: url})
	return conns[0].ID, err
}

// keptMeasureDrain enables the connection and returns the events that
// reached the sink in the window w, how long the window was, and what the
// writer of the node at base did meanwhile; with profile set, it writes a
// CPU profile of the node (pprof at pprofAddr) there.
func keptMeasureDrain(ctx context.Context, api *volley.Client, base string, connID uint64, sk *sink, w drainWindow,
	pprofAddr, profile string) (int, time.Duration, string, error) {
	if _, err := api.UpdateConnectionContext(ctx, connID, volley.UpdateConnectionRequest{Status: "enabled"}); err != nil {
		return 0, 0, "", err
	}
	if err := sleepCtx(ctx, w.skip); err != nil {
		return 0, 0, "", err
	}
	before, err := scrapeWriter(ctx, base)
	if err != nil {
		return 0, 0, "", err
	}
	start, baseline := time.Now(), sk.count()
	profiled := make(chan error, 1)
	if profile != "" {
		go func() { profiled <- keptProfile(ctx, pprofAddr, profile, 10*time.Second, 30*time.Second) }()
	} else {
		profiled <- nil
	}
	if err := sleepCtx(ctx, w.measure); err != nil {
		return 0, 0, "", err
	}
	delivered, took := sk.count()-baseline, time.Since(start)
	after, err := scrapeWriter(ctx, base)
	if err != nil {
		return 0, 0, "", err
	}
	if err := <-profiled; err != nil {
		return 0, 0, "", fmt.Errorf("profile: %w", err)
	}
	return delivered, took, after.since(before).String(), nil
}

// keptProfile writes to path a CPU profile of the node serving pprof at
// addr, of length long, from after on.
func keptProfile(ctx context.Context, addr, path string, after, long time.Duration) error {
	if err := sleepCtx(ctx, after); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(long.Seconds())), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
