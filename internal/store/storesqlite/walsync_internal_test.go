package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// syncStore opens a store with the scratch table of scratchWriter and
// counts its WAL syncs; hook, when set, runs before each sync.
func syncStore(t *testing.T) (s *Store, syncs *atomic.Int64, hook *atomic.Pointer[func() error]) {
	t.Helper()
	s = tempStore(t)
	scratchWriter(t, s)
	syncs, hook = new(atomic.Int64), new(atomic.Pointer[func() error])
	s.wal.syncFile = func(f *os.File) error {
		if !strings.HasSuffix(f.Name(), "volley.db-wal") {
			t.Errorf("synced %s, want the WAL", f.Name())
		}
		syncs.Add(1)
		if h := hook.Load(); h != nil {
			if err := (*h)(); err != nil {
				return err
			}
		}
		return syncData(f)
	}
	return s, syncs, hook
}

// write inserts n into the scratch table in a transaction of turn tn.
func write(ctx context.Context, s *Store, tn turn, n int) error {
	return s.txRun(ctx, tn, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scratch (b) VALUES (?)`, n)
		return err
	})
}

// counted returns how many durable commits the syncer has counted.
func (w *walSyncer) counted() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.commits
}

// TestSyncByTurn checks which writes wait for a sync of the WAL: those a
// client waits on and re-seals, whatever ran before, and not background
// work.
func TestSyncByTurn(t *testing.T) {
	t.Parallel()
	s, syncs, _ := syncStore(t)
	for _, tc := range []struct {
		name string
		t    turn
		sync bool
	}{
		{"background", background(writeUpkeep), false},
		{"urgent after background", turnUrgent, true},
		{"ingest", turnIngest, true},
		{"background again", background(writeUpkeep), false},
		{"durable background", turnReseal, true},
		{"background after durable", background(writeUpkeep), false},
	} {
		for _, op := range []string{"tx", "exec"} {
			before := syncs.Load()
			var err error
			if op == "tx" {
				err = write(t.Context(), s, tc.t, 1)
			} else {
				_, err = s.execRun(t.Context(), tc.t, `INSERT INTO scratch (b) VALUES (2)`)
			}
			if err != nil {
				t.Fatalf("%s, %s: %v", tc.name, op, err)
			}
			want := int64(0)
			if tc.sync {
				want = 1
			}
			if got := syncs.Load() - before; got != want {
				t.Errorf("%s, %s: %d syncs, want %d", tc.name, op, got, want)
			}
		}
	}
}

// TestSyncDebt checks that a background commit waits for a sync once the
// unsynced ones before it held the writer syncDebtMax, and that a synced
// commit pays the debt.
func TestSyncDebt(t *testing.T) {
	t.Parallel()
	s, syncs, _ := syncStore(t)
	bg := func() int64 {
		t.Helper()
		before := syncs.Load()
		if err := write(t.Context(), s, background(writeUpkeep), 1); err != nil {
			t.Fatal(err)
		}
		return syncs.Load() - before
	}
	if got := bg(); got != 0 {
		t.Fatalf("first background commit: %d syncs, want 0", got)
	}
	if s.syncDebt <= 0 {
		t.Fatalf("debt %v after an unsynced commit, want its hold", s.syncDebt)
	}
	s.writer.lock(true)
	s.syncDebt = syncDebtMax // as if background work had held the writer that long
	s.writer.unlock()
	if got := bg(); got != 1 {
		t.Errorf("background commit over the debt: %d syncs, want 1", got)
	}
	if s.syncDebt != 0 {
		t.Errorf("debt %v after a synced commit, want 0", s.syncDebt)
	}
	if got := bg(); got != 0 {
		t.Errorf("background commit after the debt was paid: %d syncs, want 0", got)
	}
}

// TestSyncAfterTheTurn holds the WAL's sync of an ingest and checks that
// the writer is free meanwhile (a background write commits), that the
// ingest does not return before its sync does, and that an ingest
// committed during that sync waits for the next one, which serves it.
func TestSyncAfterTheTurn(t *testing.T) {
	t.Parallel()
	s, syncs, hook := syncStore(t)
	ctx := t.Context()
	entered, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	h := func() error {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return nil
	}
	hook.Store(&h)
	deadline := time.After(time.Minute)
	waitFor := func(what string, done <-chan error) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-deadline:
			t.Fatalf("%s did not finish", what)
		}
	}
	async := func(n int) <-chan error {
		done := make(chan error, 1)
		go func() { done <- write(ctx, s, turnIngest, n) }()
		return done
	}

	ingest1 := async(1)
	select {
	case <-entered:
	case <-deadline:
		t.Fatal("the ingest's sync never started")
	}
	bg := make(chan error, 1)
	go func() { bg <- write(ctx, s, background(writeUpkeep), 2) }()
	waitFor("a background write during the ingest's sync", bg)

	ingest2 := async(3)
	for s.wal.counted() < 3 { // ingest2 committed and waits
		select {
		case err := <-ingest2:
			t.Fatalf("the second ingest returned (%v) while the sync before its commit was held", err)
		case <-deadline:
			t.Fatal("the second ingest never committed")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case err := <-ingest1:
		t.Fatalf("the ingest returned (%v) before its sync", err)
	default:
	}
	close(release)
	waitFor("the first ingest", ingest1)
	waitFor("the second ingest", ingest2)
	if got := syncs.Load(); got != 2 {
		t.Errorf("%d syncs, want 2: the held one, and one after the second ingest's commit", got)
	}
}

// TestSyncFailureStopsAcknowledgedWrites checks that after a failed sync
// the write that waited for it fails, later acknowledged writes fail
// without committing, Ping reports it, and background work goes on.
func TestSyncFailureStopsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	s, _, hook := syncStore(t)
	ctx := t.Context()
	h := func() error { return errors.New("disk gone") }
	hook.Store(&h)
	if err := write(ctx, s, turnIngest, 1); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("ingest with a failing sync: err %v, want the sync's error", err)
	}
	hook.Store(nil)
	if err := write(ctx, s, turnUrgent, 2); err == nil || !strings.Contains(err.Error(), "sync the WAL") {
		t.Fatalf("write after a failed sync: err %v, want the sync's error", err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM scratch WHERE b = 2`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused write committed %d rows (err %v), want 0", n, err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after a failed sync: nil, want its error")
	}
	if err := write(ctx, s, background(writeUpkeep), 3); err != nil {
		t.Errorf("background write after a failed sync: %v", err)
	}
}
