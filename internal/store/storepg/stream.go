package storepg

import (
	"context"
	"strconv"

	"github.com/volleyhq/volley/internal/store"
)

// EventStream implements store.Stream. With several writers, ids are not
// handed out in commit order: a transaction holding id 5 may commit after
// one holding id 6, and a reader that moved its cursor past 6 would skip 5.
// So each event keeps the id of the transaction that inserted it
// (commit_xid), the stream reads in (commit_xid, id) order, and it reads
// only rows of transactions older than the oldest one still running
// (pg_snapshot_xmin): those are all finished, and every transaction that
// can still add rows has a greater xid, hence comes after the cursor. A
// long-running write transaction anywhere in the cluster delays the stream
// until it ends; it never loses an event.
func (s *Store) EventStream(ctx context.Context, p store.EventStreamParams) ([]store.StreamEvent, error) {
	if len(p.SourceIDs) == 0 {
		return nil, nil
	}
	type pos struct {
		id     uint64
		commit string
	}
	rows, err := s.pool.Query(ctx, `SELECT e.id, e.commit_xid::text FROM events e
		WHERE e.source_id = ANY($1) AND (e.commit_xid, e.id) > ($2::text::xid8, $3)
			AND e.commit_xid < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY e.commit_xid, e.id LIMIT $4`,
		p.SourceIDs, strconv.FormatUint(p.After.Commit, 10), p.After.ID, p.Limit)
	positions, err := collect(rows, err, func(row scanner) (*pos, error) {
		var v pos
		return &v, row.Scan(&v.id, &v.commit)
	})
	if err != nil || len(positions) == 0 {
		return nil, wrap(err, "stream events")
	}
	ids := make([]uint64, len(positions))
	for i, v := range positions {
		ids[i] = v.id
	}
	rows, err = s.pool.Query(ctx, `SELECT `+eventCols+eventFrom+` WHERE e.id = ANY($1)`, ids)
	events, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, wrap(err, "stream events")
	}
	byID := make(map[uint64]int, len(events))
	for i := range events {
		byID[events[i].ID] = i
	}
	out := make([]store.StreamEvent, 0, len(positions))
	for _, v := range positions {
		i, ok := byID[v.id]
		if !ok {
			continue // deleted by retention between the two reads
		}
		commit, err := strconv.ParseUint(v.commit, 10, 64)
		if err != nil {
			return nil, wrap(err, "stream events: parse commit_xid")
		}
		out = append(out, store.StreamEvent{Pos: store.StreamPos{Commit: commit, ID: v.id}, Event: events[i]})
	}
	return out, nil
}

// EventStreamHead implements store.Stream: every transaction older than
// the oldest one running has finished, so every visible event is before
// (xmin, 0) or was committed by a transaction that overlaps this call.
func (s *Store) EventStreamHead(ctx context.Context) (store.StreamPos, error) {
	var xmin string
	if err := s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&xmin); err != nil {
		return store.StreamPos{}, wrap(err, "stream head")
	}
	commit, err := strconv.ParseUint(xmin, 10, 64)
	if err != nil {
		return store.StreamPos{}, wrap(err, "stream head: parse xmin")
	}
	return store.StreamPos{Commit: commit}, nil
}
