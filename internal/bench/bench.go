// Package bench is Volley's reproducible benchmark (`volley bench`). Phases
// (a)–(c) run a bare net/http server as the ceiling, a sink, and Volley
// itself as a child process, drive the same load through each in one run on
// loopback, and report durable ingest throughput and latency, end-to-end
// latency at a fixed rate, and the sustained delivery rate of a burst with
// every attempt recorded. Phase (d) builds a store of many events and times
// the management API's list queries on it through an in-process server.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/volleyhq/volley"
)

// Config configures a run. Zero values take the defaults in brackets.
type Config struct {
	Exe      string        // the volley binary to run as the node [os.Executable]
	Duration time.Duration // each throughput phase [10s]
	Clients  int           // concurrent ingest clients [16]
	Rate     int           // events per second of the end-to-end phase [100]
	Burst    int           // events of the burst phase [20000]
	BodySize int           // bytes per webhook body [512]
	// DrainTimeout bounds the burst's drain, from the resume to the last
	// attempt recorded; past it the burst is reported incomplete and Run
	// returns ErrBurstIncomplete [5m].
	DrainTimeout time.Duration
	// Events is the size of the store phase (d) builds [500000].
	Events int
	// Runs is how often phase (d) times each query; it reports the median
	// [5].
	Runs int
	// Database is a PostgreSQL URL: the nodes share a fresh schema in it,
	// dropped at the end; "" runs one node on the embedded SQLite store in a
	// temporary directory. Phase (d) follows the same choice.
	Database string
	// Nodes is how many nodes share the database [1]; more than one needs
	// Database.
	Nodes int
	Env   []string // extra environment for the node
	// Phases selects the phases to run, a subset of "abcd" [abc].
	Phases string
	// Scale, when positive, runs the scale mode instead of the phases: a
	// store of Scale events, on which every figure of issue 8's table is
	// measured (see runScale). BodySize is then 1024 by default, and
	// DrainTimeout bounds the drain and the retention purge [30m].
	Scale int
	// Backlog is how many of the Scale events are held, undelivered, when
	// the node starts [half of Scale, at most 2,000,000].
	Backlog int
	// ProbeRate is the steady ingest rate, events per second, sent during
	// the scale mode's pause and resume, drain and purge [200].
	ProbeRate int
	// Hold is how long the scale mode's pause and resume waits after each
	// PUT, for the background work it starts [3s].
	Hold time.Duration
}

const benchToken = "vk_benchbenchbenchbenchbenchbenchbenchbench"

// Run runs the selected phases and writes the report to out.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	cfg.Duration = orDefault(cfg.Duration, 10*time.Second)
	cfg.Clients = orDefault(cfg.Clients, 16)
	cfg.Runs = orDefault(cfg.Runs, 5)
	if cfg.Scale < 0 {
		return fmt.Errorf("bench: --scale %d: want a positive number of events", cfg.Scale)
	}
	if cfg.Scale > 0 {
		fmt.Fprintf(out, "volley bench: %s, %s, %s/%s\n", machine(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return runScale(ctx, cfg, out)
	}
	cfg.Rate = orDefault(cfg.Rate, 100)
	cfg.Burst = orDefault(cfg.Burst, 20000)
	cfg.BodySize = orDefault(cfg.BodySize, 512)
	cfg.DrainTimeout = orDefault(cfg.DrainTimeout, 5*time.Minute)
	cfg.Events = orDefault(cfg.Events, 500000)
	cfg.Phases = orDefault(cfg.Phases, "abc")
	cfg.Nodes = orDefault(cfg.Nodes, 1)
	if strings.Trim(cfg.Phases, "abcd") != "" {
		return fmt.Errorf("bench: phases %q: choose among a, b, c and d", cfg.Phases)
	}
	if cfg.Nodes > 1 && cfg.Database == "" {
		return fmt.Errorf("bench: --nodes %d needs --database (a PostgreSQL URL): the embedded store belongs to one process", cfg.Nodes)
	}
	fmt.Fprintf(out, "volley bench: %s, %s, %s/%s\n", machine(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if strings.ContainsAny(cfg.Phases, "abc") {
		if err := runNodes(ctx, cfg, out); err != nil {
			return err
		}
	}
	if strings.Contains(cfg.Phases, "d") {
		return runLists(ctx, cfg, out)
	}
	return nil
}

// runNodes runs phases (a)–(c) against volley serve child processes.
func runNodes(ctx context.Context, cfg Config, out io.Writer) error {
	if cfg.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.Exe = exe
	}
	body := payload(cfg.BodySize)

	dir, err := os.MkdirTemp("", "volley-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logFile, err := os.Create(dir + "/node.log")
	if err != nil {
		return err
	}
	defer logFile.Close()

	store := "SQLite (WAL; synchronous=FULL for acknowledged writes) in " + dir
	if cfg.Database != "" {
		store = fmt.Sprintf("PostgreSQL, %d node(s)", cfg.Nodes)
	}
	fmt.Fprintf(out, "phases (a)-(c): store %s\n", store)
	fmt.Fprintf(out, "load: %d clients, %s per phase, %d-byte JSON bodies, loopback only\n\n", cfg.Clients, cfg.Duration, cfg.BodySize)

	bareSrv, bareURL, err := startBare()
	if err != nil {
		return err
	}
	defer bareSrv.Close()
	sk, err := startSink()
	if err != nil {
		return err
	}
	defer sk.close()

	env := append([]string{"VOLLEY_ADMIN_TOKEN=" + benchToken}, cfg.Env...)
	if cfg.Database != "" {
		url, _, drop, err := freshSchema(ctx, cfg.Database)
		if err != nil {
			return err
		}
		defer drop()
		key := make([]byte, 32)
		rand.Read(key)
		env = append(env, "VOLLEY_DATABASE_URL="+url, "VOLLEY_SECRET_KEY="+hex.EncodeToString(key))
	}
	var nodes []*node
	for i := range cfg.Nodes {
		n, err := startNode(ctx, cfg.Exe, append(env, fmt.Sprintf("VOLLEY_DATA_DIR=%s/node%d", dir, i)), logFile)
		if err != nil {
			return err
		}
		defer n.stop()
		nodes = append(nodes, n)
	}
	var peak rssPeak
	stopSampling := peak.sample(nodes)
	defer stopSampling()

	api := volley.NewClient(benchToken, volley.WithBaseURL(nodes[0].url))
	g, err := setupGraph(ctx, api, sk.url)
	if err != nil {
		return err
	}
	var hookURLs []string
	for _, n := range nodes {
		hookURLs = append(hookURLs, n.url+"/hook/"+g.ingestionID)
	}

	r := &runner{cfg: cfg, out: out, api: api, graph: g, sink: sk, body: body, bareURL: bareURL, hookURLs: hookURLs, peak: &peak}
	for _, p := range []struct {
		name string
		run  func(context.Context) error
	}{{"a", r.ingest}, {"b", r.endToEnd}, {"c", r.burst}} {
		if strings.Contains(cfg.Phases, p.name) {
			if err := p.run(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// runner holds what the phases share.
type runner struct {
	cfg      Config
	out      io.Writer
	api      *volley.Client
	graph    *graph
	sink     *sink
	body     []byte
	bareURL  string
	hookURLs []string // one per node; load is spread over them
	peak     *rssPeak
}

// ingest is phase (a): durable ingest throughput against the bare server's.
func (r *runner) ingest(ctx context.Context) error {
	cfg, out, body, sk, bareURL, hookURLs := r.cfg, r.out, r.body, r.sink, r.bareURL, r.hookURLs
	fmt.Fprintln(out, "(a) durable ingest, each event routed to one connection and delivered meanwhile")
	bare := hammer(ctx, []string{bareURL}, cfg.Clients, cfg.Duration, body, 202)
	fmt.Fprintf(out, "    bare net/http 202  %s\n", bare)
	vol := hammer(ctx, hookURLs, cfg.Clients, cfg.Duration, body, 202)
	fmt.Fprintf(out, "    volley             %s\n", vol)
	fmt.Fprintf(out, "    ratio volley/bare  %.2f\n\n", vol.perSecond/bare.perSecond)
	if err := waitCount(ctx, sk, vol.n, 2*time.Minute); err != nil {
		return fmt.Errorf("deliveries of phase (a): %w", err)
	}
	return nil
}

// endToEnd is phase (b): send → sink latency at a fixed rate.
func (r *runner) endToEnd(ctx context.Context) error {
	cfg, out, body, sk, hookURLs := r.cfg, r.out, r.body, r.sink, r.hookURLs
	sk.reset()
	lat, err := measureEndToEnd(ctx, hookURLs, sk, cfg.Rate, cfg.Duration, body)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "(b) end-to-end, send → sink, at %d events/s for %s\n", cfg.Rate, cfg.Duration)
	fmt.Fprintf(out, "    p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d events)\n\n", ms(lat.p50), ms(lat.p99), ms(lat.max), lat.n)
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// payload is a JSON object of about n bytes.
func payload(n int) []byte {
	pad := max(n-60, 1)
	return []byte(fmt.Sprintf(`{"type":"invoice.paid","data":{"id":"in_123","pad":"%s"}}`, strings.Repeat("x", pad)))
}

type graph struct {
	projectID, sourceID, destinationID, connectionID uint64
	ingestionID                                      string
}

func setupGraph(ctx context.Context, api *volley.Client, sinkURL string) (*graph, error) {
	projects, err := api.ListProjectsContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	pid := projects[0].ID
	src, err := api.CreateSourceContext(ctx, pid, volley.CreateSourceRequest{Name: "bench"})
	if err != nil {
		return nil, fmt.Errorf("create source: %w", err)
	}
	dst, err := api.CreateDestinationContext(ctx, pid, volley.CreateDestinationRequest{Name: "sink", URL: sinkURL})
	if err != nil {
		return nil, fmt.Errorf("create destination: %w", err)
	}
	conn, err := api.CreateConnectionContext(ctx, pid, volley.CreateConnectionRequest{
		SourceID: src.ID, DestinationID: dst.ID, Status: "enabled", MaxRetries: 5,
	})
	if err != nil {
		return nil, fmt.Errorf("create connection: %w", err)
	}
	return &graph{projectID: pid, sourceID: src.ID, destinationID: dst.ID, connectionID: conn.ID, ingestionID: src.IngestionID}, nil
}

// backlogLeft returns how many deliveries of the connection are pending or
// held, from its metrics: the list totals stop counting at 10,000.
func backlogLeft(ctx context.Context, api *volley.Client, connectionID uint64) (int64, error) {
	conn, err := api.GetConnectionContext(ctx, connectionID)
	if err != nil {
		return 0, fmt.Errorf("read the backlog: %w", err)
	}
	if conn.Metrics == nil {
		return 0, fmt.Errorf("read the backlog: connection %d has no metrics", connectionID)
	}
	return conn.Metrics.Pending, nil
}

// waitCount waits until the sink has seen n distinct events.
func waitCount(ctx context.Context, sk *sink, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for sk.count() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("sink got %d of %d events", sk.count(), n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sk.notify:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// sendAll sends n events as fast as clients allow.
func sendAll(ctx context.Context, urls []string, clients, n int, body []byte) error {
	c := newClient(clients)
	defer c.CloseIdleConnections()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for i := range clients {
		url := urls[i%len(urls)]
		wg.Go(func() {
			for range next {
				code, err := post(ctx, c, url, body)
				if err == nil && code != 202 {
					err = fmt.Errorf("ingest answered %d", code)
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

type latency struct {
	n             int
	p50, p99, max time.Duration
}

// measureEndToEnd sends rate events per second for d and measures, for
// each, the time from sending it to its arrival at the sink.
func measureEndToEnd(ctx context.Context, urls []string, sk *sink, rate int, d time.Duration, body []byte) (latency, error) {
	c := newClient(32)
	defer c.CloseIdleConnections()
	type sent struct {
		id string
		at time.Time
	}
	var mu sync.Mutex
	var all []sent
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		url := urls[i%len(urls)]
		wg.Go(func() {
			t0 := time.Now()
			req, _ := newPost(ctx, url, body)
			resp, err := c.Do(req)
			if err != nil {
				return
			}
			var r struct {
				EventID string `json:"event_id"`
			}
			json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			mu.Lock()
			all = append(all, sent{r.EventID, t0})
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := waitCount(ctx, sk, len(all), time.Minute); err != nil {
		return latency{}, err
	}
	ds := make([]time.Duration, 0, len(all))
	for _, s := range all {
		if at, ok := sk.at(s.id); ok {
			ds = append(ds, at.Sub(s.at))
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return latency{n: len(ds), p50: percentile(ds, 0.5), p99: percentile(ds, 0.99), max: ds[len(ds)-1]}, nil
}

// rssPeak samples a node's resident memory.
type rssPeak struct {
	mu   sync.Mutex
	peak float64
}

func (p *rssPeak) sample(nodes []*node) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, n := range nodes {
					v := n.rssMB()
					p.mu.Lock()
					p.peak = max(p.peak, v)
					p.mu.Unlock()
				}
			}
		}
	}()
	return func() { close(done) }
}

func (p *rssPeak) reset() {
	p.mu.Lock()
	p.peak = 0
	p.mu.Unlock()
}

func (p *rssPeak) max() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}
