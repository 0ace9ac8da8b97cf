package storesqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSyncerWaitsForAnFsyncAfterTheCommit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	if err := os.WriteFile(db+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSyncer(db)
	go s.run()
	defer s.close()

	fast := s.committedNow() // nobody waits for this one; the next fsync covers it
	seq := s.committedNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.wait(ctx, seq); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.synced < seq || s.synced < fast {
		t.Fatalf("synced = %d after waiting for %d", s.synced, seq)
	}
}

func TestSyncerReportsFsyncFailure(t *testing.T) {
	t.Parallel()
	s := newSyncer(filepath.Join(t.TempDir(), "missing.db")) // no WAL file to sync
	go s.run()
	defer s.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.wait(ctx, s.committedNow()); err == nil {
		t.Fatal("wait succeeded although the WAL could not be synced")
	}
}

func TestSyncerWaitHonoursContext(t *testing.T) {
	t.Parallel()
	s := newSyncer(filepath.Join(t.TempDir(), "x.db"))
	// The syncer is not running, so nothing ever syncs.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.wait(ctx, s.committedNow()); err == nil {
		t.Fatal("wait ignored a cancelled context")
	}
}
