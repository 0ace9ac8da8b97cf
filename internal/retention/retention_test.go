package retention_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/retention"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
)

func TestSweepDeletesOnlyOldFinishedEventsInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	acct, err := st.AccountCreate(ctx, store.AccountCreateParams{Email: "a@b.c", Name: "A", PasswordHash: "x", OrgName: "o", OrgSlug: "o",
		Token: volley.APIToken{Kind: "api", Name: "t", Hash: []byte("h"), Sealed: []byte("s"), Prefix: "vk", CreatedAt: start}, Now: start})
	if err != nil {
		t.Fatal(err)
	}
	pid := acct.Project.ID
	var events []store.NewEvent
	for i := range 25 {
		e := store.NewEvent{Event: volley.Event{UID: "evt_old" + string(rune('a'+i)), ProjectID: pid, SourceID: 1, Method: "POST", CreatedAt: start}}
		if i == 0 { // still pending: kept whatever its age
			e.Deliveries = []volley.Delivery{{ConnectionID: 9, DestinationID: 9, State: volley.DeliveryHeld, NextAttemptAt: start}}
		}
		events = append(events, e)
	}
	events = append(events, store.NewEvent{Event: volley.Event{UID: "evt_new", ProjectID: pid, SourceID: 1, Method: "POST", CreatedAt: start.Add(40 * 24 * time.Hour)}})
	if _, err := st.EventInsert(ctx, events); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(start.Add(45 * 24 * time.Hour))
	sw := retention.New(retention.Config{Store: st, Period: 30 * 24 * time.Hour, Batch: 10, Clock: fc})
	var rounds []int
	for {
		res, err := sw.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Done {
			break
		}
		rounds = append(rounds, res.Deleted)
		if len(rounds) > 10 {
			t.Fatalf("the pass is not done after rounds %v", rounds)
		}
	}
	// Rounds delete at most 10 events each (the first keeps the pending
	// one); once the events are done, a round deletes the two counter rows
	// whose time is past the period too: the per-minute metrics row of the
	// held delivery's connection and the per-hour received count of the
	// old events' project.
	if want := []int{9, 10, 5, 2}; !slices.Equal(rounds, want) {
		t.Fatalf("rounds = %v, want %v: 24 events in batches of at most 10, then 2 counter rows", rounds, want)
	}
	// The next pass starts over and finds nothing more to delete.
	if res, err := sw.Sweep(ctx); err != nil || res.Deleted != 0 {
		t.Fatalf("the next pass's first round = %+v, %v; want nothing deleted", res, err)
	}
	list, total, err := st.EventList(ctx, store.EventListParams{ProjectID: pid, Limit: 50})
	if err != nil || total.N != 2 {
		t.Fatalf("left %d events (%v), want the pending old one and the new one", total.N, err)
	}
	for _, e := range list {
		if e.UID != "evt_new" && e.UID != "evt_olda" {
			t.Fatalf("unexpected survivor %s", e.UID)
		}
	}
}

func TestSweeperRunsInTheBackgroundAndStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := time.Now().Add(-60 * 24 * time.Hour)
	if _, err := st.EventInsert(ctx, []store.NewEvent{{Event: volley.Event{UID: "evt_1", ProjectID: 1, SourceID: 1, Method: "POST", CreatedAt: old}}}); err != nil {
		t.Fatal(err)
	}
	sw := retention.New(retention.Config{Store: st})
	sw.Start()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, total, _ := st.EventList(ctx, store.EventListParams{ProjectID: 1, Limit: 1})
		if total.N == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background sweep did not delete the old event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sw.Stop()
}

// TestSweepDeletesOldAuditRecordsInBatches: audit records go after their
// own period, not the events', a batch per round.
func TestSweepDeletesOldAuditRecordsInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []store.AuditRecord
	for i := range 25 {
		at := start // 100 days old when swept: past the audit period below
		if i >= 20 {
			at = start.Add(90 * 24 * time.Hour) // 10 days old: kept
		}
		recs = append(recs, store.AuditRecord{OrgID: 1, Action: "project.update", TargetType: "project", TargetID: "1", CreatedAt: at})
	}
	if err := st.AuditInsert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(start.Add(100 * 24 * time.Hour))
	// Events are kept 5 days, audit records 60: the events' period must
	// not apply to them.
	sw := retention.New(retention.Config{Store: st, Audit: st, Period: 5 * 24 * time.Hour, AuditPeriod: 60 * 24 * time.Hour,
		Batch: 8, Clock: fc})
	var rounds []int
	for {
		res, err := sw.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rounds = append(rounds, res.Deleted)
		if res.Done {
			break
		}
		if len(rounds) > 10 {
			t.Fatalf("the pass is not done after rounds %v", rounds)
		}
	}
	if want := []int{8, 8, 4}; !slices.Equal(rounds, want) {
		t.Errorf("rounds deleted %v, want %v", rounds, want)
	}
	left, err := st.AuditList(ctx, store.AuditListParams{OrgID: 1, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 5 {
		t.Fatalf("%d records left, want the 5 recent ones", len(left))
	}
	for _, r := range left {
		if !r.CreatedAt.Equal(start.Add(90 * 24 * time.Hour)) {
			t.Errorf("kept record %+v, want only recent ones", r)
		}
	}
}
