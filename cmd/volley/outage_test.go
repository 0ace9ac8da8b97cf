package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDatabaseOutage takes PostgreSQL away from a node for four seconds
// (longer if no ingest has been answered meanwhile) under a steady ingest
// load and checks that the node refuses events (503)
// rather than acknowledging what it cannot commit, reports itself unready
// but alive, recovers by itself once the database is back, and delivers
// every event it acknowledged before and after.
//
// The database is stopped through a TCP proxy between the node and the
// server: other tests share the PostgreSQL server, so really stopping it
// would break them. For the node it is the same thing: its connections drop
// and new ones are refused, as when the server goes down.
func TestDatabaseOutage(t *testing.T) {
	dbURL := testDatabaseURL(t)
	t.Parallel()
	const (
		workers = 4
		pace    = 10 * time.Millisecond // between one worker's requests
		outage  = 4 * time.Second
		before  = 300 // events acknowledged before the outage
		after   = 300 // events acknowledged after the recovery
	)
	bin := buildVolley(t)
	schema := freshSchema(t, dbURL)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, u.Host)
	u.Host = proxy.addr()
	sink := newHookSink(t, 5*time.Millisecond)
	node := startPGNode(t, bin, withSearchPath(t, u.String(), schema))
	r := createRoute(t, node, sink.srv.URL, nil, nil)

	type result struct {
		start, end time.Time
		status     int
	}
	var (
		mu      sync.Mutex
		results []result
		nextSeq atomic.Int64
	)
	acked := newSeqSet()
	client := newIngestClient(t, workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			tick := time.NewTicker(pace)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				seq := int(nextSeq.Add(1) - 1)
				start := time.Now()
				status := postSeq(client, node.url, r.ingestionID, seq)
				if status == http.StatusAccepted {
					acked.add(seq)
				}
				mu.Lock()
				results = append(results, result{start, time.Now(), status})
				mu.Unlock()
			}
		})
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)

	waitUntil(t, 30*time.Second, "events are acknowledged before the outage", func() bool { return acked.len() >= before })
	ackedBefore := acked.len()

	proxy.stop()
	down := time.Now()
	// An ingest answered while the database is away, whatever the answer:
	// the outage lasts until there is one, so that a loaded machine, slow
	// to answer, still shows what the node says meanwhile.
	answeredDuring := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, res := range results {
			if res.start.After(down) {
				return true
			}
		}
		return false
	}
	// Probe the node every 100ms for as long as the outage lasts.
	var ready, live []int // /readyz and /healthz answers during the outage
	probe := time.NewTicker(100 * time.Millisecond)
	least, most := down.Add(outage), down.Add(60*time.Second)
	for {
		ready = append(ready, node.status("/readyz"))
		live = append(live, node.status("/healthz"))
		if now := time.Now(); now.After(most) || (now.After(least) && answeredDuring()) {
			break
		}
		<-probe.C
	}
	probe.Stop()
	up := time.Now()
	proxy.start()

	// Recovered: ready again, and an event sent after the restart
	// acknowledged.
	recoveredAfter := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, res := range results {
			if res.start.After(up) && res.status == http.StatusAccepted {
				return true
			}
		}
		return false
	}
	waitUntil(t, 15*time.Second, "the node is ready and acknowledges events again after the outage", func() bool {
		return recoveredAfter() && node.status("/readyz") == http.StatusOK
	})
	recovered := time.Since(up)
	ackedAtRecovery := acked.len()
	waitUntil(t, 30*time.Second, "events are acknowledged after the outage", func() bool { return acked.len() >= ackedAtRecovery+after })
	stopLoad()

	// Requests sent and answered while the database was away.
	statuses := map[int]int{}
	mu.Lock()
	for _, res := range results {
		if res.start.After(down) && res.end.Before(up) {
			statuses[res.status]++
		}
	}
	total := len(results)
	mu.Unlock()
	t.Logf("%d requests: %d acknowledged before the outage, %d after; during the outage's %v: ingest answers %v, "+
		"/readyz answers %v, /healthz answers %v; recovered %v after the database was back; the proxy refused %d connections",
		total, ackedBefore, acked.len()-ackedAtRecovery, up.Sub(down).Round(time.Millisecond), statuses, countOf(ready), countOf(live),
		recovered.Round(time.Millisecond), proxy.refused.Load())
	if n := statuses[http.StatusAccepted]; n > 0 {
		t.Errorf("%d events acknowledged (202) while the database was unreachable", n)
	}
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no ingest answered 503 during the outage (answers %v)", statuses)
	}
	for status, n := range statuses {
		if status != http.StatusServiceUnavailable {
			t.Errorf("%d ingests answered %d during the outage, want 503", n, status)
		}
	}
	for i, s := range ready {
		if s != http.StatusServiceUnavailable {
			t.Errorf("/readyz answer %d during the outage: %d, want 503", i, s)
		}
	}
	for i, s := range live {
		if s != http.StatusOK {
			t.Errorf("/healthz answer %d during the outage: %d, want 200", i, s)
		}
	}

	sink.waitDelivered(t, acked.all(), 60*time.Second, node)
	st := sink.stats()
	t.Logf("all %d acknowledged events delivered; the destination got %d requests for %d deliveries",
		acked.len(), st.requests, st.deliveries)
	if len(st.overlaps) > 0 {
		t.Errorf("%d requests overlapped another of the same delivery: %v", len(st.overlaps), st.overlaps[:min(10, len(st.overlaps))])
	}
}

// countOf counts each status code.
func countOf(statuses []int) map[int]int {
	m := map[int]int{}
	for _, s := range statuses {
		m[s]++
	}
	return m
}

// pgProxy forwards TCP connections to PostgreSQL, and can play the server
// stopping (stop: every connection dropped, new ones refused) and starting
// again (start).
type pgProxy struct {
	ln      net.Listener
	target  string
	refused atomic.Int64
	wg      sync.WaitGroup

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		ln.Close()
		p.stop()
		p.wg.Wait()
	})
	return p
}

func (p *pgProxy) addr() string { return p.ln.Addr().String() }

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			p.refused.Add(1)
			reset(c)
			continue
		}
		p.wg.Go(func() { p.forward(c) })
	}
}

// forward pipes c to a new connection to the target until either side
// closes or stop closes both.
func (p *pgProxy) forward(c net.Conn) {
	defer p.drop(c)
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(up) {
		up.Close()
		return
	}
	defer p.drop(up)
	done := make(chan struct{})
	go func() {
		io.Copy(up, c)
		up.Close()
		c.Close()
		close(done)
	}()
	io.Copy(c, up)
	up.Close()
	c.Close()
	<-done
}

// track registers an open connection, or reports false when the proxy is
// down.
func (p *pgProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *pgProxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// stop drops every connection and refuses new ones until start.
func (p *pgProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

// start accepts connections again.
func (p *pgProxy) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// reset closes c at once with a TCP reset, as a server that is gone does.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
