package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Checkpoints. In WAL mode every commit appends its pages to the WAL, and
// a checkpoint copies them back into the database file. SQLite's default
// runs the checkpoint inside whichever commit takes the WAL past 1,000
// pages: on a big store that commit writes pages all over the file and
// fsyncs it, tens of milliseconds, and when the commit is an ingest's, the
// ingest and every one queued behind it wait for it. So the write
// connection never checkpoints (wal_autocheckpoint=0); a goroutine does,
// on a connection of its own, in two steps:
//
//  1. a PASSIVE checkpoint beside the writer, which copies what is in the
//     WAL without taking the write lock, so writes go on meanwhile;
//  2. when the WAL has grown past checkpointFrames, the same again while
//     holding the writer as a background writer (behind waiting ingests,
//     see writer.go): only the pages committed during step 1 are left to
//     copy, and with nothing appended meanwhile the checkpoint completes,
//     so the next commit starts the WAL again from its beginning instead
//     of growing it. (Under steady writes a checkpoint beside the writer
//     almost never catches up, and the WAL would grow without end.)
//
// A reader still on an old snapshot keeps the checkpoint from copying what
// it might read; the WAL then grows until the reader ends, as with
// SQLite's own checkpoints.

const (
	// checkpointEvery is how often the checkpointer looks at the WAL.
	checkpointEvery = 200 * time.Millisecond
	// checkpointFrames is the WAL's size, in pages, past which a
	// checkpoint takes the writer to complete: SQLite's own
	// autocheckpoint threshold.
	checkpointFrames = 1000
)

// startCheckpoints turns the write connection's checkpoints off and starts
// the checkpointer on a connection of its own (s.ckpt). stopCheckpoints
// stops its loop and leaves the connection to Close.
func (s *Store) startCheckpoints(path string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := sql.Open("sqlite", dsn(path, false, 2<<10))
	if err != nil {
		return fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	if _, err := s.write.Exec(`PRAGMA wal_autocheckpoint = 0`); err != nil {
		db.Close()
		return fmt.Errorf("sqlite: turn off autocheckpoint: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.ckpt = db
	s.stopCheckpoints = sync.OnceFunc(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := s.checkpointRound(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sqlite checkpoint", "err", err)
			}
		}
	}()
	return nil
}

// walFrames is what a PASSIVE checkpoint reports: the WAL's size in
// pages, and how many of them are now copied into the database file.
type walFrames struct {
	log, done int64
}

// checkpoint runs one PASSIVE checkpoint on the checkpointer's connection.
func (s *Store) checkpoint(ctx context.Context) (walFrames, error) {
	var busy int
	var f walFrames
	if err := s.ckpt.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &f.log, &f.done); err != nil {
		return walFrames{}, fmt.Errorf("checkpoint: %w", err)
	}
	return f, nil
}

// checkpointRound runs the two steps described above and returns the WAL's
// state after them.
func (s *Store) checkpointRound(ctx context.Context) (walFrames, error) {
	f, err := s.checkpoint(ctx)
	if err != nil || f.log < checkpointFrames || f.done >= f.log {
		return f, err
	}
	s.writer.lock(false)
	defer s.writer.unlock()
	return s.checkpoint(ctx)
}
