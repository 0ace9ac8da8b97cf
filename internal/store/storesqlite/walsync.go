package storesqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
)

// Durable commits sync the WAL after they give the writer back. The write
// connection commits with synchronous=NORMAL, which writes a commit's
// frames to the WAL without syncing it; a write a client waits on then
// waits here, outside the writer's turn, for an fdatasync of the WAL that
// started after its commit. Under synchronous=FULL SQLite syncs inside the
// commit, so every other writer waited for the disk too: at 200 ingests a
// second that was a third of the writer's busy time during a drain. Now
// the engine's outcomes and leases use the writer while an ingest's sync
// runs (an ingest holds it a third as long), and ingests that commit
// meanwhile share the next sync (group commit). What that gained and cost:
// docs/benchmarks.md, "Acknowledged writes sync the WAL after their turn
// on the writer", and at 10M events, where the ingest's p99 during a
// drain rose (most likely because an ingest's sync now writes back the
// unsynced frames of the background commits before it; not measured),
// "SQLite at 10,000,000 events after the WAL sync change".
//
// The order that makes this safe: the frames are written (Commit returned)
// before the sync starts, and the client hears of the write only after the
// sync returned. A checkpoint cannot lose them meanwhile: it syncs the WAL
// before copying it and the database file before the WAL may start over.
// Background commits are never synced here on their own: the next durable
// commit's sync covers them, as before.
type walSyncer struct {
	path string
	// syncFile makes the WAL's contents durable: fdatasync on Linux
	// (walsync_linux.go). Tests wrap it.
	syncFile func(*os.File) error
	log      *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	commits uint64   // durable commits counted so far, in WAL order
	synced  uint64   // durable commits a finished sync covers
	syncing bool     // a sync runs (outside mu)
	err     error    // the first failed sync: every later durable write fails
	f       *os.File // the WAL, opened at the first sync; only the syncing goroutine uses it
}

func newWALSyncer(dbPath string, log *slog.Logger) *walSyncer {
	w := &walSyncer{path: dbPath + "-wal", syncFile: syncData, log: log}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// commit counts a durable commit and returns its number for wait. The
// caller holds the writer and has just committed, so numbers follow the
// order of the commits' frames in the WAL.
func (w *walSyncer) commit() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.commits++
	return w.commits
}

// wait returns once a sync that started after commit n has finished: a
// sync already running when n committed may have missed its frames, so
// its waiters wait for the next one, which serves them all at once.
func (w *walSyncer) wait(n uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.synced < n && w.err == nil {
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.syncing = true
		upTo := w.commits
		w.mu.Unlock()
		err := w.syncWAL()
		w.mu.Lock()
		w.syncing = false
		if err != nil {
			// After a failed fsync the kernel may have dropped the
			// pages it could not write, and a later fsync reports
			// success: nothing written since can be called durable.
			w.err = fmt.Errorf("sqlite: sync the WAL: %w (acknowledged writes stop until the node restarts)", err)
			w.log.Error("sqlite: a WAL sync failed; no write will be acknowledged until the node restarts", "err", err)
		} else {
			w.synced = max(w.synced, upTo)
		}
		w.cond.Broadcast()
	}
	return w.err
}

// failed returns the sticky error of a failed sync, or nil.
func (w *walSyncer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// syncWAL syncs the WAL file. SQLite truncates and rewrites the WAL in
// place but deletes it when its last connection closes (after copying it
// all into the synced database file), so the file is found by name each
// time: no WAL means nothing left to sync.
func (w *walSyncer) syncWAL() error {
	cur, err := os.Stat(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		w.closeFile()
		return nil
	}
	if err != nil {
		return err
	}
	if w.f != nil {
		if fi, err := w.f.Stat(); err != nil || !os.SameFile(fi, cur) {
			w.closeFile()
		}
	}
	if w.f == nil {
		f, err := os.Open(w.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		w.f = f
	}
	return w.syncFile(w.f)
}

func (w *walSyncer) closeFile() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// close closes the WAL's handle once no sync runs.
func (w *walSyncer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.syncing {
		w.cond.Wait()
	}
	w.closeFile()
}
