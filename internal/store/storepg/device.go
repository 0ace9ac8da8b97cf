package storepg

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// DeviceCodeCreate implements store.Tenancy.
func (s *Store) DeviceCodeCreate(ctx context.Context, d *volley.DeviceCode) error {
	created, expires := ts(d.CreatedAt), ts(d.ExpiresAt)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Expired logins are of no use to anyone: deleting them here keeps
		// the table as small as the logins of the last ten minutes.
		if _, err := tx.Exec(ctx, `DELETE FROM device_codes WHERE expires_at <= $1`, created); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO device_codes (device_hash, pairing_hash, status, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			nonNil(d.DeviceHash), nonNil(d.PairingHash), volley.DevicePending, created, expires).Scan(&d.ID)
	})
	if err != nil {
		return wrap(err, "create device code")
	}
	d.Status, d.CreatedAt, d.ExpiresAt = volley.DevicePending, created, expires
	return nil
}

const deviceCols = `id, device_hash, pairing_hash, status, coalesce(account_id, 0), device_name, coalesce(token_id, 0),
	created_at, expires_at`

func scanDevice(row scanner) (*volley.DeviceCode, error) {
	var d volley.DeviceCode
	if err := row.Scan(&d.ID, &d.DeviceHash, &d.PairingHash, &d.Status, &d.AccountID, &d.DeviceName, &d.TokenID,
		&d.CreatedAt, &d.ExpiresAt); err != nil {
		return nil, mapErr(err)
	}
	return &d, nil
}

// DeviceCodeGetByPairing implements store.Tenancy.
func (s *Store) DeviceCodeGetByPairing(ctx context.Context, pairingHash []byte) (*volley.DeviceCode, error) {
	d, err := scanDevice(s.pool.QueryRow(ctx, `SELECT `+deviceCols+` FROM device_codes WHERE pairing_hash = $1`, pairingHash))
	return d, wrap(err, "get device code")
}

// DeviceCodeApprove implements store.Tenancy.
func (s *Store) DeviceCodeApprove(ctx context.Context, p store.DeviceCodeApproveParams) (*volley.APIToken, error) {
	var t volley.APIToken
	err := s.tx(ctx, func(tx pgx.Tx) error {
		t = p.Token
		// The UPDATE takes the row lock first: of two approvals (or an
		// approval and a denial) racing on several nodes, the second finds
		// the login no longer pending.
		var id uint64
		err := tx.QueryRow(ctx, `UPDATE device_codes SET status = $1, account_id = $2, device_name = $3
			WHERE pairing_hash = $4 AND status = $5 AND expires_at > $6 RETURNING id`,
			volley.DeviceApproved, t.AccountID, t.Name, p.PairingHash, volley.DevicePending, ts(p.Now)).Scan(&id)
		if err != nil {
			return err
		}
		if err := tokenInsert(ctx, tx, &t); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE device_codes SET token_id = $1 WHERE id = $2`, t.ID, id)
		return err
	})
	if err != nil {
		return nil, wrap(err, "approve device code")
	}
	return &t, nil
}

// DeviceCodeDeny implements store.Tenancy.
func (s *Store) DeviceCodeDeny(ctx context.Context, pairingHash []byte, accountID uint64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE device_codes SET status = $1, account_id = $2
		WHERE pairing_hash = $3 AND status = $4 AND expires_at > $5`,
		volley.DeviceDenied, accountID, pairingHash, volley.DevicePending, ts(now))
	return wrap(affectedOne(tag, err), "deny device code")
}

// DeviceCodeClaim implements store.Tenancy.
func (s *Store) DeviceCodeClaim(ctx context.Context, deviceHash []byte) (*volley.DeviceCode, error) {
	var d *volley.DeviceCode
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE makes a concurrent claim wait for this one and then
		// read the login as consumed.
		var err error
		if d, err = scanDevice(tx.QueryRow(ctx, `SELECT `+deviceCols+` FROM device_codes WHERE device_hash = $1 FOR UPDATE`,
			deviceHash)); err != nil {
			return err
		}
		if d.Status != volley.DeviceApproved {
			return nil
		}
		err = tx.QueryRow(ctx, `SELECT sealed FROM api_tokens WHERE id = $1`, d.TokenID).Scan(&d.TokenSealed)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// A token revoked before it was collected is not handed out; the
		// login is consumed all the same.
		_, err = tx.Exec(ctx, `UPDATE device_codes SET status = $1 WHERE id = $2`, volley.DeviceConsumed, d.ID)
		return err
	})
	if err != nil {
		return nil, wrap(err, "claim device code")
	}
	return d, nil
}
