package storesqlite

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// TestFinishPartialError stops a batch of two outcomes after the first for
// an urgent write, which makes the second fail (it renames the attempts
// table), and checks that DeliveryFinish reports the first as committed,
// so that a retry of the rest records each attempt once, and that the
// connection's metrics count each outcome once (the failed transaction
// took its deferral of the metrics trigger with it).
func TestFinishPartialError(t *testing.T) {
	t.Parallel()
	s := tempStore(t)
	s.yieldAfter = 0
	held, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	s.batchFunc = func(op string) {
		if op == OpDeliveryFinish {
			first.Do(func() { close(held); <-release })
		}
	}
	c := storetest.Graph(t, s)
	evs := storetest.Events(2, 0, c, time.Time{}) // leased at once
	in, err := s.EventInsert(t.Context(), evs)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	outcomes := make([]store.Outcome, len(in))
	for i, e := range in {
		outcomes[i] = store.Outcome{DeliveryID: e.DeliveryIDs[0], LeaseToken: evs[i].Deliveries[0].LeaseToken,
			EventID: e.ID, State: volley.DeliverySuccess, Now: now, ConnectionID: c.ID,
			Attempt: &volley.Attempt{DeliveryID: e.DeliveryIDs[0], EventID: e.ID, EventUID: evs[i].Event.UID,
				ProjectID: c.ProjectID, SourceID: c.SourceID, ConnectionID: c.ID, DestinationID: c.DestinationID,
				Number: 1, Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200, CreatedAt: now}}
	}
	finished := make(chan error, 1)
	go func() { finished <- s.DeliveryFinish(context.Background(), outcomes) }()
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("the first outcome applied: not within 20s")
	}
	renamed := make(chan error, 1)
	go func() {
		_, err := s.exec(context.Background(), `ALTER TABLE attempts RENAME TO attempts_gone`)
		renamed <- err
	}()
	for deadline := time.Now().Add(20 * time.Second); !s.writer.urgentWaiting(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rename waiting for the writer: not within 20s")
		}
	}
	close(release)

	err = <-finished
	var part *store.PartialError
	if !errors.As(err, &part) || part.Applied != 1 {
		t.Fatalf("DeliveryFinish: %v; want a *store.PartialError with 1 applied", err)
	}
	if err := <-renamed; err != nil {
		t.Fatalf("rename: %v", err)
	}
	if _, err := s.exec(t.Context(), `ALTER TABLE attempts_gone RENAME TO attempts`); err != nil {
		t.Fatal(err)
	}
	if err := s.DeliveryFinish(t.Context(), outcomes[part.Applied:]); err != nil {
		t.Fatalf("DeliveryFinish of the rest: %v", err)
	}
	for i, e := range in {
		as, err := s.AttemptListByEvent(t.Context(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := s.DeliveryListByEvent(t.Context(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || len(ds) != 1 || ds[0].State != volley.DeliverySuccess {
			t.Errorf("event %d: %d attempts, deliveries %+v; want one attempt and one successful delivery", i, len(as), ds)
		}
	}
	if n := queryStrings(t, s, `SELECT count(*) FROM metrics_deferred`); len(n) != 1 || n[0] != "0" {
		t.Errorf("metrics_deferred holds %v rows after the batches, want 0", n)
	}
	m, err := s.ConnectionMetrics(t.Context(), c.ID, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if m.Delivered != 2 || m.Pending != 0 || m.LatencyP50MS != 1 {
		t.Errorf("metrics: %d delivered, %d pending, p50 %d ms; want 2, 0 and 1 ms", m.Delivered, m.Pending, m.LatencyP50MS)
	}
}
