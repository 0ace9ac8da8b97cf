package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store/storepg"
)

// freshSchema creates and migrates a schema of its own in the database at
// dbURL, so a run neither sees nor leaves data there, and returns the URL
// the nodes use (with that schema as search_path), the schema's name and a
// func dropping it.
func freshSchema(ctx context.Context, dbURL string) (string, string, func(), error) {
	var b [6]byte
	rand.Read(b[:])
	schema := "volley_bench_" + hex.EncodeToString(b[:])
	st, err := storepg.Open(ctx, storepg.Config{URL: dbURL, Schema: schema})
	if err != nil {
		return "", "", nil, fmt.Errorf("bench: prepare database: %w", err)
	}
	st.Close()
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", "", nil, fmt.Errorf("bench: database URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		pgExec(context.Background(), dbURL, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	}
	return u.String(), schema, drop, nil
}

// pgExec runs one statement on a connection of its own to dbURL.
func pgExec(ctx context.Context, dbURL, sql string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// pgFinishBatch is how many outcomes a build on PostgreSQL records per
// DeliveryFinish. The connection counters' trigger (migration 0007) joins
// the statement's old and new delivery rows in a nested loop, the planner
// taking each transition table for one row, so a finish costs the square
// of its size: 7 s for 5,000 outcomes, about 0.1 s for 500.
const pgFinishBatch = 500

// bulkSessionURL is dbURL with the session settings of the connections
// that build a store, and of no other (the nodes run with the server's):
//
//   - synchronous_commit off: a batch's commit does not wait for its WAL to
//     reach the disk. A crash could lose the last batches committed, but a
//     crashed build is started over anyway; what is stored is the same.
//   - jit off: the planner takes the joins of a 5,000-event insert for
//     125,000 rows, far above jit_above_cost, and compiling the statement
//     took 1 to 2 s of every batch, more than running it.
func bulkSessionURL(dbURL string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("bench: database URL: %w", err)
	}
	q := u.Query()
	q.Set("synchronous_commit", "off") // pgx sends unknown parameters as session settings
	q.Set("jit", "off")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// schemaSize is the size on disk of the tables of schema, their indexes and
// TOAST data included (pg_total_relation_size), in bytes.
func schemaSize(ctx context.Context, dbURL, schema string) (int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, fmt.Errorf("bench: store size: %w", err)
	}
	defer conn.Close(ctx)
	// Partitions are tables of their own (relkind r); a partitioned
	// table's parent (p) holds nothing itself.
	var n int64
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE ns.nspname = $1 AND c.relkind IN ('r', 'm')`, schema).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("bench: store size: %w", err)
	}
	return n, nil
}

// serverSettings names the server's version and the settings that shape a
// run at scale most: how often checkpoints come (max_wal_size,
// checkpoint_timeout: after each one, a page's first change writes the
// whole page to the WAL), the shared buffers, whether autovacuum runs and
// whether statements may be compiled (jit). A report is only comparable
// with one on the same settings.
func serverSettings(ctx context.Context, dbURL string) (string, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", fmt.Errorf("bench: server settings: %w", err)
	}
	defer conn.Close(ctx)
	var version, settings string
	err = conn.QueryRow(ctx, `SELECT split_part(current_setting('server_version'), ' ', 1),
		(SELECT string_agg(n || ' ' || current_setting(n), ', ' ORDER BY i) FROM unnest($1::text[]) WITH ORDINALITY AS s(n, i))`,
		[]string{"max_wal_size", "checkpoint_timeout", "shared_buffers", "autovacuum", "jit"}).Scan(&version, &settings)
	if err != nil {
		return "", fmt.Errorf("bench: server settings: %w", err)
	}
	return "PostgreSQL " + version + ", " + settings, nil
}
