package storepg

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
)

// SealedList implements store.Sealed.
func (s *Store) SealedList(ctx context.Context, p store.SealedListParams) ([]store.SealedValue, error) {
	table, column, err := storesql.SealedTable(p.Column)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, `+column+` FROM `+table+` WHERE id > $1 AND length(`+column+`) > 0
		ORDER BY id LIMIT $2`, p.AfterID, p.Limit)
	out, err := collect(rows, err, func(row scanner) (*store.SealedValue, error) {
		v := store.SealedValue{Column: p.Column}
		return &v, row.Scan(&v.RowID, &v.Value)
	})
	return out, wrap(err, "list "+string(p.Column))
}

// SealedReplace implements store.Sealed.
func (s *Store) SealedReplace(ctx context.Context, vals []store.SealedReplacement) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		for _, v := range vals {
			table, column, err := storesql.SealedTable(v.Column)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE `+table+` SET `+column+` = $1 WHERE id = $2 AND `+column+` = $3`, v.New, v.RowID, v.Old)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	return n, wrap(err, "replace sealed values")
}
