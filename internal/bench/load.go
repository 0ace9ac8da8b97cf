package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// stats summarises request latencies.
type stats struct {
	n         int
	errors    int64
	elapsed   time.Duration
	p50, p99  time.Duration
	perSecond float64
}

func (s stats) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests, %d errors)",
		s.perSecond, ms(s.p50), ms(s.p99), s.n, s.errors)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, MaxConnsPerHost: 0,
			IdleConnTimeout: time.Minute, DisableCompression: true,
		},
	}
}

// post sends one webhook and returns the status code.
func post(ctx context.Context, c *http.Client, url string, body []byte) (int, error) {
	req, err := newPost(ctx, url, body)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// hammer sends as fast as `clients` concurrent clients can for d, spreading
// them over urls, and returns the latency statistics of accepted requests.
func hammer(ctx context.Context, urls []string, clients int, d time.Duration, body []byte, want int) stats {
	c := newClient(clients)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			url := urls[i%len(urls)]
			for ctx.Err() == nil {
				t0 := time.Now()
				code, err := post(ctx, c, url, body)
				if ctx.Err() != nil {
					break
				}
				if err != nil || code != want {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return stats{n: len(all), errors: errs.Load(), elapsed: elapsed, perSecond: float64(len(all)) / elapsed.Seconds(),
		p50: percentile(all, 0.50), p99: percentile(all, 0.99)}
}

func newPost(ctx context.Context, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}
