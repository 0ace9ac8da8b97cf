package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/server"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/testserver"
)

// The upgrade fixtures are stores made by an earlier release, with traffic
// in them: testdata/upgrade/sqlite.db (the database file) and postgres.sql
// (pg_dump --data-only of the same kind of store), described by
// manifest-*.json. TestUpgradeFromPreviousRelease migrates them with this
// binary and checks, through the API, that everything is still there and
// still works. At each release, regenerate them with the release's binary:
//
//	go test ./internal/server -run TestGenerateUpgradeFixtures -upgrade.generate
//
// (with VOLLEY_TEST_DATABASE_URL set for the PostgreSQL one).
var generateFixtures = flag.Bool("upgrade.generate", false, "write the upgrade fixtures under testdata/upgrade from this build")

// fixtureKey seals the fixtures' secrets (testserver's key).
var fixtureKey = bytes.Repeat([]byte{7}, 32)

// upgradeManifest is what a fixture holds, as seen through the API when it
// was made.
type upgradeManifest struct {
	Commit        string         `json:"commit"`
	Schema        int            `json:"schema"` // newest migration of the fixture
	ProjectID     uint64         `json:"project_id"`
	SourceID      uint64         `json:"source_id"`
	IngestionID   string         `json:"ingestion_id"`
	SourceKey     string         `json:"source_key"` // the source's generated api key
	DestinationID uint64         `json:"destination_id"`
	ConnectionID  uint64         `json:"connection_id"`
	Token         string         `json:"token"` // a second API token of the admin
	Events        []fixtureEvent `json:"events"`
}

type fixtureEvent struct {
	ID       uint64 `json:"id"`
	EventID  string `json:"event_id"`
	Body     string `json:"body_base64"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

// startOn runs a node on an opened store, as testserver does.
func startOn(t *testing.T, st store.Store, exclusive bool, bootstrap bool) *server.Server {
	t.Helper()
	node, err := server.New(server.Config{
		Addr: "127.0.0.1:0", Store: st, SecretKey: fixtureKey, LookupFunc: testserver.LookupLocalhost,
		Password: tenant.TestPasswordParams, ExclusiveStore: exclusive,
		// No retry while a fixture is made: its attempts are what the manifest says.
		Delivery: delivery.Config{Retry: delivery.RetryPolicy{Schedule: []time.Duration{time.Hour}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if bootstrap {
		if _, err := node.Bootstrap(context.Background(), server.AdminConfig{Token: testserver.AdminToken, Password: "admin-password"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := node.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return node
}

// call makes an API request with token and decodes a 2xx answer into out.
func call(t *testing.T, base, token, method, path string, body, out any) {
	t.Helper()
	status, b := callStatus(t, base, token, method, path, body)
	if status/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

func callStatus(t *testing.T, base, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type apiEvent struct {
	ID            uint64            `json:"id"`
	EventID       string            `json:"event_id"`
	RawBody       string            `json:"raw_body"`
	RawBodyBase64 string            `json:"raw_body_base64"`
	Status        string            `json:"status"`
	Attempts      []json.RawMessage `json:"delivery_attempts"`
}

func (e apiEvent) body() []byte {
	if e.RawBodyBase64 != "" {
		b, _ := base64.StdEncoding.DecodeString(e.RawBodyBase64)
		return b
	}
	return []byte(e.RawBody)
}

// fixtureBodies are the fixture's events: JSON with provider ids, and
// bytes that are not UTF-8. The sink fails the ones without "ok":true.
func fixtureBodies() [][]byte {
	var out [][]byte
	for i := range 12 {
		out = append(out, fmt.Appendf(nil, `{"id":"evt_fixture_%02d","type":"invoice.paid","ok":%v,"amount":%d,"note":"upgrade fixture"}`,
			i, i%3 != 0, 100*i))
	}
	return append(out, []byte{0xff, 0xfe, 'b', 'i', 'n', 0x00, 0x80})
}

// TestGenerateUpgradeFixtures writes the fixtures from this build (see the
// comment on generateFixtures).
func TestGenerateUpgradeFixtures(t *testing.T) {
	if !*generateFixtures {
		t.Skip("run with -upgrade.generate to rewrite testdata/upgrade")
	}
	commit := strings.TrimSpace(gitOutput(t, "rev-parse", "--short", "HEAD"))
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		st, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: filepath.Join(dir, "volley.db")})
		if err != nil {
			t.Fatal(err)
		}
		m := makeFixture(t, st, true)
		m.Commit = commit
		st.Close()
		out := filepath.Join("testdata", "upgrade", "sqlite.db")
		os.Remove(out)
		if _, err := storesqlite.Backup(context.Background(), filepath.Join(dir, "volley.db"), out); err != nil {
			t.Fatal(err)
		}
		writeManifest(t, "sqlite", m)
	})
	t.Run("postgres", func(t *testing.T) {
		dbURL := os.Getenv("VOLLEY_TEST_DATABASE_URL")
		if dbURL == "" {
			t.Skip("VOLLEY_TEST_DATABASE_URL is unset")
		}
		const schema = "volley_upgrade_fixture"
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		st, err := storepg.Open(context.Background(), storepg.Config{URL: withSchema(dbURL, schema)})
		if err != nil {
			t.Fatal(err)
		}
		m := makeFixture(t, st, false)
		m.Commit = commit
		st.Close()
		dump, err := exec.Command("pg_dump", "--data-only", "--column-inserts", "--disable-triggers", "--no-owner", "--no-privileges",
			"--schema="+schema, "--exclude-table="+schema+".schema_migrations", dbURL).Output()
		if err != nil {
			t.Fatalf("pg_dump: %v", err)
		}
		// psql's meta-commands (\restrict) are not SQL.
		var lines []string
		for _, l := range strings.Split(string(dump), "\n") {
			if !strings.HasPrefix(l, "\\") {
				lines = append(lines, l)
			}
		}
		if err := os.WriteFile(filepath.Join("testdata", "upgrade", "postgres.sql"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		writeManifest(t, "postgres", m)
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
}

func gitOutput(t *testing.T, args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

func writeManifest(t *testing.T, name string, m *upgradeManifest) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "upgrade", "manifest-"+name+".json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// withSchema adds a search_path to a PostgreSQL URL.
func withSchema(dbURL, schema string) string {
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	return dbURL + sep + "search_path=" + schema
}

// fixtureSink answers 200 to bodies with "ok":true and 500 to the others,
// and keeps what it received.
type fixtureSink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  [][]byte
	sigs []string
}

func newFixtureSink(t *testing.T) *fixtureSink {
	s := &fixtureSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, b)
		s.sigs = append(s.sigs, r.Header.Get("webhook-signature"))
		s.mu.Unlock()
		if !bytes.Contains(b, []byte(`"ok":true`)) {
			http.Error(w, "not ok", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fixtureSink) received(body []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.got {
		if bytes.Equal(b, body) {
			return true
		}
	}
	return false
}

func makeFixture(t *testing.T, st store.Store, exclusive bool) *upgradeManifest {
	node := startOn(t, st, exclusive, true)
	defer node.Stop(context.Background())
	base, tok := node.URL(), testserver.AdminToken
	sink := newFixtureSink(t)

	var projects struct {
		Projects []struct {
			ID uint64 `json:"id"`
		} `json:"projects"`
	}
	call(t, base, tok, "GET", "/api/projects", nil, &projects)
	m := &upgradeManifest{ProjectID: projects.Projects[0].ID}
	var src struct {
		ID          uint64 `json:"id"`
		IngestionID string `json:"ingestion_id"`
		AuthKey     string `json:"auth_key"`
	}
	call(t, base, tok, "POST", fmt.Sprintf("/api/projects/%d/sources", m.ProjectID),
		map[string]any{"name": "stripe", "auth_type": "api_key"}, &src)
	m.SourceID, m.IngestionID, m.SourceKey = src.ID, src.IngestionID, src.AuthKey
	var dst struct{ ID uint64 }
	call(t, base, tok, "POST", fmt.Sprintf("/api/projects/%d/destinations", m.ProjectID),
		map[string]any{"name": "billing", "url": sink.srv.URL}, &dst)
	m.DestinationID = dst.ID
	var conn struct{ ID uint64 }
	call(t, base, tok, "POST", fmt.Sprintf("/api/projects/%d/connections", m.ProjectID),
		map[string]any{"source_id": src.ID, "destination_id": dst.ID}, &conn)
	m.ConnectionID = conn.ID
	var token struct {
		Token string `json:"token"`
	}
	call(t, base, tok, "POST", "/api/tokens", map[string]any{"name": "fixture"}, &token)
	m.Token = token.Token
	if m.Token == "" {
		t.Fatal("POST /api/tokens answered no token")
	}

	for _, b := range fixtureBodies() {
		req, _ := http.NewRequest("POST", base+"/hook/"+src.IngestionID, bytes.NewReader(b))
		req.Header.Set("X-API-Key", src.AuthKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("ingest: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	// Every event gets its first attempt (and no retry: the schedule is an hour).
	var list struct {
		Models []apiEvent `json:"requests"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		call(t, base, tok, "GET", fmt.Sprintf("/api/projects/%d/events?limit=100", m.ProjectID), nil, &list)
		pending := 0
		for _, e := range list.Models {
			var full apiEvent
			call(t, base, tok, "GET", fmt.Sprintf("/api/requests/%d", e.ID), nil, &full)
			if len(full.Attempts) == 0 {
				pending++
			}
		}
		if len(list.Models) == len(fixtureBodies()) && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fixture's events were not all attempted: %d listed, %d without an attempt", len(list.Models), pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, e := range list.Models {
		var full apiEvent
		call(t, base, tok, "GET", fmt.Sprintf("/api/requests/%d", e.ID), nil, &full)
		m.Events = append(m.Events, fixtureEvent{ID: full.ID, EventID: full.EventID, Body: base64.StdEncoding.EncodeToString(full.body()),
			Status: full.Status, Attempts: len(full.Attempts)})
	}
	states, err := st.(interface {
		MigrateStatus(context.Context) ([]migration.State, error)
	}).MigrateStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m.Schema = states[len(states)-1].Version
	return m
}

func readManifest(t *testing.T, name string) *upgradeManifest {
	b, err := os.ReadFile(filepath.Join("testdata", "upgrade", "manifest-"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m upgradeManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestUpgradeFromPreviousRelease migrates stores an earlier release made,
// with traffic in them, and checks through the API that nothing was lost
// and that everything works: events with their exact bodies, statuses and
// attempts, tokens, the source's sealed key, the destination's sealed
// signing secret, replay and new traffic.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		m := readManifest(t, "sqlite")
		path := filepath.Join(t.TempDir(), "volley.db")
		if _, err := storesqlite.Restore(context.Background(), storesqlite.RestoreParams{
			From: filepath.Join("testdata", "upgrade", "sqlite.db"), To: path}); err != nil {
			t.Fatal(err)
		}
		st, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: path})
		if err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		defer st.Close()
		checkUpgraded(t, st, true, m)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dbURL := os.Getenv("VOLLEY_TEST_DATABASE_URL")
		if dbURL == "" {
			t.Skip("VOLLEY_TEST_DATABASE_URL is unset; the PostgreSQL upgrade is not tested")
		}
		m := readManifest(t, "postgres")
		ctx := context.Background()
		schema := fmt.Sprintf("upgrade_%d", time.Now().UnixNano())
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), dbURL)
			if err == nil {
				c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
				c.Close(context.Background())
			}
		})
		// The release's schema: this binary's migrations down to it.
		st, err := storepg.Open(ctx, storepg.Config{URL: withSchema(dbURL, schema)})
		if err != nil {
			t.Fatal(err)
		}
		for {
			states, err := st.MigrateStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			newest := 0
			for _, s := range states {
				if s.Applied {
					newest = s.Version
				}
			}
			if newest <= m.Schema {
				break
			}
			if _, err := st.MigrateDown(ctx); err != nil {
				t.Fatalf("down to the release's schema: %v", err)
			}
		}
		dump, err := os.ReadFile(filepath.Join("testdata", "upgrade", "postgres.sql"))
		if err != nil {
			t.Fatal(err)
		}
		// One connection of its own: the dump clears search_path.
		load, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = load.Exec(ctx, strings.ReplaceAll(string(dump), "volley_upgrade_fixture", schema))
		load.Close(ctx)
		if err != nil {
			t.Fatalf("load the fixture: %v", err)
		}
		if _, err := st.MigrateUp(ctx); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		defer st.Close()
		checkUpgraded(t, st, false, m)
	})
}

func checkUpgraded(t *testing.T, st store.Store, exclusive bool, m *upgradeManifest) {
	node := startOn(t, st, exclusive, false)
	defer node.Stop(context.Background())
	base, tok := node.URL(), testserver.AdminToken

	// Both tokens still authenticate.
	for _, token := range []string{tok, m.Token} {
		if status, b := callStatus(t, base, token, "GET", "/api/user", nil); status != http.StatusOK {
			t.Fatalf("a token of the old store no longer works: %d %s", status, b)
		}
	}
	var list struct {
		Models []apiEvent `json:"requests"`
		Total  int        `json:"total"`
	}
	call(t, base, tok, "GET", fmt.Sprintf("/api/projects/%d/events?limit=100", m.ProjectID), nil, &list)
	if list.Total != len(m.Events) || len(list.Models) != len(m.Events) {
		t.Fatalf("after the upgrade %d events (total %d); the old store had %d", len(list.Models), list.Total, len(m.Events))
	}
	for _, want := range m.Events {
		var got apiEvent
		call(t, base, tok, "GET", fmt.Sprintf("/api/requests/%d", want.ID), nil, &got)
		wantBody, _ := base64.StdEncoding.DecodeString(want.Body)
		// Deliveries that were waiting for a retry may be retried by now
		// (their time came long ago): more attempts and another status
		// then, but none lost, and a finished event stays as it was.
		finished := want.Status == "processed" || want.Status == "failed"
		if got.EventID != want.EventID || !bytes.Equal(got.body(), wantBody) || len(got.Attempts) < want.Attempts ||
			(finished && (got.Status != want.Status || len(got.Attempts) != want.Attempts)) {
			t.Errorf("event %d after the upgrade: id %s status %s, %d attempts, body %q; before: %s %s, %d attempts, body %q",
				want.ID, got.EventID, got.Status, len(got.Attempts), got.body(), want.EventID, want.Status, want.Attempts, wantBody)
		}
	}

	// The destination's sealed secret signs; replay reaches a new sink.
	sink := newFixtureSink(t)
	call(t, base, tok, "PUT", fmt.Sprintf("/api/destinations/%d", m.DestinationID), map[string]any{"url": sink.srv.URL}, nil)
	var secret struct {
		Secret string `json:"secret"`
	}
	call(t, base, tok, "GET", fmt.Sprintf("/api/destinations/%d/secret", m.DestinationID), nil, &secret)
	if !strings.HasPrefix(secret.Secret, "whsec_") {
		t.Fatalf("destination secret after the upgrade: %q", secret.Secret)
	}
	first := m.Events[0]
	body, _ := base64.StdEncoding.DecodeString(first.Body)
	call(t, base, tok, "POST", "/api/replay-event", map[string]any{"event_id": first.EventID}, nil)
	if !sink.received(body) {
		t.Fatalf("the replay of event %d did not reach the destination with its exact body", first.ID)
	}

	// The source's sealed key still authenticates new traffic, which flows.
	fresh := []byte(`{"id":"evt_after_upgrade","ok":true}`)
	req, _ := http.NewRequest("POST", base+"/hook/"+m.IngestionID, bytes.NewReader(fresh))
	req.Header.Set("X-API-Key", m.SourceKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest after the upgrade: %v %v", resp, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for !sink.received(fresh) {
		if time.Now().After(deadline) {
			t.Fatal("an event ingested after the upgrade was not delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("upgraded a store of schema %04d (made at commit %s) with %d events", m.Schema, m.Commit, len(m.Events))
}
