package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
)

// dictState is the dictionary each source's new payloads are compressed
// with: its newest. Every dictionary of the store is registered with the
// package payload when the store opens and when one is added, so that any
// row, and the SQL functions that read bodies, can be decoded without a
// query. This process is the only writer of the file (its lock), so the
// state cannot miss a dictionary.
type dictState struct {
	mu      sync.RWMutex
	current map[uint64]uint32 // by source id
}

// dictFor returns the dictionary to compress a source's new payloads with
// (0 for none).
func (d *dictState) dictFor(sourceID uint64) uint32 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.current[sourceID]
}

func (d *dictState) set(sourceID uint64, id uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current == nil {
		d.current = map[uint64]uint32{}
	}
	d.current[sourceID] = id
}

// loadDicts registers every dictionary of the store and remembers each
// source's newest. The table holds a few per busy source.
func (s *Store) loadDicts(ctx context.Context) error {
	rows, err := s.read.QueryContext(ctx, `SELECT id, source_id, dict FROM payload_dicts ORDER BY created_at, id`)
	if err != nil {
		return fmt.Errorf("sqlite: load payload dictionaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint32
		var sourceID uint64
		var raw []byte
		if err := rows.Scan(&id, &sourceID, &raw); err != nil {
			return fmt.Errorf("sqlite: load payload dictionaries: %w", err)
		}
		if _, err := payload.RegisterDict(raw); err != nil {
			return fmt.Errorf("sqlite: load payload dictionary %d: %w", id, err)
		}
		s.dicts.set(sourceID, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load payload dictionaries: %w", err)
	}
	return nil
}

// PayloadDictsUsed implements store.Payloads: SQLite compresses payloads
// itself (package payload), so dictionaries shrink them.
func (s *Store) PayloadDictsUsed() bool { return true }

// PayloadDictInsert implements store.Payloads.
func (s *Store) PayloadDictInsert(ctx context.Context, d *store.PayloadDict) error {
	id, err := payload.DictID(d.Dict)
	if err != nil || id != d.ID {
		return fmt.Errorf("insert payload dictionary %d: its bytes declare id %d (%v)", d.ID, id, err)
	}
	// Registered before the commit: once committed, the next ingest may
	// compress with it. One registered but not stored (the insert failed)
	// is never used: no source's state names it.
	if _, err := payload.RegisterDict(d.Dict); err != nil {
		return fmt.Errorf("insert payload dictionary: %w", err)
	}
	err = s.txBackground(ctx, writeUpkeep, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM sources WHERE id = ?`, d.SourceID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO payload_dicts (id, source_id, dict, ratio, created_at) VALUES (?, ?, ?, ?, ?)`,
			d.ID, d.SourceID, d.Dict, d.Ratio, micros(d.CreatedAt))
		if _, ok := uniqueViolation(err); ok {
			return store.Conflict("payload dictionary id")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("insert payload dictionary: %w", err)
	}
	s.dicts.set(d.SourceID, d.ID)
	return nil
}

// PayloadDictGet implements store.Payloads.
func (s *Store) PayloadDictGet(ctx context.Context, id uint32) (*store.PayloadDict, error) {
	var d store.PayloadDict
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, source_id, dict, ratio, created_at FROM payload_dicts WHERE id = ?`, id).
		Scan(&d.ID, &d.SourceID, &d.Dict, &d.Ratio, &created)
	if err != nil {
		return nil, fmt.Errorf("get payload dictionary %d: %w", id, notFound(err))
	}
	d.CreatedAt = fromMicros(created)
	return &d, nil
}

// sqlDictSources pages through sources by id with their newest dictionary
// (through payload_dicts_source) and, for those without one, a count of
// their events that stops at ?3 (an index-only walk of
// events_source_created).
const sqlDictSources = `SELECT s.id, coalesce(d.id, 0), coalesce(d.ratio, 0), coalesce(d.created_at, 0),
	CASE WHEN d.id IS NULL THEN (SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.source_id = s.id LIMIT ?3)) ELSE 0 END
FROM sources s
LEFT JOIN payload_dicts d ON d.id = (SELECT x.id FROM payload_dicts x WHERE x.source_id = s.id
	ORDER BY x.created_at DESC, x.id DESC LIMIT 1)
WHERE s.id > ?1 ORDER BY s.id LIMIT ?2`

// PayloadDictSources implements store.Payloads.
func (s *Store) PayloadDictSources(ctx context.Context, p store.PayloadDictSourcesParams) ([]store.PayloadDictSource, error) {
	rows, err := s.read.QueryContext(ctx, sqlDictSources, p.After, p.Limit, p.MinEvents)
	if err != nil {
		return nil, fmt.Errorf("list sources for payload dictionaries: %w", err)
	}
	defer rows.Close()
	var out []store.PayloadDictSource
	for rows.Next() {
		var src store.PayloadDictSource
		var created, events int64
		if err := rows.Scan(&src.SourceID, &src.DictID, &src.DictRatio, &created, &events); err != nil {
			return nil, fmt.Errorf("list sources for payload dictionaries: %w", err)
		}
		src.DictCreatedAt = fromMicros(created)
		src.Enough = src.DictID == 0 && events >= int64(p.MinEvents)
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sources for payload dictionaries: %w", err)
	}
	return out, nil
}

// sqlPayloadSample reads a source's newest payloads through
// events_source_created.
const sqlPayloadSample = `SELECT ep.encoding, ep.headers, ep.body FROM events e JOIN event_payloads ep ON ep.event_id = e.id
WHERE e.source_id = ? ORDER BY e.created_at DESC LIMIT ?`

// PayloadSample implements store.Payloads.
func (s *Store) PayloadSample(ctx context.Context, sourceID uint64, limit int) ([]store.PayloadSample, error) {
	rows, err := s.read.QueryContext(ctx, sqlPayloadSample, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("sample payloads: %w", err)
	}
	defer rows.Close()
	var out []store.PayloadSample
	for rows.Next() {
		var encoding int
		var h, b []byte
		if err := rows.Scan(&encoding, &h, &b); err != nil {
			return nil, fmt.Errorf("sample payloads: %w", err)
		}
		headers, body, err := payload.Decode(encoding, h, b)
		if err != nil {
			return nil, fmt.Errorf("sample payloads: %w", err)
		}
		out = append(out, store.PayloadSample{Headers: headers, Body: nonNil(body)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sample payloads: %w", err)
	}
	return out, nil
}

// encodeWithDict compresses a payload with its source's dictionary, if it
// has one. A dictionary is registered before any source uses it, so
// EncodeDict cannot fail here; were it to, the payload is stored without
// one rather than fail an ingest for the sake of size.
func (s *Store) encodeWithDict(sourceID uint64, headers string, body []byte) (h, b []byte, flags int) {
	if id := s.dicts.dictFor(sourceID); id != 0 {
		if h, b, flags, err := payload.EncodeDict(id, headers, body); err == nil {
			return h, b, flags
		}
	}
	return payload.Encode(headers, body)
}
