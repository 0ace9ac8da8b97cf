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
			parts = append(parts, fmt.Sprintf("%s capped in %d of %d samples (lowest %.0f/s)", work, c.capped, c.samples, c.min))
		}
	}
	if len(parts) == 0 {
		return "bulk work never capped"
	}
	return "bulk work: " + strings.Join(parts, ", ")
}

// add records one scrape's caps.
func (cs capStats) add(caps map[string]float64) {
	for work, rate := range caps {
		c := cs[work]
		if c == nil {
			c = &capStat{}
			cs[work] = c
		}
		c.samples++
		if rate > 0 {
			c.capped++
			if c.min == 0 || rate < c.min {
				c.min = rate
			}
		}
	}
}

// parseCaps reads volley_bulk_rate_cap from a /metrics page.
func parseCaps(r io.Reader) (map[string]float64, error) {
	const prefix = `volley_bulk_rate_cap{work="`
	caps := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		work, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			return nil, fmt.Errorf("bench: unexpected line %q", sc.Text())
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", sc.Text(), err)
		}
		caps[work] = v
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

func scrapeCaps(ctx context.Context, c *http.Client, url string) (map[string]float64, error) {
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
