package storepg

import (
	"context"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// sqlProjectTraffic reads every figure of ProjectTraffic in one statement,
// so they come from one snapshot: the backlog and the oldest pending event
// ($1 project, $2 connection or 0), and per period (from $3, $4 seconds
// long, until $5) the received events of project_hours (migration 0013)
// and the deliveries of connection_minutes (0007), and the backlog history
// of backlog_hours (0020: the project's rows and the sampler's marks of
// project 0), as parallel arrays.
// Each part is a range of a primary key or one seek of an index.
const sqlProjectTraffic = `WITH conns AS (
	SELECT id FROM connections WHERE project_id = $1 AND ($2 = 0 OR id = $2)
), received AS (
	SELECT floor(extract(epoch FROM hour - $3) / $4)::int AS b, sum(received)::bigint AS n
	FROM project_hours WHERE project_id = $1 AND $2 = 0 AND hour >= $3 AND hour < $5 GROUP BY 1
), deliveries AS (
	SELECT floor(extract(epoch FROM minute - $3) / $4)::int AS b,
		sum(routed)::bigint AS routed, sum(delivered)::bigint AS delivered, sum(failed)::bigint AS failed
	FROM connection_minutes WHERE connection_id IN (SELECT id FROM conns) AND minute >= $3 AND minute < $5 GROUP BY 1
), backlog AS (
	SELECT floor(extract(epoch FROM hour - $3) / $4)::int AS b,
		coalesce(max(backlog) FILTER (WHERE project_id = $1), 0)::bigint AS n,
		coalesce(max(oldest_age) FILTER (WHERE project_id = $1), 0)::bigint AS age
	FROM backlog_hours WHERE project_id IN (0, $1) AND $2 = 0 AND hour >= $3 AND hour < $5 GROUP BY 1
)
SELECT
	(SELECT coalesce(sum(n), 0)::bigint FROM connection_backlog WHERE connection_id IN (SELECT id FROM conns)),
	(SELECT coalesce(min(created_at), ` + zeroTime + `) FROM event_states WHERE project_id = $1 AND status = 'pending'),
	coalesce((SELECT array_agg(b ORDER BY b) FROM received), '{}'),
	coalesce((SELECT array_agg(n ORDER BY b) FROM received), '{}'),
	coalesce((SELECT array_agg(b ORDER BY b) FROM deliveries), '{}'),
	coalesce((SELECT array_agg(routed ORDER BY b) FROM deliveries), '{}'),
	coalesce((SELECT array_agg(delivered ORDER BY b) FROM deliveries), '{}'),
	coalesce((SELECT array_agg(failed ORDER BY b) FROM deliveries), '{}'),
	coalesce((SELECT array_agg(b ORDER BY b) FROM backlog), '{}'),
	coalesce((SELECT array_agg(n ORDER BY b) FROM backlog), '{}'),
	coalesce((SELECT array_agg(age ORDER BY b) FROM backlog), '{}')`

// ProjectTraffic implements store.Traffic.
func (s *Store) ProjectTraffic(ctx context.Context, p store.ProjectTrafficParams) (*volley.ProjectTraffic, error) {
	periods, err := storesql.TrafficWindow(p)
	if err != nil {
		return nil, err
	}
	out := &volley.ProjectTraffic{Periods: periods}
	from, until := time.Unix(0, 0).UTC(), time.Unix(0, 0).UTC() // an empty window
	if len(periods) > 0 {
		from = periods[0].Start
		until = from.Add(p.Step * time.Duration(len(periods)))
	}
	var rb, dbk, bb []int32
	var rn, routed, delivered, failed, bn, bage []int64
	err = s.pool.QueryRow(ctx, sqlProjectTraffic, int64(p.ProjectID), int64(p.ConnectionID), ts(from), p.Step.Seconds(), ts(until)).
		Scan(&out.Backlog, &out.OldestPending, &rb, &rn, &dbk, &routed, &delivered, &failed, &bb, &bn, &bage)
	if err != nil {
		return nil, wrap(err, "project traffic")
	}
	out.OldestPending = out.OldestPending.UTC()
	for i, b := range rb {
		if int(b) >= 0 && int(b) < len(periods) {
			out.Periods[b].Received += rn[i]
		}
	}
	for i, b := range dbk {
		if int(b) >= 0 && int(b) < len(periods) {
			pp := &out.Periods[b]
			pp.Routed, pp.Delivered, pp.Failed = pp.Routed+routed[i], pp.Delivered+delivered[i], pp.Failed+failed[i]
		}
	}
	for i, b := range bb {
		if int(b) >= 0 && int(b) < len(periods) {
			pp := &out.Periods[b]
			pp.BacklogSampled, pp.BacklogMax, pp.OldestPendingAgeMax = true, bn[i], time.Duration(bage[i])*time.Second
		}
	}
	return out, nil
}

// sqlBacklogSample merges one sample ($1, the time) into backlog_hours: the
// backlog of every project that has one (the counter rows of the
// connections, a few shards each, summed per project), the age of its
// oldest pending event (one seek of event_states' (project_id, status,
// created_at) index per such project), and the hour's mark (project 0). A
// row is rewritten only when the sample exceeds it, so the nodes sampling
// every minute leave no dead rows behind them. It returns how many projects
// had a backlog.
const sqlBacklogSample = `WITH current_backlog AS (
	SELECT c.project_id, sum(b.n)::bigint AS n FROM connection_backlog b JOIN connections c ON c.id = b.connection_id
	GROUP BY c.project_id HAVING sum(b.n) > 0
), sample AS (
	SELECT project_id, n, greatest(0, floor(extract(epoch FROM $1::timestamptz -
		(SELECT min(st.created_at) FROM event_states st WHERE st.project_id = current_backlog.project_id AND st.status = 'pending'))))::bigint AS age
	FROM current_backlog
	UNION ALL SELECT 0, 0, 0
), merged AS (
	INSERT INTO backlog_hours AS h (project_id, hour, backlog, oldest_age)
	SELECT project_id, metrics_hour($1::timestamptz), n, age FROM sample ORDER BY project_id
	ON CONFLICT (project_id, hour) DO UPDATE SET backlog = greatest(h.backlog, excluded.backlog),
		oldest_age = greatest(h.oldest_age, excluded.oldest_age)
	WHERE excluded.backlog > h.backlog OR excluded.oldest_age > h.oldest_age
)
SELECT count(*) FROM current_backlog`

// BacklogSample implements store.Traffic.
func (s *Store) BacklogSample(ctx context.Context, p store.BacklogSampleParams) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, sqlBacklogSample, ts(p.Now)).Scan(&n); err != nil {
		return 0, wrap(err, "sample backlog")
	}
	return n, nil
}
