package storesqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

const attemptCols = `a.id, a.delivery_id, a.event_id, a.event_uid, a.project_id, a.source_id, a.connection_id,
	a.destination_id, a.number, a.trigger, a.status, a.status_code, a.error_reason, a.duration_ms, a.created_at,
	a.transformation_logs, a.transformation_error`

func scanAttempt(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	var created int64
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &created,
		&a.TransformationLogs, &a.TransformationError); err != nil {
		return nil, notFound(err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

func scanAttemptFull(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	var created int64
	var headers string
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &created,
		&a.TransformationLogs, &a.TransformationError, &headers, &a.ResponseBody); err != nil {
		return nil, notFound(err)
	}
	var err error
	if a.ResponseHeaders, err = decodeHTTPHeader(headers); err != nil {
		return nil, fmt.Errorf("attempt %d: %w", a.ID, err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// AttemptList implements store.Traffic.
func (s *Store) AttemptList(ctx context.Context, p store.AttemptListParams) ([]volley.Attempt, int64, error) {
	q, err := attemptListQuery(p)
	if err != nil {
		return nil, 0, fmt.Errorf("list attempts: %w", err)
	}
	list, total, err := readList(ctx, s.read, q, scanAttempt)
	if err != nil {
		return nil, 0, fmt.Errorf("list attempts: %w", err)
	}
	return list, total, nil
}

// attemptListQuery is the shared attempt list, with the index of failed
// attempts named for a list of them. SQLite's planner, left to choose,
// counted them through another index of the project (the one of the
// smallest rows), reading every attempt's row, and read a page of them
// sorted by time by walking every attempt of the project. The index holds
// every column the filters use, so the count reads it alone; a page sorted
// by duration or status code walks that sort's index instead (failed
// attempts are a share of it, not a needle).
func attemptListQuery(p store.AttemptListParams) (storesql.ListQuery, error) {
	q, err := storesql.AttemptListQuery(p, dialect, attemptCols)
	if err != nil || p.Status != volley.AttemptFailed {
		return q, err
	}
	const from, failed = " FROM attempts a", " FROM attempts a INDEXED BY attempts_project_failed"
	q.Count = strings.ReplaceAll(q.Count, from, failed)
	if p.Sort == "" || p.Sort == store.AttemptSortTime || p.Sort == store.AttemptSortOldest {
		q.Page = strings.ReplaceAll(q.Page, from, failed)
	}
	return q, nil
}

// AttemptListByEvent implements store.Traffic.
func (s *Store) AttemptListByEvent(ctx context.Context, eventID uint64) ([]volley.Attempt, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+attemptCols+`, a.response_headers, a.response_body
		FROM attempts a WHERE a.event_id = ? ORDER BY a.id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list event attempts: %w", err)
	}
	return collect(rows, scanAttemptFull)
}

// AttemptListByConnection implements store.Traffic.
func (s *Store) AttemptListByConnection(ctx context.Context, connectionID uint64, limit int) ([]volley.Attempt, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+attemptCols+` FROM attempts a WHERE a.connection_id = ?
		ORDER BY a.created_at DESC, a.id DESC LIMIT ?`, connectionID, limit)
	if err != nil {
		return nil, fmt.Errorf("list connection attempts: %w", err)
	}
	return collect(rows, scanAttempt)
}
