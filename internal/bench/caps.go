package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// capEvery is how often a probe reads the node's caps on bulk work.
const capEvery = 250 * time.Millisecond

// capStat is what the samples of one kind of bulk work's cap showed.
type capStat struct {
	samples, capped int
	min             float64 // the lowest cap seen; 0 when never capped
	// The trials given up (volley_bulk_yield_given_up_total) at the first
	// and last sample: the step gave up last-first times.
	gaveUpFirst, gaveUpLast float64
}

// capSample is one scrape's cap on a kind of bulk work.
type capSample struct {
	rate   float64 // 0: no cap
	gaveUp float64 // the trials given up so far
}

// capStats are the samples of a step by kind of work ("lease", …); nil when
// the node exposes no caps (its ingest commit target is off).
type capStats map[string]*capStat

// String says which kinds of work were capped, in how many samples, and
// how low: what the node traded for ingest latency during the step.
func (cs capStats) String() string {
	if len(cs) == 0 {
		return ""
	}
	var parts []string
	for _, work := range slices.Sorted(maps.Keys(cs)) {
		c := cs[work]
		if c.capped > 0 {
			trials := ""
			if n := c.gaveUpLast - c.gaveUpFirst; n > 0 {
				trials = fmt.Sprintf(", uncapped after %.0f trials", n)
			}
			parts = append(parts, fmt.Sprintf("%s capped in %d of %d samples (lowest %.0f/s%s)", work, c.capped, c.samples, c.min, trials))
		}
	}
	if len(parts) == 0 {
		return "bulk work never capped"
	}
	return "bulk work: " + strings.Join(parts, ", ")
}

// add records one scrape's caps.
func (cs capStats) add(caps map[string]capSample) {
	for work, cp := range caps {
		c := cs[work]
		if c == nil {
			c = &capStat{gaveUpFirst: cp.gaveUp}
			cs[work] = c
		}
		c.samples++
		c.gaveUpLast = cp.gaveUp
		if cp.rate > 0 {
			c.capped++
			if c.min == 0 || cp.rate < c.min {
				c.min = cp.rate
			}
		}
	}
}

// parseCaps reads volley_bulk_rate_cap and volley_bulk_yield_given_up_total
// from a /metrics page (the second is absent before 2026-12-07).
func parseCaps(r io.Reader) (map[string]capSample, error) {
	const (
		rate   = `volley_bulk_rate_cap{work="`
		gaveUp = `volley_bulk_yield_given_up_total{work="`
	)
	caps := map[string]capSample{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		rest, isRate := strings.CutPrefix(line, rate)
		if !isRate {
			var ok bool
			if rest, ok = strings.CutPrefix(line, gaveUp); !ok {
				continue
			}
		}
		work, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			return nil, fmt.Errorf("bench: unexpected line %q", line)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", line, err)
		}
		cp := caps[work]
		if isRate {
			cp.rate = v
		} else {
			cp.gaveUp = v
		}
		caps[work] = cp
	}
	return caps, sc.Err()
}

// capSampler reads the node's caps every capEvery until stopped.
type capSampler struct {
	mu    sync.Mutex
	stats capStats
	stop  chan struct{}
	done  chan struct{}
}

// sampleCaps starts reading url (the node's /metrics) in the background.
// A scrape that fails is skipped: the caps are context for the probe's
// figures, not a figure of their own.
func sampleCaps(ctx context.Context, url string) *capSampler {
	s := &capSampler{stats: capStats{}, stop: make(chan struct{}), done: make(chan struct{})}
	c := newClient(1)
	c.Timeout = capEvery * 4
	go func() {
		defer close(s.done)
		defer c.CloseIdleConnections()
		tick := time.NewTicker(capEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				return
			case <-tick.C:
			}
			caps, err := scrapeCaps(ctx, c, url)
			if err != nil || len(caps) == 0 {
				continue
			}
			s.mu.Lock()
			s.stats.add(caps)
			s.mu.Unlock()
		}
	}()
	return s
}

// finish stops the sampler and returns what it saw.
func (s *capSampler) finish() capStats {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func scrapeCaps(ctx context.Context, c *http.Client, url string) (map[string]capSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: GET %s: status %d", url, resp.StatusCode)
	}
	return parseCaps(resp.Body)
}
