package storetest

import (
	"fmt"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// testRetentionSkipsOnce puts old events with unfinished deliveries at the
// head of the store, before old finished ones: a pass reads past them once
// (each round moves its cursor on, so no round reads them again) and
// deletes the finished ones behind them in rounds of at most Limit; the
// next pass, once they have finished, deletes them too.
func testRetentionSkipsOnce(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	const limit, unfinished, finished = 3, 7, 8
	var head, old []store.NewEvent
	for i := range unfinished {
		// Held, pending, and pending with a lease: all unfinished.
		d := held(w.AY)
		switch i % 3 {
		case 1:
			d = due(w.AX, minute(300))
		case 2:
			d = handed(w.AX, minute(300))
		}
		head = append(head, routed(newEvent(w.A, fmt.Sprintf("evt_head_%d", i), minute(i)), d))
	}
	for i := range finished {
		old = append(old, routed(newEvent(w.A, fmt.Sprintf("evt_old_%d", i), minute(10+i))))
	}
	heads := insert(t, s, head...)
	olds := insert(t, s, old...)
	recent := insertOne(t, s, newEvent(w.A, "evt_recent", minute(100)))

	p := store.RetentionParams{Before: minute(50), Now: minute(50), Limit: limit}
	var rounds []store.RetentionResult
	for {
		res, err := s.RetentionDelete(t.Context(), p)
		noErr(t, "RetentionDelete", err)
		rounds = append(rounds, res)
		if res.Done {
			break
		}
		if res.After <= p.After {
			t.Fatalf("round %d %+v did not move the cursor past %d: it would read the same events again", len(rounds), res, p.After)
		}
		if res.Deleted > limit {
			t.Fatalf("round %d deleted %d events with Limit %d", len(rounds), res.Deleted, limit)
		}
		if len(rounds) > 20 {
			t.Fatalf("the pass is not done after %d rounds: %+v", len(rounds), rounds)
		}
		p.After = res.After
	}
	// Each round reads a window of Limit events: the 15 old ones take 5
	// rounds, then one finds only the recent event.
	if want := (unfinished+finished+limit-1)/limit + 1; len(rounds) != want {
		t.Errorf("the pass took %d rounds %+v, want %d", len(rounds), rounds, want)
	}
	for _, ev := range olds {
		wantSwept(t, s, ada.Org.ID, ev.Event)
	}
	for _, ev := range heads {
		wantDeliveries(t, s, ev.Event, ev.Deliveries...)
	}
	wantEvent(t, s, ada.Org.ID, recent.Event)

	// The next pass looks at them again: still unfinished, they stay; once
	// finished, they go.
	if n := retain(t, s, p, nil); n != 0 {
		t.Errorf("a pass over unfinished events deleted something in %d rounds", n)
	}
	// The held ones are cancelled with their connection.
	noErr(t, "ConnectionDelete", s.ConnectionDelete(t.Context(), ada.Org.ID, w.AY.ID, minute(20)))
	sweep(t, s, minute(20))
	for _, ev := range heads {
		d := ev.Deliveries[0]
		if d.State == volley.DeliveryHeld {
			continue
		}
		if d.LeaseOwner == "" {
			d = wantJobs(t, lease(t, s, "w1", minute(300), minute(301), 1, 0), "w1", minute(301), ev)[0]
		}
		settle(t, s, d, volley.DeliverySuccess, minute(20))
	}
	retain(t, s, p, nil)
	for _, ev := range heads {
		wantSwept(t, s, ada.Org.ID, ev.Event)
	}
	wantEvent(t, s, ada.Org.ID, recent.Event)
}
