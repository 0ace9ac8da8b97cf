package storesqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
	"github.com/volleyhq/volley/internal/volley"
)

// count returns the number of rows of a table.
func count(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.write.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// TestMigrationForeignKeys checks that a migration runs with foreign keys
// off, so that rebuilding a parent table does not cascade into its
// children, that one leaving a dangling reference is rolled back, and that
// foreign keys are on again afterwards.
func TestMigrationForeignKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	_, err = s.AccountCreate(ctx, store.AccountCreateParams{Email: "ada@example.com", Name: "Ada", PasswordHash: "x",
		OrgName: "Ada", OrgSlug: "ada", Token: volley.APIToken{Kind: volley.TokenKindAPI, Hash: []byte("h"), Sealed: []byte("s")}})
	if err != nil {
		t.Fatalf("AccountCreate: %v", err)
	}

	rebuild := migration.Migration{Version: 100, Name: "rebuild_accounts", Up: `
		CREATE TABLE new_accounts (
			id            INTEGER PRIMARY KEY,
			email         TEXT    NOT NULL UNIQUE,
			name          TEXT    NOT NULL,
			password_hash TEXT    NOT NULL,
			created_at    INTEGER NOT NULL
		);
		INSERT INTO new_accounts SELECT id, email, name, password_hash, created_at FROM accounts;
		DROP TABLE accounts;
		ALTER TABLE new_accounts RENAME TO accounts;`}
	if err := (migrator{s}).Apply(ctx, rebuild, true); err != nil {
		t.Fatalf("rebuild accounts: %v", err)
	}
	for _, table := range []string{"accounts", "api_tokens", "memberships"} {
		if n := count(t, s, table); n != 1 {
			t.Errorf("%s has %d rows after rebuilding accounts, want 1", table, n)
		}
	}

	dangling := migration.Migration{Version: 101, Name: "dangling", Up: `DELETE FROM accounts`}
	err = (migrator{s}).Apply(ctx, dangling, true)
	if err == nil || !strings.Contains(err.Error(), "api_tokens row 1 references a missing accounts") {
		t.Fatalf("a migration leaving dangling references: err = %v", err)
	}
	if n := count(t, s, "accounts"); n != 1 {
		t.Errorf("accounts has %d rows after a failed migration, want 1", n)
	}
	applied, err := (migrator{s}).Applied(ctx)
	if err != nil || !applied[100] || applied[101] {
		t.Errorf("Applied = %v, %v; want 100 and not 101", applied, err)
	}

	var fk int
	if err := s.write.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("PRAGMA foreign_keys after migrating = %d, %v; want 1", fk, err)
	}
}
