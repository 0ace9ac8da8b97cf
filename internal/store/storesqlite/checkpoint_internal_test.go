package storesqlite

import "testing"

// TestCheckpointer checks that commits never checkpoint (the write
// connection's autocheckpoint is off) and that a checkpoint round copies a
// WAL grown past checkpointFrames completely, so that the next commit
// starts the WAL again from its beginning.
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

	if _, err := s.exec(t.Context(), `CREATE TABLE scratch (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	// A page of random bytes per row, past the threshold.
	_, err := s.exec(t.Context(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO scratch (b) SELECT randomblob(4096) FROM n`, 2*checkpointFrames)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.checkpointRound(t.Context())
	if err != nil {
		t.Fatalf("checkpointRound: %v", err)
	}
	if f.log < checkpointFrames || f.done != f.log {
		t.Fatalf("after a round: WAL of %d frames, %d copied; want more than %d, all copied", f.log, f.done, checkpointFrames)
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
