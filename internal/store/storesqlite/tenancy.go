package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// AccountCreate implements store.Tenancy.
func (s *Store) AccountCreate(ctx context.Context, p store.AccountCreateParams) (*store.AccountCreateResult, error) {
	var res store.AccountCreateResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := micros(p.Now)
		r, err := tx.ExecContext(ctx, `INSERT INTO accounts (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)`,
			p.Email, p.Name, p.PasswordHash, now)
		if _, ok := uniqueViolation(err); ok {
			return store.Conflict("account with this email")
		}
		if err != nil {
			return err
		}
		id, _ := r.LastInsertId()
		res.Account = volley.Account{ID: uint64(id), Email: p.Email, Name: p.Name, PasswordHash: p.PasswordHash, CreatedAt: fromMicros(now)}
		m, proj, err := orgCreate(ctx, tx, store.OrgCreateParams{Name: p.OrgName, Slug: p.OrgSlug, AccountID: res.Account.ID, Now: p.Now})
		if err != nil {
			return err
		}
		res.Org, res.Project = *m, *proj
		t := p.Token
		t.AccountID = res.Account.ID
		if err := tokenInsert(ctx, tx, &t); err != nil {
			return err
		}
		res.Token = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	return &res, nil
}

const accountCols = `id, email, name, password_hash, created_at`

func scanAccount(row scanner) (*volley.Account, error) {
	var a volley.Account
	var created int64
	if err := row.Scan(&a.ID, &a.Email, &a.Name, &a.PasswordHash, &created); err != nil {
		return nil, notFound(err)
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// AccountGet implements store.Tenancy.
func (s *Store) AccountGet(ctx context.Context, id uint64) (*volley.Account, error) {
	return scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
}

// AccountGetByEmail implements store.Tenancy.
func (s *Store) AccountGetByEmail(ctx context.Context, email string) (*volley.Account, error) {
	return scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE email = ?`, email))
}

// AccountCount implements store.Tenancy.
func (s *Store) AccountCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	return n, err
}

func tokenInsert(ctx context.Context, tx *sql.Tx, t *volley.APIToken) error {
	r, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (account_id, kind, name, hash, sealed, prefix, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.AccountID, t.Kind, t.Name, t.Hash, t.Sealed, t.Prefix, micros(t.CreatedAt),
		optMicros(t.ExpiresAt))
	if _, ok := uniqueViolation(err); ok {
		return store.Conflict("token")
	}
	if err != nil {
		return err
	}
	id, _ := r.LastInsertId()
	t.ID = uint64(id)
	t.CreatedAt = fromMicros(micros(t.CreatedAt))
	if !t.ExpiresAt.IsZero() {
		t.ExpiresAt = fromMicros(micros(t.ExpiresAt))
	}
	return nil
}

// TokenCreate implements store.Tenancy.
func (s *Store) TokenCreate(ctx context.Context, p store.TokenCreateParams) (*volley.APIToken, error) {
	t := p.Token
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if p.ReplaceKind {
			if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE account_id = ? AND kind = ?`, t.AccountID, t.Kind); err != nil {
				return err
			}
		}
		err := tokenInsert(ctx, tx, &t)
		if foreignKeyViolation(err) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	return &t, nil
}

const tokenCols = `id, account_id, kind, name, hash, sealed, prefix, created_at, last_used_at, expires_at`

func scanToken(row scanner) (*volley.APIToken, error) {
	var t volley.APIToken
	var created, used int64
	var expires sql.NullInt64
	if err := row.Scan(&t.ID, &t.AccountID, &t.Kind, &t.Name, &t.Hash, &t.Sealed, &t.Prefix, &created, &used, &expires); err != nil {
		return nil, notFound(err)
	}
	t.CreatedAt, t.LastUsedAt = fromMicros(created), fromMicros(used)
	if expires.Valid {
		t.ExpiresAt = fromMicros(expires.Int64)
	}
	return &t, nil
}

// optMicros stores a zero time as NULL ("never").
func optMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// lastUsedGranularity bounds how often a token's last_used_at is written:
// every API call would otherwise be a write.
const lastUsedGranularity = time.Minute

// TokenLookup implements store.Tenancy.
func (s *Store) TokenLookup(ctx context.Context, hash []byte, now time.Time) (*volley.APIToken, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens
		WHERE hash = ? AND (expires_at IS NULL OR expires_at > ?)`, hash, micros(now)))
	if err != nil {
		return nil, err
	}
	if now.Sub(t.LastUsedAt) >= lastUsedGranularity {
		if _, err := s.execBackground(ctx, writeUpkeep, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, micros(now), t.ID); err != nil {
			return nil, fmt.Errorf("record token use: %w", err)
		}
		t.LastUsedAt = fromMicros(micros(now))
	}
	return t, nil
}

// TokenList implements store.Tenancy.
func (s *Store) TokenList(ctx context.Context, accountID uint64) ([]volley.APIToken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE account_id = ? ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanToken)
}

// TokenDelete implements store.Tenancy.
func (s *Store) TokenDelete(ctx context.Context, accountID, tokenID uint64) error {
	r, err := s.exec(ctx, `DELETE FROM api_tokens WHERE id = ? AND account_id = ?`, tokenID, accountID)
	return affectedOne(r, err)
}

// affectedOne maps "no row changed" to store.ErrNotFound.
func affectedOne(r sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func orgCreate(ctx context.Context, tx *sql.Tx, p store.OrgCreateParams) (*volley.Membership, *volley.Project, error) {
	now := micros(p.Now)
	r, err := tx.ExecContext(ctx, `INSERT INTO orgs (name, slug, account_id, created_at) VALUES (?, ?, ?, ?)`,
		p.Name, p.Slug, p.AccountID, now)
	if _, ok := uniqueViolation(err); ok {
		return nil, nil, store.Conflict("organization slug")
	}
	if err != nil {
		return nil, nil, err
	}
	orgID, _ := r.LastInsertId()
	if _, err := tx.ExecContext(ctx, `INSERT INTO memberships (org_id, account_id, role, created_at) VALUES (?, ?, ?, ?)`,
		orgID, p.AccountID, volley.RoleOwner, now); err != nil {
		if foreignKeyViolation(err) {
			return nil, nil, store.ErrNotFound
		}
		return nil, nil, err
	}
	proj := &volley.Project{OrgID: uint64(orgID), AccountID: p.AccountID, Name: volley.DefaultProjectName, IsDefault: true,
		CreatedAt: p.Now, UpdatedAt: p.Now}
	if err := projectInsert(ctx, tx, proj); err != nil {
		return nil, nil, err
	}
	m := &volley.Membership{
		Org:  volley.Org{ID: uint64(orgID), Name: p.Name, Slug: p.Slug, AccountID: p.AccountID, CreatedAt: fromMicros(now)},
		Role: volley.RoleOwner,
	}
	return m, proj, nil
}

// OrgCreate implements store.Tenancy.
func (s *Store) OrgCreate(ctx context.Context, p store.OrgCreateParams) (*volley.Membership, error) {
	var m *volley.Membership
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		m, _, err = orgCreate(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}
	return m, nil
}

const membershipQuery = `SELECT o.id, o.name, o.slug, o.account_id, o.created_at, m.role
	FROM memberships m JOIN orgs o ON o.id = m.org_id`

func scanMembership(row scanner) (*volley.Membership, error) {
	var m volley.Membership
	var created int64
	if err := row.Scan(&m.ID, &m.Name, &m.Slug, &m.AccountID, &created, &m.Role); err != nil {
		return nil, notFound(err)
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// OrgList implements store.Tenancy.
func (s *Store) OrgList(ctx context.Context, accountID uint64) ([]volley.Membership, error) {
	rows, err := s.read.QueryContext(ctx, membershipQuery+` WHERE m.account_id = ? ORDER BY o.id`, accountID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMembership)
}

// OrgGet implements store.Tenancy.
func (s *Store) OrgGet(ctx context.Context, orgID, accountID uint64) (*volley.Membership, error) {
	return scanMembership(s.read.QueryRowContext(ctx, membershipQuery+` WHERE m.org_id = ? AND m.account_id = ?`, orgID, accountID))
}

// OrgDelete implements store.Tenancy.
func (s *Store) OrgDelete(ctx context.Context, orgID uint64, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tombstone(ctx, tx, now, `org_id = ?`, orgID); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM orgs WHERE id = ?`, orgID)
		return affectedOne(r, err)
	})
	if err != nil {
		return fmt.Errorf("delete organization: %w", err)
	}
	return nil
}

const memberQuery = `SELECT a.id, a.email, a.name, m.role, m.created_at
	FROM memberships m JOIN accounts a ON a.id = m.account_id`

func scanMember(row scanner) (*volley.Member, error) {
	var m volley.Member
	var created int64
	if err := row.Scan(&m.AccountID, &m.Email, &m.Name, &m.Role, &created); err != nil {
		return nil, notFound(err)
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// MemberList implements store.Tenancy.
func (s *Store) MemberList(ctx context.Context, orgID uint64) ([]volley.Member, error) {
	rows, err := s.read.QueryContext(ctx, memberQuery+` WHERE m.org_id = ? ORDER BY a.id`, orgID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMember)
}

// MemberAdd implements store.Tenancy.
func (s *Store) MemberAdd(ctx context.Context, p store.MemberParams) (*volley.Member, error) {
	var m *volley.Member
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO memberships (org_id, account_id, role, created_at) VALUES (?, ?, ?, ?)`,
			p.OrgID, p.AccountID, p.Role, micros(p.Now))
		if _, ok := uniqueViolation(err); ok {
			return store.Conflict("membership")
		}
		if foreignKeyViolation(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		m, err = scanMember(tx.QueryRowContext(ctx, memberQuery+` WHERE m.org_id = ? AND m.account_id = ?`, p.OrgID, p.AccountID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("add member: %w", err)
	}
	return m, nil
}

// keepsAnOwner fails with volley.ErrLastOwner when accountID is the only
// owner of orgID; call it before demoting or removing accountID.
func keepsAnOwner(ctx context.Context, tx *sql.Tx, orgID, accountID uint64) error {
	var others int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE org_id = ? AND role = ? AND account_id <> ?`,
		orgID, volley.RoleOwner, accountID).Scan(&others)
	if err != nil {
		return err
	}
	if others == 0 {
		return volley.ErrLastOwner
	}
	return nil
}

// memberRole returns a member's current role.
func memberRole(ctx context.Context, tx *sql.Tx, orgID, accountID uint64) (volley.Role, error) {
	var role volley.Role
	err := tx.QueryRowContext(ctx, `SELECT role FROM memberships WHERE org_id = ? AND account_id = ?`, orgID, accountID).Scan(&role)
	return role, notFound(err)
}

// MemberUpdate implements store.Tenancy.
func (s *Store) MemberUpdate(ctx context.Context, p store.MemberParams) (*volley.Member, error) {
	var m *volley.Member
	err := s.tx(ctx, func(tx *sql.Tx) error {
		role, err := memberRole(ctx, tx, p.OrgID, p.AccountID)
		if err != nil {
			return err
		}
		if role == volley.RoleOwner && p.Role != volley.RoleOwner {
			if err := keepsAnOwner(ctx, tx, p.OrgID, p.AccountID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memberships SET role = ? WHERE org_id = ? AND account_id = ?`,
			p.Role, p.OrgID, p.AccountID); err != nil {
			return err
		}
		m, err = scanMember(tx.QueryRowContext(ctx, memberQuery+` WHERE m.org_id = ? AND m.account_id = ?`, p.OrgID, p.AccountID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update member: %w", err)
	}
	return m, nil
}

// MemberDelete implements store.Tenancy.
func (s *Store) MemberDelete(ctx context.Context, orgID, accountID uint64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		role, err := memberRole(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		if role == volley.RoleOwner {
			if err := keepsAnOwner(ctx, tx, orgID, accountID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM memberships WHERE org_id = ? AND account_id = ?`, orgID, accountID)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return nil
}

const projectCols = `id, org_id, account_id, name, is_default, created_at, updated_at`

func scanProject(row scanner) (*volley.Project, error) {
	var p volley.Project
	var created, updated int64
	if err := row.Scan(&p.ID, &p.OrgID, &p.AccountID, &p.Name, &p.IsDefault, &created, &updated); err != nil {
		return nil, notFound(err)
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// ProjectList implements store.Tenancy.
func (s *Store) ProjectList(ctx context.Context, orgID uint64) ([]volley.Project, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+projectCols+` FROM projects WHERE org_id = ? ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanProject)
}

// ProjectGet implements store.Tenancy.
func (s *Store) ProjectGet(ctx context.Context, orgID, id uint64) (*volley.Project, error) {
	return scanProject(s.read.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE id = ? AND org_id = ?`, id, orgID))
}

func projectInsert(ctx context.Context, tx *sql.Tx, p *volley.Project) error {
	if p.IsDefault {
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET is_default = 0 WHERE org_id = ? AND is_default = 1`, p.OrgID); err != nil {
			return err
		}
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO projects (org_id, account_id, name, is_default, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, p.OrgID, p.AccountID, p.Name, p.IsDefault, micros(p.CreatedAt), micros(p.UpdatedAt))
	if foreignKeyViolation(err) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	id, _ := r.LastInsertId()
	p.ID = uint64(id)
	p.CreatedAt, p.UpdatedAt = fromMicros(micros(p.CreatedAt)), fromMicros(micros(p.UpdatedAt))
	return nil
}

// ProjectCreate implements store.Tenancy.
func (s *Store) ProjectCreate(ctx context.Context, p *volley.Project) error {
	if err := s.tx(ctx, func(tx *sql.Tx) error { return projectInsert(ctx, tx, p) }); err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	return nil
}

// ProjectUpdate implements store.Tenancy.
func (s *Store) ProjectUpdate(ctx context.Context, p store.ProjectUpdateParams) (*volley.Project, error) {
	var out *volley.Project
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := scanProject(tx.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE id = ? AND org_id = ?`, p.ID, p.OrgID))
		if err != nil {
			return err
		}
		if p.MakeDefault && !cur.IsDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE projects SET is_default = 0 WHERE org_id = ? AND is_default = 1`, p.OrgID); err != nil {
				return err
			}
			cur.IsDefault = true
		}
		if p.Name != "" {
			cur.Name = p.Name
		}
		cur.UpdatedAt = fromMicros(micros(p.Now))
		_, err = tx.ExecContext(ctx, `UPDATE projects SET name = ?, is_default = ?, updated_at = ? WHERE id = ?`,
			cur.Name, cur.IsDefault, micros(cur.UpdatedAt), cur.ID)
		out = cur
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update project: %w", err)
	}
	return out, nil
}

// ProjectDelete implements store.Tenancy.
func (s *Store) ProjectDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, err := scanProject(tx.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE id = ? AND org_id = ?`, id, orgID))
		if err != nil {
			return err
		}
		if p.IsDefault {
			return volley.ErrDefaultProject
		}
		if err := tombstone(ctx, tx, now, `id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete project: %w", err)
	}
	return nil
}

// tombstone records the projects matching cond so that their connections'
// unfinished deliveries are cancelled (DeliverySweep) and their traffic is
// deleted (RetentionDelete) in small batches, instead of in one long
// transaction now.
func tombstone(ctx context.Context, tx *sql.Tx, now time.Time, cond string, args ...any) error {
	if err := needSweep(ctx, tx, now, `project_id IN (SELECT id FROM projects WHERE `+cond+`)`, args...); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO project_tombstones (project_id, deleted_at)
		SELECT id, ? FROM projects WHERE `+cond, append([]any{micros(now)}, args...)...)
	return err
}
