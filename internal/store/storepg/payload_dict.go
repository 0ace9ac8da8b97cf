package storepg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
)

// PayloadDictsUsed implements store.Payloads: PostgreSQL searches the
// bodies in SQL, so new payloads are stored as they come and dictionaries
// are not used (migration 0021). PostgreSQL's own lz4 applies only to
// payload rows over about 2 KB (migration 0006's correction).
func (s *Store) PayloadDictsUsed() bool { return false }

// PayloadDictInsert implements store.Payloads.
func (s *Store) PayloadDictInsert(ctx context.Context, d *store.PayloadDict) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM sources WHERE id = $1`, d.SourceID).Scan(&one); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO payload_dicts (id, source_id, dict, ratio, created_at) VALUES ($1, $2, $3, $4, $5)`,
			int64(d.ID), d.SourceID, d.Dict, d.Ratio, d.CreatedAt)
		return err
	})
	return wrap(err, "insert payload dictionary")
}

// PayloadDictGet implements store.Payloads.
func (s *Store) PayloadDictGet(ctx context.Context, id uint32) (*store.PayloadDict, error) {
	var d store.PayloadDict
	var dictID int64
	err := s.pool.QueryRow(ctx, `SELECT id, source_id, dict, ratio, created_at FROM payload_dicts WHERE id = $1`, int64(id)).
		Scan(&dictID, &d.SourceID, &d.Dict, &d.Ratio, &d.CreatedAt)
	if err != nil {
		return nil, wrap(err, fmt.Sprintf("get payload dictionary %d", id))
	}
	d.ID = uint32(dictID)
	d.CreatedAt = d.CreatedAt.UTC()
	return &d, nil
}

// sqlDictSources pages through sources by id with their newest dictionary
// (through payload_dicts_source) and, for those without one, a count of
// their events that stops at $3 (through events_source_created).
const sqlDictSources = `SELECT s.id, coalesce(d.id, 0), coalesce(d.ratio, 0), d.created_at,
	CASE WHEN d.id IS NULL THEN (SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.source_id = s.id LIMIT $3) c) ELSE 0 END
FROM sources s
LEFT JOIN LATERAL (SELECT x.id, x.ratio, x.created_at FROM payload_dicts x WHERE x.source_id = s.id
	ORDER BY x.created_at DESC, x.id DESC LIMIT 1) d ON true
WHERE s.id > $1 ORDER BY s.id LIMIT $2`

// PayloadDictSources implements store.Payloads.
func (s *Store) PayloadDictSources(ctx context.Context, p store.PayloadDictSourcesParams) ([]store.PayloadDictSource, error) {
	rows, err := s.pool.Query(ctx, sqlDictSources, p.After, p.Limit, p.MinEvents)
	if err != nil {
		return nil, wrap(err, "list sources for payload dictionaries")
	}
	defer rows.Close()
	var out []store.PayloadDictSource
	for rows.Next() {
		var src store.PayloadDictSource
		var dictID, events int64
		var created *time.Time
		if err := rows.Scan(&src.SourceID, &dictID, &src.DictRatio, &created, &events); err != nil {
			return nil, wrap(err, "list sources for payload dictionaries")
		}
		src.DictID = uint32(dictID)
		if created != nil {
			src.DictCreatedAt = created.UTC()
		}
		src.Enough = dictID == 0 && events >= int64(p.MinEvents)
		out = append(out, src)
	}
	return out, wrap(rows.Err(), "list sources for payload dictionaries")
}

// sqlPayloadSample reads a source's newest payloads through
// events_source_created.
const sqlPayloadSample = `SELECT ep.headers, ep.body FROM events e JOIN event_payloads ep ON ep.event_id = e.id
WHERE e.source_id = $1 ORDER BY e.created_at DESC LIMIT $2`

// PayloadSample implements store.Payloads.
func (s *Store) PayloadSample(ctx context.Context, sourceID uint64, limit int) ([]store.PayloadSample, error) {
	rows, err := s.pool.Query(ctx, sqlPayloadSample, sourceID, limit)
	if err != nil {
		return nil, wrap(err, "sample payloads")
	}
	defer rows.Close()
	var out []store.PayloadSample
	for rows.Next() {
		var p store.PayloadSample
		if err := rows.Scan(&p.Headers, &p.Body); err != nil {
			return nil, wrap(err, "sample payloads")
		}
		if p.Body == nil {
			p.Body = []byte{}
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "sample payloads")
}
