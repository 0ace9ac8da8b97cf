package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/trainer"
	"github.com/volleyhq/volley/internal/yield"
)

// ErrScaleIncomplete means a step of the scale run (the drain or the
// retention purge) did not finish within Config.DrainTimeout: the table
// says INCOMPLETE there, with the counts reached.
var ErrScaleIncomplete = errors.New("a step of the scale run did not finish in time")

const (
	// scaleBatch is how many events the scale build writes per EventInsert:
	// large batches make the build fast, which a 10M store needs.
	scaleBatch = 5000
	// scaleSpan is the time the built events' creation times cover.
	scaleSpan = 7 * 24 * time.Hour
	// scaleRetention is the retention period of the purge step: a fifth of
	// the span, so that four built events in five have expired.
	scaleRetention = scaleSpan / 5
	// scaleMaxBacklog caps the default backlog at issue 8's 2M events.
	scaleMaxBacklog = 2_000_000
	// scaleDrainTimeout is the default bound of the drain and of the purge.
	scaleDrainTimeout = 30 * time.Minute
	// scaleToggles is how many times the pause-and-resume step enables and
	// pauses the connection.
	scaleToggles = 3
)

// scaleKind is what happened to built event i outside the backlog: one in
// twenty failed (for the failed-attempt lists), the rest processed. No
// delivery is left pending outside the backlog, so the connection's
// pending count is the backlog alone.
func scaleKind(i int) int {
	if (i/5)%20 == 0 {
		return kindFailed
	}
	return kindProcessed
}

// scaleRun is one run of `volley bench --scale N`: what its steps share.
type scaleRun struct {
	cfg     Config
	out     io.Writer // progress lines, then the table
	env     []string  // every node's environment: admin token and secret key
	logFile *os.File
	sink    *sink
	body    []byte
	key     []byte
	// accepted counts the webhooks the node on the big store accepted: each
	// is delivered by the end of the drain, like the built backlog.
	accepted atomic.Int64
	rep      scaleReport
}

// runScale builds an empty store and one of cfg.Scale events, runs a
// `volley serve` child on each, measures every row of issue 8's table and
// prints it.
func runScale(ctx context.Context, cfg Config, out io.Writer) error {
	cfg.DrainTimeout = orDefault(cfg.DrainTimeout, scaleDrainTimeout)
	cfg.BodySize = orDefault(cfg.BodySize, 1024)
	cfg.ProbeRate = orDefault(cfg.ProbeRate, 200)
	cfg.Hold = orDefault(cfg.Hold, 3*time.Second)
	if cfg.Backlog == 0 {
		cfg.Backlog = min(cfg.Scale/2, scaleMaxBacklog)
	}
	if cfg.Backlog < 0 || cfg.Backlog > cfg.Scale {
		return fmt.Errorf("bench: --backlog %d: between 0 and --scale %d", cfg.Backlog, cfg.Scale)
	}
	if cfg.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.Exe = exe
	}
	dir, err := os.MkdirTemp("", "volley-bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logFile, err := os.Create(dir + "/node.log")
	if err != nil {
		return err
	}
	defer logFile.Close()
	sk, err := startSink()
	if err != nil {
		return err
	}
	defer sk.close()
	key := make([]byte, 32)
	rand.Read(key)
	r := &scaleRun{
		cfg: cfg, out: out, logFile: logFile, sink: sk, key: key, body: realisticBody(-1, cfg.BodySize),
		env: append([]string{"VOLLEY_ADMIN_TOKEN=" + benchToken, "VOLLEY_SECRET_KEY=" + hex.EncodeToString(key),
			"VOLLEY_LOG_LEVEL=warn"}, cfg.Env...),
	}
	r.rep.events, r.rep.backlog, r.rep.clients, r.rep.probeRate, r.rep.runs = cfg.Scale, cfg.Backlog, cfg.Clients, cfg.ProbeRate, cfg.Runs
	fmt.Fprintf(out, "scale: %d events of %d-byte JSON bodies on one source, one connection to a sink; backlog %d held; node log %s\n",
		cfg.Scale, cfg.BodySize, cfg.Backlog, logFile.Name())
	fmt.Fprintf(out, "node: bulk work yields to ingest commits slower than %s (VOLLEY_INGEST_COMMIT_TARGET; 0 = never)\n", commitTarget(cfg.Env))
	if err := r.emptyStore(ctx); err != nil {
		return err
	}
	incomplete, err := r.bigStore(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	r.rep.render(out)
	if incomplete {
		return fmt.Errorf("bench: --scale: %w", ErrScaleIncomplete)
	}
	return nil
}

// scaleGraph creates the run's source, connected to the sink by a paused
// connection: what is stored or ingested is held, a backlog.
func (r *scaleRun) scaleGraph(g **graph) func(context.Context, *volley.Client) error {
	return func(ctx context.Context, api *volley.Client) error {
		var err error
		if *g, err = setupGraph(ctx, api, r.sink.url); err != nil {
			return err
		}
		_, err = api.UpdateConnectionContext(ctx, (*g).connectionID, volley.UpdateConnectionRequest{Status: "paused"})
		return err
	}
}

// startNode runs a `volley serve` child on ls with extra environment, and
// samples its memory from then on.
func (r *scaleRun) startNode(ctx context.Context, ls *listStore, extra ...string) (*node, *rssPeak, func(), error) {
	env := append(append(append([]string{}, r.env...), ls.env...), extra...)
	n, err := startNode(ctx, r.cfg.Exe, env, r.logFile)
	if err != nil {
		return nil, nil, nil, err
	}
	peak := &rssPeak{}
	stopSampling := peak.sample([]*node{n})
	return n, peak, func() { stopSampling(); n.stop() }, nil
}

// emptyStore measures ingest on an empty store: the reference for "ingest
// stays flat".
func (r *scaleRun) emptyStore(ctx context.Context) error {
	r.rep.store = "SQLite"
	if r.cfg.Database != "" {
		r.rep.store = "PostgreSQL"
	}
	e, err := r.startEmpty(ctx)
	if err != nil {
		return err
	}
	defer e.stop()
	fmt.Fprintf(r.out, "store: %s\n", e.ls.desc)
	r.rep.emptyIngest = hammer(ctx, []string{e.hookURL()}, r.cfg.Clients, r.cfg.Duration, r.body, 202)
	r.rep.rss = append(r.rep.rss, rssStep{"ingest, empty store", e.peak.max()})
	fmt.Fprintf(r.out, "ingest, empty store: %s\n", r.rep.emptyIngest)
	return r.burst(ctx, e.n, e.g, e.peak)
}

// emptyNode is a fresh store with the run's graph and nothing else, and a
// node on it.
type emptyNode struct {
	ls   *listStore
	g    *graph
	n    *node
	peak *rssPeak
	stop func() // stops the node and removes the store
}

func (e *emptyNode) hookURL() string { return e.n.url + "/hook/" + e.g.ingestionID }

// startEmpty makes an emptyNode.
func (r *scaleRun) startEmpty(ctx context.Context) (*emptyNode, error) {
	ls, err := newListStore(ctx, r.cfg.Database)
	if err != nil {
		return nil, err
	}
	e := &emptyNode{ls: ls}
	if err := prepareStore(ctx, ls, r.key, r.scaleGraph(&e.g), func(context.Context, store.Store) error { return nil }); err != nil {
		ls.cleanup()
		return nil, err
	}
	n, peak, stop, err := r.startNode(ctx, ls)
	if err != nil {
		ls.cleanup()
		return nil, err
	}
	e.n, e.peak, e.stop = n, peak, func() { stop(); ls.cleanup() }
	return e, nil
}

// burst enables the empty store's connection, the events its ingest step
// accepted held behind it, and times their delivery: the small burst that
// issue 8 measures the big backlog's drain against ("at least 70 % of the
// small-burst rate measured in the same run"), on the machine as it is
// during this run. There is no probe: a small burst's rate is a drain's
// whole speed.
func (r *scaleRun) burst(ctx context.Context, n *node, g *graph, peak *rssPeak) error {
	api := volley.NewClient(benchToken, volley.WithBaseURL(n.url))
	res := &r.rep.burst
	res.timeout = r.cfg.DrainTimeout
	// What the ingest step left held: its counted 202s, and any request
	// still in flight when it ended that was accepted all the same.
	backlog, err := backlogLeft(ctx, api, g.connectionID)
	if err != nil {
		return err
	}
	held := max(r.rep.emptyIngest.n, int(backlog))
	r.sink.reset()
	peak.reset()
	t0 := time.Now()
	if _, err := api.UpdateConnectionContext(ctx, g.connectionID, volley.UpdateConnectionRequest{Status: "enabled"}); err != nil {
		return err
	}
	err = awaitDelivered(ctx, api, r.sink, g.connectionID, t0, res, func() int { return held })
	r.rep.rss = append(r.rep.rss, rssStep{"burst, empty store", peak.max()})
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "burst, empty store: %s\n", res.text())
	return nil
}

// bigStore builds the store of cfg.Scale events and runs the steps on it.
// It reports whether a step gave up.
func (r *scaleRun) bigStore(ctx context.Context) (incomplete bool, err error) {
	ls, err := newListStore(ctx, r.cfg.Database)
	if err != nil {
		return false, err
	}
	defer ls.cleanup()
	var g *graph
	var ds *dataset
	err = prepareStore(ctx, ls, r.key, r.scaleGraph(&g), func(ctx context.Context, st store.Store) (err error) {
		ds, err = r.fillBig(ctx, st, g, ls.finishBatch)
		if pm, ok := st.(store.PageMemoryStats); ok && err == nil {
			pages := pm.PageMemory()
			r.rep.buildPages = &pages
		}
		return err
	})
	if err != nil {
		return false, err
	}
	r.rep.build = ds.Took
	// What the planner knows after the build, as a running installation
	// would have it (PostgreSQL: ANALYZE, which autovacuum runs on a table
	// that grew this much).
	planner, err := ls.planner(ctx)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(r.out, "planner: %s\n", planner)
	fmt.Fprintf(r.out, "disk settled: %s\n", settleDisk(ctx, ls.checkpoint))
	if r.rep.sizeBuilt, err = ls.size(ctx); err != nil {
		return false, err
	}
	fmt.Fprintf(r.out, "built %d events in %.1f s (%.0f/s, %d batches at once), %s\n", ds.Events, ds.Took.Seconds(), float64(ds.Events)/ds.Took.Seconds(), r.buildWorkers(), sizeText(r.rep.sizeBuilt, ds.Events))
	if r.rep.indexed > 0 {
		fmt.Fprintf(r.out, "search index: %d events indexed in %.1f s (%.0f/s)\n", r.rep.indexed, r.rep.indexTook.Seconds(), float64(r.rep.indexed)/r.rep.indexTook.Seconds())
	}
	if r.rep.buildPages != nil {
		fmt.Fprintf(r.out, "page buffer: %s\n", pagesText(*r.rep.buildPages))
	}

	s := &scaleSteps{scaleRun: r, ls: ls, g: g, ds: ds}
	if err := s.live(ctx); err != nil {
		return false, err
	}
	if err := s.purge(ctx); err != nil {
		return false, err
	}
	return !r.rep.drain.complete() || !r.rep.purge.complete(), nil
}

// fillBig stores the run's cfg.Scale events on the graph g in st, the
// newest cfg.Backlog held, and fills the search index after them.
func (r *scaleRun) fillBig(ctx context.Context, st store.Store, g *graph, finishBatch int) (*dataset, error) {
	cfg := datasetConfig{
		ProjectID: g.projectID, Routes: []datasetRoute{{g.sourceID, g.connectionID, g.destinationID}},
		Events: r.cfg.Scale, Backlog: r.cfg.Backlog, End: time.Now().Add(-time.Minute), Span: scaleSpan,
		Batch: scaleBatch, Seed: 1, Kind: scaleKind, Workers: r.buildWorkers(), FinishBatch: finishBatch,
		Body: func(i int) []byte { return realisticBody(i, r.cfg.BodySize) },
	}
	if st.PayloadDictsUsed() {
		// A node's trainer gives the source its payload dictionary once
		// it has 1,000 events; the build does the same after its first
		// batch, so the store's size is that of a store that grew.
		cfg.TrainAfter = scaleBatch
		cfg.Train = func(ctx context.Context) error {
			_, err := trainer.New(trainer.Config{Store: st}).Pass(ctx)
			return err
		}
	}
	ds, err := buildDataset(ctx, st, cfg)
	if err != nil {
		return nil, err
	}
	return ds, r.fillSearchIndex(ctx, st)
}

// scaleIndexBatch is how many events fillSearchIndex indexes per batch:
// with no node running, nothing waits for the writer meanwhile.
const scaleIndexBatch = 5000

// fillSearchIndex indexes every built event on a store whose body index is
// filled in the background (SQLite), as a node's indexer would have done
// while they arrived one by one. Without it the node's indexer backfills
// the whole store during the measured steps: its CPU then slows them, and
// body searches read the unindexed bodies.
func (r *scaleRun) fillSearchIndex(ctx context.Context, st store.Store) error {
	ix, ok := st.(store.SearchIndexer)
	if !ok {
		return nil
	}
	start := time.Now()
	for {
		res, err := ix.SearchIndex(ctx, scaleIndexBatch)
		if err != nil {
			return fmt.Errorf("bench: fill the search index: %w", err)
		}
		r.rep.indexed += res.Indexed
		if res.Done {
			break
		}
	}
	r.rep.indexTook = time.Since(start)
	return nil
}

// buildWorkers is how many batches the build stores at once: SQLite has
// one writer, PostgreSQL commits batches side by side, each on a server
// process of its own.
func (r *scaleRun) buildWorkers() int {
	if r.cfg.Database != "" {
		return 2
	}
	return 1
}

// scaleSteps runs the steps on the big store.
type scaleSteps struct {
	*scaleRun
	ls   *listStore
	g    *graph
	ds   *dataset
	node *node
	peak *rssPeak
}

// hookURL is where the steps send webhooks.
func (s *scaleSteps) hookURL() string { return s.node.url + "/hook/" + s.g.ingestionID }

// step runs one measured step: it resets the memory peak first and
// records it after.
func (s *scaleSteps) step(name string, run func() error) error {
	s.peak.reset()
	ctx := context.Background()
	before, err := scrapeWriter(ctx, s.node.url)
	if err != nil {
		return fmt.Errorf("bench: --scale: %s: %w", name, err)
	}
	if err := run(); err != nil {
		return fmt.Errorf("bench: --scale: %s: %w", name, err)
	}
	s.rep.rss = append(s.rep.rss, rssStep{name, s.peak.max()})
	after, err := scrapeWriter(ctx, s.node.url)
	if err != nil {
		return fmt.Errorf("bench: --scale: %s: %w", name, err)
	}
	if w := after.since(before).String(); w != "" {
		s.rep.writer = append(s.rep.writer, writerStep{name, w})
		fmt.Fprintf(s.out, "%s: the writer: %s\n", name, w)
	}
	return nil
}

// live runs the steps on one node: ingest, ingest in turns with an empty
// store, lists, pause and resume, drain, and the store's size after them.
func (s *scaleSteps) live(ctx context.Context) error {
	n, peak, stop, err := s.startNode(ctx, s.ls)
	if err != nil {
		return err
	}
	defer stop()
	s.node, s.peak = n, peak
	s.sink.reset()
	err = s.step("ingest, big store", func() error {
		s.rep.bigIngest = hammer(ctx, []string{s.hookURL()}, s.cfg.Clients, s.cfg.Duration, s.body, 202)
		s.accepted.Add(int64(s.rep.bigIngest.n))
		fmt.Fprintf(s.out, "ingest, %d events: %s\n", s.ds.Events, s.rep.bigIngest)
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.step("ingest in turns", func() error { return s.turnsIngest(ctx) }); err != nil {
		return err
	}
	if err := s.step("lists", func() error { return s.lists(ctx) }); err != nil {
		return err
	}
	if err := s.step("pause and resume", func() error { return s.pauseResume(ctx) }); err != nil {
		return err
	}
	if err := s.step("drain", func() error { return s.drain(ctx) }); err != nil {
		return err
	}
	s.rep.sizeDrained, err = s.ls.size(ctx)
	s.rep.eventsDrained = s.ds.Events + int(s.accepted.Load())
	return err
}

// purge restarts the node with a retention period that four built events
// in five are older than, and times their deletion.
func (s *scaleSteps) purge(ctx context.Context) error {
	t0 := time.Now()
	n, peak, stop, err := s.startNode(ctx, s.ls, "VOLLEY_RETENTION="+scaleRetention.String())
	if err != nil {
		return err
	}
	defer stop()
	s.node, s.peak = n, peak
	err = s.step("retention purge", func() error { return s.purgeFrom(ctx, t0) })
	if err != nil {
		return err
	}
	if s.rep.sizePurged, err = s.ls.size(ctx); err != nil {
		return err
	}
	s.rep.sizeSettled, s.rep.settleTook, s.rep.stillShrinking, err = settledSize(ctx, realSettleClock, s.ls.size, min(settleMax, s.cfg.DrainTimeout))
	return err
}

const (
	// settleQuiet is how long the store's size must stay put for settledSize.
	settleQuiet = 10 * time.Second
	// settleMax bounds the wait for it. A node on SQLite hands the pages a
	// purge freed back to the file system a few at a time, between other
	// writes: at 10M events, ~1 MB/s, hours for a big purge, and until
	// then new writes reuse them. The report then says the file was still
	// shrinking, instead of the run never reaching its table.
	settleMax = 5 * time.Minute
)

// settleClock is what settledSize waits with: time.Now and sleepCtx in a
// run, a fake in its test.
type settleClock struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

var realSettleClock = settleClock{now: time.Now, sleep: sleepCtx}

// settledSize reads the store's size every second until it has not shrunk
// for settleQuiet, or for at most limit, and returns the last size, when
// it last shrank, from the first read, and whether the limit ended the
// wait before the size had stayed put for settleQuiet.
func settledSize(ctx context.Context, clk settleClock, size func(context.Context) (int64, error), limit time.Duration) (int64, time.Duration, bool, error) {
	start := clk.now()
	last, err := size(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	shrank := start
	for clk.now().Sub(shrank) < settleQuiet {
		if clk.now().Sub(start) >= limit {
			return last, shrank.Sub(start), true, nil
		}
		if err := clk.sleep(ctx, time.Second); err != nil {
			return 0, 0, false, err
		}
		n, err := size(ctx)
		if err != nil {
			return 0, 0, false, err
		}
		if n < last {
			last, shrank = n, clk.now()
		}
	}
	return last, shrank.Sub(start), false, nil
}

// commitTarget is the node's ingest commit target as its environment sets
// it: extra (the bench's own settings) over the bench's environment.
func commitTarget(extra []string) string {
	const name = "VOLLEY_INGEST_COMMIT_TARGET"
	v, set := os.LookupEnv(name)
	for _, kv := range extra {
		if val, ok := strings.CutPrefix(kv, name+"="); ok {
			v, set = val, true
		}
	}
	if !set || v == "" {
		return yield.DefaultTarget.String() + " (default)"
	}
	return v
}
