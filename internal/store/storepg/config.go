package storepg

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/volley"
)

const sourceCols = `s.id, s.project_id, s.name, s.slug, s.ingestion_id, s.type, s.eps, s.status,
	s.auth_type, s.auth_username, s.auth_key_name, s.auth_key, s.verify_signature, s.webhook_secret,
	s.hmac_header, s.hmac_algorithm, s.hmac_encoding, s.hmac_prefix, s.created_at, s.updated_at,
	(SELECT count(*) FROM connections c WHERE c.source_id = s.id)`

func scanSource(row scanner) (*volley.Source, error) {
	var s volley.Source
	err := row.Scan(&s.ID, &s.ProjectID, &s.Name, &s.Slug, &s.IngestionID, &s.Type, &s.EPS, &s.Status,
		&s.AuthType, &s.AuthUsername, &s.AuthKeyName, &s.AuthKey, &s.VerifySignature, &s.WebhookSecret,
		&s.HMAC.Header, &s.HMAC.Algorithm, &s.HMAC.Encoding, &s.HMAC.Prefix, &s.CreatedAt, &s.UpdatedAt, &s.ConnectionCount)
	if err != nil {
		return nil, mapErr(err)
	}
	return &s, nil
}

// SourceList implements store.Config.
func (s *Store) SourceList(ctx context.Context, projectID uint64) ([]volley.Source, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sourceCols+` FROM sources s WHERE s.project_id = $1 ORDER BY s.id`, projectID)
	list, err := collect(rows, err, scanSource)
	return list, wrap(err, "list sources")
}

// SourceGet implements store.Config.
func (s *Store) SourceGet(ctx context.Context, orgID, id uint64) (*volley.Source, error) {
	return scanSource(s.pool.QueryRow(ctx, `SELECT `+sourceCols+` FROM sources s
		JOIN projects p ON p.id = s.project_id WHERE s.id = $1 AND p.org_id = $2`, id, orgID))
}

// SourceGetByIngestionID implements store.Config.
func (s *Store) SourceGetByIngestionID(ctx context.Context, ingestionID string) (*volley.Source, error) {
	return scanSource(s.pool.QueryRow(ctx, `SELECT `+sourceCols+` FROM sources s WHERE s.ingestion_id = $1`, ingestionID))
}

// SourceCreate implements store.Config.
func (s *Store) SourceCreate(ctx context.Context, src *volley.Source) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO sources (project_id, name, slug, ingestion_id, type, eps, status,
		auth_type, auth_username, auth_key_name, auth_key, verify_signature, webhook_secret,
		hmac_header, hmac_algorithm, hmac_encoding, hmac_prefix, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
		src.ProjectID, src.Name, src.Slug, src.IngestionID, src.Type, src.EPS, src.Status,
		src.AuthType, src.AuthUsername, src.AuthKeyName, src.AuthKey, src.VerifySignature, src.WebhookSecret,
		src.HMAC.Header, src.HMAC.Algorithm, src.HMAC.Encoding, src.HMAC.Prefix, ts(src.CreatedAt), ts(src.UpdatedAt)).Scan(&src.ID)
	return wrap(err, "create source")
}

// SourceUpdate implements store.Config.
func (s *Store) SourceUpdate(ctx context.Context, src *volley.Source) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sources SET name = $1, slug = $2, type = $3, eps = $4, status = $5,
		auth_type = $6, auth_username = $7, auth_key_name = $8, auth_key = $9, verify_signature = $10, webhook_secret = $11,
		hmac_header = $12, hmac_algorithm = $13, hmac_encoding = $14, hmac_prefix = $15, updated_at = $16 WHERE id = $17`,
		src.Name, src.Slug, src.Type, src.EPS, src.Status,
		src.AuthType, src.AuthUsername, src.AuthKeyName, src.AuthKey, src.VerifySignature, src.WebhookSecret,
		src.HMAC.Header, src.HMAC.Algorithm, src.HMAC.Encoding, src.HMAC.Prefix, ts(src.UpdatedAt), src.ID)
	return wrap(affectedOne(tag, err), "update source")
}

// SourceDelete implements store.Config.
func (s *Store) SourceDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Before the connections go with the source.
		if err := needSweep(ctx, tx, now, `source_id = $2 AND project_id IN (SELECT id FROM projects WHERE org_id = $3)`, id, orgID); err != nil {
			return err
		}
		return affectedOne(tx.Exec(ctx, `DELETE FROM sources WHERE id = $1
			AND project_id IN (SELECT id FROM projects WHERE org_id = $2)`, id, orgID))
	})
	return wrap(err, "delete source")
}

const destinationCols = `d.id, d.project_id, d.name, d.url, d.eps, d.status, d.timeout_ms, d.headers,
	d.signing_secret, d.prev_signing_secret, d.prev_secret_expires_at, d.created_at, d.updated_at, d.insecure_skip_verify,
	d.forward_traceparent`

func scanDestination(row scanner) (*volley.Destination, error) {
	var d volley.Destination
	var headers string
	err := row.Scan(&d.ID, &d.ProjectID, &d.Name, &d.URL, &d.EPS, &d.Status, &d.TimeoutMS, &headers,
		&d.SigningSecret, &d.PrevSigningSecret, &d.PrevSecretExpiresAt, &d.CreatedAt, &d.UpdatedAt, &d.InsecureSkipVerify,
		&d.ForwardTraceParent)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(headers), &d.Headers); err != nil {
		return nil, fmt.Errorf("destination %d: decode headers: %w", d.ID, err)
	}
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
	rows, err := s.pool.Query(ctx, `SELECT `+destinationCols+` FROM destinations d WHERE d.project_id = $1 ORDER BY d.id`, projectID)
	list, err := collect(rows, err, scanDestination)
	return list, wrap(err, "list destinations")
}

// DestinationGet implements store.Config.
func (s *Store) DestinationGet(ctx context.Context, orgID, id uint64) (*volley.Destination, error) {
	return scanDestination(s.pool.QueryRow(ctx, `SELECT `+destinationCols+` FROM destinations d
		JOIN projects p ON p.id = d.project_id WHERE d.id = $1 AND p.org_id = $2`, id, orgID))
}

// DestinationGetByID implements store.Config.
func (s *Store) DestinationGetByID(ctx context.Context, id uint64) (*volley.Destination, error) {
	return scanDestination(s.pool.QueryRow(ctx, `SELECT `+destinationCols+` FROM destinations d WHERE d.id = $1`, id))
}

// DestinationCreate implements store.Config.
func (s *Store) DestinationCreate(ctx context.Context, d *volley.Destination) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO destinations (project_id, name, url, eps, status, timeout_ms, headers,
		signing_secret, prev_signing_secret, prev_secret_expires_at, created_at, updated_at, insecure_skip_verify,
		forward_traceparent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		d.ProjectID, d.Name, d.URL, d.EPS, d.Status, d.TimeoutMS, encodeHeaders(d.Headers),
		nonNil(d.SigningSecret), d.PrevSigningSecret, ts(d.PrevSecretExpiresAt), ts(d.CreatedAt), ts(d.UpdatedAt), d.InsecureSkipVerify,
		d.ForwardTraceParent).Scan(&d.ID)
	return wrap(err, "create destination")
}

// DestinationUpdate implements store.Config.
func (s *Store) DestinationUpdate(ctx context.Context, d *volley.Destination) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := affectedOne(tx.Exec(ctx, `UPDATE destinations SET name = $1, url = $2, eps = $3, status = $4, timeout_ms = $5,
			headers = $6, signing_secret = $7, prev_signing_secret = $8, prev_secret_expires_at = $9, updated_at = $10,
			insecure_skip_verify = $12, forward_traceparent = $13 WHERE id = $11`,
			d.Name, d.URL, d.EPS, d.Status, d.TimeoutMS, encodeHeaders(d.Headers),
			nonNil(d.SigningSecret), d.PrevSigningSecret, ts(d.PrevSecretExpiresAt), ts(d.UpdatedAt), d.ID, d.InsecureSkipVerify,
			d.ForwardTraceParent)); err != nil {
			return err
		}
		return needSweep(ctx, tx, d.UpdatedAt, `destination_id = $2`, d.ID)
	})
	if err == nil {
		s.notify(ctx, channelWork) // a node sweeps the change promptly
	}
	return wrap(err, "update destination")
}

// DestinationDelete implements store.Config.
func (s *Store) DestinationDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Before the connections go with the destination.
		if err := needSweep(ctx, tx, now, `destination_id = $2 AND project_id IN (SELECT id FROM projects WHERE org_id = $3)`, id, orgID); err != nil {
			return err
		}
		return affectedOne(tx.Exec(ctx, `DELETE FROM destinations WHERE id = $1
			AND project_id IN (SELECT id FROM projects WHERE org_id = $2)`, id, orgID))
	})
	return wrap(err, "delete destination")
}

const connectionCols = `c.id, c.project_id, c.source_id, c.destination_id, c.name, c.status, c.eps, c.max_retries,
	c.created_at, c.updated_at, s.slug, s.eps, d.name, d.url, d.eps, d.status, c.filter, coalesce(c.transformation_id, 0),
	c.delay_ms, c.ordering, c.ordering_key`

const connectionFrom = ` FROM connections c JOIN sources s ON s.id = c.source_id JOIN destinations d ON d.id = c.destination_id`

func scanConnection(row scanner) (*volley.Connection, error) {
	var c volley.Connection
	var filter *string
	err := row.Scan(&c.ID, &c.ProjectID, &c.SourceID, &c.DestinationID, &c.Name, &c.Status, &c.EPS, &c.MaxRetries,
		&c.CreatedAt, &c.UpdatedAt, &c.SourceSlug, &c.SourceEPS, &c.DestinationName, &c.DestinationURL, &c.DestinationEPS,
		&c.DestinationStatus, &filter, &c.TransformationID, &c.DelayMS, &c.Ordering, &c.OrderingKey)
	if err != nil {
		return nil, mapErr(err)
	}
	if filter != nil {
		c.Filter = []byte(*filter)
	}
	return &c, nil
}

// ConnectionList implements store.Config.
func (s *Store) ConnectionList(ctx context.Context, projectID uint64) ([]volley.Connection, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+connectionCols+connectionFrom+` WHERE c.project_id = $1 ORDER BY c.id`, projectID)
	list, err := collect(rows, err, scanConnection)
	return list, wrap(err, "list connections")
}

// ConnectionGet implements store.Config.
func (s *Store) ConnectionGet(ctx context.Context, orgID, id uint64) (*volley.Connection, error) {
	return scanConnection(s.pool.QueryRow(ctx, `SELECT `+connectionCols+connectionFrom+`
		JOIN projects p ON p.id = c.project_id WHERE c.id = $1 AND p.org_id = $2`, id, orgID))
}

// ConnectionGetByID implements store.Config.
func (s *Store) ConnectionGetByID(ctx context.Context, id uint64) (*volley.Connection, error) {
	return scanConnection(s.pool.QueryRow(ctx, `SELECT `+connectionCols+connectionFrom+` WHERE c.id = $1`, id))
}

// ConnectionListBySource implements store.Config.
func (s *Store) ConnectionListBySource(ctx context.Context, sourceID uint64) ([]volley.Connection, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+connectionCols+connectionFrom+` WHERE c.source_id = $1 ORDER BY c.id`, sourceID)
	list, err := collect(rows, err, scanConnection)
	return list, wrap(err, "list source connections")
}

// ConnectionCreate implements store.Config.
func (s *Store) ConnectionCreate(ctx context.Context, c *volley.Connection) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := transformationInProject(ctx, tx, c); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO connections (project_id, source_id, destination_id, name, status,
			eps, max_retries, filter, transformation_id, created_at, updated_at, delay_ms, ordering, ordering_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			c.ProjectID, c.SourceID, c.DestinationID, c.Name, c.Status, c.EPS, c.MaxRetries, filterArg(c.Filter),
			transformationArg(c.TransformationID), ts(c.CreatedAt), ts(c.UpdatedAt), c.DelayMS, orderingArg(c.Ordering),
			validText(c.OrderingKey)).Scan(&c.ID)
	})
	return wrap(err, "create connection")
}

// transformationInProject checks that a connection's transformation is one
// of its project's (the foreign key only says it exists, and keeps it from
// being deleted while the connection uses it).
func transformationInProject(ctx context.Context, tx pgx.Tx, c *volley.Connection) error {
	if c.TransformationID == 0 {
		return nil
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM transformations WHERE id = $1 AND project_id = $2 FOR KEY SHARE`,
		c.TransformationID, c.ProjectID).Scan(&one)
	if err != nil {
		return fmt.Errorf("transformation %d: %w", c.TransformationID, mapErr(err))
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
	return validText(string(f))
}

// transformationArg stores "no transformation" as NULL, for the foreign key.
func transformationArg(id uint64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ConnectionUpdate implements store.Config.
func (s *Store) ConnectionUpdate(ctx context.Context, c *volley.Connection) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := transformationInProject(ctx, tx, c); err != nil {
			return err
		}
		if err := affectedOne(tx.Exec(ctx, `UPDATE connections SET name = $1, status = $2, eps = $3, max_retries = $4,
			filter = $5, transformation_id = $6, updated_at = $7, delay_ms = $8, ordering = $9, ordering_key = $10
			WHERE id = $11`, c.Name, c.Status, c.EPS, c.MaxRetries, filterArg(c.Filter), transformationArg(c.TransformationID),
			ts(c.UpdatedAt), c.DelayMS, orderingArg(c.Ordering), validText(c.OrderingKey), c.ID)); err != nil {
			return err
		}
		return needSweep(ctx, tx, c.UpdatedAt, `id = $2`, c.ID)
	})
	if err == nil {
		s.notify(ctx, channelWork) // a node sweeps the change promptly
	}
	return wrap(err, "update connection")
}

// ConnectionDelete implements store.Config.
func (s *Store) ConnectionDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := needSweep(ctx, tx, now, `id = $2 AND project_id IN (SELECT id FROM projects WHERE org_id = $3)`, id, orgID); err != nil {
			return err
		}
		return affectedOne(tx.Exec(ctx, `DELETE FROM connections WHERE id = $1
			AND project_id IN (SELECT id FROM projects WHERE org_id = $2)`, id, orgID))
	})
	return wrap(err, "delete connection")
}
