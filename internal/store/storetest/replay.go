package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func replayTests() []test {
	return []test{
		{"Replays/CreateGet", testReplayCreateGet},
		{"Replays/OtherOrg", testReplayOtherOrg},
		{"Replays/ListNewestFirst", testReplayList},
		{"Replays/ClaimLeaseAndTakeover", testReplayClaim},
		{"Replays/ClaimTakesTurns", testReplayClaimTurns},
		{"Replays/Progress", testReplayProgress},
		{"Replays/ProgressLostLease", testReplayProgressLost},
		{"Replays/Cancel", testReplayCancel},
		{"Replays/DeletedProject", testReplayDeletedProject},
	}
}

// newReplay stores a job of project p created at at.
func newReplay(t *testing.T, s store.Store, f fixture, at time.Time) volley.Replay {
	t.Helper()
	r := volley.Replay{
		ProjectID: f.Project.ID, ConnectionID: 7, Matched: 10_001, MatchedIsEstimate: true,
		Filter: volley.ReplayFilter{Status: volley.EventFailed, SourceID: 3, DestinationID: 5, Search: "x",
			Start: now.Add(-time.Hour), End: now},
		CreatedBy: f.Account.ID, CreatedAt: at,
	}
	noErr(t, "ReplayCreate", s.ReplayCreate(t.Context(), &r))
	return r
}

func testReplayCreateGet(t *testing.T, s store.Store) {
	f := newFixture(t, s, "a")
	r := newReplay(t, s, f, now)
	if r.ID == 0 || r.Status != volley.ReplayQueued {
		t.Fatalf("created %+v, want an id and queued", r)
	}
	got, err := s.ReplayGet(t.Context(), f.Org.ID, r.ID)
	noErr(t, "ReplayGet", err)
	same(t, "replay", *got, r)
	if got.Queued() != 10_001 || got.Finished() {
		t.Fatalf("queued %d finished %v, want 10001 and false", got.Queued(), got.Finished())
	}
	_, err = s.ReplayGet(t.Context(), f.Org.ID, r.ID+1)
	wantErr(t, "ReplayGet unknown", err, store.ErrNotFound)
	gone := volley.Replay{ProjectID: f.Project.ID + 100, CreatedAt: now, CreatedBy: f.Account.ID}
	wantErr(t, "ReplayCreate unknown project", s.ReplayCreate(t.Context(), &gone), store.ErrNotFound)
}

func testReplayOtherOrg(t *testing.T, s store.Store) {
	a, b := newFixture(t, s, "a"), newFixture(t, s, "b")
	r := newReplay(t, s, a, now)
	_, err := s.ReplayGet(t.Context(), b.Org.ID, r.ID)
	wantErr(t, "ReplayGet of another org", err, store.ErrNotFound)
	_, err = s.ReplayCancel(t.Context(), b.Org.ID, r.ID, now)
	wantErr(t, "ReplayCancel of another org", err, store.ErrNotFound)
}

func testReplayList(t *testing.T, s store.Store) {
	f, g := newFixture(t, s, "a"), newFixture(t, s, "b")
	r1 := newReplay(t, s, f, now)
	newReplay(t, s, g, now)
	r2 := newReplay(t, s, f, now.Add(time.Second))
	r3 := newReplay(t, s, f, now.Add(2*time.Second))
	list, err := s.ReplayList(t.Context(), store.ReplayListParams{ProjectID: f.Project.ID, Limit: 2})
	noErr(t, "ReplayList", err)
	same(t, "first page", ids(list), []uint64{r3.ID, r2.ID})
	list, err = s.ReplayList(t.Context(), store.ReplayListParams{ProjectID: f.Project.ID, Limit: 2, BeforeID: r2.ID})
	noErr(t, "ReplayList", err)
	same(t, "second page", ids(list), []uint64{r1.ID})
}

func ids(list []volley.Replay) []uint64 {
	out := []uint64{}
	for _, r := range list {
		out = append(out, r.ID)
	}
	return out
}

func testReplayClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "a")
	r := newReplay(t, s, f, now)
	got, err := s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n1", Now: now, Until: now.Add(time.Minute)})
	noErr(t, "ReplayClaim", err)
	if got.ID != r.ID || got.Status != volley.ReplayRunning || got.LeaseOwner != "n1" || !got.LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Fatalf("claimed %+v, want job %d running leased to n1 for a minute", got, r.ID)
	}
	// Leased: nobody else gets it until the lease runs out.
	_, err = s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n2", Now: now.Add(30 * time.Second), Until: now.Add(time.Hour)})
	wantErr(t, "ReplayClaim of a leased job", err, store.ErrNotFound)
	got, err = s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n2", Now: now.Add(time.Minute), Until: now.Add(2 * time.Minute)})
	noErr(t, "ReplayClaim after the lease ran out", err)
	if got.ID != r.ID || got.LeaseOwner != "n2" {
		t.Fatalf("took over %+v, want job %d leased to n2", got, r.ID)
	}
	// The first node's progress no longer applies.
	after, err := s.ReplayProgress(ctx, store.ReplayProgressParams{ID: r.ID, Owner: "n1", Processed: 5,
		Status: volley.ReplayRunning, Now: now.Add(time.Minute), Until: now.Add(time.Hour)})
	noErr(t, "ReplayProgress of the old owner", err)
	if after.Processed != 0 || after.LeaseOwner != "n2" {
		t.Fatalf("after the old owner's progress: %+v, want it unchanged", after)
	}
}

func testReplayClaimTurns(t *testing.T, s store.Store) {
	ctx := t.Context()
	f, g := newFixture(t, s, "a"), newFixture(t, s, "b")
	r1 := newReplay(t, s, f, now)
	r2 := newReplay(t, s, g, now.Add(time.Second))
	var order []uint64
	at := now
	for range 4 {
		at = at.Add(time.Minute)
		c, err := s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n1", Now: at, Until: at.Add(time.Minute)})
		noErr(t, "ReplayClaim", err)
		order = append(order, c.ID)
		_, err = s.ReplayProgress(ctx, store.ReplayProgressParams{ID: c.ID, Owner: "n1", Processed: 1,
			Status: volley.ReplayRunning, Now: at, Release: true})
		noErr(t, "ReplayProgress", err)
	}
	same(t, "claim order", order, []uint64{r1.ID, r2.ID, r1.ID, r2.ID})
}

func testReplayProgress(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "a")
	r := newReplay(t, s, f, now)
	_, err := s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n1", Now: now, Until: now.Add(time.Minute)})
	noErr(t, "ReplayClaim", err)
	at := now.Add(time.Second)
	got, err := s.ReplayProgress(ctx, store.ReplayProgressParams{ID: r.ID, Owner: "n1",
		Processed: 10, Succeeded: 7, Failed: 2, Skipped: 1, CursorKey: 1234, CursorID: 99,
		Status: volley.ReplayRunning, Now: at, Until: at.Add(time.Minute)})
	noErr(t, "ReplayProgress", err)
	if got.Processed != 10 || got.Succeeded != 7 || got.Failed != 2 || got.Skipped != 1 ||
		got.CursorKey != 1234 || got.CursorID != 99 || !got.UpdatedAt.Equal(at) || !got.LeaseUntil.Equal(at.Add(time.Minute)) {
		t.Fatalf("after progress: %+v", got)
	}
	// A batch without a cursor keeps it; counts add up.
	got, err = s.ReplayProgress(ctx, store.ReplayProgressParams{ID: r.ID, Owner: "n1", Processed: 1, Succeeded: 1,
		Status: volley.ReplayDone, Now: at.Add(time.Second)})
	noErr(t, "ReplayProgress done", err)
	if got.Processed != 11 || got.Succeeded != 8 || got.CursorID != 99 || got.Status != volley.ReplayDone ||
		!got.FinishedAt.Equal(at.Add(time.Second)) || got.LeaseOwner != "" || got.Queued() != 0 {
		t.Fatalf("after the last batch: %+v", got)
	}
	// Finished: never claimed again, and progress does not change it.
	_, err = s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n1", Now: at.Add(time.Hour), Until: at.Add(2 * time.Hour)})
	wantErr(t, "ReplayClaim of a finished job", err, store.ErrNotFound)
	_, err = s.ReplayProgress(ctx, store.ReplayProgressParams{ID: r.ID + 1, Owner: "n1", Status: volley.ReplayRunning, Now: at})
	wantErr(t, "ReplayProgress of an unknown job", err, store.ErrNotFound)
}

func testReplayProgressLost(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "a")
	r := newReplay(t, s, f, now)
	_, err := s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n1", Now: now, Until: now.Add(time.Minute)})
	noErr(t, "ReplayClaim", err)
	c, err := s.ReplayCancel(ctx, f.Org.ID, r.ID, now.Add(time.Second))
	noErr(t, "ReplayCancel", err)
	if c.Status != volley.ReplayCancelled {
		t.Fatalf("cancelled job is %s", c.Status)
	}
	got, err := s.ReplayProgress(ctx, store.ReplayProgressParams{ID: r.ID, Owner: "n1", Processed: 3,
		Status: volley.ReplayRunning, Now: now.Add(2 * time.Second), Until: now.Add(time.Minute)})
	noErr(t, "ReplayProgress after cancel", err)
	if got.Status != volley.ReplayCancelled || got.Processed != 0 {
		t.Fatalf("progress after cancel changed the job: %+v", got)
	}
}

func testReplayCancel(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "a")
	r := newReplay(t, s, f, now)
	at := now.Add(time.Second)
	got, err := s.ReplayCancel(ctx, f.Org.ID, r.ID, at)
	noErr(t, "ReplayCancel", err)
	if got.Status != volley.ReplayCancelled || !got.FinishedAt.Equal(at) || !got.Finished() {
		t.Fatalf("cancelled: %+v", got)
	}
	again, err := s.ReplayCancel(ctx, f.Org.ID, r.ID, at.Add(time.Hour))
	noErr(t, "ReplayCancel again", err)
	same(t, "cancelled twice", *again, *got)
	stored, err := s.ReplayGet(ctx, f.Org.ID, r.ID)
	noErr(t, "ReplayGet", err)
	same(t, "stored", *stored, *got)
	_, err = s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n1", Now: at.Add(time.Hour), Until: at.Add(2 * time.Hour)})
	wantErr(t, "ReplayClaim of a cancelled job", err, store.ErrNotFound)
}

func testReplayDeletedProject(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "a")
	p := createProject(t, s, f.Org.ID, f.Account.ID, "other", false)
	r := volley.Replay{ProjectID: p.ID, CreatedBy: f.Account.ID, CreatedAt: now}
	noErr(t, "ReplayCreate", s.ReplayCreate(ctx, &r))
	noErr(t, "ProjectDelete", s.ProjectDelete(ctx, f.Org.ID, p.ID, now))
	_, err := s.ReplayGet(ctx, f.Org.ID, r.ID)
	wantErr(t, "ReplayGet of a deleted project's job", err, store.ErrNotFound)
	_, err = s.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "n1", Now: now, Until: now.Add(time.Minute)})
	wantErr(t, "ReplayClaim of a deleted project's job", err, store.ErrNotFound)
}
