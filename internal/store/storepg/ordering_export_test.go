package storepg

import (
	"context"
	"time"
)

// ExplainOrdering returns PostgreSQL's plans (EXPLAIN, without costs) of
// the ordering key lookups: the insert's busy check (as sqlEventInsert
// runs it, over unnest rows) and the promotion after a finish.
func (s *Store) ExplainOrdering(ctx context.Context, connectionID uint64, finished []uint64) (busy, promote string, err error) {
	busy, err = s.explain(ctx, `SELECT u.ordering_key FROM unnest($1::bigint[], $2::text[]) AS u(connection_id, ordering_key)
		WHERE `+sqlKeyBusy, []any{[]uint64{connectionID, connectionID}, []string{"k1", "k2"}})
	if err != nil {
		return "", "", err
	}
	promote, err = s.explain(ctx, sqlPromote, []any{finished, time.Now()})
	return busy, promote, err
}
