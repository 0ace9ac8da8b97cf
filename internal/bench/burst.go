package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/volleyhq/volley"
)

// ErrBurstIncomplete means the burst of phase (c) did not drain within
// Config.DrainTimeout: the report gives what finished, and no rate.
var ErrBurstIncomplete = errors.New("the burst did not drain in time")

// burstResult is what phase (c) measured.
type burstResult struct {
	events     int // the size of the burst
	ingestTook time.Duration
	// delivered is how many distinct events reached the sink, the last of
	// them after deliveredTook (or when the phase gave up).
	delivered     int
	deliveredTook time.Duration
	// recorded is how many successful attempts were recorded, the last of
	// them by recordedTook (or when the phase gave up).
	recorded     int64
	recordedTook time.Duration
	timeout      time.Duration // the drain's deadline, counted from the resume
	peakMiB      float64       // over ingestion and drain
}

func (b *burstResult) complete() bool {
	return b.delivered >= b.events && b.recorded >= int64(b.events)
}

// report writes the phase's lines. A rate is given only for work that
// finished: an incomplete drain is labelled as such, with its counts, and
// reported as ErrBurstIncomplete.
func (b *burstResult) report(out io.Writer) error {
	fmt.Fprintf(out, "(c) burst of %d events: ingested in %.2f s (%.0f/s) with the connection paused, then resumed\n",
		b.events, b.ingestTook.Seconds(), float64(b.events)/b.ingestTook.Seconds())
	if b.complete() {
		fmt.Fprintf(out, "    delivered to the sink in %.2f s: %.0f events/s\n",
			b.deliveredTook.Seconds(), float64(b.events)/b.deliveredTook.Seconds())
		fmt.Fprintf(out, "    every attempt recorded after %.2f s: %.0f events/s sustained (%d attempts)\n",
			b.recordedTook.Seconds(), float64(b.events)/b.recordedTook.Seconds(), b.recorded)
	} else {
		fmt.Fprintf(out, "    INCOMPLETE: gave up %s after the resume, no delivery rate measured\n", b.timeout)
		fmt.Fprintf(out, "    by then: %d of %d events delivered to the sink, %d of %d attempts recorded\n",
			b.delivered, b.events, b.recorded, b.events)
	}
	fmt.Fprintf(out, "    peak resident memory of a node over the phase (ingestion and drain): %.0f MiB\n\n", b.peakMiB)
	if !b.complete() {
		return fmt.Errorf("bench: phase (c): %w: %d of %d attempts recorded within %s", ErrBurstIncomplete, b.recorded, b.events, b.timeout)
	}
	return nil
}

// burst is phase (c): the sustained delivery rate of a burst ingested with
// the connection paused, then released at once, every attempt recorded.
// The node's peak memory is sampled over the whole phase, ingestion
// included.
func (r *runner) burst(ctx context.Context) error {
	cfg, body, sk, api, g := r.cfg, r.body, r.sink, r.api, r.graph
	sk.reset()
	r.peak.reset()
	if _, err := api.UpdateConnectionContext(ctx, g.connectionID, volley.UpdateConnectionRequest{Status: "paused"}); err != nil {
		return err
	}
	res := &burstResult{events: cfg.Burst, timeout: cfg.DrainTimeout}
	t0 := time.Now()
	if err := sendAll(ctx, r.hookURLs, cfg.Clients, cfg.Burst, body); err != nil {
		return err
	}
	res.ingestTook = time.Since(t0)
	t1 := time.Now()
	if _, err := api.UpdateConnectionContext(ctx, g.connectionID, volley.UpdateConnectionRequest{Status: "enabled"}); err != nil {
		return err
	}
	deadline := t1.Add(cfg.DrainTimeout)
	// Running out of time is not an error here: the report says what
	// finished.
	if err := waitCount(ctx, sk, cfg.Burst, time.Until(deadline)); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	res.delivered, res.deliveredTook = sk.count(), time.Since(t1)
	for {
		// The phases before left nothing pending, so what is pending now is
		// what is left of the burst: a delivery's attempt is recorded in the
		// transaction that finishes it.
		left, err := backlogLeft(ctx, api, g.connectionID)
		if err != nil {
			return err
		}
		res.recorded = int64(cfg.Burst) - left
		if left == 0 || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	res.recordedTook = time.Since(t1)
	res.peakMiB = r.peak.max()
	return res.report(r.out)
}
