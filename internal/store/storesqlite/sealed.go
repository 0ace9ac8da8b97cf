package storesqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
)

// SealedList implements store.Sealed.
func (s *Store) SealedList(ctx context.Context, p store.SealedListParams) ([]store.SealedValue, error) {
	table, column, err := storesql.SealedTable(p.Column)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, `+column+` FROM `+table+` WHERE id > ? AND length(`+column+`) > 0
		ORDER BY id LIMIT ?`, p.AfterID, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p.Column, err)
	}
	out, err := collect(rows, func(row scanner) (*store.SealedValue, error) {
		v := store.SealedValue{Column: p.Column}
		return &v, row.Scan(&v.RowID, &v.Value)
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p.Column, err)
	}
	return out, nil
}

// SealedReplace implements store.Sealed.
func (s *Store) SealedReplace(ctx context.Context, vals []store.SealedReplacement) (int, error) {
	n := 0
	// Durable: once every value is sealed under the new key, the operator
	// may remove the old one.
	err := s.txRun(ctx, turnReseal, func(tx *sql.Tx) error {
		n = 0
		for _, v := range vals {
			table, column, err := storesql.SealedTable(v.Column)
			if err != nil {
				return err
			}
			r, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+column+` = ? WHERE id = ? AND `+column+` = ?`, v.New, v.RowID, v.Old)
			if err != nil {
				return err
			}
			k, err := r.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("replace sealed values: %w", err)
	}
	return n, nil
}
