package storepg_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// databaseURL returns the test database, or skips the test without one.
func databaseURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("VOLLEY_TEST_DATABASE_URL")
	if url == "" {
		tb.Skip("VOLLEY_TEST_DATABASE_URL is not set: skipping the PostgreSQL tests")
	}
	return url
}

// freshSchema returns the name of a schema no other test uses, and drops it
// with everything in it when the test ends.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	url := databaseURL(tb)
	var b [8]byte
	rand.Read(b[:])
	schema := "v_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// open opens a store on schema and closes it when the test ends (before the
// schema is dropped).
func open(tb testing.TB, schema string) *storepg.Store {
	tb.Helper()
	s, err := storepg.Open(context.Background(), storepg.Config{URL: databaseURL(tb), Schema: schema, MaxConns: 4})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawConn connects to the test database with schema as its search path,
// closed when the test ends.
func rawConn(t testing.TB, schema string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("set search_path: %v", err)
	}
	return conn
}

// setup opens a fresh, migrated store in a schema of its own.
func setup(tb testing.TB) *storepg.Store {
	tb.Helper()
	return open(tb, freshSchema(tb))
}

func TestStore(t *testing.T) {
	databaseURL(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return setup(t) })
}

func TestMigrateDownAndUp(t *testing.T) {
	t.Parallel()
	storetest.RunMigrations(t, setup(t))
}

// TestOpenConcurrently starts several nodes on one new schema at once: one
// creates and migrates it, the others wait for the migration lock and find
// it current.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	schema := freshSchema(t)
	const nodes = 6
	stores := make([]*storepg.Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			stores[i], errs[i] = storepg.Open(t.Context(), storepg.Config{URL: databaseURL(t), Schema: schema, MaxConns: 2})
		})
	}
	wg.Wait()
	for i, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
		if errs[i] != nil {
			t.Errorf("Open on node %d: %v", i, errs[i])
		}
	}
	if t.Failed() {
		return
	}
	for i, s := range stores {
		if current, err := s.MigrationsCurrent(t.Context()); err != nil || !current {
			t.Errorf("MigrationsCurrent on node %d = %v, %v; want true", i, current, err)
		}
	}
	states, err := stores[0].MigrateStatus(t.Context())
	if err != nil {
		t.Fatalf("MigrateStatus: %v", err)
	}
	for _, st := range states {
		if !st.Applied {
			t.Errorf("migration %d is not applied", st.Version)
		}
	}
}

// TestLeaseConcurrently has two nodes (two pools on one schema) lease from
// the same due deliveries until none is left: each is leased exactly once.
func TestLeaseConcurrently(t *testing.T) {
	t.Parallel()
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	conn := storetest.Graph(t, a)
	const total = 500
	now := time.Now().UTC()
	for i := range total / 50 {
		if _, err := a.EventInsert(t.Context(), storetest.Events(50, i, conn, now)); err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
	}

	var mu sync.Mutex
	leased := map[uint64]int{}
	var wg sync.WaitGroup
	for _, s := range []*storepg.Store{a, b, a, b} {
		wg.Go(func() {
			for {
				jobs, err := s.DeliveryLease(t.Context(), store.LeaseParams{Owner: fmt.Sprintf("%p", s), Now: now,
					Until: now.Add(time.Hour), Limit: 7})
				if err != nil {
					t.Errorf("DeliveryLease: %v", err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					leased[j.Delivery.ID]++
					if j.Event.ID != j.Delivery.EventID || len(j.Event.Body) == 0 {
						t.Errorf("job %d came with event %+v", j.Delivery.ID, j.Event)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if jobs, err := a.DeliveryLease(t.Context(), store.LeaseParams{Owner: "late", Now: now, Until: now.Add(time.Hour), Limit: total}); err != nil || len(jobs) != 0 {
		t.Fatalf("DeliveryLease after the loops = %d jobs, %v; want none left", len(jobs), err)
	}
	if len(leased) != total {
		t.Errorf("%d distinct deliveries leased, want %d", len(leased), total)
	}
	for id, n := range leased {
		if n != 1 {
			t.Errorf("delivery %d leased %d times", id, n)
		}
	}
}
