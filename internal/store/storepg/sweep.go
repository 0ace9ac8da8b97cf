package storepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Configuration changes that affect a connection's deliveries (pause,
// resume, disable, delete, and the same on its destination, source or
// project) only record the connection in delivery_sweeps, in the same
// transaction: they cost the same whatever the backlog. DeliverySweep then
// applies the change to the deliveries in small batches, each its own
// short transaction.
//
// Races with the other nodes: a node sweeps a connection under a
// transaction-level advisory lock on it (try-lock: nodes sweep different
// connections), not a row lock on its delivery_sweeps row, so a change of
// the same connection never waits for a batch: it bumps the generation
// (and sets the time of the change, from which a resumed connection's held
// deliveries are due: sqlLeaseTail),
// and the batch's closing DELETE, which matches the generation it read,
// leaves the row for the next batch to apply the new state. Held outcomes
// of workers are ordered against changes by sqlLockRunnable and sqlFinish,
// as before.

// needSweep records that the connections that conns selects (a query over
// connections with $2, … as args) need a sweep. The rows are written in id
// order, so two changes over overlapping sets of connections (a source's
// and a destination's) wait for each other instead of deadlocking.
func needSweep(ctx context.Context, tx pgx.Tx, now time.Time, conns string, args ...any) error {
	_, err := tx.Exec(ctx, `INSERT INTO delivery_sweeps (connection_id, generation, created_at)
		SELECT id, 1, $1 FROM connections WHERE `+conns+` ORDER BY id
		ON CONFLICT (connection_id) DO UPDATE SET generation = delivery_sweeps.generation + 1,
			created_at = excluded.created_at`,
		append([]any{ts(now)}, args...)...)
	return wrap(err, "record delivery sweep")
}

// sqlNextSweep picks the oldest connection to sweep that no other node is
// sweeping, and takes its advisory lock until the transaction ends. The
// lock is tried on the candidates one by one, in order, only until one is
// taken: the subquery's LIMIT keeps the planner from testing the volatile
// lock function on rows it then throws away. The key holds the schema, so
// stores sharing a database never skip each other's connections.
//
// A resumed connection's sweep (enabled, with an active destination) is
// left alone while it still has held deliveries: the lease takes them by
// itself (sqlLeaseTail), and the sweep is forgotten here once none is left.
const sqlNextSweep = `SELECT connection_id, generation FROM (
		SELECT connection_id, generation FROM delivery_sweeps s
		WHERE NOT coalesce((SELECT ` + sqlResumed + ` FROM connections c
				JOIN destinations t ON t.id = c.destination_id WHERE c.id = s.connection_id)
			AND (` + sqlHeld + ` LIMIT 1) IS NOT NULL, false)
		ORDER BY created_at, connection_id LIMIT 16) c
	WHERE pg_try_advisory_xact_lock(hashtextextended(current_schema() || '/sweep/' || connection_id, 0))
	LIMIT 1`

// sqlSweepStranded records a sweep at $1 for each runnable connection
// (enabled, with an active destination) that holds deliveries without a
// sweep to release them, as a resume would have: the lease then takes
// them as due from $1. An ingest routed while its connection was paused
// stores its delivery held, and may commit after the resume's sweep was
// forgotten: it was routed before the resume (a node's routing cache lags
// a change on another node by up to its TTL), or committed after it. It
// costs an index seek per runnable connection (sqlHeld's), and writes
// nothing when none is stranded; two nodes recording the same connection
// at once leave one row.
const sqlSweepStranded = `INSERT INTO delivery_sweeps (connection_id, generation, created_at)
	SELECT s.connection_id, 1, $1 FROM (SELECT c.id AS connection_id FROM connections c
		JOIN destinations t ON t.id = c.destination_id
		WHERE ` + sqlResumed + ` AND NOT EXISTS (SELECT 1 FROM delivery_sweeps w WHERE w.connection_id = c.id)) s
	WHERE (` + sqlHeld + ` LIMIT 1) IS NOT NULL
	ON CONFLICT (connection_id) DO NOTHING`

// DeliverySweep implements store.Traffic.
func (s *Store) DeliverySweep(ctx context.Context, p store.SweepParams) (int, error) {
	var n int64
	err := s.bgTx(ctx, func(tx pgx.Tx) error {
		n = 0
		var conn, gen uint64
		err := tx.QueryRow(ctx, sqlNextSweep).Scan(&conn, &gen)
		if errors.Is(err, pgx.ErrNoRows) {
			tag, err := tx.Exec(ctx, sqlSweepStranded, ts(p.Now))
			n = tag.RowsAffected()
			return err
		}
		if err != nil {
			return err
		}
		var connStatus, destStatus string
		err = tx.QueryRow(ctx, `SELECT c.status, d.status FROM connections c
			JOIN destinations d ON d.id = c.destination_id WHERE c.id = $1`, conn).Scan(&connStatus, &destStatus)
		// Each batch reads the connection's deliveries in one state through
		// the deliveries_connection index, skipping rows other
		// transactions (leases, outcomes) hold. ARRAY(…) runs the locking
		// subquery once: as a plain IN subquery the planner may rescan it
		// for every row, and each rescan skips the rows this statement just
		// changed and locks the next ones, so the LIMIT would not hold.
		batch := func(first int, state string) string {
			return fmt.Sprintf(`id = ANY (ARRAY(SELECT id FROM deliveries WHERE connection_id = $%d AND state = '%s'
				LIMIT $%d FOR UPDATE SKIP LOCKED))`, first, state, first+1)
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows): // deleted
			// Parked ones too: they would wait for nothing now.
			n, err = cancelDeliveries(ctx, tx, p.Now, batch(2, volley.DeliveryPending)+` OR `+batch(4, volley.DeliveryHeld)+
				` OR `+batch(6, volley.DeliveryParked), conn, p.Limit, conn, p.Limit, conn, p.Limit)
		case err != nil:
			return err
		case connStatus == volley.ConnectionEnabled && destStatus == volley.DestinationActive:
			// Resumed, and (sqlNextSweep) none of its deliveries is held
			// any more: the lease took them all.
		default:
			// Leased deliveries are left to their workers, which check the
			// connection before sending.
			n, err = holdDeliveries(ctx, tx, `id = ANY (ARRAY(SELECT id FROM deliveries WHERE connection_id = $1
				AND state = 'pending' AND lease_owner = '' LIMIT $2 FOR UPDATE SKIP LOCKED))`, conn, p.Limit)
		}
		if err != nil {
			return err
		}
		if n > 0 {
			s.batchHook(OpDeliverySweep)
			return nil
		}
		// Done: forget the sweep, unless the connection changed again
		// meanwhile. Counting it keeps the caller sweeping.
		_, err = tx.Exec(ctx, `DELETE FROM delivery_sweeps WHERE connection_id = $1 AND generation = $2`, conn, gen)
		n = 1
		return err
	})
	if err != nil {
		return 0, wrap(err, "sweep deliveries")
	}
	return int(n), nil
}
