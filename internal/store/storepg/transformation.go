package storepg

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/volley"
)

const transformationCols = `t.id, t.project_id, t.name, t.code, t.created_at, t.updated_at`

func scanTransformation(row scanner) (*volley.Transformation, error) {
	var t volley.Transformation
	if err := row.Scan(&t.ID, &t.ProjectID, &t.Name, &t.Code, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &t, nil
}

// TransformationList implements store.Config.
func (s *Store) TransformationList(ctx context.Context, projectID uint64) ([]volley.Transformation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+transformationCols+` FROM transformations t
		WHERE t.project_id = $1 ORDER BY t.id`, projectID)
	list, err := collect(rows, err, scanTransformation)
	return list, wrap(err, "list transformations")
}

// TransformationGet implements store.Config.
func (s *Store) TransformationGet(ctx context.Context, orgID, id uint64) (*volley.Transformation, error) {
	return scanTransformation(s.pool.QueryRow(ctx, `SELECT `+transformationCols+` FROM transformations t
		JOIN projects p ON p.id = t.project_id WHERE t.id = $1 AND p.org_id = $2`, id, orgID))
}

// TransformationGetByID implements store.Config.
func (s *Store) TransformationGetByID(ctx context.Context, id uint64) (*volley.Transformation, error) {
	return scanTransformation(s.pool.QueryRow(ctx, `SELECT `+transformationCols+` FROM transformations t
		WHERE t.id = $1`, id))
}

// TransformationCreate implements store.Config.
func (s *Store) TransformationCreate(ctx context.Context, t *volley.Transformation) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO transformations (project_id, name, code, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, t.ProjectID, validText(t.Name), validText(t.Code),
		ts(t.CreatedAt), ts(t.UpdatedAt)).Scan(&t.ID)
	return wrap(err, "create transformation")
}

// TransformationUpdate implements store.Config.
func (s *Store) TransformationUpdate(ctx context.Context, t *volley.Transformation) error {
	err := affectedOne(s.pool.Exec(ctx, `UPDATE transformations SET name = $1, code = $2, updated_at = $3 WHERE id = $4`,
		validText(t.Name), validText(t.Code), ts(t.UpdatedAt), t.ID))
	return wrap(err, "update transformation")
}

// TransformationDelete implements store.Config.
func (s *Store) TransformationDelete(ctx context.Context, orgID, id uint64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var used int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM connections WHERE transformation_id = $1`, id).Scan(&used); err != nil {
			return err
		}
		err := affectedOne(tx.Exec(ctx, `DELETE FROM transformations WHERE id = $1
			AND project_id IN (SELECT id FROM projects WHERE org_id = $2)`, id, orgID))
		if pgCode(err) == codeForeignKey {
			used = max(used, 1) // a connection took it up meanwhile
		} else if err != nil {
			return err
		}
		if used > 0 {
			return volley.ErrTransformationInUse
		}
		return nil
	})
	return wrap(err, "delete transformation")
}
