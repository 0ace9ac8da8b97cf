package storepg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// AccountCreate implements store.Tenancy.
func (s *Store) AccountCreate(ctx context.Context, p store.AccountCreateParams) (*store.AccountCreateResult, error) {
	var res store.AccountCreateResult
	err := s.tx(ctx, func(tx pgx.Tx) error {
		res.Account = volley.Account{Email: p.Email, Name: p.Name, PasswordHash: p.PasswordHash, CreatedAt: ts(p.Now)}
		err := tx.QueryRow(ctx, `INSERT INTO accounts (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4)
			RETURNING id`, p.Email, p.Name, p.PasswordHash, res.Account.CreatedAt).Scan(&res.Account.ID)
		if err != nil {
			return err
		}
		m, proj, err := orgCreate(ctx, tx, store.OrgCreateParams{Name: p.OrgName, Slug: p.OrgSlug, AccountID: res.Account.ID, Now: p.Now})
		if err != nil {
			return err
		}
		res.Org, res.Project = *m, *proj
		res.Token = p.Token
		res.Token.AccountID = res.Account.ID
		return tokenInsert(ctx, tx, &res.Token)
	})
	if err != nil {
		return nil, wrap(err, "create account")
	}
	return &res, nil
}

const accountCols = `id, email, name, password_hash, created_at`

func scanAccount(row scanner) (*volley.Account, error) {
	var a volley.Account
	if err := row.Scan(&a.ID, &a.Email, &a.Name, &a.PasswordHash, &a.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &a, nil
}

// AccountGet implements store.Tenancy.
func (s *Store) AccountGet(ctx context.Context, id uint64) (*volley.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
}

// AccountGetByEmail implements store.Tenancy.
func (s *Store) AccountGetByEmail(ctx context.Context, email string) (*volley.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE email = $1`, email))
}

// AccountCount implements store.Tenancy.
func (s *Store) AccountCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	return n, wrap(err, "count accounts")
}

func tokenInsert(ctx context.Context, tx pgx.Tx, t *volley.APIToken) error {
	t.CreatedAt, t.ExpiresAt = ts(t.CreatedAt), ts(t.ExpiresAt)
	return tx.QueryRow(ctx, `INSERT INTO api_tokens (account_id, kind, name, hash, sealed, prefix, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		t.AccountID, t.Kind, t.Name, nonNil(t.Hash), nonNil(t.Sealed), t.Prefix, t.CreatedAt, optTime(t.ExpiresAt)).Scan(&t.ID)
}

// TokenCreate implements store.Tenancy.
func (s *Store) TokenCreate(ctx context.Context, p store.TokenCreateParams) (*volley.APIToken, error) {
	var t volley.APIToken
	err := s.tx(ctx, func(tx pgx.Tx) error {
		t = p.Token
		if p.ReplaceKind {
			if _, err := tx.Exec(ctx, `DELETE FROM api_tokens WHERE account_id = $1 AND kind = $2`, t.AccountID, t.Kind); err != nil {
				return err
			}
		}
		return tokenInsert(ctx, tx, &t)
	})
	if err != nil {
		return nil, wrap(err, "create token")
	}
	return &t, nil
}

const tokenCols = `id, account_id, kind, name, hash, sealed, prefix, created_at, last_used_at, expires_at`

func scanToken(row scanner) (*volley.APIToken, error) {
	var t volley.APIToken
	var expires *time.Time
	if err := row.Scan(&t.ID, &t.AccountID, &t.Kind, &t.Name, &t.Hash, &t.Sealed, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &expires); err != nil {
		return nil, mapErr(err)
	}
	if expires != nil {
		t.ExpiresAt = expires.UTC()
	}
	return &t, nil
}

// optTime stores a zero time as NULL ("never").
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// lastUsedGranularity bounds how often a token's last_used_at is written:
// every API call would otherwise be a write.
const lastUsedGranularity = time.Minute

// TokenLookup implements store.Tenancy.
func (s *Store) TokenLookup(ctx context.Context, hash []byte, now time.Time) (*volley.APIToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens
		WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)`, hash, ts(now)))
	if err != nil {
		return nil, err
	}
	if now.Sub(t.LastUsedAt) >= lastUsedGranularity {
		used := ts(now)
		if _, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, used, t.ID); err != nil {
			return nil, wrap(err, "record token use")
		}
		t.LastUsedAt = used
	}
	return t, nil
}

// TokenList implements store.Tenancy.
func (s *Store) TokenList(ctx context.Context, accountID uint64) ([]volley.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE account_id = $1 ORDER BY id`, accountID)
	return collect(rows, err, scanToken)
}

// TokenDelete implements store.Tenancy.
func (s *Store) TokenDelete(ctx context.Context, accountID, tokenID uint64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_tokens WHERE id = $1 AND account_id = $2`, tokenID, accountID)
	return wrap(affectedOne(tag, err), "delete token")
}

func orgCreate(ctx context.Context, tx pgx.Tx, p store.OrgCreateParams) (*volley.Membership, *volley.Project, error) {
	m := &volley.Membership{
		Org:  volley.Org{Name: p.Name, Slug: p.Slug, AccountID: p.AccountID, CreatedAt: ts(p.Now)},
		Role: volley.RoleOwner,
	}
	err := tx.QueryRow(ctx, `INSERT INTO orgs (name, slug, account_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		p.Name, p.Slug, p.AccountID, m.CreatedAt).Scan(&m.ID)
	if err != nil {
		return nil, nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO memberships (org_id, account_id, role, created_at) VALUES ($1, $2, $3, $4)`,
		m.ID, p.AccountID, volley.RoleOwner, m.CreatedAt); err != nil {
		return nil, nil, err
	}
	proj := &volley.Project{OrgID: m.ID, AccountID: p.AccountID, Name: volley.DefaultProjectName, IsDefault: true,
		CreatedAt: p.Now, UpdatedAt: p.Now}
	if err := projectInsert(ctx, tx, proj); err != nil {
		return nil, nil, err
	}
	return m, proj, nil
}

// OrgCreate implements store.Tenancy.
func (s *Store) OrgCreate(ctx context.Context, p store.OrgCreateParams) (*volley.Membership, error) {
	var m *volley.Membership
	err := s.tx(ctx, func(tx pgx.Tx) (err error) {
		m, _, err = orgCreate(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, wrap(err, "create organization")
	}
	return m, nil
}

const membershipQuery = `SELECT o.id, o.name, o.slug, o.account_id, o.created_at, m.role
	FROM memberships m JOIN orgs o ON o.id = m.org_id`

func scanMembership(row scanner) (*volley.Membership, error) {
	var m volley.Membership
	if err := row.Scan(&m.ID, &m.Name, &m.Slug, &m.AccountID, &m.CreatedAt, &m.Role); err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}

// OrgList implements store.Tenancy.
func (s *Store) OrgList(ctx context.Context, accountID uint64) ([]volley.Membership, error) {
	rows, err := s.pool.Query(ctx, membershipQuery+` WHERE m.account_id = $1 ORDER BY o.id`, accountID)
	return collect(rows, err, scanMembership)
}

// OrgGet implements store.Tenancy.
func (s *Store) OrgGet(ctx context.Context, orgID, accountID uint64) (*volley.Membership, error) {
	return scanMembership(s.pool.QueryRow(ctx, membershipQuery+` WHERE m.org_id = $1 AND m.account_id = $2`, orgID, accountID))
}

// OrgDelete implements store.Tenancy.
func (s *Store) OrgDelete(ctx context.Context, orgID uint64, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := tombstone(ctx, tx, now, `SELECT id FROM projects WHERE org_id = $2`, orgID); err != nil {
			return err
		}
		return affectedOne(tx.Exec(ctx, `DELETE FROM orgs WHERE id = $1`, orgID))
	})
	return wrap(err, "delete organization")
}

// lockOrg locks an organization's row until the transaction ends, so that
// changes to its default project and to its owners are serialised: two
// nodes demoting two owners at once must not leave none. Its lock mode
// leaves foreign key checks of new rows alone. A missing organization is
// store.ErrNotFound.
func lockOrg(ctx context.Context, tx pgx.Tx, orgID uint64) error {
	var one int
	return tx.QueryRow(ctx, `SELECT 1 FROM orgs WHERE id = $1 FOR NO KEY UPDATE`, orgID).Scan(&one)
}

const memberQuery = `SELECT a.id, a.email, a.name, m.role, m.created_at
	FROM memberships m JOIN accounts a ON a.id = m.account_id`

func scanMember(row scanner) (*volley.Member, error) {
	var m volley.Member
	if err := row.Scan(&m.AccountID, &m.Email, &m.Name, &m.Role, &m.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}

// MemberList implements store.Tenancy.
func (s *Store) MemberList(ctx context.Context, orgID uint64) ([]volley.Member, error) {
	rows, err := s.pool.Query(ctx, memberQuery+` WHERE m.org_id = $1 ORDER BY a.id`, orgID)
	return collect(rows, err, scanMember)
}

// MemberAdd implements store.Tenancy.
func (s *Store) MemberAdd(ctx context.Context, p store.MemberParams) (*volley.Member, error) {
	m, err := scanMember(s.pool.QueryRow(ctx, `WITH m AS (
			INSERT INTO memberships (org_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) RETURNING *)
		SELECT a.id, a.email, a.name, m.role, m.created_at FROM m JOIN accounts a ON a.id = m.account_id`,
		p.OrgID, p.AccountID, p.Role, ts(p.Now)))
	if err != nil {
		return nil, wrap(err, "add member")
	}
	return m, nil
}

// keepsAnOwner fails with volley.ErrLastOwner when accountID is the only
// owner of orgID; call it, with the organization locked, before demoting or
// removing accountID.
func keepsAnOwner(ctx context.Context, tx pgx.Tx, orgID, accountID uint64) error {
	var others int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM memberships WHERE org_id = $1 AND role = $2 AND account_id <> $3`,
		orgID, volley.RoleOwner, accountID).Scan(&others)
	if err != nil {
		return err
	}
	if others == 0 {
		return volley.ErrLastOwner
	}
	return nil
}

// memberRole locks the organization and returns a member's current role.
func memberRole(ctx context.Context, tx pgx.Tx, orgID, accountID uint64) (volley.Role, error) {
	if err := lockOrg(ctx, tx, orgID); err != nil {
		return "", err
	}
	var role volley.Role
	err := tx.QueryRow(ctx, `SELECT role FROM memberships WHERE org_id = $1 AND account_id = $2`, orgID, accountID).Scan(&role)
	return role, err
}

// MemberUpdate implements store.Tenancy.
func (s *Store) MemberUpdate(ctx context.Context, p store.MemberParams) (*volley.Member, error) {
	var m *volley.Member
	err := s.tx(ctx, func(tx pgx.Tx) error {
		role, err := memberRole(ctx, tx, p.OrgID, p.AccountID)
		if err != nil {
			return err
		}
		if role == volley.RoleOwner && p.Role != volley.RoleOwner {
			if err := keepsAnOwner(ctx, tx, p.OrgID, p.AccountID); err != nil {
				return err
			}
		}
		m, err = scanMember(tx.QueryRow(ctx, `WITH m AS (
				UPDATE memberships SET role = $3 WHERE org_id = $1 AND account_id = $2 RETURNING *)
			SELECT a.id, a.email, a.name, m.role, m.created_at FROM m JOIN accounts a ON a.id = m.account_id`,
			p.OrgID, p.AccountID, p.Role))
		return err
	})
	if err != nil {
		return nil, wrap(err, "update member")
	}
	return m, nil
}

// MemberDelete implements store.Tenancy.
func (s *Store) MemberDelete(ctx context.Context, orgID, accountID uint64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		role, err := memberRole(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		if role == volley.RoleOwner {
			if err := keepsAnOwner(ctx, tx, orgID, accountID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM memberships WHERE org_id = $1 AND account_id = $2`, orgID, accountID)
		return err
	})
	return wrap(err, "remove member")
}

const projectCols = `id, org_id, account_id, name, is_default, created_at, updated_at`

func scanProject(row scanner) (*volley.Project, error) {
	var p volley.Project
	if err := row.Scan(&p.ID, &p.OrgID, &p.AccountID, &p.Name, &p.IsDefault, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// ProjectList implements store.Tenancy.
func (s *Store) ProjectList(ctx context.Context, orgID uint64) ([]volley.Project, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+projectCols+` FROM projects WHERE org_id = $1 ORDER BY id`, orgID)
	return collect(rows, err, scanProject)
}

// ProjectGet implements store.Tenancy.
func (s *Store) ProjectGet(ctx context.Context, orgID, id uint64) (*volley.Project, error) {
	return scanProject(s.pool.QueryRow(ctx, `SELECT `+projectCols+` FROM projects WHERE id = $1 AND org_id = $2`, id, orgID))
}

func projectInsert(ctx context.Context, tx pgx.Tx, p *volley.Project) error {
	p.CreatedAt, p.UpdatedAt = ts(p.CreatedAt), ts(p.UpdatedAt)
	if p.IsDefault {
		if err := lockOrg(ctx, tx, p.OrgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE projects SET is_default = false WHERE org_id = $1 AND is_default`, p.OrgID); err != nil {
			return err
		}
	}
	return tx.QueryRow(ctx, `INSERT INTO projects (org_id, account_id, name, is_default, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, p.OrgID, p.AccountID, p.Name, p.IsDefault, p.CreatedAt, p.UpdatedAt).Scan(&p.ID)
}

// ProjectCreate implements store.Tenancy.
func (s *Store) ProjectCreate(ctx context.Context, p *volley.Project) error {
	in := *p
	err := s.tx(ctx, func(tx pgx.Tx) error {
		*p = in
		return projectInsert(ctx, tx, p)
	})
	return wrap(err, "create project")
}

// ProjectUpdate implements store.Tenancy.
func (s *Store) ProjectUpdate(ctx context.Context, p store.ProjectUpdateParams) (*volley.Project, error) {
	var out *volley.Project
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if p.MakeDefault {
			if err := lockOrg(ctx, tx, p.OrgID); err != nil {
				return err
			}
		}
		cur, err := scanProject(tx.QueryRow(ctx, `SELECT `+projectCols+` FROM projects WHERE id = $1 AND org_id = $2`, p.ID, p.OrgID))
		if err != nil {
			return err
		}
		if p.MakeDefault && !cur.IsDefault {
			if _, err := tx.Exec(ctx, `UPDATE projects SET is_default = false WHERE org_id = $1 AND is_default`, p.OrgID); err != nil {
				return err
			}
			cur.IsDefault = true
		}
		if p.Name != "" {
			cur.Name = p.Name
		}
		cur.UpdatedAt = ts(p.Now)
		_, err = tx.Exec(ctx, `UPDATE projects SET name = $1, is_default = $2, updated_at = $3 WHERE id = $4`,
			cur.Name, cur.IsDefault, cur.UpdatedAt, cur.ID)
		out = cur
		return err
	})
	if err != nil {
		return nil, wrap(err, "update project")
	}
	return out, nil
}

// ProjectDelete implements store.Tenancy.
func (s *Store) ProjectDelete(ctx context.Context, orgID, id uint64, now time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockOrg(ctx, tx, orgID); err != nil {
			return err
		}
		p, err := scanProject(tx.QueryRow(ctx, `SELECT `+projectCols+` FROM projects WHERE id = $1 AND org_id = $2`, id, orgID))
		if err != nil {
			return err
		}
		if p.IsDefault {
			return volley.ErrDefaultProject
		}
		if err := tombstone(ctx, tx, now, `SELECT $2::bigint`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM projects WHERE id = $1`, id)
		return err
	})
	return wrap(err, "delete project")
}

// tombstone records the projects that projects selects (with $2 its
// argument) so that their connections' unfinished deliveries are cancelled
// (DeliverySweep) and their traffic is deleted (RetentionDelete) in small
// batches, instead of in one long transaction now.
func tombstone(ctx context.Context, tx pgx.Tx, now time.Time, projects string, arg uint64) error {
	if err := needSweep(ctx, tx, now, `project_id IN (`+projects+`)`, arg); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO project_tombstones (project_id, deleted_at)
		SELECT p, $1 FROM (`+projects+`) AS t(p) ON CONFLICT (project_id) DO NOTHING`, ts(now), arg)
	return err
}
