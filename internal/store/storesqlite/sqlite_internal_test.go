package storesqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestPragmas checks the durability and safety settings of both pools: the
// file is in WAL mode and the writer fsyncs every commit (synchronous=FULL)
// until a background write asks otherwise (TestSyncModeByTurn).
func TestPragmas(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, tc := range []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"write", s.write, "journal_mode", "wal"},
		{"write", s.write, "synchronous", "2"}, // FULL
		{"write", s.write, "foreign_keys", "1"},
		{"write", s.write, "busy_timeout", "10000"},
		{"write", s.write, "query_only", "0"},
		{"read", s.read, "journal_mode", "wal"},
		{"read", s.read, "foreign_keys", "1"},
		{"read", s.read, "query_only", "1"},
	} {
		var got string
		if err := tc.db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("%s PRAGMA %s: %v", tc.pool, tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s PRAGMA %s = %q, want %q", tc.pool, tc.pragma, got, tc.want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// WAL mode is a property of the file: a plain read-only handle sees it.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatalf("open read-only: %v", err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatalf("PRAGMA journal_mode: %v", err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode of the closed file = %q, want wal", mode)
	}
}

// TestSyncModeByTurn checks that each kind of write commits with its
// durability: background work with synchronous=NORMAL, a write a client
// waits on and a re-seal with FULL, whatever ran before.
func TestSyncModeByTurn(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	for _, tc := range []struct {
		name string
		t    turn
		want int // PRAGMA synchronous inside the transaction: 1 NORMAL, 2 FULL
	}{
		{"background", background(writeUpkeep), 1},
		{"urgent after background", turnUrgent, 2},
		{"background again", background(writeUpkeep), 1},
		{"durable background", turnReseal, 2},
		{"background after durable", background(writeUpkeep), 1},
	} {
		var got int
		err := s.txRun(t.Context(), tc.t, func(tx *sql.Tx) error {
			return tx.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got)
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: synchronous = %d, want %d", tc.name, got, tc.want)
		}
		if _, err := s.execRun(t.Context(), tc.t, `UPDATE search_index SET indexed_through = indexed_through`); err != nil {
			t.Fatalf("%s: exec: %v", tc.name, err)
		}
	}
}

// TestSyncDebt checks that background commits are synced once the
// unsynced ones before them held the writer syncDebtMax, and that a
// synced commit pays the debt.
func TestSyncDebt(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	mode := func() int {
		t.Helper()
		var got int
		err := s.txRun(t.Context(), background(writeUpkeep), func(tx *sql.Tx) error {
			return tx.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got)
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := mode(); got != 1 {
		t.Fatalf("first background commit: synchronous = %d, want 1 (NORMAL)", got)
	}
	if s.syncDebt <= 0 {
		t.Fatalf("debt %v after an unsynced commit, want its hold", s.syncDebt)
	}
	s.syncDebt = syncDebtMax // as if background work had held the writer that long
	if got := mode(); got != 2 {
		t.Errorf("background commit over the debt: synchronous = %d, want 2 (FULL)", got)
	}
	if s.syncDebt != 0 {
		t.Errorf("debt %v after a synced commit, want 0", s.syncDebt)
	}
	if got := mode(); got != 1 {
		t.Errorf("background commit after the debt was paid: synchronous = %d, want 1 (NORMAL)", got)
	}
}

// TestUniqueViolationColumns checks that a UNIQUE violation names the
// constrained columns, which decide the conflict reported to callers.
func TestUniqueViolationColumns(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	for _, stmt := range []string{
		`INSERT INTO accounts (id, email, name, password_hash, created_at) VALUES (1, 'a@example.com', 'a', 'x', 1)`,
		`INSERT INTO orgs (id, name, slug, account_id, created_at) VALUES (1, 'o', 'o', 1, 1)`,
		`INSERT INTO projects (id, org_id, account_id, name, is_default, created_at, updated_at) VALUES (1, 1, 1, 'p', 1, 1, 1)`,
	} {
		if _, err := s.write.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	const insertSource = `INSERT INTO sources (project_id, name, slug, ingestion_id, type, eps, status, auth_type,
		auth_username, auth_key_name, verify_signature, hmac_header, hmac_algorithm, hmac_encoding, hmac_prefix,
		created_at, updated_at) VALUES (1, 'n', ?, ?, 'webhook', 0, 'active', 'none', '', '', 0, '', '', '', '', 1, 1)`
	if _, err := s.write.ExecContext(ctx, insertSource, "a", "src_a"); err != nil {
		t.Fatalf("insert source: %v", err)
	}
	for _, tc := range []struct {
		stmt string
		args []any
		want string
	}{
		{`INSERT INTO accounts (email, name, password_hash, created_at) VALUES ('a@example.com', 'b', 'x', 1)`, nil, "accounts.email"},
		{insertSource, []any{"b", "src_a"}, "sources.ingestion_id"},
		{insertSource, []any{"a", "src_b"}, "sources.project_id, sources.slug"},
		{`INSERT INTO projects (org_id, account_id, name, is_default, created_at, updated_at) VALUES (1, 1, 'q', 1, 1, 1)`, nil, "projects.org_id"},
	} {
		_, err := s.write.ExecContext(ctx, tc.stmt, tc.args...)
		cols, ok := uniqueViolation(err)
		if !ok || cols != tc.want {
			t.Errorf("uniqueViolation(%v) = %q, %v; want %q, true", err, cols, ok, tc.want)
		}
	}
	if _, ok := uniqueViolation(nil); ok {
		t.Error("uniqueViolation(nil) reports a violation")
	}
}

// TestRetentionPlans checks that a retention round reads a bounded window:
// no correlated subquery (which re-read the head of the events table for
// every candidate row and held the writer for tens of seconds on a large
// store), and the batch read by primary key range.
func TestRetentionPlans(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	for _, tc := range []struct {
		query, want string
	}{
		{sqlRetentionBound, "SEARCH events USING INTEGER PRIMARY KEY (rowid>?)"},
		{sqlRetentionBatch, "SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"},
	} {
		plan := explain(t, s, tc.query, []any{0, 1, 1})
		if !strings.Contains(plan, tc.want) {
			t.Errorf("plan of %s\n%s\nwants %q", tc.query, plan, tc.want)
		}
		// The NOT EXISTS over deliveries is correlated by design: one index
		// lookup per event of the window.
		if strings.Count(plan, "CORRELATED") > strings.Count(plan, "SEARCH d USING INDEX deliveries_event (event_id=?)") {
			t.Errorf("plan of %s has a correlated subquery:\n%s", tc.query, plan)
		}
	}
}

// TestHotStatements: the background batches' statements (retention
// rounds, the outcomes' counters, the lease's lookups and updates) are
// prepared once the store is open, and no hot statement is a PRAGMA, which
// SQLite may apply when it prepares it rather than when it runs.
func TestHotStatements(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	background := append([]string{sqlTallyMinutes, sqlTallyBacklog, sqlTallyLatency, sqlMetricsDeferOn, sqlMetricsDeferOff,
		sqlResumed, sqlDue, sqlDueOfDestination, sqlHeldOfConnection, sqlPendingDestinations,
		sqlLeaseDue, sqlLeasePending, sqlLeaseHeld}, retentionStatements...)
	for _, q := range background {
		if s.stmts[q] == nil {
			t.Errorf("not prepared when the store opened: %.70q", q)
		}
	}
	for _, q := range hotStatements {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q)), "PRAGMA") {
			t.Errorf("a PRAGMA among the hot statements: %q", q)
		}
	}
}
