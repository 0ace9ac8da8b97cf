// Package storesqlite is Volley's embedded storage driver: one SQLite file in
// WAL mode, opened by exactly one process.
//
// Durability: every write a client waits on (an ingest's 202, an API
// change) commits with synchronous=FULL, so the WAL is fsynced before
// Commit returns and an acknowledged write survives a process crash and a
// power loss. Throughput comes from callers batching many rows into one
// transaction (group commit), not from weaker syncing. (Deferring the
// fsync to a separate goroutine was measured and lost: smaller batches
// wrote more WAL per event and checkpoints fell behind. So was an fdatasync
// of the WAL after the write's turn on the writer, with synchronous=NORMAL
// throughout: the engine got the writer's time back, but the ingest's p99
// rose over 25 ms during a 2M purge and a 10M drain;
// docs/benchmarks.md, "The WAL synced after the writer's turn, reverted".
// And a goroutine syncing the WAL beside the writer after background
// commits shortened the ingests' syncs but made a 10M drain no faster:
// "The outcome tally at 10M, same hour; the WAL synced beside the writer,
// tried".)
// The engine's and the sweepers' own transactions (leases, outcomes,
// sweeps, retention, the search index) commit with synchronous=NORMAL: no
// fsync of their own; the next FULL commit, or checkpoint, syncs them with
// it (and one of them is FULL once the unsynced ones held the writer
// syncDebtMax). A process crash loses none of them; a power loss may lose
// the last ones, never a part of one, and never one before an acknowledged
// write (the WAL is replayed in order, up to the last synced commit): a
// delivery is then attempted again, as after a lease expires. See syncMode.
//
// Concurrency: SQLite has a single writer. All writes go through one
// connection, queued in Go by priority (see writer.go) instead of spinning on
// SQLITE_BUSY; reads use a separate pool and, thanks to WAL, never wait for
// the writer.
package storesqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the SQLite implementation of store.Store.
type Store struct {
	write       *sql.DB // one connection: SQLite's single writer
	read        *sql.DB
	writer      *writer       // orders writers by priority ahead of the one connection
	writerStats writerStats   // the writer's waits and holds by kind (store.WriterStats)
	log         *slog.Logger  // Config.Logger
	syncNormal  bool          // the write connection runs synchronous=NORMAL now; the writer's holder owns it
	syncDebt    time.Duration // writer time of the unsynced commits since the last synced one; the writer's holder owns it
	unlock      func() error
	migrations  []migration.Migration

	ckpt            *sql.DB // the checkpointer's connection (checkpoint.go); nil when Shared
	stopCheckpoints func()  // stops the checkpointer's loop; nil when Shared

	stmts map[string]*sql.Stmt // hot statements prepared on write, by query; read-only after Open
	dicts dictState            // each source's payload dictionary

	sweepSize     holdSizer // DeliverySweep's batches
	finishSize    holdSizer // DeliveryFinish's batches (DeliveryFinishBatch)
	leaseSize     holdSizer // DeliveryLease's batches (DeliveryLeaseBatch)
	indexSize     holdSizer // SearchIndex's batches
	xidAheadSize  holdSizer // its steps looking external ids up ahead of it (xidAhead), in events
	mergeSize     holdSizer // its merge steps, in leaf pages
	retentionSize holdSizer // RetentionDelete's rounds, in events
	vacuumSize    holdSizer // its vacuum steps, in pages
	partDropSize  holdSizer // the steps emptying a search index part, in rows

	search searchParts // the body search index's parts (search_parts.go)

	batchFunc         func(op string) // Config.BatchFunc
	yieldAfter        time.Duration   // yieldAfter; tests lower it
	incrementalVacuum bool            // the file gives free pages back (see retention.go)
	vacuumPages       int64           // vacuumPages; tests lower it
	vacuumReserve     int64           // vacuumReserve; tests lower it

	searchCandidateMax int   // searchCandidateMax; tests lower it
	searchCheckedMax   int   // searchCheckedMax; tests lower it
	searchRareMax      int   // searchRareMax; tests lower it
	walkMax            int   // walkMax; tests lower it
	xidAheadMin        int64 // xidAheadMin; tests lower it
	xidAheadChunk      int64 // xidAheadChunk; tests lower it
	searchExactMax     int   // searchExactMax; tests lower it
	searchSample       int   // searchSample; tests lower it
	candidateWalkMax   int   // candidateWalkMax; tests lower it
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.WriterStats = (*Store)(nil)
)

// Config configures Open.
type Config struct {
	// Path is the database file. Its directory is created if missing.
	Path string
	// ReadConns bounds concurrent readers; 0 means 2×GOMAXPROCS, at least 4.
	ReadConns int
	// Shared opens a database that a running server may hold, for an
	// operator's short command (`volley users`): no process lock is taken
	// and Open does not migrate, it requires the schema to be current.
	// SQLite's own locking keeps the two processes' writes apart; the
	// command's few writes wait behind the server's (busy_timeout).
	Shared bool
	// BatchFunc, when set, is called inside every background batch
	// transaction of bulk work (op is one of the Op names: OpRetention,
	// OpDeliverySweep, ...), after its writes and before its commit, while
	// it holds the writer.
	// Tests use it to hold a batch open; nil in production.
	BatchFunc func(op string)
	// Logger receives what background work (the checkpointer) cannot
	// return as an error, and writes that held the writer long; nil
	// discards them.
	Logger *slog.Logger
}

// ErrLocked means another Volley process holds the database.
var ErrLocked = errors.New("in use by another Volley process")

// writeCacheKiB is the page cache of the write connection: the work queue,
// the indexes ingestion and the engine update, and the newest events stay
// in it.
const writeCacheKiB = 32 << 10

// readCacheKiB is the page cache of each read connection: big enough for
// what one statement reads, a body search's candidates or the schema a
// connection reads again after every change to it (the search index's parts
// make it about 800 KiB at 10M events), because of how this build of SQLite
// keeps pages. Every connection of the process shares one page cache group
// (pagecache.go) with one list of the pages least recently used, and a
// connection whose cache is full takes that list's oldest page, whoever's
// it is: a read of more pages than its cache holds took, page by page, the
// write connection's, and dropped them at its next read (in WAL mode a
// connection drops its whole cache when it starts a read after another
// connection committed, nearly every read under ingestion). With 512 KiB
// per reader, filling the search index of a 10M-event store emptied the
// writer's 32 MiB cache down to a few pages (docs/benchmarks.md, "Readers
// that emptied the writer's cache"). A read of more than readCacheKiB
// still takes the writer's oldest pages.
//
// A bigger cache costs more to drop: without the page buffer (the
// allocator, VOLLEY_SQLITE_PAGE_MEMORY=malloc) freeing a 2 MiB cache held
// every commit behind it for up to 49 ms, so readers keep
// readCacheMallocKiB there (readCache).
const readCacheKiB = 4 << 10

// readCacheMallocKiB is readCacheKiB when SQLite's pages come from the
// allocator: small, as the drop's cost is per page (docs/benchmarks.md
// "The first PUT's stall, found").
const readCacheMallocKiB = 512

// readCache is the read connections' page cache in KiB, by where SQLite
// takes its pages from (pageBuffer, set before the first connection).
func readCache() int {
	if slots, _ := pageBuffer(); slots > 0 {
		return readCacheKiB
	}
	return readCacheMallocKiB
}

// defaultReadConns is how many read connections a store opens unless its
// Config says.
func defaultReadConns() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// Open opens (creating if needed) the database at cfg.Path, takes the
// process lock beside it so that no second process can open it, and applies
// pending migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := OpenNoMigrate(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Shared {
		current, err := s.MigrationsCurrent(ctx)
		if err == nil && !current {
			err = errors.New("its schema is not the one this binary expects: run the same version of volley as the server")
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: %s: %w", cfg.Path, err)
		}
	} else if _, err := s.MigrateUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadDicts(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadSearchParts(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// Refresh the query planner's statistics where they are missing or
	// stale (cheap: SQLite analyses only what needs it, in bounded work).
	if err := s.optimize(ctx, `PRAGMA optimize=0x10002`); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.readVacuumMode(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.setSearchConfig(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if !cfg.Shared {
		if err := s.startCheckpoints(cfg.Path); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// OpenNoMigrate opens the database like Open but leaves its schema alone;
// `volley migrate` uses it.
func OpenNoMigrate(cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	if err := registerFunctions(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	unlock := func() error { return nil }
	if !cfg.Shared {
		var err error
		if unlock, err = lockFile(cfg.Path + ".lock"); err != nil {
			return nil, err
		}
	}
	migs, err := migration.Load(mustSub(migrationFiles, "migrations"))
	if err != nil {
		unlock()
		return nil, err
	}
	write, err := sql.Open("sqlite", dsn(cfg.Path, connWrite, writeCacheKiB))
	if err != nil {
		unlock()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	n := cfg.ReadConns
	if n <= 0 {
		n = defaultReadConns()
	}
	read, err := sql.Open("sqlite", dsn(cfg.Path, connRead, readCache()))
	if err != nil {
		write.Close()
		unlock()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)

	// The first write connection creates the file and switches it to WAL,
	// which then persists; do it before any reader opens the file.
	if err := write.Ping(); err != nil {
		read.Close()
		write.Close()
		unlock()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{write: write, read: read, unlock: unlock, migrations: migs, stmts: map[string]*sql.Stmt{}, writer: newWriter(), log: log,
		batchFunc: cfg.BatchFunc, yieldAfter: yieldAfter, searchCandidateMax: searchCandidateMax, searchCheckedMax: searchCheckedMax, searchRareMax: searchRareMax, walkMax: walkMax, xidAheadMin: xidAheadMin, xidAheadChunk: xidAheadChunk,
		searchExactMax: searchExactMax, searchSample: searchSample, candidateWalkMax: candidateWalkMax,
		search: searchParts{events: searchPartEvents, dropRows: searchDropRows}}, nil
}

// connRole is what a connection of the store is for: its pragmas differ.
type connRole int

const (
	connWrite      connRole = iota // the one write connection
	connRead                       // a read connection: it cannot write
	connCheckpoint                 // the checkpointer's (checkpoint.go): it copies the WAL, and writes nothing
)

// dsn builds the connection string of a connection for role with a page
// cache of cacheKiB. Pragmas run on every new connection.
func dsn(path string, role connRole, cacheKiB int) string {
	q := url.Values{}
	pragmas := []string{
		"busy_timeout(10000)",
		"foreign_keys(1)",
		fmt.Sprintf("cache_size(-%d)", cacheKiB),
		// No memory-mapped I/O (SQLite's default, said here because it
		// matters): mapped pages count in resident memory.
		"mmap_size(0)",
		"temp_store(memory)",
	}
	switch role {
	case connRead:
		pragmas = append(pragmas, "query_only(1)")
	case connCheckpoint:
		// Only the write connection sets the file's pragmas: setting
		// auto_vacuum commits a write even when the value is the same, and
		// a commit from another connection makes the write connection drop
		// its whole page cache at its next transaction, which held every
		// ingest behind it for 100-200 ms at each start of a node
		// (docs/benchmarks.md, "The checkpointer's first query"). A
		// checkpoint still syncs the database file under FULL; query_only
		// does not stop it.
		pragmas = append(pragmas, "synchronous(FULL)", "query_only(1)")
	default:
		// A new file gives the pages retention frees back to the file
		// system (retention.go); this must come before its first table. On an
		// existing file it changes nothing until a VACUUM.
		// The WAL is truncated back to 64 MiB after a checkpoint resets it.
		pragmas = append(pragmas, "auto_vacuum(incremental)", "journal_mode(WAL)", "synchronous(FULL)", "journal_size_limit(67108864)")
		q.Set("_txlock", "immediate")
	}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the database and releases the process lock.
func (s *Store) Close() error {
	// What SQLite recommends before closing: record statistics the
	// queries of this run showed to be useful.
	var err error
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
		err = s.ckpt.Close()
	}
	err = errors.Join(err, s.optimize(context.Background(), `PRAGMA optimize`))
	for _, st := range s.stmts {
		err = errors.Join(err, st.Close())
	}
	err = errors.Join(err, s.read.Close(), s.write.Close())
	if s.unlock != nil {
		err = errors.Join(err, s.unlock())
	}
	return err
}

// Ping checks that both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return s.read.PingContext(ctx)
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY violation
// and, if so, the constrained columns ("sources.project_id, sources.slug").
func uniqueViolation(err error) (string, bool) {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		// The message reads "constraint failed: UNIQUE constraint failed:
		// t.a, t.b (2067)": the columns follow the last "failed: ".
		msg := err.Error()
		if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
			msg = msg[i+len("constraint failed: "):]
		}
		cols, _, _ := strings.Cut(msg, " (")
		return cols, true
	}
	return "", false
}

// foreignKeyViolation reports whether err is a FOREIGN KEY violation: a
// referenced row was deleted concurrently.
func foreignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// micros converts a time to the stored representation.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts the stored representation back to a UTC time; 0 is the
// zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
