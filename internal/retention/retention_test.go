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
	"github.com/volleyhq/volley/internal/store/storetest"
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
	// Rounds delete at most 10 events each, and between them two counter
	// rows whose time is past the period too: the per-minute metrics row
	// of the held delivery's connection and the per-hour received count
	// of the old events' project.
	deleted := 0
	for _, n := range rounds {
		if n > 10+2 {
			t.Fatalf("rounds = %v, want batches of at most 10 (and the counter rows)", rounds)
		}
		deleted += n
	}
	if deleted != 24+2 || len(rounds) != 3 {
		t.Fatalf("rounds = %v, want 24 events and 2 counter rows deleted in 3 rounds", rounds)
	}
	// The next pass starts over and finds nothing more to delete.
	if res, err := sw.Sweep(ctx); err != nil || res.Deleted != 0 {
		t.Fatalf("the next pass's first round = %+v, %v; want nothing deleted", res, err)
	}
	list, total, err := st.EventList(ctx, store.EventListParams{ProjectID: pid, Limit: 50})
	if err != nil || total != 2 {
		t.Fatalf("left %d events (%v), want the pending old one and the new one", total, err)
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
		if total == 0 {
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

// timedStore is a store whose retention rounds take perEvent of the fake
// clock's time per event of their batch; it records the batches.
type timedStore struct {
	*storesqlite.Store
	clock    *clock.Fake
	perEvent time.Duration
	limits   []int
	// reportTook makes the rounds report their time (RetentionResult.Took)
	// instead of leaving the Sweeper to read its clock.
	reportTook bool
	// wait is how long each round waits for the store's writer before it
	// runs, on the clock.
	wait time.Duration
}

func (s *timedStore) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	s.limits = append(s.limits, p.Limit)
	took := time.Duration(p.Limit) * s.perEvent
	s.clock.Advance(s.wait + took)
	res, err := s.Store.RetentionDelete(ctx, p)
	if s.reportTook {
		res.Took = took
	} else {
		res.Took = 0 // the Sweeper times the round by its clock
	}
	return res, err
}

// setupTimed returns a timedStore holding n old events, all deletable.
func setupTimed(t *testing.T, n int) *timedStore {
	t.Helper()
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	storetest.OldEvents(t, st, storetest.Graph(t, st), n, 0)
	return &timedStore{Store: st, clock: clock.NewFake(time.Now())}
}

// TestSweepSizesRoundsByTheirTime: the batch starts at an eighth of Batch
// (here MinBatch), grows while rounds take less than RoundTarget (at most
// twofold a round), and shrinks when they get slower.
func TestSweepSizesRoundsByTheirTime(t *testing.T) {
	t.Parallel()
	st := setupTimed(t, 400)
	sw := retention.New(retention.Config{Store: st, Period: 24 * time.Hour, Batch: 160, RoundTarget: 8 * time.Millisecond, Clock: st.clock})
	for _, phase := range []struct {
		perEvent time.Duration
		rounds   int
	}{
		{100 * time.Microsecond, 4}, // 80 events take 8 ms
		{400 * time.Microsecond, 2}, // 20 events take 8 ms
		{200 * time.Microsecond, 2}, // 40 events take 8 ms
	} {
		st.perEvent = phase.perEvent
		for range phase.rounds {
			if _, err := sw.Sweep(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := []int{20, 40, 80, 80, 80, 20, 20, 40}; !slices.Equal(st.limits, want) {
		t.Errorf("batches %v, want %v", st.limits, want)
	}
}

// TestSweepWithoutRoundTargetTakesBatch: with RoundTarget turned off every
// round takes Batch events, however long it takes.
func TestSweepWithoutRoundTargetTakesBatch(t *testing.T) {
	t.Parallel()
	st := setupTimed(t, 300)
	st.perEvent = time.Millisecond
	sw := retention.New(retention.Config{Store: st, Period: 24 * time.Hour, Batch: 100, RoundTarget: -1, Clock: st.clock})
	for {
		res, err := sw.Sweep(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if res.Done {
			break
		}
	}
	if want := []int{100, 100, 100, 100}; !slices.Equal(st.limits, want) {
		t.Errorf("batches %v, want %v", st.limits, want)
	}
}

// TestSweepSizesRoundsByTheirHold: when the store reports how long a round
// held it, the time the round waited for it does not count, so rounds
// grow to Batch while ingestion keeps the writer busy (and retention keeps
// up with it) as long as each holds it less than RoundTarget.
func TestSweepSizesRoundsByTheirHold(t *testing.T) {
	t.Parallel()
	st := setupTimed(t, 400)
	st.reportTook, st.wait, st.perEvent = true, time.Second, 50*time.Microsecond
	sw := retention.New(retention.Config{Store: st, Period: 24 * time.Hour, Batch: 160, RoundTarget: 8 * time.Millisecond, Clock: st.clock})
	for range 4 {
		if _, err := sw.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int{20, 40, 80, 160}; !slices.Equal(st.limits, want) {
		t.Errorf("batches %v, want %v", st.limits, want)
	}
}

// TestSQLiteRoundReportsItsHold: SQLite's rounds say how long they held the
// writer, which the Sweeper sizes them by.
func TestSQLiteRoundReportsItsHold(t *testing.T) {
	t.Parallel()
	st := setupTimed(t, 10)
	res, err := st.Store.RetentionDelete(t.Context(), store.RetentionParams{
		Before: time.Now().Add(-24 * time.Hour), Now: time.Now(), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 10 || res.Took <= 0 {
		t.Errorf("round deleted %d events and reports %v held, want 10 and a positive time", res.Deleted, res.Took)
	}
}
