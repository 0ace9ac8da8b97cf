// Package storesqlite is Volley's embedded storage driver: one SQLite file in
// WAL mode, opened by exactly one process.
//
// Durability: every transaction commits with synchronous=FULL, so the WAL is
// fsynced before Commit returns and an acknowledged write survives a process
// crash and a power loss. Throughput comes from callers batching many rows
// into one transaction (group commit), not from weaker syncing.
//
// Concurrency: SQLite has a single writer. All writes go through one
// connection, so writers queue in Go instead of spinning on SQLITE_BUSY;
// reads use a separate pool and, thanks to WAL, never wait for the writer.
package storesqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the SQLite implementation of store.Store.
type Store struct {
	write      *sql.DB // one connection: SQLite's single writer
	read       *sql.DB
	ckpt       *sql.DB // one connection for background checkpoints
	sync       *syncer
	ckptStop   chan struct{}
	ckptDone   chan struct{}
	unlock     func() error
	migrations []migration.Migration

	stmts map[string]*sql.Stmt // hot statements prepared on write, by query; read-only after Open
}

var _ store.Store = (*Store)(nil)

// Config configures Open.
type Config struct {
	// Path is the database file. Its directory is created if missing.
	Path string
	// ReadConns bounds concurrent readers; 0 means 2×GOMAXPROCS, at least 4.
	ReadConns int
}

// Open opens (creating if needed) the database at cfg.Path, takes the
// process lock beside it so that no second process can open it, and applies
// pending migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := OpenNoMigrate(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := s.MigrateUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenNoMigrate opens the database like Open but leaves its schema alone;
// `volley migrate` uses it.
func OpenNoMigrate(cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	unlock, err := lockFile(cfg.Path + ".lock")
	if err != nil {
		return nil, err
	}
	migs, err := migration.Load(mustSub(migrationFiles, "migrations"))
	if err != nil {
		unlock()
		return nil, err
	}
	write, err := sql.Open("sqlite", dsn(cfg.Path, false))
	if err != nil {
		unlock()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn(cfg.Path, true))
	if err != nil {
		write.Close()
		unlock()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := cfg.ReadConns
	if n <= 0 {
		n = max(4, 2*runtime.GOMAXPROCS(0))
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)

	// The first write connection creates the file and switches it to WAL,
	// which then persists; do it before any reader opens the file.
	if err := write.Ping(); err != nil {
		read.Close()
		write.Close()
		unlock()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	ckpt, err := sql.Open("sqlite", dsn(cfg.Path, false))
	if err != nil {
		read.Close()
		write.Close()
		unlock()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	s := &Store{
		write: write, read: read, ckpt: ckpt, unlock: unlock, migrations: migs, stmts: map[string]*sql.Stmt{},
		sync: newSyncer(cfg.Path), ckptStop: make(chan struct{}), ckptDone: make(chan struct{}),
	}
	go s.sync.run()
	go checkpointer(ckpt, s.ckptStop, s.ckptDone)
	return s, nil
}

// dsn builds the connection string. Pragmas run on every new connection.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	pragmas := []string{
		"busy_timeout(10000)",
		"foreign_keys(1)",
		"cache_size(-32000)", // 32 MiB page cache per connection
		"temp_store(memory)",
	}
	if readOnly {
		pragmas = append(pragmas, "query_only(1)")
	} else {
		// synchronous=NORMAL plus the syncer's fsync of the WAL before
		// anything is acknowledged: see durable.go. Checkpoints run in the
		// background, never in the write path.
		pragmas = append(pragmas, "journal_mode(WAL)", "synchronous(NORMAL)", "wal_autocheckpoint(0)",
			"journal_size_limit(67108864)")
		q.Set("_txlock", "immediate")
	}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the database and releases the process lock.
func (s *Store) Close() error {
	var err error
	for _, st := range s.stmts {
		err = errors.Join(err, st.Close())
	}
	close(s.ckptStop)
	<-s.ckptDone
	s.sync.close()
	err = errors.Join(err, s.read.Close(), s.ckpt.Close(), s.write.Close())
	if s.unlock != nil {
		err = errors.Join(err, s.unlock())
	}
	return err
}

// Ping checks that both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return s.read.PingContext(ctx)
}

// tx runs fn in a write transaction, commits it and waits until the commit
// is on disk: what every acknowledged write uses.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	seq, err := s.txFast(ctx, fn)
	if err != nil {
		return err
	}
	return s.sync.wait(ctx, seq)
}

// txFast runs fn in a write transaction and commits it without waiting for
// the disk (see syncer): for writes a crash may lose because they are
// redone anyway (delivery outcomes, leases). It returns the commit's
// sequence number.
func (s *Store) txFast(ctx context.Context, fn func(*sql.Tx) error) (uint64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return s.sync.committedNow(), nil
}

// exec runs one autocommit write and waits until it is on disk.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	r, seq, err := s.execFast(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r, s.sync.wait(ctx, seq)
}

// execFast runs one autocommit write without waiting for the disk.
func (s *Store) execFast(ctx context.Context, query string, args ...any) (sql.Result, uint64, error) {
	r, err := s.write.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	return r, s.sync.committedNow(), nil
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY violation
// and, if so, the constrained columns ("sources.project_id, sources.slug").
func uniqueViolation(err error) (string, bool) {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		// The message reads "constraint failed: UNIQUE constraint failed:
		// t.a, t.b (2067)": the columns follow the last "failed: ".
		msg := err.Error()
		if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
			msg = msg[i+len("constraint failed: "):]
		}
		cols, _, _ := strings.Cut(msg, " (")
		return cols, true
	}
	return "", false
}

// foreignKeyViolation reports whether err is a FOREIGN KEY violation: a
// referenced row was deleted concurrently.
func foreignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// micros converts a time to the stored representation.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts the stored representation back to a UTC time; 0 is the
// zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
