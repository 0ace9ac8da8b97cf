package storepg_test

import (
	"maps"
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
	// Undo every migration down to 0004, the one under test; the later ones
	// depend on nothing here.
	var undone []int
	for len(undone) == 0 || undone[len(undone)-1] > 4 {
		v, err := s.MigrateDown(ctx)
		if err != nil || (len(undone) > 0 && v != undone[len(undone)-1]-1) {
			t.Fatalf("MigrateDown = %d, %v after undoing %v", v, err, undone)
		}
		undone = append(undone, v)
	}

	conn := rawConn(t, schema)
	if _, err := conn.Exec(ctx, `INSERT INTO projects (org_id, name, is_default, created_at, updated_at)
		VALUES ($1, 'Staging', false, $2, $2)`, orgs["ada"], now); err != nil {
		t.Fatalf("insert a project as 0003 knew them: %v", err)
	}

	if applied, err := s.MigrateUp(ctx); err != nil || !slices.Equal(applied, slices.Sorted(slices.Values(undone))) {
		t.Fatalf("MigrateUp = %v, %v; want %v", applied, err, undone)
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

// TestMigrateEventStates moves events' statuses out of the events rows
// (0025), gives processed events a row too (0026), and back (their down
// migrations) without losing one.
func TestMigrateEventStates(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, raw, c := statusStore(t)
	events := pendingEvents(4, c)
	events[3].Event.Status, events[3].Deliveries = volley.EventDropped, nil
	inserted, err := s.EventInsert(ctx, events)
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	now := time.Now()
	if err := s.DeliveryFinish(ctx, []store.Outcome{
		{DeliveryID: inserted[1].DeliveryIDs[0], LeaseToken: 1, EventID: inserted[1].ID, State: volley.DeliveryFailed, Now: now},
		{DeliveryID: inserted[2].DeliveryIDs[0], LeaseToken: 1, EventID: inserted[2].ID, State: volley.DeliverySuccess, Now: now},
	}); err != nil {
		t.Fatalf("DeliveryFinish: %v", err)
	}
	want := map[uint64]string{inserted[0].ID: volley.EventPending, inserted[1].ID: volley.EventFailed,
		inserted[2].ID: volley.EventProcessed, inserted[3].ID: volley.EventDropped}
	if got := eventStatuses(t, s, c.ProjectID); !maps.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}

	statusRows := func(want int, when string) {
		t.Helper()
		var n int
		if err := raw.QueryRow(ctx, `SELECT count(*) FROM event_states`).Scan(&n); err != nil || n != want {
			t.Errorf("%s: status rows = %d, %v; want %d", when, n, err, want)
		}
	}
	statusRows(4, "at 0026")
	if v, err := s.MigrateDown(ctx); err != nil || v != 26 {
		t.Fatalf("MigrateDown = %d, %v; want 26", v, err)
	}
	statusRows(3, "after 0026 down (all but the processed event)")
	if v, err := s.MigrateDown(ctx); err != nil || v != 25 {
		t.Fatalf("MigrateDown = %d, %v; want 25", v, err)
	}
	rows, err := raw.Query(ctx, `SELECT id, status FROM events`)
	if err != nil {
		t.Fatalf("read statuses: %v", err)
	}
	down := map[uint64]string{}
	var id uint64
	var status string
	if _, err := pgx.ForEachRow(rows, []any{&id, &status}, func() error { down[id] = status; return nil }); err != nil {
		t.Fatalf("read statuses: %v", err)
	}
	if !maps.Equal(down, want) {
		t.Errorf("events.status after 0025 down: %v, want %v", down, want)
	}

	if applied, err := s.MigrateUp(ctx); err != nil || !slices.Equal(applied, []int{25, 26}) {
		t.Fatalf("MigrateUp = %v, %v; want [25 26]", applied, err)
	}
	if got := eventStatuses(t, s, c.ProjectID); !maps.Equal(got, want) {
		t.Errorf("statuses after 0025 and 0026 up: %v, want %v", got, want)
	}
	statusRows(4, "after 0025 and 0026 up")
}
