package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/volleyhq/volley/internal/store/migration"
)

// BackupInfo describes a backup file.
type BackupInfo struct {
	Path   string
	Bytes  int64
	Schema int // newest migration applied in the backup
}

// Backup writes a consistent copy of the database at src to dst while a
// server may be running on it. It uses VACUUM INTO, which copies one
// snapshot of the database: a read transaction in WAL mode, so the server's
// writes go on meanwhile (they are simply not in the copy). SQLite's online
// backup API is not used because, driven from another process, it starts
// over whenever the server writes, which a busy server does all the time.
//
// The copy is compacted (free pages dropped) and written to a temporary
// file beside dst, synced, checked with quick_check, then renamed into
// place: dst either does not exist or is a whole backup. dst must not exist.
// While the copy runs the WAL cannot be checkpointed past the snapshot, so
// it grows by what the server writes meanwhile and shrinks back after.
func Backup(ctx context.Context, src, dst string) (*BackupInfo, error) {
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("backup: database: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("backup: %s already exists; choose a new file", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := registerFunctions(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	// Not query_only: SQLite counts VACUUM INTO as a write, though it
	// writes only the new file.
	db, err := openPlain(src, false)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if ok, err := isVolleyDatabase(ctx, db); err != nil {
		return nil, fmt.Errorf("backup: read %s: %w", src, err)
	} else if !ok {
		return nil, fmt.Errorf("backup: %s is not a Volley database (no schema_migrations table)", src)
	}

	tmp := dst + ".partial"
	os.Remove(tmp) // left by an interrupted backup; VACUUM INTO wants no file
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: copy: %w", err)
	}
	// The copy holds webhook bodies and sealed secrets: owner only, like
	// the database it came from.
	err = os.Chmod(tmp, 0o600)
	var info *BackupInfo
	if err == nil {
		info, err = checkFile(ctx, tmp)
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err == nil {
		err = syncDir(filepath.Dir(dst))
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: %w", err)
	}
	info.Path = dst
	return info, nil
}

// RestoreParams configures Restore.
type RestoreParams struct {
	// From is the backup file (made by Backup).
	From string
	// To is the database path to restore into (the data directory's
	// volley.db).
	To string
	// Replace allows restoring over an existing database; the files it
	// replaces are kept beside it, renamed with a .replaced-<time> suffix.
	Replace bool
	// Now names the replaced files; nil means time.Now.
	Now func() time.Time
}

// Restore puts a backup in place of the database at p.To. It takes the
// same process lock a server takes, so it refuses while a server holds the
// database and no server can start while it runs. The backup is checked
// (quick_check, a schema this binary knows) before anything is replaced, and
// it is copied beside the target and renamed into place, so a crash leaves
// either the old database or the restored one.
func Restore(ctx context.Context, p RestoreParams) (*BackupInfo, error) {
	if err := registerFunctions(); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p.To), 0o700); err != nil {
		return nil, fmt.Errorf("restore: create data directory: %w", err)
	}
	unlock, err := lockFile(p.To + ".lock")
	if err != nil {
		return nil, fmt.Errorf("restore: %w (stop the server first)", err)
	}
	defer unlock()

	exists := false
	if _, err := os.Stat(p.To); err == nil {
		exists = true
		if !p.Replace {
			return nil, fmt.Errorf("restore: %s already has a database; restore into a new data directory, or pass --force to replace it (the old files are kept beside it)", filepath.Dir(p.To))
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("restore: %w", err)
	}

	tmp := p.To + ".restoring"
	if err := copyFile(p.From, tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("restore: copy %s: %w", p.From, err)
	}
	info, err := checkFile(ctx, tmp)
	if err == nil {
		err = checkSchemaKnown(info.Schema)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("restore: %s: %w", p.From, err)
	}
	if exists {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		suffix := ".replaced-" + now().UTC().Format("20060102T150405Z")
		// The WAL belongs to the old file: it must go with it, or SQLite
		// would replay it onto the restored one.
		for _, ext := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(p.To+ext, p.To+suffix+ext); err != nil && !errors.Is(err, os.ErrNotExist) {
				os.Remove(tmp)
				return nil, fmt.Errorf("restore: keep the old database: %w", err)
			}
		}
	}
	if err := os.Rename(tmp, p.To); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := syncDir(filepath.Dir(p.To)); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	info.Path = p.To
	return info, nil
}

// checkSchemaKnown refuses a backup made by a newer Volley: this binary
// could not run its schema, and its migrations would not know how.
func checkSchemaKnown(schema int) error {
	migs, err := migration.Load(mustSub(migrationFiles, "migrations"))
	if err != nil {
		return err
	}
	if newest := migs[len(migs)-1].Version; schema > newest {
		return fmt.Errorf("its schema (%04d) is newer than this binary's (%04d): restore it with the version of volley that made it", schema, newest)
	}
	return nil
}

// checkFile verifies a database file and reads its size and schema.
func checkFile(ctx context.Context, path string) (*BackupInfo, error) {
	db, err := openPlain(path, true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	if res != "ok" {
		return nil, fmt.Errorf("check: the file is damaged: %s", res)
	}
	if ok, err := isVolleyDatabase(ctx, db); err != nil {
		return nil, fmt.Errorf("check: %w", err)
	} else if !ok {
		return nil, errors.New("not a Volley database (no schema_migrations table)")
	}
	info := &BackupInfo{}
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&info.Schema); err != nil {
		return nil, fmt.Errorf("check: read schema version: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	info.Bytes = st.Size()
	return info, nil
}

func isVolleyDatabase(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	return n == 1, err
}

// openPlain opens one connection to a database file outside a Store: no
// process lock, no migration, no WAL switch (a file that is in WAL mode
// stays so). readOnly refuses writes to the file itself.
func openPlain(path string, readOnly bool) (*sql.DB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)"
	if readOnly {
		dsn += "&_pragma=query_only(1)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
