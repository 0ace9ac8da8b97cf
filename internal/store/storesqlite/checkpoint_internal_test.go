package storesqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestCheckpointer checks that commits never checkpoint (the write
// connection's autocheckpoint is off) and that a round copies the WAL
// completely, holding the writer, so that the next commit starts the WAL
// again from its beginning.
func TestCheckpointer(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	// The loop's own rounds would race the commits below: a checkpoint in
	// progress keeps a commit from starting the WAL again.
	s.stopCheckpoints()
	var auto int
	if err := s.write.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Errorf("write connection's wal_autocheckpoint = %d, want 0", auto)
	}
	w := scratchWriter(t, s)
	w(2000) // a page of random bytes per row
	f, err := s.checkpointRound(t.Context(), walFrames{})
	if err != nil {
		t.Fatalf("checkpointRound: %v", err)
	}
	if f.log < 2000 || f.done != f.log {
		t.Fatalf("after a round: WAL of %d frames, %d copied; want 2000 or more, all copied", f.log, f.done)
	}
	if n := checkpointHolds(s); n != 1 {
		t.Errorf("the round held the writer %d times, want once", n)
	}
	if _, err := s.exec(t.Context(), `INSERT INTO scratch (b) VALUES (x'00')`); err != nil {
		t.Fatal(err)
	}
	after, err := s.checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if after.log >= f.log/10 {
		t.Errorf("the WAL did not start again: %d frames after one small commit, %d before", after.log, f.log)
	}
}

// TestCheckpointerWritesNothing opens a connection as the checkpointer
// does and checks that it copies the WAL without committing anything: a
// commit from another connection makes the write connection drop its whole
// page cache at its next transaction (setting auto_vacuum on connect did,
// and stalled every ingest at each start of a node).
func TestCheckpointerWritesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "volley.db")
	s := tempStoreAt(t, path)
	s.stopCheckpoints()
	scratchWriter(t, s)(100)
	version := func() int64 {
		t.Helper()
		var v int64
		if err := s.write.QueryRowContext(t.Context(), `PRAGMA data_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version()
	db, err := sql.Open("sqlite", dsn(path, connCheckpoint, 2<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var busy int
	var f walFrames
	if err := db.QueryRowContext(t.Context(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &f.log, &f.done); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if f.log < 100 || f.done != f.log {
		t.Errorf("checkpoint: WAL of %d frames, %d copied; want 100 or more, all copied", f.log, f.done)
	}
	if after := version(); after != before {
		t.Errorf("the write connection's data_version went from %d to %d: the checkpointer's connection committed", before, after)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO scratch (b) VALUES (x'00')`); err == nil {
		t.Error("the checkpointer's connection wrote a row; want it to refuse (query_only)")
	}
}

// scratchWriter creates a table and returns a function that commits n
// pages of random bytes to it.
func scratchWriter(t *testing.T, s *Store) func(n int) {
	t.Helper()
	if _, err := s.exec(t.Context(), `CREATE TABLE scratch (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	return func(n int) {
		t.Helper()
		_, err := s.exec(t.Context(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO scratch (b) SELECT randomblob(4000) FROM n`, n)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkpointHolds counts the checkpointer's turns on the writer.
func checkpointHolds(s *Store) uint64 {
	s.writerStats.mu.Lock()
	defer s.writerStats.mu.Unlock()
	return s.writerStats.hold[writeCheckpoint].count
}

// readSnapshot starts a read transaction on a connection of its own, which
// keeps checkpoints from copying what was committed after it began; the
// function it returns ends it.
func readSnapshot(t *testing.T, s *Store) func() {
	t.Helper()
	conn, err := s.read.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(t.Context(), `SELECT count(*) FROM scratch`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback(); conn.Close() }
}

// TestCheckpointBesideWriterAfterBacklog checks that a round after one
// that a reader held back copies the backlog without holding the writer,
// and holds it only when little is left.
func TestCheckpointBesideWriterAfterBacklog(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	s.stopCheckpoints()
	ctx := t.Context()
	w := scratchWriter(t, s)

	end := readSnapshot(t, s)
	w(2 * checkpointBesideFrames)
	f, err := s.checkpointRound(ctx, walFrames{})
	if err != nil {
		t.Fatal(err)
	}
	if left := f.log - f.done; left <= checkpointBesideFrames {
		t.Fatalf("%d of %d frames left; the reader should have kept more than %d", left, f.log, checkpointBesideFrames)
	}
	if n := checkpointHolds(s); n != 1 {
		t.Fatalf("first round held the writer %d times, want once", n)
	}
	// The reader still there: the round copies beside the writer, finds
	// too much left, and does not take it.
	if f, err = s.checkpointRound(ctx, f); err != nil {
		t.Fatal(err)
	}
	if n := checkpointHolds(s); n != 1 {
		t.Errorf("a round with %d frames left held the writer", f.log-f.done)
	}
	end()
	// The reader gone: the copy beside the writer completes it.
	if f, err = s.checkpointRound(ctx, f); err != nil {
		t.Fatal(err)
	}
	if f.done != f.log {
		t.Errorf("after the reader: %d of %d frames copied, want all", f.done, f.log)
	}
	if n := checkpointHolds(s); n != 1 {
		t.Errorf("a round that copied everything beside the writer held it too")
	}

	// Little left past a new reader after the copy beside the writer: the
	// round holds the writer for it.
	end = readSnapshot(t, s)
	defer end()
	w(checkpointHeldMax / 2)
	f, err = s.checkpointRound(ctx, walFrames{log: 2 * checkpointBesideFrames})
	if err != nil {
		t.Fatal(err)
	}
	if left := f.log - f.done; left == 0 || left > checkpointHeldMax {
		t.Fatalf("%d of %d frames left to copy, want some, at most %d", left, f.log, checkpointHeldMax)
	}
	if n := checkpointHolds(s); n != 2 {
		t.Errorf("the round held the writer %d times in all, want twice", n)
	}
}

// TestCheckpointFirstRoundBesideWriter checks that the checkpointer's
// first round, which knows nothing of the WAL, copies a large one left
// behind beside the writer instead of holding it for the whole copy.
func TestCheckpointFirstRoundBesideWriter(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	s.stopCheckpoints()
	scratchWriter(t, s)(2 * checkpointBesideFrames)
	f, err := s.checkpointRound(t.Context(), walUnknown)
	if err != nil {
		t.Fatal(err)
	}
	if f.log < 2*checkpointBesideFrames || f.done != f.log {
		t.Fatalf("after the first round: WAL of %d frames, %d copied; want %d or more, all copied", f.log, f.done, 2*checkpointBesideFrames)
	}
	if n := checkpointHolds(s); n != 0 {
		t.Errorf("the first round held the writer %d times to copy a WAL of %d frames, want none", n, f.log)
	}
}

// TestCopiedSince checks when the checkpointer counts a round as progress,
// which is when it may throttle background writers.
func TestCopiedSince(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		before, now walFrames
		want        bool
	}{
		{walFrames{log: 5000, done: 1000}, walFrames{log: 9000, done: 4000}, true},  // copied more
		{walFrames{log: 5000, done: 1000}, walFrames{log: 9000, done: 1000}, false}, // a reader stops it
		{walFrames{log: 9000, done: 9000}, walFrames{log: 300, done: 100}, true},    // the WAL started again
	} {
		if got := tc.now.copiedSince(tc.before); got != tc.want {
			t.Errorf("%+v since %+v: %v, want %v", tc.now, tc.before, got, tc.want)
		}
	}
}
