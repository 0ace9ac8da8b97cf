package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// DeviceCodeCreate implements store.Tenancy.
func (s *Store) DeviceCodeCreate(ctx context.Context, d *volley.DeviceCode) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Expired logins are of no use to anyone: deleting them here keeps
		// the table as small as the logins of the last ten minutes.
		if _, err := tx.ExecContext(ctx, `DELETE FROM device_codes WHERE expires_at <= ?`, micros(d.CreatedAt)); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO device_codes (device_hash, pairing_hash, status, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, d.DeviceHash, d.PairingHash, volley.DevicePending, micros(d.CreatedAt), micros(d.ExpiresAt))
		if cols, ok := uniqueViolation(err); ok {
			return store.Conflict("device code (" + cols + ")")
		}
		if err != nil {
			return err
		}
		id, _ := r.LastInsertId()
		d.ID, d.Status = uint64(id), volley.DevicePending
		d.CreatedAt, d.ExpiresAt = fromMicros(micros(d.CreatedAt)), fromMicros(micros(d.ExpiresAt))
		return nil
	})
	if err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	return nil
}

const deviceCols = `id, device_hash, pairing_hash, status, coalesce(account_id, 0), device_name, coalesce(token_id, 0),
	created_at, expires_at`

func scanDevice(row scanner) (*volley.DeviceCode, error) {
	var d volley.DeviceCode
	var created, expires int64
	if err := row.Scan(&d.ID, &d.DeviceHash, &d.PairingHash, &d.Status, &d.AccountID, &d.DeviceName, &d.TokenID,
		&created, &expires); err != nil {
		return nil, notFound(err)
	}
	d.CreatedAt, d.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &d, nil
}

// DeviceCodeGetByPairing implements store.Tenancy.
func (s *Store) DeviceCodeGetByPairing(ctx context.Context, pairingHash []byte) (*volley.DeviceCode, error) {
	d, err := scanDevice(s.read.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM device_codes WHERE pairing_hash = ?`, pairingHash))
	if err != nil {
		return nil, fmt.Errorf("get device code: %w", err)
	}
	return d, nil
}

// DeviceCodeApprove implements store.Tenancy.
func (s *Store) DeviceCodeApprove(ctx context.Context, p store.DeviceCodeApproveParams) (*volley.APIToken, error) {
	t := p.Token
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var id uint64
		err := tx.QueryRowContext(ctx, `SELECT id FROM device_codes WHERE pairing_hash = ? AND status = ? AND expires_at > ?`,
			p.PairingHash, volley.DevicePending, micros(p.Now)).Scan(&id)
		if err != nil {
			return notFound(err)
		}
		err = tokenInsert(ctx, tx, &t)
		if foreignKeyViolation(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE device_codes SET status = ?, account_id = ?, device_name = ?, token_id = ? WHERE id = ?`,
			volley.DeviceApproved, t.AccountID, t.Name, t.ID, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("approve device code: %w", err)
	}
	return &t, nil
}

// DeviceCodeDeny implements store.Tenancy.
func (s *Store) DeviceCodeDeny(ctx context.Context, pairingHash []byte, accountID uint64, now time.Time) error {
	r, err := s.exec(ctx, `UPDATE device_codes SET status = ?, account_id = ?
		WHERE pairing_hash = ? AND status = ? AND expires_at > ?`,
		volley.DeviceDenied, accountID, pairingHash, volley.DevicePending, micros(now))
	if err := affectedOne(r, err); err != nil {
		return fmt.Errorf("deny device code: %w", err)
	}
	return nil
}

// DeviceCodeClaim implements store.Tenancy.
func (s *Store) DeviceCodeClaim(ctx context.Context, deviceHash []byte) (*volley.DeviceCode, error) {
	var d *volley.DeviceCode
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if d, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM device_codes WHERE device_hash = ?`, deviceHash)); err != nil {
			return err
		}
		if d.Status != volley.DeviceApproved {
			return nil
		}
		err = tx.QueryRowContext(ctx, `SELECT sealed FROM api_tokens WHERE id = ?`, d.TokenID).Scan(&d.TokenSealed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// A token revoked before it was collected is not handed out; the
		// login is consumed all the same.
		_, err = tx.ExecContext(ctx, `UPDATE device_codes SET status = ? WHERE id = ?`, volley.DeviceConsumed, d.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim device code: %w", err)
	}
	return d, nil
}
