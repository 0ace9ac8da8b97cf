package storepg

import (
	"context"
	"fmt"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

const attemptCols = `a.id, a.delivery_id, a.event_id, a.event_uid, a.project_id, a.source_id, a.connection_id,
	a.destination_id, a.number, a.trigger, a.status, a.status_code, a.error_reason, a.duration_ms, a.created_at,
	a.transformation_logs, a.transformation_error`

func scanAttempt(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &a.CreatedAt,
		&a.TransformationLogs, &a.TransformationError); err != nil {
		return nil, mapErr(err)
	}
	return &a, nil
}

func scanAttemptFull(row scanner) (*volley.Attempt, error) {
	var a volley.Attempt
	var headers string
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EventUID, &a.ProjectID, &a.SourceID, &a.ConnectionID,
		&a.DestinationID, &a.Number, &a.Trigger, &a.Status, &a.StatusCode, &a.ErrorReason, &a.DurationMS, &a.CreatedAt,
		&a.TransformationLogs, &a.TransformationError, &headers, &a.ResponseBody); err != nil {
		return nil, mapErr(err)
	}
	var err error
	if a.ResponseHeaders, err = decodeHTTPHeader(headers); err != nil {
		return nil, fmt.Errorf("attempt %d: %w", a.ID, err)
	}
	return &a, nil
}

// AttemptList implements store.Traffic.
func (s *Store) AttemptList(ctx context.Context, p store.AttemptListParams) ([]volley.Attempt, int64, error) {
	q, err := storesql.AttemptListQuery(p, dialect, attemptCols)
	if err != nil {
		return nil, 0, wrap(err, "list attempts")
	}
	list, total, err := readList(ctx, s, q, scanAttempt)
	return list, total, wrap(err, "list attempts")
}

// AttemptListByEvent implements store.Traffic.
func (s *Store) AttemptListByEvent(ctx context.Context, eventID uint64) ([]volley.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+attemptCols+`, a.response_headers, a.response_body
		FROM attempts a WHERE a.event_id = $1 ORDER BY a.id`, eventID)
	list, err := collect(rows, err, scanAttemptFull)
	return list, wrap(err, "list event attempts")
}

// AttemptListByConnection implements store.Traffic.
func (s *Store) AttemptListByConnection(ctx context.Context, connectionID uint64, limit int) ([]volley.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+attemptCols+` FROM attempts a WHERE a.connection_id = $1
		ORDER BY a.created_at DESC, a.id DESC LIMIT $2`, connectionID, limit)
	list, err := collect(rows, err, scanAttempt)
	return list, wrap(err, "list connection attempts")
}
