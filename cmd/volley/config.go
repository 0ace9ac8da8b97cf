package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storesqlite"
)

// storeFlags are the flags every command that opens the store shares.
type storeFlags struct {
	dataDir  string
	database string
	log      *slog.Logger // for the store's background work; nil discards
}

// env returns the environment variable's value, or def when it is unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envReader reads typed flag defaults from the environment and remembers
// malformed values, which the command reports after parsing its flags.
type envReader struct{ errs []string }

func (r *envReader) int(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		r.errs = append(r.errs, fmt.Sprintf("%s: %q is not an integer", name, v))
	}
	return def
}

func (r *envReader) int64(name string, def int64) int64 {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		r.errs = append(r.errs, fmt.Sprintf("%s: %q is not an integer", name, v))
	}
	return def
}

func (r *envReader) float(name string, def float64) float64 {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return n
		}
		r.errs = append(r.errs, fmt.Sprintf("%s: %q is not a number", name, v))
	}
	return def
}

func (r *envReader) duration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		r.errs = append(r.errs, fmt.Sprintf("%s: %q is not a duration like 15s or 720h", name, v))
	}
	return def
}

// err returns the malformed values as one usage error, or nil.
func (r *envReader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return usageError{strings.Join(r.errs, "; ")}
}

// postgres reports whether the database is PostgreSQL.
func (f *storeFlags) postgres() bool {
	return strings.HasPrefix(f.database, "postgres://") || strings.HasPrefix(f.database, "postgresql://")
}

// exclusive reports whether the store belongs to this process alone.
func (f *storeFlags) exclusive() bool {
	return f.database == "" || strings.HasPrefix(f.database, "sqlite:")
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", env("VOLLEY_DATA_DIR", "./volley-data"),
		"directory for the embedded database, the secret key and the admin token (env VOLLEY_DATA_DIR)")
	fs.StringVar(&f.database, "database", env("VOLLEY_DATABASE_URL", ""),
		"database URL; empty uses SQLite in the data directory (env VOLLEY_DATABASE_URL)")
}

// sqlitePath is where the embedded database lives.
func (f *storeFlags) sqlitePath() string { return filepath.Join(f.dataDir, "volley.db") }

// sqliteFile is the SQLite database the flags name: --database sqlite:PATH,
// else the one in the data directory.
func (f *storeFlags) sqliteFile() string {
	if path := strings.TrimPrefix(f.database, "sqlite:"); path != "" {
		return path
	}
	return f.sqlitePath()
}

// openStore opens the configured store; with migrate false the schema is
// left alone (for `volley migrate`).
func (f *storeFlags) openStore(ctx context.Context, migrate bool) (store.Store, error) {
	switch {
	case f.database == "" || strings.HasPrefix(f.database, "sqlite:"):
		cfg := storesqlite.Config{Path: f.sqliteFile(), Logger: f.log}
		if migrate {
			return storesqlite.Open(ctx, cfg)
		}
		return storesqlite.OpenNoMigrate(cfg)
	case f.postgres():
		cfg := storepg.Config{URL: f.database}
		if migrate {
			return storepg.Open(ctx, cfg)
		}
		return storepg.OpenNoMigrate(ctx, cfg)
	}
	return nil, usageError{fmt.Sprintf("--database: unsupported URL %q (use postgres://… or leave it empty for SQLite)", redactURL(f.database))}
}

// redactURL hides a password in a database URL before it is printed.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.Index(s[i+3:], "@"); j >= 0 {
			return s[:i+3] + "…" + s[i+3+j:]
		}
	}
	return s
}

// secretKeys returns the key that seals secrets at rest and the previous
// keys still read while a rotation is under way: VOLLEY_SECRET_KEY and
// VOLLEY_SECRET_KEY_PREVIOUS (comma-separated), else (embedded store only)
// the key file in the data directory, created on first use, whose first
// line is the key and later lines previous keys. With PostgreSQL every
// node must seal with the same key, so the key must be given.
func (f *storeFlags) secretKeys() (current []byte, previous [][]byte, err error) {
	if v := os.Getenv("VOLLEY_SECRET_KEY"); v != "" {
		k, err := seal.ParseKey(v)
		if err != nil {
			return nil, nil, fmt.Errorf("VOLLEY_SECRET_KEY: %w", err)
		}
		prev, err := seal.ParseKeys(os.Getenv("VOLLEY_SECRET_KEY_PREVIOUS"), ",")
		if err != nil {
			return nil, nil, fmt.Errorf("VOLLEY_SECRET_KEY_PREVIOUS: %w", err)
		}
		return k, prev, nil
	}
	if os.Getenv("VOLLEY_SECRET_KEY_PREVIOUS") != "" {
		return nil, nil, usageError{"VOLLEY_SECRET_KEY_PREVIOUS is set without VOLLEY_SECRET_KEY: give the new key too " +
			"(with the key file, list the previous keys on its later lines instead)"}
	}
	if f.postgres() {
		return nil, nil, usageError{"VOLLEY_SECRET_KEY is required with PostgreSQL: every node must seal secrets with the same key " +
			"(generate one with: openssl rand -hex 32)"}
	}
	return seal.LoadOrCreateKeyFile(filepath.Join(f.dataDir, "secret.key"), rand.Reader)
}

// parseEgressAllow reads VOLLEY_EGRESS_ALLOW; unset means loopback only.
func parseEgressAllow(s string, set bool) ([]netip.Prefix, error) {
	if !set {
		return egress.DefaultAllow(), nil
	}
	p, err := egress.ParseAllowList(s)
	if err != nil {
		return nil, fmt.Errorf("--egress-allow: %w", err)
	}
	return p, nil
}

// newLogger builds the process logger from VOLLEY_LOG_LEVEL and
// VOLLEY_LOG_FORMAT.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level: %q is not debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format: %q is not text or json", format)}
}

// newFlagSet returns a flag set whose usage text lists the flags under a
// one-line description.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: volley %s\n\n", synopsis)
		fmt.Fprintln(out, "Flags (each also read from the environment variable in parentheses):")
		fs.PrintDefaults()
	}
	return fs
}

func sealBox(key []byte, previous [][]byte) (*seal.Box, error) {
	return seal.NewBox(key, rand.Reader, previous...)
}
