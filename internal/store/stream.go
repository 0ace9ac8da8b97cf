package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/volleyhq/volley/internal/volley"
)

// Stream reads new events in the order they became visible, for the
// listen stream (GET /api/stream). A reader that walks it from a position
// sees every event committed after that position exactly once, even when
// several writers on several nodes commit out of id order.
type Stream interface {
	// EventStream returns up to Limit events of the given sources that come
	// after After in stream order, each with its position, oldest first. An
	// event whose position is not yet safe to hand out (an older
	// transaction may still commit before it) waits for a later call.
	EventStream(ctx context.Context, p EventStreamParams) ([]StreamEvent, error)
	// EventStreamHead returns the position every event visible now is at or
	// before: where a stream that wants only new events starts.
	EventStreamHead(ctx context.Context) (StreamPos, error)
}

// EventStreamParams selects the events of a stream.
type EventStreamParams struct {
	SourceIDs []uint64 // at least one
	After     StreamPos
	Limit     int
}

// StreamEvent is an event with its position in the stream.
type StreamEvent struct {
	Pos   StreamPos
	Event volley.Event
}

// StreamPos is a position in the event stream, ordered by Commit and then
// ID. Commit is 0 on a store whose ids are already in commit order
// (SQLite: one writer at a time); on PostgreSQL it is the inserting
// transaction's id.
type StreamPos struct {
	Commit uint64
	ID     uint64
}

// Less reports whether p comes before q.
func (p StreamPos) Less(q StreamPos) bool {
	return p.Commit < q.Commit || p.Commit == q.Commit && p.ID < q.ID
}

// String encodes the position as the SSE event id: "ID" when Commit is 0,
// else "Commit.ID".
func (p StreamPos) String() string {
	if p.Commit == 0 {
		return strconv.FormatUint(p.ID, 10)
	}
	return strconv.FormatUint(p.Commit, 10) + "." + strconv.FormatUint(p.ID, 10)
}

// ParseStreamPos decodes a position written by StreamPos.String.
func ParseStreamPos(s string) (StreamPos, error) {
	commit, id, found := strings.Cut(s, ".")
	if !found {
		commit, id = "0", commit
	}
	c, err1 := strconv.ParseUint(commit, 10, 64)
	i, err2 := strconv.ParseUint(id, 10, 64)
	if err1 != nil || err2 != nil {
		return StreamPos{}, fmt.Errorf("stream position %q: want ID or COMMIT.ID", s)
	}
	return StreamPos{Commit: c, ID: i}, nil
}
