package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// Checkpoints. In WAL mode every commit appends its pages to the WAL, and
// a checkpoint copies them back into the database file and syncs it.
// SQLite's default runs the checkpoint inside whichever commit takes the
// WAL past 1,000 pages, an ingest's as often as not. So the write
// connection never checkpoints (wal_autocheckpoint=0); a goroutine does,
// on a connection of its own, every checkpointEvery, when something was
// committed since its last round.
//
// A round holds the writer, as a background writer (behind waiting
// ingests, see writer.go): a checkpoint's sync is a burst of writes all
// over the database file, and a commit syncing the WAL at the same time
// waits behind it in the disk's queue. Run beside the writer, checkpoints
// made ingest commits that took 2 ms take 0.5-2 s during a retention
// purge; held, an ingest waits at most for one round, which copies only
// what was committed since the last one (a few milliseconds' worth), and
// the checkpoint completes, so the next commit starts the WAL again from
// its beginning.
//
// A reader still on an old snapshot keeps a checkpoint from copying what
// it might read, and the WAL grows until the reader ends (a backup, a long
// list). Copying that backlog while holding the writer would hold it for
// seconds, so a round that finds more than checkpointBesideFrames left
// copies beside the writer first (PASSIVE, without the write lock), and
// holds it only for the rest, at most checkpointHeldMax pages. Meanwhile
// bulk background work could write faster than that copy: while a round
// beside the writer makes progress and leaves more than
// checkpointThrottleFrames, background writers wait (writer.go);
// acknowledged writes go on. While the reader stops the copy altogether,
// they do not wait: a backup's long read must not stop deliveries.

const (
	// checkpointEvery is how often the checkpointer looks at the WAL:
	// often, so that each round copies and syncs little.
	checkpointEvery = 50 * time.Millisecond
	// checkpointCatchUp is how soon the next round starts while
	// background writers wait for the checkpointer.
	checkpointCatchUp = 5 * time.Millisecond
	// checkpointBesideFrames is the backlog (16 MiB of 4 KiB pages) past
	// which a round copies beside the writer before it holds it.
	checkpointBesideFrames = 4096
	// checkpointHeldMax is the most pages a round may have left to copy
	// when it takes the writer after copying beside it (1 MiB).
	checkpointHeldMax = 256
	// checkpointPasses bounds the copies beside the writer in one round.
	checkpointPasses = 4
	// checkpointThrottleFrames is how far (4 MiB) the WAL may run ahead of
	// a round copying beside the writer before background writers wait
	// for it.
	checkpointThrottleFrames = 1024
	// checkpointCacheKiB is the checkpointer connection's page cache.
	checkpointCacheKiB = 2 << 10
)

// startCheckpoints turns the write connection's checkpoints off and starts
// the checkpointer on a connection of its own (s.ckpt). stopCheckpoints
// stops its loop and leaves the connection to Close.
func (s *Store) startCheckpoints(path string) error {
	db, err := sql.Open("sqlite", dsn(path, connCheckpoint, checkpointCacheKiB))
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
		defer s.writer.throttle(false)
		last := walUnknown
		var version int64 = -1
		for {
			wait := checkpointEvery
			if s.writer.isThrottled() {
				wait = checkpointCatchUp
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			// Nothing committed since the last round, which copied
			// everything: nothing to do.
			v, err := s.dataVersion(ctx)
			if err == nil && v == version && last.done >= last.log {
				continue
			}
			f, err := s.checkpointRound(ctx, last)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("sqlite checkpoint", "err", err)
				}
				s.writer.throttle(false)
				continue
			}
			s.writer.throttle(f.log-f.done > checkpointThrottleFrames && f.copiedSince(last))
			last, version = f, v
		}
	}()
	return nil
}

// dataVersion reads the checkpointer connection's PRAGMA data_version,
// which changes when another connection commits.
func (s *Store) dataVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.ckpt.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	return v, nil
}

// walFrames is what a PASSIVE checkpoint reports: the WAL's size in
// pages, and how many of them are now copied into the database file.
type walFrames struct {
	log, done int64
}

// walUnknown is what the checkpointer takes the WAL to be before its first
// round: a backlog, so that the round copies beside the writer first. A
// WAL left by a node that stopped, or by a command that wrote to the file,
// may be large: at 271,488 frames (1 GiB, left by the scale bench's
// setup) a first round that held the writer for the whole copy held it
// 482 ms, with every ingest waiting (docs/benchmarks.md).
var walUnknown = walFrames{log: checkpointBesideFrames + 1}

// copiedSince reports whether the checkpoints since the one that reported
// before copied anything: when a reader's snapshot stops them, throttling
// writers would not let them catch up, only stall the writers for as long
// as the reader (a backup) runs.
func (f walFrames) copiedSince(before walFrames) bool {
	if f.log < before.log {
		return true // the WAL started again
	}
	return f.done > before.done
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

// checkpointRound runs one round, as described above, given what the one
// before reported, and returns the WAL's state after it.
func (s *Store) checkpointRound(ctx context.Context, last walFrames) (walFrames, error) {
	var f walFrames
	if last.log-last.done > checkpointBesideFrames {
		start := time.Now() // the machine's clock: a slow disk is what is logged
		var err error
		f, err = s.checkpoint(ctx)
		for i := 1; err == nil && f.log-f.done > checkpointHeldMax && i < checkpointPasses; i++ {
			f, err = s.checkpoint(ctx)
		}
		if took := time.Since(start); took >= slowHold {
			s.log.Warn("sqlite: a checkpoint was slow", "took", took, "wal_frames", f.log, "copied", f.done)
		}
		if err != nil || f.done >= f.log || f.log-f.done > checkpointHeldMax {
			return f, err
		}
	}
	h := s.lockWriter(turnCheckpoint)
	defer h.end()
	held, err := s.checkpoint(ctx)
	if hold := h.elapsed(); hold >= slowHold {
		s.log.Warn("sqlite: a checkpoint held the writer long", "hold", hold, "wal_frames", held.log, "left before", f.log-f.done)
	}
	return held, err
}
