package storepg_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestIdempotencyAcrossNodes has several nodes ingest the same keyed
// webhook at once, each in a batch of its own: exactly one event is stored
// and every other insert names it.
func TestIdempotencyAcrossNodes(t *testing.T) {
	t.Parallel()
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	conn := storetest.Graph(t, a)
	now := time.Now().UTC()
	for round := range 5 {
		key := fmt.Sprintf("order-%d", round)
		const inserts = 8
		results := make([]store.InsertedEvent, inserts)
		var wg sync.WaitGroup
		for i := range inserts {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				batch := storetest.Events(3, round*100+i, conn, now)
				batch[1].IdempotencyKey, batch[1].IdempotencyUntil = key, now.Add(time.Hour)
				res, err := s.EventInsert(t.Context(), batch)
				if err != nil {
					t.Errorf("EventInsert: %v", err)
					return
				}
				results[i] = res[1]
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		stored := 0
		for _, r := range results {
			if !r.Duplicate {
				stored++
			}
		}
		if stored != 1 {
			t.Fatalf("round %d: %d events stored for one key, want 1: %+v", round, stored, results)
		}
		for _, r := range results {
			if r.ID != results[0].ID || r.UID != results[0].UID {
				t.Errorf("round %d: results name different events: %+v", round, results)
				break
			}
		}
	}
}

// TestBytesFromOutside stores what a webhook sender or a destination
// controls and PostgreSQL's text type rejects (bytes that are not UTF-8,
// NUL): the raw query and the idempotency key round-trip exactly, an error
// reason is made valid, and neither fails the batch.
func TestBytesFromOutside(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := setup(t)
	conn := storetest.Graph(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	batch := storetest.Events(2, 0, conn, now)
	batch[0].Event.Query = "a=\xff\xfe&b=%00"
	batch[0].IdempotencyKey, batch[0].IdempotencyUntil = "key-\xff\x00", now.Add(time.Hour)
	res, err := s.EventInsert(ctx, batch)
	if err != nil {
		t.Fatalf("EventInsert: %v", err)
	}
	dup := storetest.Events(1, 1, conn, now)
	dup[0].IdempotencyKey, dup[0].IdempotencyUntil = "key-\xff\x00", now.Add(time.Hour)
	if again, err := s.EventInsert(ctx, dup); err != nil || !again[0].Duplicate || again[0].ID != res[0].ID {
		t.Fatalf("EventInsert with the same binary key = %+v, %v; want a duplicate of %d", again, err, res[0].ID)
	}
	other := storetest.Events(1, 2, conn, now)
	other[0].IdempotencyKey, other[0].IdempotencyUntil = "key-\xfe\x00", now.Add(time.Hour)
	if again, err := s.EventInsert(ctx, other); err != nil || again[0].Duplicate {
		t.Fatalf("EventInsert with another binary key = %+v, %v; want a new event", again, err)
	}

	jobs, err := s.DeliveryLease(ctx, store.LeaseParams{Owner: "w", Now: now, Until: now.Add(time.Minute), Limit: 10})
	if err != nil || len(jobs) != 3 {
		t.Fatalf("DeliveryLease = %d jobs, %v; want 3", len(jobs), err)
	}
	var outcomes []store.Outcome
	for _, j := range jobs {
		if j.Event.ID == res[0].ID && j.Event.Query != batch[0].Event.Query {
			t.Errorf("leased event query = %q, want %q", j.Event.Query, batch[0].Event.Query)
		}
		d := j.Delivery
		outcomes = append(outcomes, store.Outcome{DeliveryID: d.ID, LeaseToken: d.LeaseToken, EventID: d.EventID,
			State: volley.DeliveryFailed, Now: now, Attempt: &volley.Attempt{DeliveryID: d.ID, EventID: d.EventID,
				EventUID: d.EventUID, ProjectID: d.ProjectID, SourceID: d.SourceID, ConnectionID: d.ConnectionID,
				DestinationID: d.DestinationID, Number: 1, Trigger: volley.AttemptAuto, Status: volley.AttemptFailed,
				StatusCode: 302, ErrorReason: "HTTP 302 (Location: /\xff\x00)", CreatedAt: now}})
	}
	if err := s.DeliveryFinish(ctx, outcomes); err != nil {
		t.Fatalf("DeliveryFinish: %v", err)
	}
	attempts, err := s.AttemptListByEvent(ctx, res[0].ID)
	if err != nil || len(attempts) != 1 {
		t.Fatalf("AttemptListByEvent = %+v, %v; want one attempt", attempts, err)
	}
	if want := "HTTP 302 (Location: /\uFFFD\uFFFD)"; attempts[0].ErrorReason != want {
		t.Errorf("ErrorReason = %q, want %q", attempts[0].ErrorReason, want)
	}
}

// TestHoldRacesResume has a worker on one node hold a delivery it found
// paused while another node enables the connection again: whichever commits
// first, the delivery is due again once the resume is swept (pending, or
// held and taken by the lease as a resumed connection's), not stranded.
func TestHoldRacesResume(t *testing.T) {
	t.Parallel()
	schema := freshSchema(t)
	a, b := open(t, schema), open(t, schema)
	conn := storetest.Graph(t, a)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for round := range 30 {
		at := now.Add(time.Duration(round) * time.Second)
		res, err := a.EventInsert(t.Context(), storetest.Events(1, round, conn, time.Time{}))
		if err != nil {
			t.Fatalf("EventInsert: %v", err)
		}
		paused, enabled := *conn, *conn
		paused.Status, paused.UpdatedAt = volley.ConnectionPaused, at
		enabled.Status, enabled.UpdatedAt = volley.ConnectionEnabled, at.Add(time.Millisecond)
		if err := a.ConnectionUpdate(t.Context(), &paused); err != nil {
			t.Fatalf("ConnectionUpdate: %v", err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			o := store.Outcome{DeliveryID: res[0].DeliveryIDs[0], LeaseToken: 1, EventID: res[0].ID,
				State: volley.DeliveryHeld, Now: at.Add(2 * time.Millisecond)}
			if err := a.DeliveryFinish(t.Context(), []store.Outcome{o}); err != nil {
				t.Errorf("DeliveryFinish: %v", err)
			}
		})
		wg.Go(func() {
			if err := b.ConnectionUpdate(t.Context(), &enabled); err != nil {
				t.Errorf("ConnectionUpdate: %v", err)
			}
		})
		wg.Wait()
		// The resume's sweep, as b's engine runs it after the change.
		for n := 1; n > 0; {
			if n, err = b.DeliverySweep(t.Context(), store.SweepParams{Now: at, Limit: 100}); err != nil {
				t.Fatalf("DeliverySweep: %v", err)
			}
		}
		// Pending again, or held and taken by the lease as a resumed
		// connection's: either way not stranded.
		jobs, err := a.DeliveryLease(t.Context(), store.LeaseParams{Owner: "w", Now: at.Add(time.Minute),
			Until: at.Add(time.Hour), Limit: 10})
		if err != nil {
			t.Fatalf("DeliveryLease: %v", err)
		}
		if len(jobs) != 1 || jobs[0].Delivery.ID != res[0].DeliveryIDs[0] {
			ds, _ := a.DeliveryListByEvent(t.Context(), res[0].ID)
			t.Fatalf("round %d: lease took %+v, want delivery %+v, stranded with its connection enabled", round, jobs, ds)
		}
	}
}
