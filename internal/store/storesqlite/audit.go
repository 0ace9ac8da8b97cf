package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
)

// AuditInsert implements store.Audit.
func (s *Store) AuditInsert(ctx context.Context, recs []store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for i := range recs {
			rec := &recs[i]
			changes, err := marshalChanges(rec.Changes)
			if err != nil {
				return err
			}
			rec.CreatedAt = rec.CreatedAt.UTC().Truncate(time.Microsecond)
			r, err := tx.ExecContext(ctx, `INSERT INTO audit_log (org_id, actor_account_id, actor_token_id, action,
				target_type, target_id, client_addr, changes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				rec.OrgID, rec.ActorAccountID, rec.ActorTokenID, rec.Action, rec.TargetType, rec.TargetID,
				rec.ClientAddr, changes, micros(rec.CreatedAt))
			if err != nil {
				return err
			}
			id, err := r.LastInsertId()
			if err != nil {
				return err
			}
			rec.ID = uint64(id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert audit records: %w", err)
	}
	return nil
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
	var created int64
	if err := row.Scan(&rec.ID, &rec.OrgID, &rec.ActorAccountID, &rec.ActorTokenID, &rec.Action, &rec.TargetType,
		&rec.TargetID, &rec.ClientAddr, &changes, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(changes), &rec.Changes); err != nil {
		return nil, fmt.Errorf("decode audit changes of record %d: %w", rec.ID, err)
	}
	if len(rec.Changes) == 0 {
		rec.Changes = nil
	}
	rec.CreatedAt = fromMicros(created)
	return &rec, nil
}

// AuditList implements store.Audit.
func (s *Store) AuditList(ctx context.Context, p store.AuditListParams) ([]store.AuditRecord, error) {
	q, args := storesql.AuditListQuery(p, dialect, auditCols)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	out, err := collect(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	if p.Before != nil {
		slices.Reverse(out)
	}
	return out, nil
}

// AuditDelete implements store.Audit. It runs behind the urgent writers, like
// the rest of retention.
func (s *Store) AuditDelete(ctx context.Context, before time.Time, limit int) (int, error) {
	r, err := s.execBackground(ctx, writeRetention, `DELETE FROM audit_log WHERE id IN (
		SELECT id FROM audit_log WHERE created_at < ? ORDER BY created_at LIMIT ?)`, micros(before), limit)
	if err != nil {
		return 0, fmt.Errorf("delete audit records: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete audit records: %w", err)
	}
	return int(n), nil
}
