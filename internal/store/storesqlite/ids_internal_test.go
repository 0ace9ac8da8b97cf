package storesqlite

import (
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
	"github.com/volleyhq/volley/internal/volley"
)

// Migration 0003 rebuilds the tables whose ids are visible with
// AUTOINCREMENT, and adds the creator of each project. These tests build a
// store as 0002 left it, with rows whose ids only traffic still references,
// and migrate it.

// preIDsVersion is the last schema version before ids were kept unique.
const preIDsVersion = 2

// idTables are the tables whose ids 0003 keeps unique.
var idTables = []string{"accounts", "api_tokens", "orgs", "projects", "sources", "destinations", "connections",
	"events", "deliveries", "attempts"}

// openAt opens the database at path migrated up to version and no further.
func openAt(t testing.TB, path string, version int) *Store {
	t.Helper()
	s, err := OpenNoMigrate(Config{Path: path})
	if err != nil {
		t.Fatalf("OpenNoMigrate: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := migration.Up(t.Context(), migrator{s}, s.migrations[:version]); err != nil {
		t.Fatalf("migrate up to %d: %v", version, err)
	}
	return s
}

// execAll runs statements on the write connection, with foreign keys on.
func execAll(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// preIDsRows fills a store at version 2 the way Volley used it: two tenants
// with their configuration and traffic, and the newest source, destination,
// connection, project and event deleted while traffic, a tombstone and an
// idempotency key still reference them. Ids start at 1, as SQLite hands
// them out.
var preIDsRows = []string{
	`INSERT INTO accounts VALUES (1, 'ada@example.com', 'Ada', 'h1', 10), (2, 'bob@example.com', 'Bob', 'h2', 11)`,
	`INSERT INTO api_tokens VALUES (1, 1, 'api', 'API token', x'01', x'aa', 'vk_a', 10, 0),
		(2, 2, 'api', 'API token', x'02', x'bb', 'vk_b', 11, 12)`,
	`INSERT INTO orgs VALUES (1, 'Ada', 'ada', 1, 10), (2, 'Bob', 'bob', 2, 11)`,
	`INSERT INTO memberships VALUES (1, 1, 'owner', 10), (2, 2, 'owner', 11), (1, 2, 'member', 12)`,
	`INSERT INTO projects VALUES (1, 1, 'Default', 1, 10, 10), (2, 2, 'Default', 1, 11, 11), (3, 1, 'Staging', 0, 12, 12)`,
	`INSERT INTO sources (id, project_id, name, slug, ingestion_id, type, eps, status, auth_type, auth_username,
		auth_key_name, auth_key, verify_signature, webhook_secret, hmac_header, hmac_algorithm, hmac_encoding,
		hmac_prefix, created_at, updated_at) VALUES
		(1, 1, 'Shop', 'shop', 'src_1', 'webhook', 0, 'active', 'none', '', '', NULL, 0, NULL, '', '', '', '', 13, 13),
		(2, 1, 'Legacy', 'legacy', 'src_2', 'hmac', 5, 'active', 'api_key', '', 'x-api-key', x'cc', 1, x'dd',
			'X-Sig', 'sha256', 'hex', 'sha256=', 14, 14),
		(3, 3, 'Staging', 'staging', 'src_3', 'webhook', 0, 'active', 'none', '', '', NULL, 0, NULL, '', '', '', '', 15, 15)`,
	`INSERT INTO destinations VALUES (1, 1, 'Billing', 'https://billing.example.com', 0, 'active', 5000, '{}', x'e1', NULL, 0, 13, 13),
		(2, 1, 'Legacy', 'https://legacy.example.com', 3, 'active', 5000, '{"X":"1"}', x'e2', x'e0', 99, 14, 14),
		(3, 3, 'Staging', 'https://staging.example.com', 0, 'active', 5000, '{}', x'e3', NULL, 0, 15, 15)`,
	`INSERT INTO connections VALUES (1, 1, 1, 1, 'shop -> Billing', 'enabled', 0, 5, 13, 13),
		(2, 1, 2, 2, 'legacy -> Legacy', 'paused', 0, 5, 14, 14),
		(3, 3, 3, 3, 'staging -> Staging', 'enabled', 0, 5, 15, 15)`,
	`INSERT INTO events VALUES
		(1, 'evt_1', 1, 1, 'POST', '', '{}', x'7b7d', 'processed', 20),
		(2, 'evt_2', 1, 2, 'POST', 'a=1', '{"X":["y"]}', x'7b7d', 'failed', 21),
		(3, 'evt_3', 3, 3, 'POST', '', '{}', x'', 'pending', 22),
		(4, 'evt_4', 1, 1, 'POST', '', '{}', x'7b7d', 'processed', 23)`,
	`INSERT INTO idempotency_keys VALUES (1, 'order-4', 4, 99)`,
	`INSERT INTO deliveries VALUES
		(1, 1, 1, 1, 1, 1, 'success', 1, 20, '', 1, 20, 30),
		(2, 2, 1, 2, 2, 2, 'failed', 1, 21, '', 1, 21, 31),
		(3, 3, 3, 3, 3, 3, 'pending', 0, 40, 'node-1', 2, 22, 0),
		(4, 4, 1, 1, 1, 1, 'success', 1, 23, '', 1, 23, 33)`,
	`INSERT INTO attempts VALUES
		(1, 1, 1, 'evt_1', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 12, '{}', x'6f6b', 30),
		(2, 2, 2, 'evt_2', 1, 2, 2, 2, 1, 'auto', 'failed', 500, 'HTTP 500', 13, '{}', x'', 31),
		(3, 4, 4, 'evt_4', 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 14, '{}', x'6f6b', 33)`,
	// The newest source goes with its connection; its traffic stays.
	`DELETE FROM sources WHERE id = 3`,
	`DELETE FROM destinations WHERE id = 3`,
	// The newest project goes; its events wait for the sweeper.
	`INSERT INTO project_tombstones VALUES (3, 40)`,
	`DELETE FROM projects WHERE id = 3`,
	// Retention took the newest event; its idempotency key is still there.
	`DELETE FROM events WHERE id = 4`,
}

// preIDsHigh is the highest id preIDsRows ever used, per table.
var preIDsHigh = map[string]int64{
	"accounts": 2, "api_tokens": 2, "orgs": 2, "projects": 3, "sources": 3, "destinations": 3, "connections": 3,
	"events": 4, "deliveries": 3, "attempts": 2,
}

// wantRows checks that every table holds exactly the rows of want.
func wantRows(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for _, table := range slices.Sorted(maps.Keys(want)) {
		if !slices.Equal(got[table], want[table]) {
			t.Errorf("%s: %s holds\n  %s\nwant\n  %s", what, table,
				strings.Join(got[table], "\n  "), strings.Join(want[table], "\n  "))
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok {
			t.Errorf("%s: unexpected table %s", what, table)
		}
	}
}

// snapshot returns every row of every table but the migration log, as
// text, by table.
func snapshot(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range schemaTables(t, db) {
		rows, err := db.QueryContext(t.Context(), `SELECT * FROM `+table+` ORDER BY 1, 2`)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			var b strings.Builder
			for i, v := range vals {
				fmt.Fprintf(&b, "%s=%#v ", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
	}
	return out
}

// schemaTables lists the application's tables.
func schemaTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for name, obj := range schemaObjects(t, db) {
		if obj.typ == "table" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

type schemaObject struct{ typ, table, sql string }

var spaces = regexp.MustCompile(`\s+`)

// schemaObjects returns the application's tables and indexes by name, with
// their SQL as SQLite keeps it, whitespace collapsed. Renaming a table makes
// SQLite quote its name in the SQL; the quotes are dropped. SQLite's own
// tables (sequences, the planner's statistics) are left out.
func schemaObjects(t *testing.T, db *sql.DB) map[string]schemaObject {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
		WHERE name <> 'schema_migrations' AND name NOT LIKE 'sqlite\_stat%' ESCAPE '\' AND name <> 'sqlite_sequence'`)
	if err != nil {
		t.Fatalf("read the schema: %v", err)
	}
	defer rows.Close()
	out := map[string]schemaObject{}
	for rows.Next() {
		var name string
		var o schemaObject
		if err := rows.Scan(&o.typ, &name, &o.table, &o.sql); err != nil {
			t.Fatalf("read the schema: %v", err)
		}
		o.sql = spaces.ReplaceAllString(strings.ReplaceAll(o.sql, `"`, ""), " ")
		out[name] = o
	}
	return out
}

// sequences returns sqlite_sequence by table.
func sequences(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT name, seq FROM sqlite_sequence`)
	if err != nil {
		t.Fatalf("read sqlite_sequence: %v", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			t.Fatalf("read sqlite_sequence: %v", err)
		}
		out[name] = seq
	}
	return out
}

// wantSchema checks that the schema is want but for what differ does to
// each object's SQL.
func wantSchema(t *testing.T, what string, got, want map[string]schemaObject, differ func(schemaObject) schemaObject) {
	t.Helper()
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected %s %+v", what, name, got[name])
		}
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: %s is missing", what, name)
		} else if g != differ(w) {
			t.Errorf("%s: %s is\n  %+v\nwant\n  %+v", what, name, g, differ(w))
		}
	}
}

// migrated is the change 0003 makes to a table: AUTOINCREMENT for those of
// idTables, and the creator of each project.
func migrated(o schemaObject) schemaObject {
	if o.typ == "table" && slices.Contains(idTables, o.table) {
		o.sql = strings.Replace(o.sql, "id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,", 1)
	}
	if o.typ == "table" && o.table == "projects" {
		o.sql = strings.Replace(o.sql, "updated_at INTEGER NOT NULL )", "updated_at INTEGER NOT NULL, account_id INTEGER NOT NULL )", 1)
	}
	return o
}

// projectCreator matches the column 0003 adds in a row of snapshot.
var projectCreator = regexp.MustCompile(`account_id=\d+ $`)

func unchanged(o schemaObject) schemaObject { return o }

// TestMigrateIDs migrates a store with rows from before 0003: every row
// stays, each project gets its organization's creator, the schema changes
// only by AUTOINCREMENT and that column, new ids continue past the highest
// id ever referenced, and migrating down restores the old schema with every
// row.
func TestMigrateIDs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "volley.db")
	old := openAt(t, path, preIDsVersion)
	execAll(t, old.write, preIDsRows...)
	rowsBefore, schemaBefore := snapshot(t, old.write), schemaObjects(t, old.write)
	if err := old.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Open migrates, as at the first start of a new version.
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	downTo(t, s, 3) // later migrations are another test's business
	want := maps.Clone(rowsBefore)
	want["projects"] = []string{rowsBefore["projects"][0] + "account_id=1 ", rowsBefore["projects"][1] + "account_id=2 "}
	wantRows(t, "after migrating", snapshot(t, s.write), want)
	wantSchema(t, "after migrating", schemaObjects(t, s.write), schemaBefore, migrated)
	if seqs := sequences(t, s.write); !maps.Equal(seqs, preIDsHigh) {
		t.Errorf("sqlite_sequence = %v, want %v", seqs, preIDsHigh)
	}
	var check string
	if err := s.write.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}

	// New rows continue past the highest id ever referenced, in the
	// current schema (whose rebuild of events in 0005 keeps the sequence).
	if _, err := s.MigrateUp(ctx); err != nil {
		t.Fatalf("MigrateUp: %v", err)
	}
	now := time.UnixMicro(100).UTC()
	acct, err := s.AccountCreate(ctx, store.AccountCreateParams{Email: "cy@example.com", Name: "Cy", PasswordHash: "h",
		OrgName: "Cy", OrgSlug: "cy", Now: now,
		Token: volley.APIToken{Kind: volley.TokenKindAPI, Name: "API token", Hash: []byte{3}, Sealed: []byte{3}, CreatedAt: now}})
	if err != nil {
		t.Fatalf("AccountCreate: %v", err)
	}
	src := &volley.Source{ProjectID: acct.Project.ID, Name: "s", Slug: "s", IngestionID: "src_new", Type: volley.SourceTypeWebhook,
		Status: volley.SourceActive, AuthType: volley.AuthNone, CreatedAt: now, UpdatedAt: now}
	dst := &volley.Destination{ProjectID: acct.Project.ID, Name: "d", URL: "https://d.example.com", Status: volley.DestinationActive,
		TimeoutMS: 1000, SigningSecret: []byte{1}, CreatedAt: now, UpdatedAt: now}
	if err := s.SourceCreate(ctx, src); err != nil {
		t.Fatalf("SourceCreate: %v", err)
	}
	if err := s.DestinationCreate(ctx, dst); err != nil {
		t.Fatalf("DestinationCreate: %v", err)
	}
	conn := &volley.Connection{ProjectID: acct.Project.ID, SourceID: src.ID, DestinationID: dst.ID, Name: "c",
		Status: volley.ConnectionEnabled, CreatedAt: now, UpdatedAt: now}
	if err := s.ConnectionCreate(ctx, conn); err != nil {
		t.Fatalf("ConnectionCreate: %v", err)
	}
	ins, err := s.EventInsert(ctx, []store.NewEvent{{
		Event: volley.Event{UID: "evt_new", ProjectID: acct.Project.ID, SourceID: src.ID, Method: "POST", CreatedAt: now},
		Deliveries: []volley.Delivery{{ConnectionID: conn.ID, DestinationID: dst.ID, State: volley.DeliveryPending,
			NextAttemptAt: now, LeaseOwner: "w", LeaseToken: 1}},
	}})
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	err = s.DeliveryFinish(ctx, []store.Outcome{{DeliveryID: ins[0].DeliveryIDs[0], LeaseToken: 1, EventID: ins[0].ID,
		State: volley.DeliverySuccess, Now: now, Attempt: &volley.Attempt{DeliveryID: ins[0].DeliveryIDs[0], EventID: ins[0].ID,
			EventUID: "evt_new", ProjectID: acct.Project.ID, SourceID: src.ID, ConnectionID: conn.ID, DestinationID: dst.ID,
			Number: 1, Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200, CreatedAt: now}}})
	if err != nil {
		t.Fatalf("DeliveryFinish: %v", err)
	}
	attempts, err := s.AttemptListByEvent(ctx, ins[0].ID)
	if err != nil || len(attempts) != 1 {
		t.Fatalf("AttemptListByEvent = %v, %v; want one attempt", attempts, err)
	}
	for table, got := range map[string]uint64{
		"accounts": acct.Account.ID, "api_tokens": acct.Token.ID, "orgs": acct.Org.ID, "projects": acct.Project.ID,
		"sources": src.ID, "destinations": dst.ID, "connections": conn.ID, "events": ins[0].ID,
		"deliveries": ins[0].DeliveryIDs[0], "attempts": attempts[0].ID,
	} {
		if want := uint64(preIDsHigh[table] + 1); got != want {
			t.Errorf("new row of %s: id %d, want %d", table, got, want)
		}
	}

	// Down again: the old schema, and every row (old and new) kept.
	downTo(t, s, 3)
	rowsAfter := snapshot(t, s.write)
	for i, row := range rowsAfter["projects"] {
		rowsAfter["projects"][i] = projectCreator.ReplaceAllString(row, "")
	}
	if v, err := s.MigrateDown(ctx); err != nil || v != 3 {
		t.Fatalf("MigrateDown = %d, %v; want 3", v, err)
	}
	wantSchema(t, "after migrating down", schemaObjects(t, s.write), schemaBefore, unchanged)
	wantRows(t, "after migrating down", snapshot(t, s.write), rowsAfter)
	if seqs := sequences(t, s.write); len(seqs) != 0 {
		t.Errorf("sqlite_sequence after migrating down = %v, want it empty", seqs)
	}
}

// TestMigrateIDsReferences raises one column that references ids of another
// table, in rows from before 0003, and checks that the migration starts that
// table's ids above it. Columns under a foreign key are left out: they
// cannot reference a missing row.
func TestMigrateIDsReferences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ column, table string }{
		{"orgs.account_id", "accounts"},
		{"events.project_id", "projects"},
		{"events.source_id", "sources"},
		{"deliveries.project_id", "projects"},
		{"deliveries.source_id", "sources"},
		{"deliveries.connection_id", "connections"},
		{"deliveries.destination_id", "destinations"},
		{"attempts.delivery_id", "deliveries"},
		{"attempts.project_id", "projects"},
		{"attempts.source_id", "sources"},
		{"attempts.connection_id", "connections"},
		{"attempts.destination_id", "destinations"},
		{"idempotency_keys.source_id", "sources"},
		{"idempotency_keys.event_id", "events"},
		{"project_tombstones.project_id", "projects"},
	} {
		t.Run(tc.column, func(t *testing.T) {
			t.Parallel()
			s := openAt(t, filepath.Join(t.TempDir(), "volley.db"), preIDsVersion)
			execAll(t, s.write, preIDsRows...)
			table, column, _ := strings.Cut(tc.column, ".")
			execAll(t, s.write, `UPDATE `+table+` SET `+column+` = 1000`)
			if _, err := s.MigrateUp(t.Context()); err != nil {
				t.Fatalf("MigrateUp: %v", err)
			}
			if got := sequences(t, s.write)[tc.table]; got != 1000 {
				t.Errorf("sqlite_sequence of %s = %d, want 1000", tc.table, got)
			}
		})
	}
}

// benchEvents is the size of the store BenchmarkMigrateIDs migrates.
const benchEvents = 200_000

// fillTraffic adds n events to the store of preIDsRows, each with a
// 512-byte body (as `volley bench` sends), one delivered delivery and its
// attempt.
func fillTraffic(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	execAll(b, db, fmt.Sprintf(`INSERT INTO events (event_id, project_id, source_id, method, query, headers, body, status, created_at)
		WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < %d)
		SELECT printf('evt_%%022d', n), 1, 1, 'POST', '', '{"Content-Type":["application/json"],"User-Agent":["bench"]}',
			randomblob(512), 'processed', 1000 + n FROM i`, n),
		`INSERT INTO deliveries (event_id, project_id, source_id, connection_id, destination_id, state, attempts,
			next_attempt_at, created_at, finished_at)
		SELECT id, 1, 1, 1, 1, 'success', 1, created_at, created_at, created_at + 1 FROM events WHERE id > 4`,
		`INSERT INTO attempts (delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id,
			number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at)
		SELECT d.id, d.event_id, e.event_id, 1, 1, 1, 1, 1, 'auto', 'success', 200, '', 3,
			'{"Content-Type":["text/plain"]}', x'6f6b', d.finished_at
		FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id > 4`)
}

// BenchmarkMigrateIDs times migration 0003 on a store of benchEvents events:
//
//	go test -run '^$' -bench MigrateIDs -benchtime 3x ./internal/store/storesqlite
func BenchmarkMigrateIDs(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s := openAt(b, filepath.Join(b.TempDir(), "volley.db"), preIDsVersion)
		execAll(b, s.write, preIDsRows...)
		fillTraffic(b, s.write, benchEvents)
		b.StartTimer()
		if err := (migrator{s}).Apply(b.Context(), s.migrations[preIDsVersion], true); err != nil {
			b.Fatalf("migrate: %v", err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

// downTo undoes the migrations after version.
func downTo(t *testing.T, s *Store, version int) {
	t.Helper()
	states, err := s.MigrateStatus(t.Context())
	if err != nil {
		t.Fatalf("MigrateStatus: %v", err)
	}
	for i := len(states) - 1; i >= 0 && states[i].Version > version; i-- {
		if !states[i].Applied {
			continue
		}
		if v, err := s.MigrateDown(t.Context()); err != nil || v != states[i].Version {
			t.Fatalf("MigrateDown = %d, %v; want %d", v, err, states[i].Version)
		}
	}
}
