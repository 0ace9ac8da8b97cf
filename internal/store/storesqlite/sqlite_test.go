package storesqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// setup opens a fresh, migrated database in a temporary directory and closes
// it when the test ends.
func setup(tb testing.TB) *storesqlite.Store {
	tb.Helper()
	s, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: filepath.Join(tb.TempDir(), "volley.db")})
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

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return setup(t) })
}

func TestMigrateDownAndUp(t *testing.T) {
	t.Parallel()
	storetest.RunMigrations(t, setup(t))
}
