package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"time"

	"github.com/volleyhq/volley/internal/store/migration"
)

// migrator is the migration.Executor of a Store.
type migrator struct{ s *Store }

func (m migrator) Applied(ctx context.Context) (map[int]bool, error) {
	if _, err := m.s.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := m.s.write.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

func (m migrator) Apply(ctx context.Context, mig migration.Migration, up bool) error {
	return m.s.tx(ctx, func(tx *sql.Tx) error {
		if up {
			if _, err := tx.ExecContext(ctx, mig.Up); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				mig.Version, mig.Name, time.Now().UnixMicro())
			return err
		}
		if _, err := tx.ExecContext(ctx, mig.Down); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = ?`, mig.Version)
		return err
	})
}

// MigrateUp applies pending migrations and returns their versions.
func (s *Store) MigrateUp(ctx context.Context) ([]int, error) {
	return migration.Up(ctx, migrator{s}, s.migrations)
}

// MigrateDown reverts the newest applied migration and returns its version
// (0 when none was applied).
func (s *Store) MigrateDown(ctx context.Context) (int, error) {
	return migration.Down(ctx, migrator{s}, s.migrations)
}

// MigrateStatus lists the known migrations and whether each is applied.
func (s *Store) MigrateStatus(ctx context.Context) ([]migration.State, error) {
	return migration.Status(ctx, migrator{s}, s.migrations)
}

// MigrationsCurrent reports whether the schema is exactly the one this
// binary expects.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	return migration.Current(ctx, migrator{s}, s.migrations)
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}
