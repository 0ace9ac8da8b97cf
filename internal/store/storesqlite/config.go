package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type scanner interface{ Scan(...any) error }

const sourceCols = `s.id, s.project_id, s.name, s.slug, s.ingestion_id, s.type, s.eps, s.status,
	s.auth_type, s.auth_username, s.auth_key_name, s.auth_key, s.verify_signature, s.webhook_secret,
	s.hmac_header, s.hmac_algorithm, s.hmac_encoding, s.hmac_prefix, s.created_at, s.updated_at,
	(SELECT count(*) FROM connections c WHERE c.source_id = s.id)`

func scanSource(row scanner) (*volley.Source, error) {
	var s volley.Source
	var created, updated int64
	err := row.Scan(&s.ID, &s.ProjectID, &s.Name, &s.Slug, &s.IngestionID, &s.Type, &s.EPS, &s.Status,
		&s.AuthType, &s.AuthUsername, &s.AuthKeyName, &s.AuthKey, &s.VerifySignature, &s.WebhookSecret,
		&s.HMAC.Header, &s.HMAC.Algorithm, &s.HMAC.Encoding, &s.HMAC.Prefix, &created, &updated, &s.ConnectionCount)
	if err != nil {
		return nil, notFound(err)
	}
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &s, nil
}

// SourceList implements store.Config.
func (s *Store) SourceList(ctx context.Context, projectID uint64) ([]volley.Source, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sourceCols+` FROM sources s WHERE s.project_id = ? ORDER BY s.id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return collect(rows, scanSource)
}

// SourceGet implements store.Config.
func (s *Store) SourceGet(ctx context.Context, orgID, id uint64) (*volley.Source, error) {
	return scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources s
		JOIN projects p ON p.id = s.project_id WHERE s.id = ? AND p.org_id = ?`, id, orgID))
}

// SourceGetByIngestionID implements store.Config.
func (s *Store) SourceGetByIngestionID(ctx context.Context, ingestionID string) (*volley.Source, error) {
	return scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources s WHERE s.ingestion_id = ?`, ingestionID))
}

// SourceCreate implements store.Config.
func (s *Store) SourceCreate(ctx context.Context, src *volley.Source) error {
	r, err := s.exec(ctx, `INSERT INTO sources (project_id, name, slug, ingestion_id, type, eps, status,
		auth_type, auth_username, auth_key_name, auth_key, verify_signature, webhook_secret,
		hmac_header, hmac_algorithm, hmac_encoding, hmac_prefix, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		src.ProjectID, src.Name, src.Slug, src.IngestionID, src.Type, src.EPS, src.Status,
		src.AuthType, src.AuthUsername, src.AuthKeyName, src.AuthKey, src.VerifySignature, src.WebhookSecret,
		src.HMAC.Header, src.HMAC.Algorithm, src.HMAC.Encoding, src.HMAC.Prefix, micros(src.CreatedAt), micros(src.UpdatedAt))
	if err := sourceWriteErr(err); err != nil {
		return fmt.Errorf("create source: %w", err)
	}
	id, _ := r.LastInsertId()
	src.ID = uint64(id)
	return nil
}

func sourceWriteErr(err error) error {
	if cols, ok := uniqueViolation(err); ok {
		if cols == "sources.ingestion_id" {
			return store.Conflict("source ingestion id")
		}
		return store.Conflict("source slug")
	}
	if foreignKeyViolation(err) {
		return store.ErrNotFound
	}
	return err
}

// SourceUpdate implements store.Config.
func (s *Store) SourceUpdate(ctx context.Context, src *volley.Source) error {
	r, err := s.exec(ctx, `UPDATE sources SET name = ?, slug = ?, type = ?, eps = ?, status = ?,
		auth_type = ?, auth_username = ?, auth_key_name = ?, auth_key = ?, verify_signature = ?, webhook_secret = ?,
		hmac_header = ?, hmac_algorithm = ?, hmac_encoding = ?, hmac_prefix = ?, updated_at = ? WHERE id = ?`,
		src.Name, src.Slug, src.Type, src.EPS, src.Status,
		src.AuthType, src.AuthUsername, src.AuthKeyName, src.AuthKey, src.VerifySignature, src.WebhookSecret,
		src.HMAC.Header, src.HMAC.Algorithm, src.HMAC.Encoding, src.HMAC.Prefix, micros(src.UpdatedAt), src.ID)
	if err := affectedOne(r, sourceWriteErr(err)); err != nil {
		return fmt.Errorf("update source: %w", err)
	}
	return nil
}

// SourceDelete implements store.Config.
func (s *Store) SourceDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Before the connections go with the source.
		if err := needSweep(ctx, tx, now, `source_id = ? AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, id, orgID); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = ?
			AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, id, orgID)
		return affectedOne(r, err)
	})
	if err != nil {
		return fmt.Errorf("delete source: %w", err)
	}
	return nil
}

const destinationCols = `d.id, d.project_id, d.name, d.url, d.eps, d.status, d.timeout_ms, d.headers,
	d.signing_secret, d.prev_signing_secret, d.prev_secret_expires_at, d.created_at, d.updated_at, d.insecure_skip_verify,
	d.forward_traceparent`

func scanDestination(row scanner) (*volley.Destination, error) {
	var d volley.Destination
	var headers string
	var prevExp, created, updated int64
	err := row.Scan(&d.ID, &d.ProjectID, &d.Name, &d.URL, &d.EPS, &d.Status, &d.TimeoutMS, &headers,
		&d.SigningSecret, &d.PrevSigningSecret, &prevExp, &created, &updated, &d.InsecureSkipVerify, &d.ForwardTraceParent)
	if err != nil {
		return nil, notFound(err)
	}
	if err := json.Unmarshal([]byte(headers), &d.Headers); err != nil {
		return nil, fmt.Errorf("destination %d: decode headers: %w", d.ID, err)
	}
	d.PrevSecretExpiresAt, d.CreatedAt, d.UpdatedAt = fromMicros(prevExp), fromMicros(created), fromMicros(updated)
	return &d, nil
}

func encodeHeaders(h map[string]string) string {
	if len(h) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(h) // a map of strings always encodes
	return string(b)
}

// DestinationList implements store.Config.
func (s *Store) DestinationList(ctx context.Context, projectID uint64) ([]volley.Destination, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+destinationCols+` FROM destinations d WHERE d.project_id = ? ORDER BY d.id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	return collect(rows, scanDestination)
}

// DestinationGet implements store.Config.
func (s *Store) DestinationGet(ctx context.Context, orgID, id uint64) (*volley.Destination, error) {
	return scanDestination(s.read.QueryRowContext(ctx, `SELECT `+destinationCols+` FROM destinations d
		JOIN projects p ON p.id = d.project_id WHERE d.id = ? AND p.org_id = ?`, id, orgID))
}

// DestinationGetByID implements store.Config.
func (s *Store) DestinationGetByID(ctx context.Context, id uint64) (*volley.Destination, error) {
	return scanDestination(s.read.QueryRowContext(ctx, `SELECT `+destinationCols+` FROM destinations d WHERE d.id = ?`, id))
}

// DestinationCreate implements store.Config.
func (s *Store) DestinationCreate(ctx context.Context, d *volley.Destination) error {
	r, err := s.exec(ctx, `INSERT INTO destinations (project_id, name, url, eps, status, timeout_ms, headers,
		signing_secret, prev_signing_secret, prev_secret_expires_at, created_at, updated_at, insecure_skip_verify,
		forward_traceparent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ProjectID, d.Name, d.URL, d.EPS, d.Status, d.TimeoutMS, encodeHeaders(d.Headers),
		d.SigningSecret, d.PrevSigningSecret, micros(d.PrevSecretExpiresAt), micros(d.CreatedAt), micros(d.UpdatedAt), d.InsecureSkipVerify,
		d.ForwardTraceParent)
	if foreignKeyViolation(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("create destination: %w", err)
	}
	id, _ := r.LastInsertId()
	d.ID = uint64(id)
	return nil
}

// DestinationUpdate implements store.Config.
func (s *Store) DestinationUpdate(ctx context.Context, d *volley.Destination) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE destinations SET name = ?, url = ?, eps = ?, status = ?, timeout_ms = ?,
			headers = ?, signing_secret = ?, prev_signing_secret = ?, prev_secret_expires_at = ?, updated_at = ?,
			insecure_skip_verify = ?, forward_traceparent = ? WHERE id = ?`,
			d.Name, d.URL, d.EPS, d.Status, d.TimeoutMS, encodeHeaders(d.Headers),
			d.SigningSecret, d.PrevSigningSecret, micros(d.PrevSecretExpiresAt), micros(d.UpdatedAt), d.InsecureSkipVerify,
			d.ForwardTraceParent, d.ID)
		if err := affectedOne(r, err); err != nil {
			return err
		}
		return needSweep(ctx, tx, d.UpdatedAt, `destination_id = ?`, d.ID)
	})
	if err != nil {
		return fmt.Errorf("update destination: %w", err)
	}
	return nil
}

// DestinationDelete implements store.Config.
func (s *Store) DestinationDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Before the connections go with the destination.
		if err := needSweep(ctx, tx, now, `destination_id = ? AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, id, orgID); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM destinations WHERE id = ?
			AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, id, orgID)
		return affectedOne(r, err)
	})
	if err != nil {
		return fmt.Errorf("delete destination: %w", err)
	}
	return nil
}

const connectionCols = `c.id, c.project_id, c.source_id, c.destination_id, c.name, c.status, c.eps, c.max_retries,
	c.created_at, c.updated_at, s.slug, s.eps, d.name, d.url, d.eps, d.status, c.filter, c.transformation_id,
	c.delay_ms, c.ordering, c.ordering_key`

const connectionFrom = ` FROM connections c JOIN sources s ON s.id = c.source_id JOIN destinations d ON d.id = c.destination_id`

func scanConnection(row scanner) (*volley.Connection, error) {
	var c volley.Connection
	var created, updated int64
	var filter sql.NullString
	err := row.Scan(&c.ID, &c.ProjectID, &c.SourceID, &c.DestinationID, &c.Name, &c.Status, &c.EPS, &c.MaxRetries,
		&created, &updated, &c.SourceSlug, &c.SourceEPS, &c.DestinationName, &c.DestinationURL, &c.DestinationEPS,
		&c.DestinationStatus, &filter, &c.TransformationID, &c.DelayMS, &c.Ordering, &c.OrderingKey)
	if err != nil {
		return nil, notFound(err)
	}
	if filter.Valid {
		c.Filter = []byte(filter.String)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// ConnectionList implements store.Config.
func (s *Store) ConnectionList(ctx context.Context, projectID uint64) ([]volley.Connection, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+connectionCols+connectionFrom+` WHERE c.project_id = ? ORDER BY c.id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return collect(rows, scanConnection)
}

// ConnectionGet implements store.Config.
func (s *Store) ConnectionGet(ctx context.Context, orgID, id uint64) (*volley.Connection, error) {
	return scanConnection(s.read.QueryRowContext(ctx, `SELECT `+connectionCols+connectionFrom+`
		JOIN projects p ON p.id = c.project_id WHERE c.id = ? AND p.org_id = ?`, id, orgID))
}

// ConnectionGetByID implements store.Config.
func (s *Store) ConnectionGetByID(ctx context.Context, id uint64) (*volley.Connection, error) {
	return scanConnection(s.read.QueryRowContext(ctx, `SELECT `+connectionCols+connectionFrom+` WHERE c.id = ?`, id))
}

// ConnectionListBySource implements store.Config.
func (s *Store) ConnectionListBySource(ctx context.Context, sourceID uint64) ([]volley.Connection, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+connectionCols+connectionFrom+` WHERE c.source_id = ? ORDER BY c.id`, sourceID)
	if err != nil {
		return nil, fmt.Errorf("list source connections: %w", err)
	}
	return collect(rows, scanConnection)
}

// ConnectionCreate implements store.Config.
func (s *Store) ConnectionCreate(ctx context.Context, c *volley.Connection) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := transformationInProject(ctx, tx, c); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO connections (project_id, source_id, destination_id, name, status,
			eps, max_retries, filter, transformation_id, created_at, updated_at, delay_ms, ordering, ordering_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ProjectID, c.SourceID, c.DestinationID, c.Name, c.Status, c.EPS, c.MaxRetries, filterArg(c.Filter),
			c.TransformationID, micros(c.CreatedAt), micros(c.UpdatedAt), c.DelayMS, orderingArg(c.Ordering), c.OrderingKey)
		if _, ok := uniqueViolation(err); ok {
			return store.Conflict("connection between this source and destination")
		} else if foreignKeyViolation(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		id, _ := r.LastInsertId()
		c.ID = uint64(id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("create connection: %w", err)
	}
	return nil
}

// transformationInProject checks, inside the writing transaction, that a
// connection's transformation exists in its project: the column has no
// foreign key (see migration 0011).
func transformationInProject(ctx context.Context, tx *sql.Tx, c *volley.Connection) error {
	if c.TransformationID == 0 {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM transformations WHERE id = ? AND project_id = ?`,
		c.TransformationID, c.ProjectID).Scan(&one)
	if err != nil {
		return fmt.Errorf("transformation %d: %w", c.TransformationID, notFound(err))
	}
	return nil
}

// orderingArg stores an unset ordering as none.
func orderingArg(o string) string {
	if o == "" {
		return volley.OrderingNone
	}
	return o
}

// filterArg stores a missing filter as NULL.
func filterArg(f []byte) any {
	if len(f) == 0 {
		return nil
	}
	return string(f)
}

// ConnectionUpdate implements store.Config.
func (s *Store) ConnectionUpdate(ctx context.Context, c *volley.Connection) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := transformationInProject(ctx, tx, c); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `UPDATE connections SET name = ?, status = ?, eps = ?, max_retries = ?, filter = ?,
			transformation_id = ?, updated_at = ?, delay_ms = ?, ordering = ?, ordering_key = ? WHERE id = ?`,
			c.Name, c.Status, c.EPS, c.MaxRetries, filterArg(c.Filter), c.TransformationID, micros(c.UpdatedAt),
			c.DelayMS, orderingArg(c.Ordering), c.OrderingKey, c.ID)
		if err := affectedOne(r, err); err != nil {
			return err
		}
		return needSweep(ctx, tx, c.UpdatedAt, `id = ?`, c.ID)
	})
	if err != nil {
		return fmt.Errorf("update connection: %w", err)
	}
	return nil
}

// ConnectionDelete implements store.Config.
func (s *Store) ConnectionDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := needSweep(ctx, tx, now, `id = ? AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, id, orgID); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE id = ?
			AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, id, orgID)
		return affectedOne(r, err)
	})
	if err != nil {
		return fmt.Errorf("delete connection: %w", err)
	}
	return nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (*T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}
