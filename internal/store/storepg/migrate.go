package storepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/volleyhq/volley/internal/store/migration"
)

// migrationLockClass is the first key of the session advisory lock every
// migration command holds ("Voll"); the second is a hash of the schema, so
// installations sharing a database do not wait for each other. Advisory
// locks with two int4 keys never clash with the one-bigint-key locks of
// idempotency keys.
const migrationLockClass = 0x566f6c6c

// migrator is the migration.Executor of a Store, bound to one connection
// that holds the migration lock.
type migrator struct{ conn *pgxpool.Conn }

func (m migrator) Applied(ctx context.Context) (map[int]bool, error) {
	if _, err := m.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := m.conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	out := make(map[int]bool, len(versions))
	for _, v := range versions {
		out[v] = true
	}
	return out, nil
}

func (m migrator) Apply(ctx context.Context, mig migration.Migration, up bool) error {
	// PostgreSQL's DDL is transactional: the schema change and its record
	// commit together or not at all.
	return pgx.BeginFunc(ctx, m.conn, func(tx pgx.Tx) error {
		if up {
			if _, err := tx.Exec(ctx, mig.Up); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				mig.Version, mig.Name, ts(time.Now()))
			return err
		}
		if _, err := tx.Exec(ctx, mig.Down); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, mig.Version)
		return err
	})
}

// withMigrationLock runs fn with a migrator on a connection that holds the
// schema's migration lock, waiting for another node's migration to finish.
func (s *Store) withMigrationLock(ctx context.Context, fn func(migrator) error) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: acquire connection: %w", err)
	}
	const key = `$1, hashtext(coalesce(current_schema(), ''))`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`, migrationLockClass); err != nil {
		// Cancelled while waiting, the lock may still have been granted:
		// the connection must not go back to the pool.
		conn.Hijack().Close(context.WithoutCancel(ctx))
		return fmt.Errorf("postgres: take the migration lock: %w", err)
	}
	defer func() {
		// A session lock outlives the call on a pooled connection: if it
		// cannot be released, the connection goes instead.
		_, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`, migrationLockClass)
		if uerr != nil {
			conn.Hijack().Close(context.WithoutCancel(ctx))
			err = errors.Join(err, fmt.Errorf("postgres: release the migration lock: %w", uerr))
			return
		}
		conn.Release()
	}()
	return fn(migrator{conn})
}

// MigrateUp applies pending migrations and returns their versions.
func (s *Store) MigrateUp(ctx context.Context) ([]int, error) {
	var done []int
	err := s.withMigrationLock(ctx, func(m migrator) (err error) {
		done, err = migration.Up(ctx, m, s.migrations)
		return err
	})
	return done, err
}

// MigrateDown reverts the newest applied migration and returns its version
// (0 when none was applied).
func (s *Store) MigrateDown(ctx context.Context) (int, error) {
	var v int
	err := s.withMigrationLock(ctx, func(m migrator) (err error) {
		v, err = migration.Down(ctx, m, s.migrations)
		return err
	})
	return v, err
}

// MigrateStatus lists the known migrations and whether each is applied.
func (s *Store) MigrateStatus(ctx context.Context) ([]migration.State, error) {
	var states []migration.State
	err := s.withMigrationLock(ctx, func(m migrator) (err error) {
		states, err = migration.Status(ctx, m, s.migrations)
		return err
	})
	return states, err
}

// MigrationsCurrent reports whether the schema is exactly the one this
// binary expects.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	var current bool
	err := s.withMigrationLock(ctx, func(m migrator) (err error) {
		current, err = migration.Current(ctx, m, s.migrations)
		return err
	})
	return current, err
}

// MigrationsSatisfied reports whether every migration this binary knows is
// applied; newer ones may be (see migration.Satisfied).
func (s *Store) MigrationsSatisfied(ctx context.Context) (bool, error) {
	var ok bool
	err := s.withMigrationLock(ctx, func(m migrator) (err error) {
		ok, err = migration.Satisfied(ctx, m, s.migrations)
		return err
	})
	return ok, err
}
