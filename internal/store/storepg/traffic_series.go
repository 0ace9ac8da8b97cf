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
// and the deliveries of connection_minutes (0007), as parallel arrays.
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
)
SELECT
	(SELECT coalesce(sum(n), 0)::bigint FROM connection_backlog WHERE connection_id IN (SELECT id FROM conns)),
	(SELECT coalesce(min(created_at), ` + zeroTime + `) FROM events WHERE project_id = $1 AND status = 'pending'),
	coalesce((SELECT array_agg(b ORDER BY b) FROM received), '{}'),
	coalesce((SELECT array_agg(n ORDER BY b) FROM received), '{}'),
	coalesce((SELECT array_agg(b ORDER BY b) FROM deliveries), '{}'),
	coalesce((SELECT array_agg(routed ORDER BY b) FROM deliveries), '{}'),
	coalesce((SELECT array_agg(delivered ORDER BY b) FROM deliveries), '{}'),
	coalesce((SELECT array_agg(failed ORDER BY b) FROM deliveries), '{}')`

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
	var rb, dbk []int32
	var rn, routed, delivered, failed []int64
	err = s.pool.QueryRow(ctx, sqlProjectTraffic, int64(p.ProjectID), int64(p.ConnectionID), ts(from), p.Step.Seconds(), ts(until)).
		Scan(&out.Backlog, &out.OldestPending, &rb, &rn, &dbk, &routed, &delivered, &failed)
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
	return out, nil
}
