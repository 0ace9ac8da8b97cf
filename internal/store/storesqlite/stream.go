package storesqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/volleyhq/volley/internal/store"
)

// EventStream implements store.Stream. SQLite commits one writer at a time,
// so ids are handed out in commit order: every event a later call can see
// has a greater id than every event this one saw, and the position is the
// id alone (Commit is 0).
func (s *Store) EventStream(ctx context.Context, p store.EventStreamParams) ([]store.StreamEvent, error) {
	if len(p.SourceIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(p.SourceIDs)+2)
	for _, id := range p.SourceIDs {
		args = append(args, id)
	}
	args = append(args, p.After.ID, p.Limit)
	// events_source_id is (source_id, id): one range read per source.
	rows, err := s.read.QueryContext(ctx, `SELECT `+eventCols+eventFrom+`
		WHERE e.source_id IN (?`+strings.Repeat(", ?", len(p.SourceIDs)-1)+`) AND e.id > ?
		ORDER BY e.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("stream events: %w", err)
	}
	events, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("stream events: %w", err)
	}
	out := make([]store.StreamEvent, len(events))
	for i, e := range events {
		out[i] = store.StreamEvent{Pos: store.StreamPos{ID: e.ID}, Event: e}
	}
	return out, nil
}

// EventStreamHead implements store.Stream.
func (s *Store) EventStreamHead(ctx context.Context) (store.StreamPos, error) {
	var id uint64
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&id); err != nil {
		return store.StreamPos{}, fmt.Errorf("stream head: %w", err)
	}
	return store.StreamPos{ID: id}, nil
}
