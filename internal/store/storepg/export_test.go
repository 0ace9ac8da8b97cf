package storepg

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
)

// ExplainEventList returns PostgreSQL's plans (EXPLAIN, without costs) of
// EventList's count and page queries for p, for tests of index use.
func (s *Store) ExplainEventList(ctx context.Context, p store.EventListParams) (count, page string, err error) {
	q := storesql.EventListQuery(p, dialect, eventCols, eventFrom, storesql.NoRoutes)
	if count, err = s.explain(ctx, storesql.Numbered(q.Count), q.CountArgs); err != nil {
		return "", "", err
	}
	page, err = s.explain(ctx, storesql.Numbered(q.Page), q.PageArgs)
	return count, page, err
}

func (s *Store) explain(ctx context.Context, query string, args []any) (string, error) {
	rows, err := s.pool.Query(ctx, `EXPLAIN (COSTS OFF) `+query, args...)
	if err != nil {
		return "", err
	}
	return planText(rows)
}

// planText reads the lines of an EXPLAIN.
func planText(rows pgx.Rows) (string, error) {
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		b.WriteString(line + "\n")
	}
	return b.String(), rows.Err()
}

// ExplainBacklog returns PostgreSQL's plans (EXPLAIN, without costs) of
// BacklogSample's statement and of ProjectTraffic's, for a test of index
// use.
func (s *Store) ExplainBacklog(ctx context.Context, projectID uint64, now time.Time) (sample, history string, err error) {
	if sample, err = s.explain(ctx, sqlBacklogSample, []any{ts(now)}); err != nil {
		return "", "", err
	}
	from := now.Add(-24 * time.Hour).Truncate(time.Hour)
	history, err = s.explain(ctx, sqlProjectTraffic, []any{int64(projectID), int64(0), ts(from), time.Hour.Seconds(), ts(now)})
	return sample, history, err
}

// Analyze refreshes the planner's statistics of the traffic tables.
func (s *Store) Analyze(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `ANALYZE events, event_states, deliveries, attempts`)
	return err
}

// ExplainAttemptList returns the plans of an attempt list's count and page.
func (s *Store) ExplainAttemptList(ctx context.Context, p store.AttemptListParams) (count, page string, err error) {
	q, err := storesql.AttemptListQuery(p, dialect, attemptCols)
	if err != nil {
		return "", "", err
	}
	if count, err = s.explain(ctx, storesql.Numbered(q.Count), q.CountArgs); err != nil {
		return "", "", err
	}
	page, err = s.explain(ctx, storesql.Numbered(q.Page), q.PageArgs)
	return count, page, err
}

// UpdateEventStatus runs the statements that bring the statuses of events
// up to date in tx.
func UpdateEventStatus(ctx context.Context, tx pgx.Tx, events []uint64) error {
	return updateEventStatus(ctx, tx, events)
}

// SQLEventStatusLock is the statement that locks status rows.
const SQLEventStatusLock = sqlEventStatusLock
