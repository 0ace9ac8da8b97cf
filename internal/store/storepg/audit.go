package storepg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
)

// AuditInsert implements store.Audit.
func (s *Store) AuditInsert(ctx context.Context, recs []store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		for i := range recs {
			rec := &recs[i]
			changes, err := marshalChanges(rec.Changes)
			if err != nil {
				return err
			}
			rec.CreatedAt = ts(rec.CreatedAt)
			err = tx.QueryRow(ctx, `INSERT INTO audit_log (org_id, actor_account_id, actor_token_id, action,
				target_type, target_id, client_addr, changes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
				rec.OrgID, rec.ActorAccountID, rec.ActorTokenID, rec.Action, rec.TargetType, rec.TargetID,
				rec.ClientAddr, changes, rec.CreatedAt).Scan(&rec.ID)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(err, "insert audit records")
}

// marshalChanges encodes changes as a JSON array ("[]" for none).
func marshalChanges(changes []store.AuditChange) (string, error) {
	if changes == nil {
		changes = []store.AuditChange{}
	}
	b, err := json.Marshal(changes)
	if err != nil {
		return "", fmt.Errorf("encode audit changes: %w", err)
	}
	return string(b), nil
}

const auditCols = `id, org_id, actor_account_id, actor_token_id, action, target_type, target_id, client_addr, changes, created_at`

func scanAudit(row scanner) (*store.AuditRecord, error) {
	var rec store.AuditRecord
	var changes string
	if err := row.Scan(&rec.ID, &rec.OrgID, &rec.ActorAccountID, &rec.ActorTokenID, &rec.Action, &rec.TargetType,
		&rec.TargetID, &rec.ClientAddr, &changes, &rec.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(changes), &rec.Changes); err != nil {
		return nil, fmt.Errorf("decode audit changes of record %d: %w", rec.ID, err)
	}
	if len(rec.Changes) == 0 {
		rec.Changes = nil
	}
	rec.CreatedAt = rec.CreatedAt.UTC()
	return &rec, nil
}

// AuditList implements store.Audit.
func (s *Store) AuditList(ctx context.Context, p store.AuditListParams) ([]store.AuditRecord, error) {
	q, args := storesql.AuditListQuery(p, dialect, auditCols)
	rows, err := s.pool.Query(ctx, storesql.Numbered(q), args...)
	out, err := collect(rows, err, scanAudit)
	if err != nil {
		return nil, wrap(err, "list audit records")
	}
	if p.Before != nil {
		slices.Reverse(out)
	}
	return out, nil
}

// AuditDelete implements store.Audit.
func (s *Store) AuditDelete(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_log WHERE id IN (
		SELECT id FROM audit_log WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, ts(before), limit)
	if err != nil {
		return 0, wrap(err, "delete audit records")
	}
	return int(tag.RowsAffected()), nil
}
