// Package storepg is Volley's PostgreSQL storage driver, for running several
// nodes on one database.
//
// Durability: every acknowledged write (an ingest, an API change) is a
// committed transaction, and PostgreSQL's default synchronous_commit=on
// makes a commit durable before it returns. Background work that nobody is
// answered for (leases, delivery outcomes and their attempts, sweeps,
// retention) sets synchronous_commit=off for its own transactions
// (sqlBackground): their commits do not wait for their WAL flush, which
// the WAL writer or the next acknowledged commit does (that commit's flush
// covers every earlier record). A crash of the database can lose the last fraction of a second
// of such work, never an acknowledged write: a lost lease or outcome sends
// the delivery again (at-least-once), a lost sweep or retention batch is
// done again. It is what storesqlite's synchronous=NORMAL background
// commits do. Throughput comes from callers batching many rows into one
// transaction (group commit) and from sending a transaction's statements in
// one pipelined round trip (pgx.Batch).
//
// Concurrency: any number of nodes may use one database. Deliveries are
// leased with FOR UPDATE SKIP LOCKED, so no delivery is leased twice;
// changes that SQLite's single writer serialises for free (idempotency keys,
// default projects, last owners, holding and releasing deliveries) take row
// or advisory locks here, documented where they are taken. Transactions
// that lose a deadlock are retried.
//
// Times are timestamptz at microsecond precision; Go's zero time is stored
// as itself (0001-01-01 00:00:00 UTC), so unset times need no NULLs and sort
// first, as SQLite's 0 does.
package storepg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool       *pgxpool.Pool
	migrations []migration.Migration
	batchFunc  func(op string) // Config.BatchFunc
}

var _ store.Store = (*Store)(nil)

// Config configures Open.
type Config struct {
	// URL is the connection string, e.g.
	// "postgres://volley@db:5432/volley?sslmode=verify-full". Required.
	URL string
	// Schema, if set, is created when missing and is the only schema on
	// every connection's search_path, so that several installations (or
	// tests) can share one database. Empty leaves the server's search_path.
	Schema string
	// MaxConns bounds the connection pool; 0 means pgxpool's default
	// (the greater of 4 and the number of CPUs).
	MaxConns int32
	// BatchFunc, when set, is called inside every background batch
	// transaction of bulk work (op is OpRetention or OpDeliverySweep),
	// after its writes and before its commit, while it holds the batch's
	// row locks. Tests use it to hold a batch open; nil in production.
	BatchFunc func(op string)
}

// Open connects to the database, creates cfg.Schema if needed and applies
// pending migrations. Nodes starting together serialise on a migration lock:
// one migrates, the others wait and find the schema current.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := OpenNoMigrate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := s.MigrateUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenNoMigrate connects like Open but leaves the tables alone; `volley
// migrate` uses it.
func OpenNoMigrate(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("postgres: no database URL")
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database URL: %w", err)
	}
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = cfg.MaxConns
	}
	if cfg.Schema != "" {
		pcfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
	}
	pcfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Scan timestamptz in UTC, as the store contract wants, rather than
		// in the process's local zone.
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	migs, err := migration.Load(mustSub(migrationFiles, "migrations"))
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, migrations: migs, batchFunc: cfg.BatchFunc}
	if cfg.Schema != "" {
		err = s.createSchema(ctx, cfg.Schema)
	} else {
		err = s.Ping(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// createSchema creates schema unless it exists. Nodes starting together may
// race to create it: losing the race is success.
func (s *Store) createSchema(ctx context.Context, schema string) error {
	_, err := s.pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
	switch pgCode(err) {
	case "", codeUniqueViolation, codeDuplicateSchema:
		return nil
	}
	return fmt.Errorf("postgres: create schema %s: %w", schema, err)
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// maxTxTries bounds how often a transaction that lost a deadlock is run.
const maxTxTries = 4

// tx runs fn in a transaction and commits it, running it again (from the
// start: fn must not keep results of an earlier run) when PostgreSQL aborted
// it to break a deadlock.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(func() error { return pgx.BeginFunc(ctx, s.pool, fn) })
}

// sqlBackground makes the rest of its transaction background work (the
// package comment says which work and why): its commit does not wait for
// its WAL flush, and it adds to counter shards 8-15, which no ingest adds
// to (migration 0024), so that an outcome batch never holds a counter row
// an ingest needs. Both settings end with the transaction, also behind a
// pooler that hands the connection to another client next.
const sqlBackground = `SELECT set_config('synchronous_commit', 'off', true), set_config('volley.shard_base', '8', true)`

// bgBegin begins a background transaction, sqlBackground in the same round
// trip as its BEGIN.
var bgBegin = pgx.TxOptions{BeginQuery: "BEGIN; " + sqlBackground}

// bgTx is tx for background work.
func (s *Store) bgTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(func() error { return pgx.BeginTxFunc(ctx, s.pool, bgBegin, fn) })
}

// retry runs fn until it succeeds, fails with an error a new run cannot
// avoid, or has been tried maxTxTries times.
func retry(fn func() error) error {
	var err error
	for range maxTxTries {
		if err = fn(); !retryable(err) {
			return err
		}
	}
	return err
}

// retryable reports whether a transaction failed only because of another
// one running at the same time.
func retryable(err error) bool {
	switch pgCode(err) {
	case codeDeadlock, codeSerialization:
		return true
	}
	return false
}

// sendBatch sends the batch build makes in one round trip, as one implicit
// transaction (all of it commits or none), reads its results with read and
// closes it. After a deadlock it builds and sends the batch again.
func (s *Store) sendBatch(ctx context.Context, build func() *pgx.Batch, read func(pgx.BatchResults) error) error {
	return retry(func() error {
		br := s.pool.SendBatch(ctx, build())
		err := read(br)
		return errors.Join(err, br.Close())
	})
}

// bgSendBatch is sendBatch for background work, after sqlBackground.
func (s *Store) bgSendBatch(ctx context.Context, build func() *pgx.Batch, read func(pgx.BatchResults) error) error {
	return s.sendBatchAfter(ctx, sqlBackground, build, read)
}

// sendBatchAfter is sendBatch with settings, a statement of set_config
// calls local to the transaction, run first in the same implicit
// transaction: they apply to the batch's statements and end with them.
func (s *Store) sendBatchAfter(ctx context.Context, settings string, build func() *pgx.Batch, read func(pgx.BatchResults) error) error {
	return s.sendBatch(ctx, func() *pgx.Batch {
		b := build()
		b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: settings}}, b.QueuedQueries...)
		return b
	}, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("transaction settings: %w", err)
		}
		return read(br)
	})
}

// PostgreSQL error codes the driver acts on.
const (
	codeUniqueViolation = "23505"
	codeForeignKey      = "23503"
	codeDeadlock        = "40P01"
	codeSerialization   = "40001"
	codeDuplicateSchema = "42P06"
)

// pgCode returns the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// conflicts names the value behind each unique constraint that a caller can
// violate, as store.ConflictError reports it.
var conflicts = map[string]string{
	"accounts_email_key":                       "account with this email",
	"api_tokens_hash_key":                      "token",
	"orgs_slug_key":                            "organization slug",
	"memberships_pkey":                         "membership",
	"invitations_org_email_key":                "invitation",
	"sessions_hash_key":                        "session",
	"sources_project_id_slug_key":              "source slug",
	"sources_ingestion_id_key":                 "source ingestion id",
	"connections_source_id_destination_id_key": "connection between this source and destination",
	"transformations_project_id_name_key":      "transformation name",
	"device_codes_device_hash_key":             "device code",
	"device_codes_pairing_hash_key":            "pairing code",
	"payload_dicts_pkey":                       "payload dictionary id",
}

// mapErr turns driver errors into the store's: no rows and a missing parent
// row (a foreign key violation) are store.ErrNotFound, a known unique
// violation is a *store.ConflictError. Other errors pass unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			if what, ok := conflicts[pe.ConstraintName]; ok {
				return store.Conflict(what)
			}
		case codeForeignKey:
			return store.ErrNotFound
		}
	}
	return err
}

// wrap maps err with mapErr and adds context; nil stays nil.
func wrap(err error, what string) error {
	if err = mapErr(err); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// affectedOne maps "no row changed" to store.ErrNotFound.
func affectedOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ts returns t as the database keeps it: in UTC, truncated to whole
// microseconds. The zero time stays zero.
func ts(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

// zeroTime is Go's zero time in SQL: what unset times are stored as.
const zeroTime = `'0001-01-01 00:00:00+00'::timestamptz`

// validText returns s as PostgreSQL text accepts it: text from outside the
// process that is not valid UTF-8 or holds NUL bytes would otherwise fail
// the whole batch it is written in. Invalid bytes become U+FFFD.
func validText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nonNil keeps an empty byte slice an empty bytea rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanner is a row to scan: pgx.Row or pgx.Rows.
type scanner interface{ Scan(...any) error }

// collect scans every row with scan and closes rows. It takes Query's
// results as they are, so that calls read as one line.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (*T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, mapErr(rows.Err())
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}
