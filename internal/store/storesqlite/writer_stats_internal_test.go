package storesqlite

import (
	"database/sql"
	"testing"
	"time"
)

// TestWriterStatsByKind checks that each write's wait and hold are counted
// under its kind: an ingest that waits while a sweep holds the writer
// counts at least the time the test held it as the ingest's wait and as
// the sweep's hold.
func TestWriterStatsByKind(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	before := s.WriterStats()

	holding, release := make(chan struct{}), make(chan struct{})
	sweepDone := make(chan error, 1)
	go func() {
		sweepDone <- s.txBackground(t.Context(), writeSweep, func(*sql.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	ingestDone := make(chan error, 1)
	go func() {
		ingestDone <- s.txRun(t.Context(), turnIngest, func(*sql.Tx) error { return nil })
	}()
	waitFor(t, s.writer, 1, 0)
	// The ingest has waited since before t0 and the sweep held the writer
	// since before it; both go on past the end of held.
	t0 := time.Now()
	held := time.Since(t0)
	close(release)
	if err := <-sweepDone; err != nil {
		t.Fatal(err)
	}
	if err := <-ingestDone; err != nil {
		t.Fatal(err)
	}

	after := s.WriterStats()
	for i, st := range after {
		if st.Kind != before[i].Kind {
			t.Fatalf("kind %d: %q then %q: the order must be fixed", i, before[i].Kind, st.Kind)
		}
		var last uint64
		for _, le := range writerBuckets {
			n := st.Hold.Buckets[le]
			if n < last || n > st.Hold.Count {
				t.Fatalf("%s: hold bucket %g = %d, after %d of %d: not cumulative", st.Kind, le, n, last, st.Hold.Count)
			}
			last = n
		}
	}
	ingest, sweep := after[writeIngest], after[writeSweep]
	if ingest.Kind != "ingest" || sweep.Kind != "sweep" || after[writeCheckpoint].Kind != "checkpoint" {
		t.Fatalf("kinds %q, %q, %q", ingest.Kind, sweep.Kind, after[writeCheckpoint].Kind)
	}
	if n := ingest.Wait.Count - before[writeIngest].Wait.Count; n != 1 {
		t.Errorf("ingest waits counted %d, want 1", n)
	}
	if w := ingest.Wait.Sum - before[writeIngest].Wait.Sum; w < held.Seconds() {
		t.Errorf("ingest waited %gs by the stats, want at least the %gs the sweep was held", w, held.Seconds())
	}
	if n := sweep.Hold.Count - before[writeSweep].Hold.Count; n != 1 {
		t.Errorf("sweep holds counted %d, want 1", n)
	}
	if h := sweep.Hold.Sum - before[writeSweep].Hold.Sum; h < held.Seconds() {
		t.Errorf("sweep held %gs by the stats, want at least %gs", h, held.Seconds())
	}
}

// TestDurationsBuckets checks where a duration is counted: in the first
// bucket whose bound it does not pass.
func TestDurationsBuckets(t *testing.T) {
	t.Parallel()
	var d durations
	d.add(250 * time.Microsecond) // on the first bound
	d.add(3 * time.Millisecond)   // in (2 ms, 4 ms]
	d.add(time.Minute)            // past every bound
	h := d.histogram()
	if h.Count != 3 || h.Buckets[0.00025] != 1 || h.Buckets[0.002] != 1 || h.Buckets[0.004] != 2 || h.Buckets[writerBuckets[len(writerBuckets)-1]] != 2 {
		t.Errorf("histogram %+v", h)
	}
	if want := (time.Minute + 3250*time.Microsecond).Seconds(); h.Sum != want {
		t.Errorf("sum %g, want %g", h.Sum, want)
	}
}
