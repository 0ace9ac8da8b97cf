package storesqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// The connection metrics (connection_minutes, connection_backlog,
// connection_latency) are counters kept in the transaction that changes
// what they count. Triggers keep them for most writes (migrations 0006,
// 0015, 0023), but a trigger runs once per row, and a backlog drain
// records thousands of outcomes a second that share a handful of
// counters: there the per-row trigger work was about a quarter of each
// delivery's writer time (docs/benchmarks.md). So the two writers of
// outcomes count in Go and write each counter once per transaction:
//
//   - every attempt is inserted by insertAttempt, whose callers add its
//     latency to a tally (attempts have no trigger any more);
//   - finishSome defers the deliveries' update trigger (metricsDefer) for
//     its outcomes' updates alone, and tallies what the trigger would have
//     counted for them: an outcome's update always moves a pending
//     delivery, so it counts a delivered or failed one in its finish
//     minute and takes a final one out of the backlog.

// tally is what a transaction's outcomes add to the connection metrics.
type tally struct {
	minutes map[connMinute]finishedCount
	backlog map[uint64]int64 // connection: change of its backlog
	latency map[latencyKey]int64
}

type connMinute struct{ conn, minute int64 }

type finishedCount struct{ delivered, failed int64 }

type latencyKey struct{ conn, minute, bucket int64 }

// finished counts a pending delivery of conn whose state became state at
// at.
func (t *tally) finished(conn uint64, state string, at time.Time) {
	if !final(state) {
		return // pending, held or parked: still in the backlog, not finished
	}
	if t.backlog == nil {
		t.backlog = map[uint64]int64{}
		t.minutes = map[connMinute]finishedCount{}
	}
	t.backlog[conn]--
	if state != volley.DeliverySuccess && state != volley.DeliveryFailed {
		return // cancelled or filtered: counted neither way
	}
	k := connMinute{int64(conn), unixMinute(at)}
	c := t.minutes[k]
	if state == volley.DeliverySuccess {
		c.delivered++
	} else {
		c.failed++
	}
	t.minutes[k] = c
}

// attempt counts an inserted attempt's latency, if it succeeded.
func (t *tally) attempt(a *volley.Attempt) {
	if a.Status != volley.AttemptSuccess {
		return
	}
	if t.latency == nil {
		t.latency = map[latencyKey]int64{}
	}
	t.latency[latencyKey{int64(a.ConnectionID), unixMinute(a.CreatedAt), storesql.LatencyBucketMS(a.DurationMS)}]++
}

// The statements that add a tally to the counters.
const (
	sqlTallyMinutes = `INSERT INTO connection_minutes (connection_id, minute, delivered, failed)
		VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered,
		failed = failed + excluded.failed`
	sqlTallyBacklog = `INSERT INTO connection_backlog (connection_id, n) VALUES (?, ?)
		ON CONFLICT DO UPDATE SET n = n + excluded.n`
	sqlTallyLatency = `INSERT INTO connection_latency (connection_id, minute, bucket_ms, n)
		VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n`
)

// write adds the tally to the counters in tx.
func (t *tally) write(ctx context.Context, tx hotTx) error {
	for k, c := range t.minutes {
		if _, err := tx.ExecContext(ctx, sqlTallyMinutes, k.conn, k.minute, c.delivered, c.failed); err != nil {
			return fmt.Errorf("count finished deliveries: %w", err)
		}
	}
	for conn, n := range t.backlog {
		if _, err := tx.ExecContext(ctx, sqlTallyBacklog, conn, n); err != nil {
			return fmt.Errorf("count the backlog: %w", err)
		}
	}
	for k, n := range t.latency {
		if _, err := tx.ExecContext(ctx, sqlTallyLatency, k.conn, k.minute, k.bucket, n); err != nil {
			return fmt.Errorf("count attempt latency: %w", err)
		}
	}
	return nil
}

const (
	sqlMetricsDeferOn  = `INSERT INTO metrics_deferred (id) VALUES (1)`
	sqlMetricsDeferOff = `DELETE FROM metrics_deferred`
)

// metricsDefer makes the deliveries' update trigger skip the transaction's
// updates (on) until it is called again (off). In between, the caller
// tallies what they change; it must run no other statement that changes a
// delivery's state.
func metricsDefer(ctx context.Context, tx hotTx, on bool) error {
	q := sqlMetricsDeferOff
	if on {
		q = sqlMetricsDeferOn
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("defer the delivery metrics (%t): %w", on, err)
	}
	return nil
}
