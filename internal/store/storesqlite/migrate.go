package storesqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store/migration"
)

// upPrep and downPrep are the work a migration's up or down step needs
// done first that its SQL cannot do, by version: the body search index's
// parts are tables only search_parts names.
var (
	upPrep = map[int]func(context.Context, *sql.Tx) error{
		21: fillXidTables,
	}
	downPrep = map[int]func(context.Context, *sql.Tx) error{
		20: dropSearchParts,
		21: dropXidTables,
		22: dropXidAhead,
	}
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

// Apply runs one migration and records it in one transaction, with foreign
// keys off. SQLite changes a table's definition only by rebuilding it (create
// a copy, fill it, drop the original, rename the copy), and with foreign keys
// on, dropping the original would first delete its rows and cascade the
// deletion to every child table. The pragma is a no-op inside a
// transaction, so it is switched on the connection around it, and
// PRAGMA foreign_key_check must find no dangling reference before the
// migration commits.
func (m migrator) Apply(ctx context.Context, mig migration.Migration, up bool) (err error) {
	defer m.s.lockWriter(turn{urgent: true, durable: true, kind: writeUpkeep}).end()
	conn, err := m.s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("disable foreign keys: %w", err)
	}
	defer func() {
		if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); ferr != nil {
			// A connection without foreign keys must not serve another
			// write: discard it, and the pool opens a new one with the
			// pragmas of its DSN.
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("enable foreign keys: %w", ferr))
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if up {
		if prep := upPrep[mig.Version]; prep != nil {
			if err := prep(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, mig.Up); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			mig.Version, mig.Name, time.Now().UnixMicro()); err != nil {
			return err
		}
	} else {
		if prep := downPrep[mig.Version]; prep != nil {
			if err := prep(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, mig.Down); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = ?`, mig.Version); err != nil {
			return err
		}
	}
	if err := foreignKeyCheck(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// foreignKeyCheck fails when a row references a parent row that does not
// exist, naming up to five of them.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return fmt.Errorf("check foreign keys: %w", err)
		}
		bad = append(bad, fmt.Sprintf("%s row %d references a missing %s", table, rowid.Int64, parent))
		if len(bad) == 5 {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("check foreign keys: %s", strings.Join(bad, "; "))
	}
	return nil
}

// MigrateUp applies pending migrations and returns their versions. After
// any, it settles the file (settle) before anything else uses the store.
func (s *Store) MigrateUp(ctx context.Context) ([]int, error) {
	applied, err := migration.Up(ctx, migrator{s}, s.migrations)
	if err != nil || len(applied) == 0 {
		return applied, err
	}
	return applied, s.settle(ctx)
}

// settle gives the pages migrations freed back to the file system and
// checkpoints the WAL they wrote, truncating it: done by the node instead,
// in its background steps, the 80 MB that migration 0021 freed at 2M
// events made its first minute of ingest wait behind checkpoints of half a
// second (docs/benchmarks.md); done here, before the node listens, nothing
// waits for it (1.3 s for those pages).
func (s *Store) settle(ctx context.Context) error {
	defer s.lockWriter(turn{urgent: true, durable: true, kind: writeUpkeep}).end()
	if err := s.readVacuumMode(ctx); err != nil {
		return err
	}
	if s.incrementalVacuum {
		if _, err := s.write.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return fmt.Errorf("sqlite: settle after migrating: give free pages back: %w", err)
		}
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("sqlite: settle after migrating: checkpoint: %w", err)
	}
	return nil
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

// MigrationsSatisfied reports whether every migration this binary knows is
// applied; newer ones may be (see migration.Satisfied).
func (s *Store) MigrationsSatisfied(ctx context.Context) (bool, error) {
	return migration.Satisfied(ctx, migrator{s}, s.migrations)
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}
