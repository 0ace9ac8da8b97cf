package storesqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

const transformationCols = `t.id, t.project_id, t.name, t.code, t.created_at, t.updated_at`

func scanTransformation(row scanner) (*volley.Transformation, error) {
	var t volley.Transformation
	var created, updated int64
	if err := row.Scan(&t.ID, &t.ProjectID, &t.Name, &t.Code, &created, &updated); err != nil {
		return nil, notFound(err)
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}

// TransformationList implements store.Config.
func (s *Store) TransformationList(ctx context.Context, projectID uint64) ([]volley.Transformation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+transformationCols+` FROM transformations t
		WHERE t.project_id = ? ORDER BY t.id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list transformations: %w", err)
	}
	return collect(rows, scanTransformation)
}

// TransformationGet implements store.Config.
func (s *Store) TransformationGet(ctx context.Context, orgID, id uint64) (*volley.Transformation, error) {
	return scanTransformation(s.read.QueryRowContext(ctx, `SELECT `+transformationCols+` FROM transformations t
		JOIN projects p ON p.id = t.project_id WHERE t.id = ? AND p.org_id = ?`, id, orgID))
}

// TransformationGetByID implements store.Config.
func (s *Store) TransformationGetByID(ctx context.Context, id uint64) (*volley.Transformation, error) {
	return scanTransformation(s.read.QueryRowContext(ctx, `SELECT `+transformationCols+` FROM transformations t
		WHERE t.id = ?`, id))
}

// TransformationCreate implements store.Config.
func (s *Store) TransformationCreate(ctx context.Context, t *volley.Transformation) error {
	r, err := s.exec(ctx, `INSERT INTO transformations (project_id, name, code, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)`, t.ProjectID, t.Name, t.Code, micros(t.CreatedAt), micros(t.UpdatedAt))
	if _, ok := uniqueViolation(err); ok {
		err = store.Conflict("transformation name")
	} else if foreignKeyViolation(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("create transformation: %w", err)
	}
	id, _ := r.LastInsertId()
	t.ID = uint64(id)
	return nil
}

// TransformationUpdate implements store.Config.
func (s *Store) TransformationUpdate(ctx context.Context, t *volley.Transformation) error {
	r, err := s.exec(ctx, `UPDATE transformations SET name = ?, code = ?, updated_at = ? WHERE id = ?`,
		t.Name, t.Code, micros(t.UpdatedAt), t.ID)
	if _, ok := uniqueViolation(err); ok {
		err = store.Conflict("transformation name")
	}
	if err := affectedOne(r, err); err != nil {
		return fmt.Errorf("update transformation: %w", err)
	}
	return nil
}

// TransformationDelete implements store.Config.
func (s *Store) TransformationDelete(ctx context.Context, orgID, id uint64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM connections WHERE transformation_id = ?`, id).Scan(&used); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM transformations WHERE id = ?
			AND project_id IN (SELECT id FROM projects WHERE org_id = ?)`, id, orgID)
		if err := affectedOne(r, err); err != nil {
			return err
		}
		if used > 0 {
			return volley.ErrTransformationInUse
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete transformation: %w", err)
	}
	return nil
}
