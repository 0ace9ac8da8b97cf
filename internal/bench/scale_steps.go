package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/volleyhq/volley"
)

const (
	// scalePoll is how often the drain and the purge look at their
	// progress.
	scalePoll = 500 * time.Millisecond
	// scaleQueryBudget bounds the time one list query is repeated for.
	scaleQueryBudget = 30 * time.Second
	// scaleQueryTimeout is the lists' HTTP timeout: a slow query on a big
	// store is a figure to report, not a reason to abort the run.
	scaleQueryTimeout = 10 * time.Minute
)

// scaleQueries are the list and detail requests the lists step times, each
// filter alone, as issue 8's table names them.
func scaleQueries(g *graph, ds *dataset) []listQuery {
	p := g.projectID
	requests := fmt.Sprintf("/api/projects/%d/requests", p)
	mid := ds.Oldest.Add(ds.Newest.Sub(ds.Oldest) / 2)
	window := "start_time=" + url.QueryEscape(mid.Format(time.RFC3339)) + "&end_time=" + url.QueryEscape(mid.Add(time.Hour).Format(time.RFC3339))
	search := func(s string) string { return requests + "?" + url.Values{"search": {s}}.Encode() }
	return []listQuery{
		{"requests, default", requests},
		{"requests?source_id=", fmt.Sprintf("%s?source_id=%d", requests, g.sourceID)},
		{"requests?status=failed", requests + "?status=failed"},
		{"requests?connection_id=", fmt.Sprintf("%s?connection_id=%d", requests, g.connectionID)},
		{"requests?destination_id=", fmt.Sprintf("%s?destination_id=%d", requests, g.destinationID)},
		{"requests, 1-hour time range", requests + "?" + window},
		{"requests?search= body text", search(datasetCustomer(datasetCustomers / 2))},
		{"requests?search=evt_… full id", search(ds.MiddleUID)},
		{"requests?search=evt_… 10 chars", search(ds.MiddleUID[:min(10, len(ds.MiddleUID))])},
		{"requests, deep page by offset", fmt.Sprintf("%s?offset=%d", requests, ds.Events/2)},
		{"event detail", fmt.Sprintf("/api/projects/%d/events/%s", p, ds.MiddleUID)},
		{"GET /api/connections/{id} (metrics)", fmt.Sprintf("/api/connections/%d", g.connectionID)},
		{"delivery-attempts, default", fmt.Sprintf("/api/projects/%d/delivery-attempts", p)},
		{"delivery-attempts?status=failed", fmt.Sprintf("/api/projects/%d/delivery-attempts?status=failed", p)},
	}
}

// lists times every query of scaleQueries and the deep page by cursor,
// Config.Runs times each after a warm-up, or fewer once a query has taken
// scaleQueryBudget.
func (s *scaleSteps) lists(ctx context.Context) error {
	c := newClient(1)
	c.Timeout = scaleQueryTimeout
	defer c.CloseIdleConnections()
	qs := scaleQueries(s.g, s.ds)
	// The deep page of the offset query, by cursor: the cursor of the event
	// just before it.
	requests := fmt.Sprintf("/api/projects/%d/requests", s.g.projectID)
	cursor, err := nextCursor(ctx, c, s.node.url, fmt.Sprintf("%s?limit=1&offset=%d", requests, max(s.ds.Events/2-1, 0)))
	if err != nil {
		return err
	}
	qs = append(qs, listQuery{"requests, deep page by cursor", requests + "?after=" + url.QueryEscape(cursor)})
	for _, q := range qs {
		t, err := timeQuery(ctx, c, s.node.url, q.path, s.cfg.Runs, scaleQueryBudget)
		if err != nil {
			return fmt.Errorf("%s: %w", q.name, err)
		}
		s.rep.lists = append(s.rep.lists, listTiming{q, t})
		fmt.Fprintf(s.out, "  %-36s p50 %8.1f ms  p99 %8.1f ms  %d runs  GET %s\n", q.name, ms(t.median), ms(t.p99), t.runs, q.path)
	}
	return nil
}

// probe starts a step's steady ingest, and reads the node's caps on bulk
// work beside it.
func (s *scaleSteps) probe(ctx context.Context) *probe {
	p := startProbe(ctx, s.hookURL(), s.cfg.ProbeRate, s.body, &s.accepted)
	p.caps = sampleCaps(ctx, s.node.url+"/metrics")
	return p
}

// setStatus sends PUT /api/connections/{id} with status and returns how
// long it took to answer.
func (s *scaleSteps) setStatus(ctx context.Context, api *volley.Client, status string) (time.Duration, error) {
	t0 := time.Now()
	_, err := api.UpdateConnectionContext(ctx, s.g.connectionID, volley.UpdateConnectionRequest{Status: status})
	return time.Since(t0), err
}

// pauseResume enables and pauses the connection scaleToggles times with
// the backlog held, waiting Config.Hold after each PUT for the background
// work it starts, the probe sending meanwhile, and times each PUT. It
// leaves the connection paused.
func (s *scaleSteps) pauseResume(ctx context.Context) error {
	api := volley.NewClient(benchToken, volley.WithBaseURL(s.node.url))
	p := s.probe(ctx)
	for range scaleToggles {
		for _, status := range []string{"enabled", "paused"} {
			d, err := s.setStatus(ctx, api, status)
			if err != nil {
				p.finish()
				return err
			}
			s.rep.puts = append(s.rep.puts, statusPut{status, d})
			if err := sleepCtx(ctx, s.cfg.Hold); err != nil {
				p.finish()
				return err
			}
		}
	}
	s.rep.pauseProbe = p.finish()
	fmt.Fprintf(s.out, "pause and resume: PUTs %s; probe %s\n", putsText(s.rep.puts), s.rep.pauseProbe)
	return nil
}

// drain enables the connection and waits, the probe sending meanwhile,
// until the sink has every event the store held or the node accepted and
// the connection has nothing pending (every attempt recorded), or
// Config.DrainTimeout passes.
func (s *scaleSteps) drain(ctx context.Context) error {
	api := volley.NewClient(benchToken, volley.WithBaseURL(s.node.url))
	res := &s.rep.drain
	res.timeout = s.cfg.DrainTimeout
	res.before = s.sink.count()
	t0 := time.Now()
	if _, err := s.setStatus(ctx, api, "enabled"); err != nil {
		return err
	}
	p := s.probe(ctx)
	err := s.awaitDrain(ctx, api, t0)
	res.probe = p.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "drain: %s\n", res.text())
	return nil
}

// awaitDrain polls the drain's progress until it finishes or times out.
func (s *scaleSteps) awaitDrain(ctx context.Context, api *volley.Client, t0 time.Time) error {
	return awaitDelivered(ctx, api, s.sink, s.g.connectionID, t0, &s.rep.drain, func() int {
		return s.ds.Backlog + int(s.accepted.Load())
	})
}

// awaitDelivered polls, from t0 until res.timeout has passed, until sk has
// target events (read again at each look: webhooks accepted meanwhile join
// it) and the connection has nothing pending (every attempt recorded).
func awaitDelivered(ctx context.Context, api *volley.Client, sk *sink, connectionID uint64, t0 time.Time, res *drainResult, target func() int) error {
	return pollUntil(ctx, t0, res.timeout, &res.gaveUp, func() (bool, error) {
		res.target = target()
		res.delivered = sk.count()
		if res.delivered >= res.target && res.deliveredTook == 0 {
			res.deliveredTook = time.Since(t0)
		}
		if res.deliveredTook == 0 {
			return false, nil
		}
		// Only now: the metrics may be slow to compute on a big store.
		left, err := backlogLeft(ctx, api, connectionID)
		if err != nil {
			return false, err
		}
		res.pending = left
		if left == 0 {
			res.recordedTook = time.Since(t0)
		}
		return left == 0, nil
	})
}

// pollUntil calls done every scalePoll until it reports true or fails, or
// until timeout after t0 has passed; then it sets *gaveUp to the time
// spent.
func pollUntil(ctx context.Context, t0 time.Time, timeout time.Duration, gaveUp *time.Duration, done func() (bool, error)) error {
	deadline := t0.Add(timeout)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			*gaveUp = time.Since(t0)
			return nil
		}
		if err := sleepCtx(ctx, scalePoll); err != nil {
			return err
		}
	}
}

// purgeFrom waits until no event older than the retention cutoff is left
// (the node was started at t0), the probe sending meanwhile, or until
// Config.DrainTimeout passes.
func (s *scaleSteps) purgeFrom(ctx context.Context, t0 time.Time) error {
	res := &s.rep.purge
	res.timeout = s.cfg.DrainTimeout
	// The node's cutoff is at least this late: every event created before
	// it must go.
	cutoff := t0.Add(-scaleRetention).Truncate(time.Second).Add(-time.Second)
	for i := range s.ds.Events {
		if s.ds.CreatedAt(i).Before(cutoff) {
			res.expired++
		}
	}
	p := s.probe(ctx)
	err := s.awaitPurge(ctx, t0, cutoff)
	res.probe = p.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "retention purge: %s\n", res.text())
	return nil
}

// awaitPurge polls until no event created before cutoff is listed, or
// the purge times out. The poll is itself a list call made while retention
// runs: its slowest answer and its failures are reported.
func (s *scaleSteps) awaitPurge(ctx context.Context, t0, cutoff time.Time) error {
	res := &s.rep.purge
	c := newClient(1)
	defer c.CloseIdleConnections()
	path := fmt.Sprintf("/api/projects/%d/requests?limit=1&end_time=%s", s.g.projectID, url.QueryEscape(cutoff.Format(time.RFC3339)))
	return pollUntil(ctx, t0, s.cfg.DrainTimeout, &res.gaveUp, func() (bool, error) {
		start := time.Now()
		left, err := listTotal(ctx, c, s.node.url, path)
		res.pollSlowest = max(res.pollSlowest, time.Since(start))
		if err != nil {
			if ctx.Err() != nil {
				return false, err
			}
			// A list that fails while retention runs is a finding, not
			// the end of the step: count it and look again.
			res.pollFailed, res.pollErr = res.pollFailed+1, err.Error()
			return false, nil
		}
		res.left = left
		if left == 0 {
			res.took = time.Since(t0)
		}
		return left == 0, nil
	})
}

// listTotal returns the total of the list answer at path (capped by the
// API: a count past the cap is the cap).
func listTotal(ctx context.Context, c *http.Client, base, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var page struct {
		Total *int64 `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK || page.Total == nil {
		return 0, fmt.Errorf("GET %s: no total (status %d, %v)", path, resp.StatusCode, err)
	}
	return *page.Total, nil
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
