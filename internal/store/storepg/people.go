package storepg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// AccountList implements store.Tenancy.
func (s *Store) AccountList(ctx context.Context) ([]volley.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY id`)
	out, err := collect(rows, err, scanAccount)
	return out, wrap(err, "list accounts")
}

// AccountSetPassword implements store.Tenancy.
func (s *Store) AccountSetPassword(ctx context.Context, accountID uint64, hash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, hash, accountID)
	return wrap(affectedOne(tag, err), "set password")
}

const sessionCols = `id, account_id, hash, user_agent, client_addr, created_at, last_seen_at, expires_at`

func scanSession(row scanner) (*volley.Session, error) {
	var ss volley.Session
	if err := row.Scan(&ss.ID, &ss.AccountID, &ss.Hash, &ss.UserAgent, &ss.ClientAddr, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt); err != nil {
		return nil, mapErr(err)
	}
	return &ss, nil
}

// SessionCreate implements store.Tenancy.
func (s *Store) SessionCreate(ctx context.Context, ss *volley.Session) error {
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = ts(ss.CreatedAt), ts(ss.LastSeenAt), ts(ss.ExpiresAt)
	err := s.pool.QueryRow(ctx, `INSERT INTO sessions (account_id, hash, user_agent, client_addr, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, ss.AccountID, nonNil(ss.Hash), ss.UserAgent, ss.ClientAddr,
		ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt).Scan(&ss.ID)
	return wrap(err, "create session")
}

// SessionLookup implements store.Tenancy.
func (s *Store) SessionLookup(ctx context.Context, hash []byte, now time.Time) (*volley.Session, error) {
	ss, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE hash = $1 AND expires_at > $2`, hash, ts(now)))
	if err != nil {
		return nil, err
	}
	if now.Sub(ss.LastSeenAt) >= lastUsedGranularity {
		seen := ts(now)
		if _, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, seen, ss.ID); err != nil {
			return nil, wrap(err, "record session use")
		}
		ss.LastSeenAt = seen
	}
	return ss, nil
}

// SessionList implements store.Tenancy.
func (s *Store) SessionList(ctx context.Context, accountID uint64, now time.Time) ([]volley.Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE account_id = $1 AND expires_at > $2 ORDER BY id DESC`,
		accountID, ts(now))
	out, err := collect(rows, err, scanSession)
	return out, wrap(err, "list sessions")
}

// SessionDelete implements store.Tenancy.
func (s *Store) SessionDelete(ctx context.Context, accountID, id uint64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id = $2`, accountID, id)
	return wrap(affectedOne(tag, err), "delete session")
}

// SessionDeleteAll implements store.Tenancy.
func (s *Store) SessionDeleteAll(ctx context.Context, accountID, keepID uint64, now time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE (account_id = $1 AND id <> $2) OR expires_at <= $3`, accountID, keepID, ts(now))
	return wrap(err, "delete sessions")
}

const invitationCols = `id, org_id, email, role, hash, sealed, invited_by, created_at, expires_at`

func scanInvitation(row scanner) (*volley.Invitation, error) {
	var inv volley.Invitation
	if err := row.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Role, &inv.Hash, &inv.Sealed, &inv.InvitedBy, &inv.CreatedAt, &inv.ExpiresAt); err != nil {
		return nil, mapErr(err)
	}
	return &inv, nil
}

// InvitationCreate implements store.Tenancy.
func (s *Store) InvitationCreate(ctx context.Context, inv *volley.Invitation) error {
	inv.CreatedAt, inv.ExpiresAt = ts(inv.CreatedAt), ts(inv.ExpiresAt)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM invitations WHERE org_id = $1 AND email = $2`, inv.OrgID, inv.Email); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO invitations (org_id, email, role, hash, sealed, invited_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, inv.OrgID, inv.Email, inv.Role, nonNil(inv.Hash), nonNil(inv.Sealed),
			inv.InvitedBy, inv.CreatedAt, inv.ExpiresAt).Scan(&inv.ID)
	})
	return wrap(err, "create invitation")
}

// InvitationList implements store.Tenancy.
func (s *Store) InvitationList(ctx context.Context, orgID uint64, now time.Time) ([]volley.Invitation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+invitationCols+` FROM invitations WHERE org_id = $1 AND expires_at > $2 ORDER BY id`,
		orgID, ts(now))
	out, err := collect(rows, err, scanInvitation)
	return out, wrap(err, "list invitations")
}

// InvitationGetByHash implements store.Tenancy.
func (s *Store) InvitationGetByHash(ctx context.Context, hash []byte, now time.Time) (*volley.Invitation, error) {
	return scanInvitation(s.pool.QueryRow(ctx, `SELECT `+invitationCols+` FROM invitations WHERE hash = $1 AND expires_at > $2`,
		hash, ts(now)))
}

// InvitationDelete implements store.Tenancy.
func (s *Store) InvitationDelete(ctx context.Context, orgID, id uint64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM invitations WHERE org_id = $1 AND id = $2`, orgID, id)
	return wrap(affectedOne(tag, err), "delete invitation")
}

// InvitationAccept implements store.Tenancy.
func (s *Store) InvitationAccept(ctx context.Context, p store.InvitationAcceptParams) (*volley.Member, error) {
	var m *volley.Member
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Deleting first locks the invitation: of two acceptances racing,
		// the second finds nothing.
		var orgID uint64
		var role volley.Role
		err := tx.QueryRow(ctx, `DELETE FROM invitations WHERE id = $1 AND expires_at > $2 RETURNING org_id, role`,
			p.InvitationID, ts(p.Now)).Scan(&orgID, &role)
		if err != nil {
			return err
		}
		accountID := p.AccountID
		if a := p.NewAccount; a != nil {
			err := tx.QueryRow(ctx, `INSERT INTO accounts (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
				a.Email, a.Name, a.PasswordHash, ts(p.Now)).Scan(&accountID)
			if err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (org_id, account_id, role, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (org_id, account_id) DO NOTHING`, orgID, accountID, role, ts(p.Now)); err != nil {
			return err
		}
		m, err = scanMember(tx.QueryRow(ctx, memberQuery+` WHERE m.org_id = $1 AND m.account_id = $2`, orgID, accountID))
		return err
	})
	if err != nil {
		return nil, wrap(err, "accept invitation")
	}
	return m, nil
}
