package storepg

import "context"

// ExplainPayloadDict returns PostgreSQL's plans of the dictionary
// trainer's two queries, for a test of their index use.
func (s *Store) ExplainPayloadDict(ctx context.Context, sourceID uint64) (sources, sample string, err error) {
	if sources, err = s.explain(ctx, sqlDictSources, []any{0, 100, 1000}); err != nil {
		return "", "", err
	}
	sample, err = s.explain(ctx, sqlPayloadSample, []any{sourceID, 100})
	return sources, sample, err
}
