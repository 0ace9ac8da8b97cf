package storepg_test

import (
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// TestMigrateProjectCreator migrates projects from before 0004, which did
// not record who created them: each gets its organization's creator.
func TestMigrateProjectCreator(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := freshSchema(t)
	s := open(t, schema)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	orgs := map[string]uint64{}
	accounts := map[string]uint64{}
	for _, name := range []string{"ada", "bob"} {
		res, err := s.AccountCreate(ctx, store.AccountCreateParams{Email: name + "@example.com", Name: name, PasswordHash: "x",
			OrgName: name, OrgSlug: name, Now: now,
			Token: volley.APIToken{Kind: volley.TokenKindAPI, Name: "API token", Hash: []byte(name), Sealed: []byte(name), CreatedAt: now}})
		if err != nil {
			t.Fatalf("AccountCreate: %v", err)
		}
		orgs[name], accounts[name] = res.Org.ID, res.Account.ID
	}
	for _, undo := range []int{6, 5, 4} { // 0005 and 0006 depend on nothing here; 0004 is the one under test
		if v, err := s.MigrateDown(ctx); err != nil || v != undo {
			t.Fatalf("MigrateDown = %d, %v; want %d", v, err, undo)
		}
	}

	conn, err := pgx.Connect(ctx, databaseURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("set search_path: %v", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO projects (org_id, name, is_default, created_at, updated_at)
		VALUES ($1, 'Staging', false, $2, $2)`, orgs["ada"], now); err != nil {
		t.Fatalf("insert a project as 0003 knew them: %v", err)
	}

	if applied, err := s.MigrateUp(ctx); err != nil || !slices.Equal(applied, []int{4, 5, 6}) {
		t.Fatalf("MigrateUp = %v, %v; want [4 5 6]", applied, err)
	}
	for name, org := range orgs {
		projects, err := s.ProjectList(ctx, org)
		if err != nil {
			t.Fatalf("ProjectList: %v", err)
		}
		if want := map[string]int{"ada": 2, "bob": 1}[name]; len(projects) != want {
			t.Fatalf("%s has %d projects, want %d", name, len(projects), want)
		}
		for _, p := range projects {
			if p.AccountID != accounts[name] {
				t.Errorf("project %q of %s created by %d, want %d", p.Name, name, p.AccountID, accounts[name])
			}
		}
	}
}
