package bench

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/trainer"
)

// BenchmarkKeptPurge measures a retention purge, with ingest at 200/s
// beside it, on copies of one kept SQLite store of the scale run's kind,
// by each of several `volley` binaries in turn: an A/B of two versions on
// the same store, on the machine at the same hour. It needs
// VOLLEY_BENCH_KEPT_DIR, where the store is built once (as `volley bench
// --scale` builds its big store; VOLLEY_BENCH_KEPT_EVENTS events, default
// 2,000,000, half of the newest held) and kept. VOLLEY_BENCH_EXES lists
// the binaries, comma-separated: A, B, … in the metrics (default: one
// built from this tree); a
// binary of a newer schema migrates its copy as it starts, before the
// measure. Each run copies the store, flushes it to disk (a copy's dirty
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
	dir := os.Getenv("VOLLEY_BENCH_KEPT_DIR")
	if dir == "" {
		b.Skip("VOLLEY_BENCH_KEPT_DIR is not set: no kept store to purge")
	}
	events := envInt(b, "VOLLEY_BENCH_KEPT_EVENTS", 2_000_000)
	measure := 60 * time.Second
	if v := os.Getenv("VOLLEY_BENCH_FOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("VOLLEY_BENCH_FOR: %v", err)
		}
		measure = d
	}
	if err := keptStore(b.Context(), dir, events); err != nil {
		b.Fatal(err)
	}
	exes := strings.Split(os.Getenv("VOLLEY_BENCH_EXES"), ",")
	if exes[0] == "" {
		exe := filepath.Join(b.TempDir(), "volley")
		if out, err := exec.Command("go", "build", "-o", exe, "github.com/volleyhq/volley/cmd/volley").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		exes = []string{exe}
	}
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

// envInt is the integer in environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return n
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
		_, err := buildDataset(ctx, st, datasetConfig{
			ProjectID: g.projectID, Routes: []datasetRoute{{g.sourceID, g.connectionID, g.destinationID}},
			Events: n, Backlog: n / 2, End: time.Now().Add(-time.Minute), Span: scaleSpan,
			Batch: scaleBatch, Seed: 1, Kind: scaleKind, Workers: 1,
			Body:       func(i int) []byte { return realisticBody(i, 1024) },
			TrainAfter: scaleBatch,
			Train: func(ctx context.Context) error {
				_, err := trainer.New(trainer.Config{Store: st}).Pass(ctx)
				return err
			},
		})
		if err != nil {
			return err
		}
		return r.fillSearchIndex(ctx, st)
	})
}

// keptPurge runs one purge of a copy of the kept store in dir by exe: the
// rate at which the oldest event id moved over measure, and the probe's.
func keptPurge(b *testing.B, dir, exe string, measure time.Duration) (float64, probeStats, error) {
	ctx := b.Context()
	work := b.TempDir()
	if out, err := exec.Command("cp", filepath.Join(dir, "volley.db"), work).CombinedOutput(); err != nil {
		return 0, probeStats{}, fmt.Errorf("copy the kept store: %v: %s", err, out)
	}
	if err := exec.Command("sync").Run(); err != nil {
		return 0, probeStats{}, fmt.Errorf("sync: %w", err)
	}
	log, err := os.Create(filepath.Join(work, "node.log"))
	if err != nil {
		return 0, probeStats{}, err
	}
	defer log.Close()
	env := []string{"VOLLEY_ADMIN_TOKEN=" + benchToken, "VOLLEY_SECRET_KEY=" + hex.EncodeToString(make([]byte, 32)),
		"VOLLEY_LOG_LEVEL=warn", "VOLLEY_DATA_DIR=" + work, "VOLLEY_RETENTION=" + scaleRetention.String()}
	n, err := startNode(ctx, exe, env, log)
	if err != nil {
		return 0, probeStats{}, err
	}
	defer n.stop()
	api := volley.NewClient(benchToken, volley.WithBaseURL(n.url))
	projects, err := api.ListProjectsContext(ctx)
	if err != nil {
		return 0, probeStats{}, err
	}
	srcs, err := api.ListSourcesContext(ctx, projects[0].ID)
	if err != nil {
		return 0, probeStats{}, err
	}
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
	p := startProbe(ctx, n.url+"/hook/"+srcs[0].IngestionID, 200, realisticBody(-1, 1024), &accepted)
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
