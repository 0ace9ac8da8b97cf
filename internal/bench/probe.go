package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// probeTimeout is how long a probe request may take before it counts as a
// timeout: what a webhook provider typically waits before giving up.
const probeTimeout = 10 * time.Second

// probeStats is what a probe measured: latencies of accepted requests,
// requests that timed out, and other failures (errors and answers other
// than 202).
type probeStats struct {
	sent, accepted, timeouts, errors int
	p50, p99, max                    time.Duration
	perSecond                        float64 // the rate sent, when known
	caps                             capStats
}

func (s probeStats) String() string {
	rate := ""
	if s.perSecond > 0 {
		rate = fmt.Sprintf(" (%.0f/s)", s.perSecond)
	}
	caps := ""
	if c := s.caps.String(); c != "" {
		caps = "; " + c
	}
	return fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d sent%s, %d timeouts, %d errors%s",
		ms(s.p50), ms(s.p99), ms(s.max), s.sent, rate, s.timeouts, s.errors, caps)
}

// probeTally accounts for a probe's requests; safe for concurrent use.
type probeTally struct {
	mu        sync.Mutex
	latencies []time.Duration
	sent      int
	timeouts  int
	errors    int
}

// record counts one request that took d and ended with err or, when err
// is nil, the status code.
func (t *probeTally) record(d time.Duration, code int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent++
	var ne net.Error
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()):
		t.timeouts++
	case err != nil || code != http.StatusAccepted:
		t.errors++
	default:
		t.latencies = append(t.latencies, d)
	}
}

// stats summarises what was recorded so far.
func (t *probeTally) stats() probeStats {
	t.mu.Lock()
	ds := slices.Clone(t.latencies)
	s := probeStats{sent: t.sent, accepted: len(t.latencies), timeouts: t.timeouts, errors: t.errors}
	t.mu.Unlock()
	slices.Sort(ds)
	s.p50, s.p99 = percentile(ds, 0.5), percentile(ds, 0.99)
	if len(ds) > 0 {
		s.max = ds[len(ds)-1]
	}
	return s
}

// probe sends webhooks at a steady rate, whatever the answers' latency
// (open loop: a slow answer does not delay the next request), the way
// providers keep sending during an outage or a purge.
type probe struct {
	start time.Time
	tally probeTally
	stop  chan struct{}
	done  chan struct{}
	caps  *capSampler // nil: the caps on bulk work are not read
}

// startProbe sends rate webhooks per second of body to url until stop.
// Each accepted one is added to accepted.
func startProbe(ctx context.Context, url string, rate int, body []byte, accepted *atomic.Int64) *probe {
	p := &probe{start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	c := newClient(64)
	c.Timeout = probeTimeout
	go func() {
		defer close(p.done)
		defer c.CloseIdleConnections()
		var wg sync.WaitGroup
		defer wg.Wait()
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		sent := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.stop:
				return
			case <-tick.C:
			}
			// A ticker drops ticks its reader misses, as on a loaded
			// machine: send what is due by now, so that the rate holds on
			// average.
			due := int(time.Since(p.start) * time.Duration(rate) / time.Second)
			for ; sent < due; sent++ {
				wg.Go(func() {
					t0 := time.Now()
					code, err := post(context.WithoutCancel(ctx), c, url, body)
					p.tally.record(time.Since(t0), code, err)
					if err == nil && code == http.StatusAccepted {
						accepted.Add(1)
					}
				})
			}
		}
	}()
	return p
}

// finish stops sending, waits for the requests in flight and returns the
// statistics.
func (p *probe) finish() probeStats {
	close(p.stop)
	elapsed := time.Since(p.start)
	<-p.done
	s := p.tally.stats()
	s.perSecond = float64(s.sent) / elapsed.Seconds()
	if p.caps != nil {
		s.caps = p.caps.finish()
	}
	return s
}
