//go:build unix

package storesqlite_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store/storesqlite"
)

func TestProcessLock(t *testing.T) {
	t.Parallel()
	cfg := storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")}
	s, err := storesqlite.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// A failed attempt must not release the holder's lock, so try twice.
	for range 2 {
		second, err := storesqlite.OpenNoMigrate(cfg)
		if err == nil {
			second.Close()
			t.Fatal("OpenNoMigrate of a database in use succeeded")
		}
		if !strings.Contains(err.Error(), "in use") {
			t.Fatalf("OpenNoMigrate of a database in use: error %q does not say it is in use", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again, err := storesqlite.OpenNoMigrate(cfg)
	if err != nil {
		t.Fatalf("OpenNoMigrate after Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
