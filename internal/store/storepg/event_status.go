package storepg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// An event's status lives in event_states, one row per event (migrations
// 0025 and 0026), so that events rows are never updated: the drain's
// outcomes write a new version of a narrow row, not of the wide one with
// its seven indexes.

// sqlStatusOf is the status of the event e.
const sqlStatusOf = `(SELECT st.status FROM event_states st WHERE st.event_id = e.id)`

// sqlEventStatusLock locks the status rows of the events $1, in id order,
// before sqlEventStatus derives them again. Two batches finishing
// deliveries of one event would otherwise each see the other's delivery
// still pending (neither has committed) and both leave the event pending;
// run as its own statement, the lock makes the second wait for the first
// to commit, and its sqlEventStatus, a later statement with a later
// snapshot, sees both deliveries finished.
const sqlEventStatusLock = `SELECT 1 FROM event_states WHERE event_id = ANY($1::bigint[]) ORDER BY event_id FOR UPDATE`

// sqlEventStatus derives the status of the events $1 from their deliveries,
// ignoring cancelled ones: none left → dropped; any pending, held or
// parked → pending; else any failed → failed; else all filtered →
// filtered; else processed. Only the statuses that change are written.
// (The repeated id condition lets the planner look the rows up by primary
// key whatever its statistics say.)
const sqlEventStatus = `WITH derived AS MATERIALIZED (
	SELECT event_id, CASE
		WHEN count(*) FILTER (WHERE state <> 'cancelled') = 0 THEN 'dropped'
		WHEN count(*) FILTER (WHERE state IN ('pending', 'held', 'parked')) > 0 THEN 'pending'
		WHEN count(*) FILTER (WHERE state = 'failed') > 0 THEN 'failed'
		WHEN count(*) FILTER (WHERE state NOT IN ('cancelled', 'filtered')) = 0 THEN 'filtered'
		ELSE 'processed' END AS status
	FROM deliveries WHERE event_id = ANY($1::bigint[]) GROUP BY event_id
)
UPDATE event_states st SET status = d.status FROM derived d
WHERE st.event_id = d.event_id AND st.event_id = ANY($1::bigint[]) AND st.status <> d.status`

// eventStatusStatements bring the statuses of events (their one argument)
// up to date with their deliveries, in this order.
var eventStatusStatements = [...]string{sqlEventStatusLock, sqlEventStatus}

// queueEventStatus queues eventStatusStatements; readEventStatus reads
// their results.
func queueEventStatus(b *pgx.Batch, events []uint64) {
	for _, q := range eventStatusStatements {
		b.Queue(q, events)
	}
}

func readEventStatus(br pgx.BatchResults) error {
	for range eventStatusStatements {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("update event status: %w", err)
		}
	}
	return nil
}

// updateEventStatus runs eventStatusStatements in a transaction.
func updateEventStatus(ctx context.Context, tx pgx.Tx, events []uint64) error {
	for _, q := range eventStatusStatements {
		if _, err := tx.Exec(ctx, q, events); err != nil {
			return fmt.Errorf("update event status: %w", err)
		}
	}
	return nil
}
