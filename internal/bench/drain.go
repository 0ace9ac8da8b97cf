package bench

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/store"
	domain "github.com/volleyhq/volley/internal/volley"
)

// DrainConfig configures RunDrain. Zero values take the defaults in
// brackets.
type DrainConfig struct {
	// Backlog is how many deliveries the big backlog holds [200000].
	Backlog int
	// Burst is how many deliveries the small burst measured first holds
	// [20000].
	Burst int
	// BodySize is the bytes per event body [1024].
	BodySize int
	// Database is a PostgreSQL URL (a fresh schema in it is used and
	// dropped); "" uses SQLite in a temporary directory.
	Database string
	// Searches is how many body-text searches run on the drained store
	// before resident memory is read again [5].
	Searches int
	// Timeout bounds each drain [30m].
	Timeout time.Duration
}

// DrainPhase is what one drain measured.
type DrainPhase struct {
	Deliveries int
	BuildTook  time.Duration // writing the held backlog straight into the store
	// DeliveredTook is from the resume until every delivery reached the
	// sink; RecordedTook until no delivery was left pending either (every
	// outcome committed).
	DeliveredTook, RecordedTook time.Duration
	Requests                    int // requests the sink received (> Deliveries means duplicates)
	// CPU is the process's CPU time (user and system) over the drain: unlike
	// the rate, it hardly depends on what else the machine runs.
	CPU                     time.Duration
	PeakRSSMiB, PeakHeapMiB float64 // sampled during the drain
}

// CPUPerDelivery is the CPU time one delivery cost, in microseconds.
func (p DrainPhase) CPUPerDelivery() float64 {
	return float64(p.CPU.Microseconds()) / float64(p.Deliveries)
}

// Rate is deliveries per second, every outcome recorded.
func (p DrainPhase) Rate() float64 { return float64(p.Deliveries) / p.RecordedTook.Seconds() }

// DrainResult is what RunDrain measured.
type DrainResult struct {
	Store           string
	Burst, Backlog  DrainPhase
	SearchRSSMiB    float64       // resident memory after the searches
	SearchTook      time.Duration // the slowest search
	SearchesMatched int64         // total of the last search's answer
}

// Ratio is the backlog's drain rate as a fraction of the burst's.
func (r *DrainResult) Ratio() float64 { return r.Backlog.Rate() / r.Burst.Rate() }

// RunDrain measures how fast the real delivery engine of an in-process node
// drains held deliveries once their connection is resumed: first a small
// burst, then a big backlog, in the same run, to a sink on 127.0.0.1 that
// answers 200 at once. The backlogs are written straight into the store as
// held deliveries of the paused connection (as a destination outage leaves
// them), so that building them costs little; the resume then goes through
// the management API, the background sweep and the engine exactly as in
// production. Memory is the whole process's: store, engine and this tool.
func RunDrain(ctx context.Context, cfg DrainConfig, out io.Writer) (*DrainResult, error) {
	cfg.Backlog = orDefault(cfg.Backlog, 200000)
	cfg.Burst = orDefault(cfg.Burst, 20000)
	cfg.BodySize = orDefault(cfg.BodySize, 1024)
	cfg.Searches = orDefault(cfg.Searches, 5)
	cfg.Timeout = orDefault(cfg.Timeout, 30*time.Minute)
	ls, err := newListStore(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	defer ls.cleanup()
	st, err := ls.open(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	key := make([]byte, 32)
	crand.Read(key)
	srv, err := startServer(ctx, st, key, ls.exclusive)
	if err != nil {
		return nil, err
	}
	defer srv.Stop(context.WithoutCancel(ctx))
	sk, err := startCountSink()
	if err != nil {
		return nil, err
	}
	defer sk.close()
	api := volley.NewClient(benchToken, volley.WithBaseURL(srv.URL()))
	d := &drainer{cfg: cfg, st: st, api: api, sink: sk}
	if err := d.setup(ctx); err != nil {
		return nil, err
	}
	res := &DrainResult{Store: ls.desc}
	fmt.Fprintf(out, "drain: store %s, %d-byte bodies, one connection to a sink on 127.0.0.1, engine defaults\n", ls.desc, cfg.BodySize)
	if res.Burst, err = d.phase(ctx, cfg.Burst); err != nil {
		return nil, fmt.Errorf("bench: drain burst: %w", err)
	}
	reportPhase(out, "burst", res.Burst)
	if res.Backlog, err = d.phase(ctx, cfg.Backlog); err != nil {
		return nil, fmt.Errorf("bench: drain backlog: %w", err)
	}
	reportPhase(out, "backlog", res.Backlog)
	fmt.Fprintf(out, "    backlog rate / burst rate: %.0f%%\n", 100*res.Ratio())
	if err := d.searches(ctx, srv.URL(), res); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "    after %d body searches on %d events (slowest %.0f ms, %d matches): RSS %.0f MiB\n",
		cfg.Searches, d.events, ms(res.SearchTook), res.SearchesMatched, res.SearchRSSMiB)
	return res, nil
}

func reportPhase(out io.Writer, name string, p DrainPhase) {
	fmt.Fprintf(out, "    %-7s %8d held deliveries (built in %.1f s): delivered in %.2f s, recorded in %.2f s: %.0f/s; %.0f µs CPU each; %d requests; peak RSS %.0f MiB, Go heap %.0f MiB\n",
		name, p.Deliveries, p.BuildTook.Seconds(), p.DeliveredTook.Seconds(), p.RecordedTook.Seconds(), p.Rate(),
		p.CPUPerDelivery(), p.Requests, p.PeakRSSMiB, p.PeakHeapMiB)
}

// drainer is the state of one RunDrain.
type drainer struct {
	cfg    DrainConfig
	st     store.Store
	api    *volley.Client
	sink   *countSink
	route  datasetRoute
	pid    uint64
	events int // written so far, over both phases
}

func (d *drainer) setup(ctx context.Context) error {
	projects, err := d.api.ListProjectsContext(ctx)
	if err != nil {
		return fmt.Errorf("list projects: %w", err)
	}
	d.pid = projects[0].ID
	src, err := d.api.CreateSourceContext(ctx, d.pid, volley.CreateSourceRequest{Name: "drain"})
	if err != nil {
		return fmt.Errorf("create source: %w", err)
	}
	dst, err := d.api.CreateDestinationContext(ctx, d.pid, volley.CreateDestinationRequest{Name: "sink", URL: d.sink.url})
	if err != nil {
		return fmt.Errorf("create destination: %w", err)
	}
	conn, err := d.api.CreateConnectionContext(ctx, d.pid, volley.CreateConnectionRequest{
		SourceID: src.ID, DestinationID: dst.ID, Status: "paused", MaxRetries: 5,
	})
	if err != nil {
		return fmt.Errorf("create connection: %w", err)
	}
	d.route = datasetRoute{SourceID: src.ID, ConnectionID: conn.ID, DestinationID: dst.ID}
	return nil
}

// phase writes n held deliveries of the paused connection, resumes it and
// waits until every one is delivered and recorded; it pauses the
// connection again for the next phase.
func (d *drainer) phase(ctx context.Context, n int) (DrainPhase, error) {
	p := DrainPhase{Deliveries: n}
	t0 := time.Now()
	if err := d.build(ctx, n); err != nil {
		return p, err
	}
	p.BuildTook = time.Since(t0)
	// Let the store settle (the build's WAL and garbage) before timing.
	runtime.GC()
	d.sink.reset()
	var peak memPeak
	stop := peak.sample(50 * time.Millisecond)
	cpu0 := cpuTime()
	t1 := time.Now()
	if _, err := d.api.UpdateConnectionContext(ctx, d.route.ConnectionID, volley.UpdateConnectionRequest{Status: "enabled"}); err != nil {
		stop()
		return p, fmt.Errorf("resume: %w", err)
	}
	deadline := t1.Add(d.cfg.Timeout)
	err := waitFor(ctx, deadline, func() (bool, error) { return d.sink.count() >= n, nil })
	p.DeliveredTook = time.Since(t1)
	if err == nil {
		err = waitFor(ctx, deadline, func() (bool, error) {
			next, err := d.st.DeliveryNextDue(ctx)
			return next.IsZero(), err
		})
	}
	p.RecordedTook = time.Since(t1)
	p.CPU = cpuTime() - cpu0
	stop()
	p.PeakRSSMiB, p.PeakHeapMiB = peak.rss, peak.heap
	p.Requests = d.sink.requests()
	if err != nil {
		return p, fmt.Errorf("%d of %d delivered after %s: %w", d.sink.count(), n, time.Since(t1).Round(time.Millisecond), err)
	}
	if _, err := d.api.UpdateConnectionContext(ctx, d.route.ConnectionID, volley.UpdateConnectionRequest{Status: "paused"}); err != nil {
		return p, fmt.Errorf("pause: %w", err)
	}
	return p, nil
}

// drainBatch is how many events build writes per EventInsert.
const drainBatch = 2000

// build writes n events, each with one held delivery on the route.
func (d *drainer) build(ctx context.Context, n int) error {
	rng := rand.NewChaCha8([32]byte{byte(d.events), byte(d.events >> 8), byte(d.events >> 16), 7})
	headers := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"volley-bench"}}
	now := time.Now().UTC().Truncate(time.Microsecond)
	batch := make([]store.NewEvent, 0, drainBatch)
	for first := 0; first < n; first += drainBatch {
		batch = batch[:0]
		for i := first; i < min(n, first+drainBatch); i++ {
			uid, err := domain.NewEventID(rng, now)
			if err != nil {
				return err
			}
			batch = append(batch, store.NewEvent{
				Event: domain.Event{UID: uid, ProjectID: d.pid, SourceID: d.route.SourceID, Method: http.MethodPost,
					Headers: headers, Body: datasetBody(d.events+i, d.cfg.BodySize), CreatedAt: now},
				Deliveries: []domain.Delivery{{ConnectionID: d.route.ConnectionID, DestinationID: d.route.DestinationID,
					State: domain.DeliveryHeld, NextAttemptAt: now}},
			})
		}
		if _, err := d.st.EventInsert(ctx, batch); err != nil {
			return fmt.Errorf("build backlog: %w", err)
		}
	}
	d.events += n
	return nil
}

// searches runs cfg.Searches body searches through the API and records the
// resident memory after them.
func (d *drainer) searches(ctx context.Context, base string, res *DrainResult) error {
	c := newClient(1)
	defer c.CloseIdleConnections()
	for i := 0; i < d.cfg.Searches; i++ {
		path := fmt.Sprintf("/api/projects/%d/events?", d.pid) + url.Values{"search": {datasetCustomer(i * 97)}}.Encode()
		r, err := timeQuery(ctx, c, base, path, 1, 0)
		if err != nil {
			return fmt.Errorf("bench: drain search: %w", err)
		}
		res.SearchTook = max(res.SearchTook, r.max)
		res.SearchesMatched = r.total
	}
	res.SearchRSSMiB = readRSS()
	return nil
}

// waitFor polls done every 20ms until it reports true, it fails, ctx ends
// or deadline passes.
func waitFor(ctx context.Context, deadline time.Time, done func() (bool, error)) error {
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if !time.Now().Before(deadline) {
			return errors.New("timed out")
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// memPeak is the peak resident memory and Go heap of this process.
type memPeak struct {
	mu        sync.Mutex
	rss, heap float64 // MiB
}

// sample reads memory every interval until the returned stop is called.
func (m *memPeak) sample(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(samples)
		rss := readRSS()
		m.mu.Lock()
		m.rss = max(m.rss, rss)
		m.heap = max(m.heap, float64(samples[0].Value.Uint64())/(1<<20))
		m.mu.Unlock()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		read()
	}
}

// readRSS is this process's resident set size in MiB, from /proc (Linux);
// 0 elsewhere.
func readRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// countSink is the drain's destination: it answers 200 at once and counts
// distinct deliveries in a bitset by delivery id, so that a backlog of
// millions costs it a few hundred KiB rather than a map of ids (whose
// memory would be counted against the node's).
type countSink struct {
	srv  *http.Server
	url  string
	mu   sync.Mutex
	seen []uint64 // bit per delivery id
	n    int      // distinct deliveries seen
	reqs int
}

func startCountSink() (*countSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &countSink{url: "http://" + ln.Addr().String() + "/hook"}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id, err := strconv.ParseUint(r.Header.Get("X-Volley-Delivery-Id"), 10, 64)
		if err != nil {
			http.Error(w, "no delivery id", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.reqs++
		word, bit := id/64, uint64(1)<<(id%64)
		if word >= uint64(len(s.seen)) {
			s.seen = append(s.seen, make([]uint64, 2*int(word+1)-len(s.seen))...) // doubling: amortised growth
		}
		if s.seen[word]&bit == 0 {
			s.seen[word] |= bit
			s.n++
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *countSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *countSink) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs
}

// reset forgets the counts; ids seen stay seen, as they are never reused.
func (s *countSink) reset() {
	s.mu.Lock()
	s.n, s.reqs = 0, 0
	s.mu.Unlock()
}

func (s *countSink) close() { s.srv.Close() }
