package storesqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/volleyhq/volley/internal/store"
)

// A resumed connection's held deliveries are not released one by one:
// they stay held, and the lease takes them as if they were pending and due
// at the time the change was recorded (delivery_sweeps.created_at), moving
// each to pending as it leases it. A release wrote every delivery of the
// backlog once more before its lease did, and on a big backlog those writes
// took a fifth of the node's CPU and of the writer's time during a drain
// (docs/benchmarks.md).

// sqlRunnable is what makes a connection c runnable, its destination d
// joined: enabled, and the destination active. Held deliveries of a
// runnable connection are due (the lease takes them), others wait.
const sqlRunnable = `c.status = 'enabled' AND d.status = 'active'`

// sqlResumedAll lists the resumed connections: those with a sweep
// recorded, enabled, with an active destination, and the time from which
// their held deliveries are due. delivery_sweeps holds a row per
// connection changed and not yet swept, a handful.
const sqlResumedAll = `SELECT s.connection_id, c.destination_id, s.created_at FROM delivery_sweeps s
	JOIN connections c ON c.id = s.connection_id JOIN destinations d ON d.id = c.destination_id
	WHERE ` + sqlRunnable

// sqlResumed lists the resumed connections whose held deliveries are due
// at ?1, the lease's now.
const sqlResumed = sqlResumedAll + ` AND s.created_at <= ?1`

// sqlHeldOfConnection reads up to ?2 held deliveries of the connection ?1
// from deliveries_connection, oldest first, as due at ?3.
const sqlHeldOfConnection = `SELECT id, ?3, 1 FROM deliveries WHERE connection_id = ?1 AND state = 'held' LIMIT ?2`

// sqlDue reads the earliest due pending deliveries (?1 now, ?2 the limit)
// from deliveries_due.
const sqlDue = `SELECT id, next_attempt_at, 0 FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1
	ORDER BY next_attempt_at LIMIT ?2`

// picked is what a lease takes: the earliest due pending deliveries (due,
// read by the lease's update itself), or pending deliveries by id, and the
// held ones of resumed connections by id. The ids go to the update as one
// JSON array (idList), so that its text is the same whatever their number
// and the statement is prepared once (hotStatements).
type picked struct {
	due     bool
	pending []int64
	held    []int64
}

// due is a delivery a lease may take and the time it is due at.
type due struct {
	id, at int64
	held   bool
}

// leasePick returns what a lease takes. It runs inside the lease's write
// transaction, so what it picks cannot change before the update.
//
// Without destinations to skip or resumed connections, the earliest due
// deliveries come straight from deliveries_due, reading no more entries
// than the lease takes. With destinations to skip, that index would have to
// be walked past every due delivery of the skipped destinations (the engine
// skips a destination exactly when its backlog is too big for its lane), so
// the pick goes by destination instead: the destinations with pending
// deliveries are enumerated one index seek each, and each other
// destination's earliest due deliveries are read from
// deliveries_destination_due. A resumed connection's held deliveries are
// read from deliveries_connection, and merged with the pending ones by due
// time. The work is bounded by the number of destinations and resumed
// connections times the limit, whatever the backlog behind them.
func leasePick(ctx context.Context, tx hotTx, p store.LeaseParams) (picked, error) {
	rel, err := resumedConnections(ctx, tx, p)
	if err != nil {
		return picked{}, err
	}
	if len(p.SkipDestinations) == 0 && len(rel) == 0 {
		return picked{due: true}, nil
	}
	var cands []due
	if len(p.SkipDestinations) == 0 {
		cands, err = appendDue(ctx, tx, nil, sqlDue, micros(p.Now), p.Limit)
	} else {
		cands, err = dueByDestination(ctx, tx, p)
	}
	if err != nil {
		return picked{}, err
	}
	for _, r := range rel {
		if cands, err = appendDue(ctx, tx, cands, sqlHeldOfConnection, r.conn, p.Limit, r.at); err != nil {
			return picked{}, fmt.Errorf("held deliveries of connection %d: %w", r.conn, err)
		}
	}
	slices.SortStableFunc(cands, func(a, b due) int { return cmp.Compare(a.at, b.at) })
	var pk picked
	for _, c := range cands[:min(len(cands), p.Limit)] {
		if c.held {
			pk.held = append(pk.held, c.id)
		} else {
			pk.pending = append(pk.pending, c.id)
		}
	}
	return pk, nil
}

// idList is ids as a JSON array, for a statement's "IN (SELECT value FROM
// json_each(?))".
func idList(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// resumed is a connection whose held deliveries are due, and since when.
type resumed struct {
	conn, dest uint64
	at         int64
}

// resumedConnections returns the resumed connections, but those of the
// destinations the lease skips.
func resumedConnections(ctx context.Context, tx hotTx, p store.LeaseParams) ([]resumed, error) {
	rows, err := tx.QueryContext(ctx, sqlResumed, micros(p.Now))
	if err != nil {
		return nil, fmt.Errorf("resumed connections: %w", err)
	}
	rs, err := collect(rows, func(r scanner) (*resumed, error) {
		var x resumed
		return &x, r.Scan(&x.conn, &x.dest, &x.at)
	})
	if err != nil {
		return nil, fmt.Errorf("resumed connections: %w", err)
	}
	return slices.DeleteFunc(rs, func(r resumed) bool { return slices.Contains(p.SkipDestinations, r.dest) }), nil
}

// appendDue appends to ds the deliveries a query reads as (id, due time,
// held).
func appendDue(ctx context.Context, tx hotTx, ds []due, query string, args ...any) ([]due, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.at, &d.held); err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// dueByDestination reads the earliest due pending deliveries of each
// destination with some, but those the lease skips.
func dueByDestination(ctx context.Context, tx hotTx, p store.LeaseParams) ([]due, error) {
	dests, err := pendingDestinations(ctx, tx)
	if err != nil {
		return nil, err
	}
	var ds []due
	for _, dest := range dests {
		if slices.Contains(p.SkipDestinations, dest) {
			continue
		}
		if ds, err = appendDue(ctx, tx, ds, sqlDueOfDestination, dest, micros(p.Now), p.Limit); err != nil {
			return nil, fmt.Errorf("due deliveries of destination %d: %w", dest, err)
		}
	}
	return ds, nil
}

// sqlDueOfDestination reads one destination's earliest due deliveries.
const sqlDueOfDestination = `SELECT id, next_attempt_at, 0 FROM deliveries INDEXED BY deliveries_destination_due
	WHERE state = 'pending' AND destination_id = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`

// sqlPendingDestinations lists the destinations with pending deliveries by
// skipping through deliveries_destination_due: one seek per destination,
// however many deliveries each has.
const sqlPendingDestinations = `WITH RECURSIVE dest(id) AS (
		SELECT (SELECT min(destination_id) FROM deliveries WHERE state = 'pending')
		UNION ALL
		SELECT (SELECT min(destination_id) FROM deliveries WHERE state = 'pending' AND destination_id > dest.id)
		FROM dest WHERE dest.id IS NOT NULL)
	SELECT id FROM dest WHERE id IS NOT NULL`

func pendingDestinations(ctx context.Context, tx hotTx) ([]uint64, error) {
	rows, err := tx.QueryContext(ctx, sqlPendingDestinations)
	if err != nil {
		return nil, fmt.Errorf("destinations with pending deliveries: %w", err)
	}
	defer rows.Close()
	var ids []uint64
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
