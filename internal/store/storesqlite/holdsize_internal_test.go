package storesqlite

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestHoldSizer checks the sizing rule: a cautious first batch, then as
// many rows as holdTarget allows at the measured cost, never fewer than
// holdMinRows nor more than asked.
func TestHoldSizer(t *testing.T) {
	t.Parallel()
	var h holdSizer
	if got := h.size(1000); got != 4*holdMinRows {
		t.Errorf("first size = %d, want %d", got, 4*holdMinRows)
	}
	if got := h.size(3); got != 3 {
		t.Errorf("first size of 3 = %d, want 3", got)
	}
	h.observe(100, 100*holdTarget/500) // 500 rows fit in the target
	if got := h.size(1000); got != 500 {
		t.Errorf("size at %v per row = %d, want 500", h.perRow, got)
	}
	if got := h.size(200); got != 200 {
		t.Errorf("size of 200 = %d, want 200", got)
	}
	for range 20 {
		h.observe(10, 10*holdTarget) // a row alone takes the target
	}
	if got := h.size(1000); got != holdMinRows {
		t.Errorf("size of slow rows = %d, want holdMinRows", got)
	}
	h.observe(0, time.Second) // an empty batch says nothing
	if got := h.size(1000); got != holdMinRows {
		t.Errorf("size after an empty batch = %d, want holdMinRows", got)
	}
}

// TestSweepSizedByHold checks that DeliverySweep takes the batch its sizer
// allows, not the caller's whole limit, and still sweeps everything.
func TestSweepSizedByHold(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	if _, err := s.EventInsert(t.Context(), storetest.Events(100, 0, conn, time.Now().Add(time.Hour))); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	paused := *conn
	paused.Status, paused.UpdatedAt = volley.ConnectionPaused, time.Now()
	if err := s.ConnectionUpdate(t.Context(), &paused); err != nil {
		t.Fatal(err)
	}
	// Rows so slow that each batch takes the fewest.
	s.sweepSize.perRow = holdTarget
	n, err := s.DeliverySweep(t.Context(), store.SweepParams{Now: time.Now(), Limit: 1000})
	if err != nil || n != holdMinRows {
		t.Fatalf("DeliverySweep = %d, %v; want %d", n, err, holdMinRows)
	}
	total := n
	for {
		s.sweepSize.perRow = holdTarget // whatever the batches measured
		n, err := s.DeliverySweep(t.Context(), store.SweepParams{Now: time.Now(), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != 100+1 { // every delivery, then the sweep's end
		t.Errorf("swept %d, want 101", total)
	}
}

// TestLeaseSizedByHold checks that DeliveryLeaseBatch allows the lease
// its sizer's batch, and that a lease's hold is measured into it.
func TestLeaseSizedByHold(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	now := time.Now()
	if _, err := s.EventInsert(t.Context(), storetest.Events(100, 0, conn, now)); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	s.leaseSize.perRow = holdTarget // rows so slow that each lease takes the fewest
	if got := s.DeliveryLeaseBatch(256); got != holdMinRows {
		t.Fatalf("DeliveryLeaseBatch(256) = %d, want %d", got, holdMinRows)
	}
	jobs, err := s.DeliveryLease(t.Context(), store.LeaseParams{Owner: "w", Now: now.Add(time.Hour),
		Until: now.Add(2 * time.Hour), Limit: 50})
	if err != nil || len(jobs) != 50 {
		t.Fatalf("DeliveryLease = %d jobs, %v; want 50", len(jobs), err)
	}
	if per := s.leaseSize.perRow; per == holdTarget || per <= 0 {
		t.Errorf("per-row hold after a lease of 50 = %v, want it measured into the sizer", per)
	}
}

// TestSearchIndexSizedByHold checks that SearchIndex indexes the batch its
// sizer allows, not the caller's whole limit, and that it is done only
// once every event is indexed.
func TestSearchIndexSizedByHold(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	if _, err := s.EventInsert(t.Context(), storetest.Events(100, 0, conn, time.Now())); err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	s.indexSize.perRow = holdTarget // rows so slow that each batch takes the fewest
	res, err := s.SearchIndex(t.Context(), 500)
	if err != nil || res.Indexed != holdMinRows || res.Done {
		t.Fatalf("SearchIndex = %+v, %v; want %d indexed, not done", res, err, holdMinRows)
	}
	total := res.Indexed
	for !res.Done {
		s.indexSize.perRow = holdTarget // whatever the batches measured
		if res, err = s.SearchIndex(t.Context(), 500); err != nil {
			t.Fatal(err)
		}
		total += res.Indexed
	}
	if total != 100 {
		t.Errorf("indexed %d, want 100", total)
	}
}

// TestRetentionSizedByHold checks that a retention round looks at the
// events its sizer allows, not the caller's whole limit, and that the
// pass still deletes every old event.
func TestRetentionSizedByHold(t *testing.T) {
	t.Parallel()
	s, conn := planStore(t)
	storetest.OldEvents(t, s, conn, 100, 0)
	p := store.RetentionParams{Before: time.Now().Add(-24 * time.Hour), Now: time.Now(), Limit: 500}
	s.retentionSize.perRow = holdTarget // rows so slow that each round takes the fewest
	res, err := s.RetentionDelete(t.Context(), p)
	if err != nil || res.Deleted != holdMinRows || res.Done {
		t.Fatalf("RetentionDelete = %+v, %v; want %d deleted, not done", res, err, holdMinRows)
	}
	total := res.Deleted
	for !res.Done {
		s.retentionSize.perRow = holdTarget // whatever the rounds measured
		p.After = res.After
		if res, err = s.RetentionDelete(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		total += res.Deleted
	}
	if total != 100 {
		t.Errorf("deleted %d, want 100", total)
	}
}
