package storesqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/volleyhq/volley/internal/store"
)

// leasePick returns the condition on deliveries.id that picks the
// deliveries a lease takes, with its arguments. It runs inside the lease's
// write transaction, so what it picks cannot change before the update.
//
// Without destinations to skip, the earliest due deliveries come straight
// from deliveries_due, reading no more entries than the lease takes. With
// some, that index would have to be walked past every due delivery of the
// skipped destinations (the engine skips a destination exactly when its
// backlog is too big for its lane), so the pick goes by destination
// instead: the destinations with pending deliveries are enumerated one
// index seek each, and each other destination's earliest due deliveries
// are read from deliveries_destination_due. The work is bounded by the
// number of destinations with pending work times the limit, whatever the
// backlog behind them.
func leasePick(ctx context.Context, tx *sql.Tx, p store.LeaseParams) (string, []any, error) {
	if len(p.SkipDestinations) == 0 {
		return `id IN (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?
			ORDER BY next_attempt_at LIMIT ?)`, []any{micros(p.Now), p.Limit}, nil
	}
	dests, err := pendingDestinations(ctx, tx)
	if err != nil {
		return "", nil, err
	}
	perDest, err := tx.PrepareContext(ctx, sqlDueOfDestination)
	if err != nil {
		return "", nil, err
	}
	defer perDest.Close()
	type due struct{ id, at int64 }
	var picked []due
	for _, dest := range dests {
		if slices.Contains(p.SkipDestinations, dest) {
			continue
		}
		rows, err := perDest.QueryContext(ctx, dest, micros(p.Now), p.Limit)
		if err != nil {
			return "", nil, fmt.Errorf("due deliveries of destination %d: %w", dest, err)
		}
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.at); err != nil {
				rows.Close()
				return "", nil, err
			}
			picked = append(picked, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", nil, err
		}
	}
	if len(picked) == 0 {
		return "0", nil, nil
	}
	slices.SortFunc(picked, func(a, b due) int { return cmp.Compare(a.at, b.at) })
	picked = picked[:min(len(picked), p.Limit)]
	args := make([]any, len(picked))
	for i, d := range picked {
		args[i] = d.id
	}
	return `id IN (?` + strings.Repeat(", ?", len(args)-1) + `)`, args, nil
}

// sqlDueOfDestination reads one destination's earliest due deliveries.
const sqlDueOfDestination = `SELECT id, next_attempt_at FROM deliveries INDEXED BY deliveries_destination_due
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

func pendingDestinations(ctx context.Context, tx *sql.Tx) ([]uint64, error) {
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
