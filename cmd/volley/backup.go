package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
)

// noPostgresBackup is the answer of backup and restore on PostgreSQL, whose
// own tools do it better than a copy through Volley could.
var noPostgresBackup = usageError{"backup and restore copy the embedded SQLite store; with PostgreSQL use pg_dump and pg_restore " +
	"(see docs/operating.md, \"Backups\")"}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", "backup --to FILE [flags]", stderr)
	var sf storeFlags
	sf.register(fs)
	to := fs.String("to", "", "the backup file to write; it must not exist (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("backup: unexpected argument %q", fs.Arg(0))}
	}
	if *to == "" {
		fs.Usage()
		return usageError{"backup: --to FILE is required"}
	}
	if sf.postgres() {
		return noPostgresBackup
	}
	start := time.Now()
	info, err := storesqlite.Backup(ctx, sf.sqliteFile(), *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s (schema %04d) to %s: %s in %s.\n", sf.sqliteFile(), info.Schema, info.Path,
		formatBytes(info.Bytes), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "Its secrets are sealed with %s: keep a copy of that key apart from the backup; a restore needs it.\n", keyOrigin(&sf))
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", "restore --from FILE [flags]", stderr)
	var sf storeFlags
	sf.register(fs)
	from := fs.String("from", "", "the backup file made by `volley backup` (required)")
	force := fs.Bool("force", false, "replace the data directory's database; the replaced files are kept beside it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("restore: unexpected argument %q", fs.Arg(0))}
	}
	if *from == "" {
		fs.Usage()
		return usageError{"restore: --from FILE is required"}
	}
	if sf.postgres() {
		return noPostgresBackup
	}
	info, err := storesqlite.Restore(ctx, storesqlite.RestoreParams{From: *from, To: sf.sqliteFile(), Replace: *force})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s (schema %04d) into %s.\n", *from, info.Schema, info.Path)

	// The restored secrets are only as good as the key that opens them:
	// say now, not at the first delivery, whether the key here does.
	key, origin, err := existingKey(&sf)
	if err != nil {
		return err
	}
	if key == nil {
		fmt.Fprintf(stdout, "No secret key yet: before starting the server, put the key of the server that made the backup in %s "+
			"or VOLLEY_SECRET_KEY; a new key would not open the backup's secrets.\n", filepath.Join(sf.dataDir, "secret.key"))
		return nil
	}
	st, err := storesqlite.OpenNoMigrate(storesqlite.Config{Path: info.Path})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := checkSealed(ctx, st, key)
	switch {
	case errors.Is(err, errWrongKey):
		return fmt.Errorf("restore: the database is restored, but %s does not open its secrets: use the key of the server that made the backup", origin)
	case err != nil:
		return fmt.Errorf("restore: check the secret key: %w", err)
	case n == 0:
		fmt.Fprintln(stdout, "The backup holds no sealed secret to check the key against.")
	default:
		fmt.Fprintf(stdout, "%s opens the backup's secrets.\n", capitalize(origin))
	}
	return nil
}

// keyOrigin says where the key of a store comes from, for messages.
func keyOrigin(sf *storeFlags) string {
	if os.Getenv("VOLLEY_SECRET_KEY") != "" {
		return "the key in VOLLEY_SECRET_KEY"
	}
	return "the key in " + filepath.Join(sf.dataDir, "secret.key")
}

// existingKey returns the configured secret key without creating one, and
// where it came from; nil when there is none yet.
func existingKey(sf *storeFlags) (key []byte, origin string, err error) {
	if v := os.Getenv("VOLLEY_SECRET_KEY"); v != "" {
		k, err := seal.ParseKey(v)
		if err != nil {
			return nil, "", fmt.Errorf("VOLLEY_SECRET_KEY: %w", err)
		}
		return k, "the key in VOLLEY_SECRET_KEY", nil
	}
	if sf.postgres() {
		return nil, "", nil // the server reads no key file with PostgreSQL
	}
	path := filepath.Join(sf.dataDir, "secret.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read secret key: %w", err)
	}
	k, err := seal.ParseKey(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return k, "the key in " + path, nil
}

// errWrongKey means the key does not open what the store sealed.
var errWrongKey = errors.New("the secret key does not open the stored secrets")

// checkSealed opens sealed values of the store with key: the API tokens of
// the first accounts, which every store has (each account gets one). It
// returns how many it opened, or errWrongKey.
func checkSealed(ctx context.Context, st store.Store, key []byte) (int, error) {
	box, err := sealBox(key)
	if err != nil {
		return 0, err
	}
	accounts, err := st.AccountList(ctx)
	if err != nil {
		return 0, fmt.Errorf("list accounts: %w", err)
	}
	opened := 0
	for _, a := range accounts[:min(len(accounts), 5)] {
		tokens, err := st.TokenList(ctx, a.ID)
		if err != nil {
			return opened, fmt.Errorf("list tokens: %w", err)
		}
		for _, t := range tokens {
			if len(t.Sealed) == 0 {
				continue
			}
			if _, err := box.Open(t.Sealed); err != nil {
				return opened, errWrongKey
			}
			opened++
		}
	}
	return opened, nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
