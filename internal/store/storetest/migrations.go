package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
	"github.com/volleyhq/volley/internal/volley"
)

// Migrator is a store whose schema `volley migrate` manages.
type Migrator interface {
	store.Store
	MigrateUp(ctx context.Context) ([]int, error)
	MigrateDown(ctx context.Context) (int, error)
	MigrateStatus(ctx context.Context) ([]migration.State, error)
	MigrationsCurrent(ctx context.Context) (bool, error)
}

// RunMigrations checks a driver's migrations on a fresh, migrated store:
// every version has a name and both directions, status and currency are
// reported, and the whole schema goes down to nothing and up again into a
// working store.
func RunMigrations(t *testing.T, s Migrator) {
	ctx := t.Context()
	states, err := s.MigrateStatus(ctx)
	if err != nil {
		t.Fatalf("MigrateStatus: %v", err)
	}
	if len(states) == 0 {
		t.Fatal("MigrateStatus lists no migrations")
	}
	var versions []int
	for i, st := range states {
		if st.Version != i+1 || st.Name == "" || st.Up == "" || st.Down == "" {
			t.Errorf("migration %d = %+v, want version %d with a name and both directions", i, st.Migration, i+1)
		}
		versions = append(versions, st.Version)
	}
	wantApplied(t, s, versions, true)
	if applied, err := s.MigrateUp(ctx); err != nil || len(applied) != 0 {
		t.Fatalf("MigrateUp on a current schema = %v, %v; want nothing applied", applied, err)
	}

	for _, v := range slices.Backward(versions) {
		if got, err := s.MigrateDown(ctx); err != nil || got != v {
			t.Fatalf("MigrateDown = %d, %v; want %d", got, err, v)
		}
	}
	if got, err := s.MigrateDown(ctx); err != nil || got != 0 {
		t.Fatalf("MigrateDown with nothing applied = %d, %v; want 0", got, err)
	}
	wantApplied(t, s, versions, false)
	if _, err := s.AccountCount(ctx); err == nil {
		t.Fatal("AccountCount succeeded without a schema")
	}

	applied, err := s.MigrateUp(ctx)
	if err != nil || !slices.Equal(applied, versions) {
		t.Fatalf("MigrateUp = %v, %v; want %v", applied, err, versions)
	}
	wantApplied(t, s, versions, true)
	p := store.AccountCreateParams{Email: "ada@example.com", Name: "Ada", PasswordHash: "x", OrgName: "Ada", OrgSlug: "ada",
		Token: volley.APIToken{Kind: volley.TokenKindAPI, Name: "API token", Hash: volley.HashToken("t"), Sealed: []byte("t")}}
	if _, err := s.AccountCreate(ctx, p); err != nil {
		t.Fatalf("AccountCreate after migrating down and up: %v", err)
	}
}

// wantApplied checks MigrateStatus and MigrationsCurrent when all versions
// are applied or none is.
func wantApplied(t *testing.T, s Migrator, versions []int, applied bool) {
	t.Helper()
	states, err := s.MigrateStatus(t.Context())
	if err != nil {
		t.Fatalf("MigrateStatus: %v", err)
	}
	if len(states) != len(versions) {
		t.Fatalf("MigrateStatus lists %d migrations, want %d", len(states), len(versions))
	}
	for _, st := range states {
		if st.Applied != applied {
			t.Errorf("migration %d applied = %v, want %v", st.Version, st.Applied, applied)
		}
	}
	if current, err := s.MigrationsCurrent(t.Context()); err != nil || current != applied {
		t.Fatalf("MigrationsCurrent = %v, %v; want %v", current, err, applied)
	}
}
