package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Durability without an fsync on the write path.
//
// The write connection runs with synchronous=NORMAL: a commit appends its
// frames to the WAL with write(2) but does not wait for the disk. A syncer
// goroutine fsyncs the WAL file in a loop, and a caller that must not answer
// before its data is on disk (an ingest's 202, an API change) waits until an
// fsync that started after its commit has returned. WAL frames are
// sequential and checksummed, so that fsync also makes every earlier commit
// durable, and recovery after a power loss keeps exactly the synced prefix.
// Checkpoints (SQLite fsyncs the WAL before and the database after each one
// in NORMAL mode) run in the background on their own connection.
//
// The effect equals synchronous=FULL for everything acknowledged, while the
// single writer never sits idle during an fsync: the next transaction runs
// while the previous one syncs, and one fsync covers many commits. Writes
// nobody waits for (delivery outcomes, leases) cost no fsync at all; if a
// crash loses them, the delivery is simply attempted again.
type syncer struct {
	path string // the WAL file

	mu        sync.Mutex
	cond      *sync.Cond
	committed uint64 // sequence number of the latest commit
	wanted    uint64 // the latest commit someone waits for
	synced    uint64 // every commit up to this one is on disk
	err       error  // a failed fsync: durability can no longer be promised
	closed    bool
	done      chan struct{}
}

func newSyncer(dbPath string) *syncer {
	s := &syncer{path: dbPath + "-wal", done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// committedNow records a commit and returns its sequence number. Call it
// after each write transaction commits (writes are serial, so the numbers
// follow commit order).
func (s *syncer) committedNow() uint64 {
	s.mu.Lock()
	s.committed++
	seq := s.committed
	s.mu.Unlock()
	return seq
}

// wait blocks until commit seq is durable.
func (s *syncer) wait(ctx context.Context, seq uint64) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq > s.wanted {
		s.wanted = seq
		s.cond.Broadcast()
	}
	for s.synced < seq && s.err == nil && !s.closed {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for durability: %w", ctx.Err())
		}
		s.cond.Wait()
	}
	switch {
	case s.err != nil:
		return s.err
	case s.synced < seq:
		return errors.New("sqlite: store closed before the write was synced")
	}
	return nil
}

// run fsyncs the WAL whenever someone waits for a commit, until close.
// Commits nobody waits for are synced by the next fsync anyone needs, or by
// the next checkpoint.
func (s *syncer) run() {
	defer close(s.done)
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for {
		s.mu.Lock()
		for s.wanted <= s.synced && !s.closed {
			s.cond.Wait()
		}
		if s.closed && s.wanted <= s.synced {
			s.mu.Unlock()
			return
		}
		target := s.committed // everything committed so far: one fsync covers it
		s.mu.Unlock()

		err := s.syncWAL(&f)
		s.mu.Lock()
		if err != nil {
			s.err = fmt.Errorf("sqlite: fsync %s: %w", s.path, err)
		} else {
			s.synced = target
		}
		s.mu.Unlock()
		s.cond.Broadcast()
		if err != nil {
			return
		}
	}
}

// syncWAL fsyncs the WAL file, opening it (and syncing its directory, so the
// file itself survives) on first use.
func (s *syncer) syncWAL(f **os.File) error {
	if *f == nil {
		wal, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		dir, err := os.Open(filepath.Dir(s.path))
		if err == nil {
			err = dir.Sync()
			dir.Close()
		}
		if err != nil {
			wal.Close()
			return err
		}
		*f = wal
	}
	return (*f).Sync()
}

// close syncs what is pending and stops the syncer.
func (s *syncer) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cond.Broadcast()
	<-s.done
}

// checkpointInterval is how often the background checkpointer runs.
const checkpointInterval = 100 * time.Millisecond

// checkpointer copies WAL frames into the database in the background, on
// its own connection, without blocking the writer (PASSIVE mode), so the
// WAL stays small and the write path never runs a checkpoint itself.
func checkpointer(db *sql.DB, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			return
		case <-t.C:
			db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}
