package storesqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
)

// createAccount writes one account (and its org, project and token) and
// returns its email.
func createAccount(t *testing.T, s *storesqlite.Store, i int) string {
	t.Helper()
	email, err := insertAccount(s, i)
	if err != nil {
		t.Fatalf("AccountCreate: %v", err)
	}
	return email
}

// insertAccount is createAccount for goroutines other than the test's,
// which must not call t.Fatal.
func insertAccount(s *storesqlite.Store, i int) (string, error) {
	email := fmt.Sprintf("user%d@example.com", i)
	_, err := s.AccountCreate(context.Background(), store.AccountCreateParams{
		Email: email, Name: "User", PasswordHash: "x", OrgName: "Org", OrgSlug: fmt.Sprintf("org-%d", i),
		Token: volley.APIToken{Kind: volley.TokenKindAPI, Name: "API token", Hash: []byte(email), Sealed: []byte("sealed"), Prefix: "vk_"},
		Now:   time.Now().UTC(),
	})
	return email, err
}

// TestBackupWhileWriting: a backup taken while another connection keeps
// writing holds everything committed before it started, and opens as a
// store of the current schema.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "volley.db")
	s, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: src})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var before []string
	for i := range 50 {
		before = append(before, createAccount(t, s, i))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() { // writes during the backup
		defer wg.Done()
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, writeErr = insertAccount(s, i); writeErr != nil {
				return
			}
		}
	}()
	dst := filepath.Join(t.TempDir(), "backup.db")
	info, err := storesqlite.Backup(context.Background(), src, dst)
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("a write during the backup failed: %v", writeErr)
	}
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if info.Schema == 0 || info.Bytes == 0 {
		t.Errorf("info = %+v", info)
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}

	restored := filepath.Join(t.TempDir(), "data", "volley.db")
	if _, err := storesqlite.Restore(context.Background(), storesqlite.RestoreParams{From: dst, To: restored}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	r, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: restored})
	if err != nil {
		t.Fatalf("open restored: %v", err)
	}
	defer r.Close()
	for _, email := range before {
		if _, err := r.AccountGetByEmail(context.Background(), email); err != nil {
			t.Errorf("restored store lacks %s: %v", email, err)
		}
	}
}

func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "volley.db")
	s, err := storesqlite.Open(ctx, storesqlite.Config{Path: src})
	if err != nil {
		t.Fatal(err)
	}
	createAccount(t, s, 1)
	backup := filepath.Join(dir, "backup.db")
	if _, err := storesqlite.Backup(ctx, src, backup); err != nil {
		t.Fatal(err)
	}

	t.Run("existing backup file", func(t *testing.T) {
		if _, err := storesqlite.Backup(ctx, src, backup); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not a Volley database", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "x.db")
		os.WriteFile(other, nil, 0o600)
		if _, err := storesqlite.Backup(ctx, other, filepath.Join(t.TempDir(), "b.db")); err == nil || !strings.Contains(err.Error(), "not a Volley database") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("restore over a running server", func(t *testing.T) {
		// s holds src's process lock, as a server would.
		_, err := storesqlite.Restore(ctx, storesqlite.RestoreParams{From: backup, To: src, Replace: true})
		if !errors.Is(err, storesqlite.ErrLocked) {
			t.Errorf("err = %v; want ErrLocked", err)
		}
	})
	t.Run("restore over a database without --force", func(t *testing.T) {
		to := filepath.Join(t.TempDir(), "volley.db")
		if _, err := storesqlite.Restore(ctx, storesqlite.RestoreParams{From: backup, To: to}); err != nil {
			t.Fatal(err)
		}
		_, err := storesqlite.Restore(ctx, storesqlite.RestoreParams{From: backup, To: to})
		if err == nil || !strings.Contains(err.Error(), "--force") {
			t.Errorf("err = %v", err)
		}
		now := func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }
		if _, err := storesqlite.Restore(ctx, storesqlite.RestoreParams{From: backup, To: to, Replace: true, Now: now}); err != nil {
			t.Fatalf("Replace: %v", err)
		}
		if _, err := os.Stat(to + ".replaced-20261203T120000Z"); err != nil {
			t.Errorf("the replaced database was not kept: %v", err)
		}
	})
	t.Run("damaged backup", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.db")
		os.WriteFile(bad, []byte(strings.Repeat("not sqlite ", 1000)), 0o600)
		to := filepath.Join(t.TempDir(), "volley.db")
		if _, err := storesqlite.Restore(ctx, storesqlite.RestoreParams{From: bad, To: to}); err == nil {
			t.Error("restored a file that is not a database")
		}
		if _, err := os.Stat(to); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed restore left %s: %v", to, err)
		}
	})
	s.Close()
}
