package replay_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/replay"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// TestReplayTwoNodes runs two nodes on one PostgreSQL database: a job
// leased by a node that died (a lease nobody renews) is taken over by
// another once the lease runs out, and every event is replayed exactly
// once. The first node only looks for jobs when told (its poll is an
// hour), so that the dead node's claim cannot lose the race to it.
func TestReplayTwoNodes(t *testing.T) {
	t.Parallel()
	dbURL := os.Getenv("VOLLEY_TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("VOLLEY_TEST_DATABASE_URL is not set: skipping the two-node replay test")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "v_replay_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	open := func() *storepg.Store {
		st, err := storepg.Open(context.Background(), storepg.Config{URL: dbURL, Schema: schema, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	rc := replay.Config{Batch: 5, PollInterval: 100 * time.Millisecond}
	st := open()
	a := testserver.Start(t, testserver.Options{Store: st, Replay: replay.Config{Batch: 5, PollInterval: time.Hour}})
	na := &node{srv: a, pid: a.AdminAccount().ProjectID}
	sk := newSink(t, nil)
	src, dest, conn := na.route(t, "shop", sk.URL)
	ids := seedFailed(t, st, na.pid, src, dest, conn, 60)

	// A job claimed by a node that is gone: its lease runs out in a second.
	ctx := context.Background()
	acct := a.AdminAccount()
	ghost := volley.Replay{ProjectID: na.pid, Filter: volley.ReplayFilter{Status: volley.EventFailed, End: time.Now().UTC()},
		Matched: 60, CreatedBy: acct.AccountID, CreatedAt: time.Now().UTC()}
	if err := st.ReplayCreate(ctx, &ghost); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if got, err := st.ReplayClaim(ctx, store.ReplayClaimParams{Owner: "ghost", Now: now, Until: now.Add(time.Second)}); err != nil || got.ID != ghost.ID {
		t.Fatalf("ghost claim: %+v, %v", got, err)
	}
	c := testserver.Start(t, testserver.Options{Store: open(), Replay: rc})
	done := na.awaitJob(t, ghost.ID, "done", 60*time.Second)
	if done.Counts.Processed != 60 || done.Counts.Done != 60 {
		t.Fatalf("counts %+v, want 60 processed and done", done.Counts)
	}
	got := replayAttempts(t, st, ids)
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("event %d replayed %d times, want once", id, got[id])
		}
	}
	if sa, sc := a.Node.ReplayStats().Started, c.Node.ReplayStats().Started; sa+sc != 60 {
		t.Errorf("the nodes started %d and %d replays, want 60 in all", sa, sc)
	}
}
