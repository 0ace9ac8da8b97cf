package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// AccountList implements store.Tenancy.
func (s *Store) AccountList(ctx context.Context) ([]volley.Account, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return collect(rows, scanAccount)
}

// AccountSetPassword implements store.Tenancy.
func (s *Store) AccountSetPassword(ctx context.Context, accountID uint64, hash string) error {
	r, err := s.exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, hash, accountID)
	if err := affectedOne(r, err); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

const sessionCols = `id, account_id, hash, user_agent, client_addr, created_at, last_seen_at, expires_at`

func scanSession(row scanner) (*volley.Session, error) {
	var ss volley.Session
	var created, seen, expires int64
	if err := row.Scan(&ss.ID, &ss.AccountID, &ss.Hash, &ss.UserAgent, &ss.ClientAddr, &created, &seen, &expires); err != nil {
		return nil, notFound(err)
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return &ss, nil
}

// SessionCreate implements store.Tenancy.
func (s *Store) SessionCreate(ctx context.Context, ss *volley.Session) error {
	r, err := s.exec(ctx, `INSERT INTO sessions (account_id, hash, user_agent, client_addr, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ss.AccountID, ss.Hash, ss.UserAgent, ss.ClientAddr,
		micros(ss.CreatedAt), micros(ss.LastSeenAt), micros(ss.ExpiresAt))
	if foreignKeyViolation(err) {
		return fmt.Errorf("create session: %w", store.ErrNotFound)
	}
	if _, ok := uniqueViolation(err); ok {
		return fmt.Errorf("create session: %w", store.Conflict("session"))
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	id, _ := r.LastInsertId()
	ss.ID = uint64(id)
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMicros(micros(ss.CreatedAt)), fromMicros(micros(ss.LastSeenAt)), fromMicros(micros(ss.ExpiresAt))
	return nil
}

// SessionLookup implements store.Tenancy.
func (s *Store) SessionLookup(ctx context.Context, hash []byte, now time.Time) (*volley.Session, error) {
	ss, err := scanSession(s.read.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE hash = ? AND expires_at > ?`, hash, micros(now)))
	if err != nil {
		return nil, err
	}
	if now.Sub(ss.LastSeenAt) >= lastUsedGranularity {
		if _, err := s.execBackground(ctx, writeUpkeep, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, micros(now), ss.ID); err != nil {
			return nil, fmt.Errorf("record session use: %w", err)
		}
		ss.LastSeenAt = fromMicros(micros(now))
	}
	return ss, nil
}

// SessionList implements store.Tenancy.
func (s *Store) SessionList(ctx context.Context, accountID uint64, now time.Time) ([]volley.Session, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE account_id = ? AND expires_at > ? ORDER BY id DESC`,
		accountID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return collect(rows, scanSession)
}

// SessionDelete implements store.Tenancy.
func (s *Store) SessionDelete(ctx context.Context, accountID, id uint64) error {
	r, err := s.exec(ctx, `DELETE FROM sessions WHERE account_id = ? AND id = ?`, accountID, id)
	if err := affectedOne(r, err); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// SessionDeleteAll implements store.Tenancy.
func (s *Store) SessionDeleteAll(ctx context.Context, accountID, keepID uint64, now time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE (account_id = ? AND id <> ?) OR expires_at <= ?`, accountID, keepID, micros(now))
	if err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

const invitationCols = `id, org_id, email, role, hash, sealed, invited_by, created_at, expires_at`

func scanInvitation(row scanner) (*volley.Invitation, error) {
	var inv volley.Invitation
	var created, expires int64
	if err := row.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Role, &inv.Hash, &inv.Sealed, &inv.InvitedBy, &created, &expires); err != nil {
		return nil, notFound(err)
	}
	inv.CreatedAt, inv.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &inv, nil
}

// InvitationCreate implements store.Tenancy.
func (s *Store) InvitationCreate(ctx context.Context, inv *volley.Invitation) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE org_id = ? AND email = ?`, inv.OrgID, inv.Email); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO invitations (org_id, email, role, hash, sealed, invited_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, inv.OrgID, inv.Email, inv.Role, inv.Hash, inv.Sealed, inv.InvitedBy,
			micros(inv.CreatedAt), micros(inv.ExpiresAt))
		if foreignKeyViolation(err) {
			return store.ErrNotFound
		}
		if _, ok := uniqueViolation(err); ok {
			return store.Conflict("invitation")
		}
		if err != nil {
			return err
		}
		id, _ := r.LastInsertId()
		inv.ID = uint64(id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("create invitation: %w", err)
	}
	inv.CreatedAt, inv.ExpiresAt = fromMicros(micros(inv.CreatedAt)), fromMicros(micros(inv.ExpiresAt))
	return nil
}

// InvitationList implements store.Tenancy.
func (s *Store) InvitationList(ctx context.Context, orgID uint64, now time.Time) ([]volley.Invitation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE org_id = ? AND expires_at > ? ORDER BY id`,
		orgID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return collect(rows, scanInvitation)
}

// InvitationGetByHash implements store.Tenancy.
func (s *Store) InvitationGetByHash(ctx context.Context, hash []byte, now time.Time) (*volley.Invitation, error) {
	return scanInvitation(s.read.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE hash = ? AND expires_at > ?`,
		hash, micros(now)))
}

// InvitationDelete implements store.Tenancy.
func (s *Store) InvitationDelete(ctx context.Context, orgID, id uint64) error {
	r, err := s.exec(ctx, `DELETE FROM invitations WHERE org_id = ? AND id = ?`, orgID, id)
	if err := affectedOne(r, err); err != nil {
		return fmt.Errorf("delete invitation: %w", err)
	}
	return nil
}

// InvitationAccept implements store.Tenancy.
func (s *Store) InvitationAccept(ctx context.Context, p store.InvitationAcceptParams) (*volley.Member, error) {
	var m *volley.Member
	err := s.tx(ctx, func(tx *sql.Tx) error {
		inv, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE id = ? AND expires_at > ?`,
			p.InvitationID, micros(p.Now)))
		if err != nil {
			return err
		}
		accountID := p.AccountID
		if a := p.NewAccount; a != nil {
			r, err := tx.ExecContext(ctx, `INSERT INTO accounts (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)`,
				a.Email, a.Name, a.PasswordHash, micros(p.Now))
			if _, ok := uniqueViolation(err); ok {
				return store.Conflict("account with this email")
			}
			if err != nil {
				return err
			}
			id, _ := r.LastInsertId()
			accountID = uint64(id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE id = ?`, inv.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO memberships (org_id, account_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id, account_id) DO NOTHING`, inv.OrgID, accountID, inv.Role, micros(p.Now))
		if foreignKeyViolation(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		m, err = scanMember(tx.QueryRowContext(ctx, memberQuery+` WHERE m.org_id = ? AND m.account_id = ?`, inv.OrgID, accountID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	return m, nil
}
