package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Configuration changes that affect a connection's deliveries (pause,
// resume, disable, delete, and the same on its destination, source or
// project) only record the connection in delivery_sweeps, in the same
// transaction: they cost the same whatever the backlog. DeliverySweep then
// applies the change to the deliveries in small batches, each its own
// short transaction behind ingestion in the writer queue.

// needSweep records that the connections matching cond need a sweep. A
// connection already waiting gets a new generation, so that a sweep that
// finished the previous change does not forget this one, and the time of
// this change: a resumed connection's held deliveries are due from it
// (lease.go).
func needSweep(ctx context.Context, tx *sql.Tx, now time.Time, cond string, args ...any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO delivery_sweeps (connection_id, generation, created_at)
		SELECT id, 1, ? FROM connections WHERE `+cond+`
		ON CONFLICT (connection_id) DO UPDATE SET generation = generation + 1, created_at = excluded.created_at`,
		append([]any{micros(now)}, args...)...)
	if err != nil {
		return fmt.Errorf("record delivery sweep: %w", err)
	}
	return nil
}

// sqlNextSweep picks the sweep to work on: the oldest, but those of
// resumed connections (enabled, with an active destination) that still
// have held deliveries, which the lease takes by itself (lease.go); such a
// sweep is forgotten here once none is left.
const sqlNextSweep = `SELECT connection_id, generation FROM delivery_sweeps s
	WHERE NOT (EXISTS (SELECT 1 FROM connections c JOIN destinations d ON d.id = c.destination_id
			WHERE c.id = s.connection_id AND ` + sqlRunnable + `)
		AND EXISTS (SELECT 1 FROM deliveries x WHERE x.connection_id = s.connection_id AND x.state = 'held'))
	ORDER BY created_at, connection_id LIMIT 1`

// DeliverySweep implements store.Traffic.
func (s *Store) DeliverySweep(ctx context.Context, p store.SweepParams) (int, error) {
	// Most calls find nothing to do (the engine looks every few seconds):
	// they ask the read pool, and leave the single writer to ingestion.
	var pending int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM (`+sqlNextSweep+`)`).Scan(&pending); err != nil {
		return 0, fmt.Errorf("sweep deliveries: %w", err)
	}
	if pending == 0 {
		return s.sweepStranded(ctx, p.Now)
	}
	var n int64
	moved := false
	// The batch is sized by its hold (holdsize.go), up to p.Limit.
	limit := s.sweepSize.size(p.Limit)
	hold, err := s.txHeld(ctx, background(writeSweep), func(tx *sql.Tx) error {
		var conn, gen uint64
		err := tx.QueryRowContext(ctx, sqlNextSweep).Scan(&conn, &gen)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var connStatus, destStatus string
		err = tx.QueryRowContext(ctx, `SELECT c.status, d.status FROM connections c
			JOIN destinations d ON d.id = c.destination_id WHERE c.id = ?`, conn).Scan(&connStatus, &destStatus)
		// Each batch reads the connection's deliveries in one state through
		// the deliveries_connection index.
		batch := func(state string) string {
			return `id IN (SELECT id FROM deliveries WHERE connection_id = ? AND state = '` + state + `' LIMIT ?)`
		}
		switch {
		case errors.Is(err, sql.ErrNoRows): // deleted
			// Parked ones too: they would wait for nothing now.
			n, err = cancelDeliveries(ctx, tx, p.Now, batch(volley.DeliveryPending)+` OR `+batch(volley.DeliveryHeld)+
				` OR `+batch(volley.DeliveryParked), conn, limit, conn, limit, conn, limit)
		case err != nil:
			return err
		case connStatus == volley.ConnectionEnabled && destStatus == volley.DestinationActive:
			// Resumed, and (sqlNextSweep) none of its deliveries is held
			// any more: the lease took them all.
		default:
			// Leased deliveries are left to their workers, which check the
			// connection before sending.
			n, err = holdDeliveries(ctx, tx, `id IN (SELECT id FROM deliveries WHERE connection_id = ?
				AND state = 'pending' AND lease_owner = '' LIMIT ?)`, conn, limit)
		}
		if err != nil {
			return err
		}
		if n > 0 {
			moved = true
			s.batchHook(OpDeliverySweep)
			return nil
		}
		// Done: forget the sweep, unless the connection changed again
		// meanwhile. Counting it keeps the caller sweeping.
		_, err = tx.ExecContext(ctx, `DELETE FROM delivery_sweeps WHERE connection_id = ? AND generation = ?`, conn, gen)
		n = 1
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep deliveries: %w", err)
	}
	if moved {
		s.sweepSize.observe(int(n), hold)
	}
	return int(n), nil
}

// sqlStranded selects the runnable connections (enabled, with an active
// destination) that hold deliveries without a sweep to release them. An
// ingest routed while its connection was paused stores its delivery held,
// and may commit after the resume's sweep was forgotten: it was routed
// before the resume (the routing cache lags a change by up to its TTL), or
// its transaction queued behind the resume's.
const sqlStranded = ` FROM connections c JOIN destinations d ON d.id = c.destination_id
	WHERE ` + sqlRunnable + `
		AND NOT EXISTS (SELECT 1 FROM delivery_sweeps s WHERE s.connection_id = c.id)
		AND EXISTS (SELECT 1 FROM deliveries x WHERE x.connection_id = c.id AND x.state = 'held')`

// sweepStranded records a sweep at now for each stranded connection
// (sqlStranded), as a resume would have: the lease then takes its held
// deliveries as due from now. It returns how many it recorded. Looking
// costs an index seek per runnable connection, on the read pool; the
// writer is taken only when there is one.
func (s *Store) sweepStranded(ctx context.Context, now time.Time) (int, error) {
	var stranded bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1`+sqlStranded+`)`).Scan(&stranded); err != nil {
		return 0, fmt.Errorf("sweep deliveries: stranded connections: %w", err)
	}
	if !stranded {
		return 0, nil
	}
	r, err := s.execBackground(ctx, writeSweep, `INSERT INTO delivery_sweeps (connection_id, generation, created_at)
		SELECT c.id, 1, ?`+sqlStranded+` ON CONFLICT (connection_id) DO NOTHING`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sweep deliveries: stranded connections: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sweep deliveries: stranded connections: %w", err)
	}
	return int(n), nil
}
