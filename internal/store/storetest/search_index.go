package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// searchIndex lets a driver that indexes bodies in the background
// (store.SearchIndexer) index every event written so far, in small batches;
// other drivers index as they write.
func searchIndex(t *testing.T, s store.Store) {
	t.Helper()
	ix, ok := s.(store.SearchIndexer)
	if !ok {
		return
	}
	for range 10_000 {
		res, err := ix.SearchIndex(t.Context(), 2)
		noErr(t, "SearchIndex", err)
		if res.Done {
			return
		}
	}
	t.Fatal("SearchIndex is not done after 10,000 batches")
}

// testEventSearchIndex checks that a body search is complete whatever the
// index holds: it finds the events indexed and those not yet indexed
// together (one page, newest first, one total), only the project's, and
// none that retention deleted, before or after the index catches up.
func testEventSearchIndex(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	bob := newFixture(t, s, "bob")
	w := newSite(t, s, ada.Project.ID, "w")
	v := newSite(t, s, bob.Project.ID, "v")
	ev := func(src volley.Source, uid string, at int, body string) store.NewEvent {
		e := newEvent(src, uid, minute(at))
		e.Body = []byte(body)
		return routed(e)
	}
	old := insert(t, s,
		ev(w.A, "evt_index_old_1", 1, `{"note":"needle in the old haystack"}`),
		ev(w.A, "evt_index_old_2", 2, `{"note":"nothing to see"}`),
		ev(w.A, "evt_index_old_3", 3, `{"note":"Needle, alone"}`),
		ev(v.A, "evt_index_other", 4, `{"note":"needle of another project"}`),
	)
	searchIndex(t, s)
	fresh := insert(t, s,
		ev(w.A, "evt_index_new_1", 5, `{"note":"a fresh needle"}`),
		ev(w.A, "evt_index_new_2", 6, `{"note":"fresh hay only"}`),
	)
	search := func(when, text string, want ...volley.Event) {
		t.Helper()
		got, total, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, Search: text, Limit: 10})
		noErr(t, "EventList", err)
		what := fmt.Sprintf("%s: search %q", when, text)
		sameEvents(t, what, got, newestFirst(want...))
		if total.N != int64(len(want)) || total.Estimated {
			t.Errorf("%s: total = %d, want %d", what, total.N, len(want))
		}
		// A page of one reads across the indexed and the unindexed events
		// in order too.
		if len(want) > 1 {
			first, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, Search: text, Limit: 1})
			noErr(t, "EventList", err)
			sameEvents(t, what+", limit 1", first, newestFirst(want...)[:1])
		}
	}
	needles := func(when string, want ...volley.Event) {
		t.Helper()
		search(when, "needle", want...)
		search(when, "NEEDLE", want...)
	}
	needles("indexed and not", old[0].Event, old[2].Event, fresh[0].Event)
	search("indexed and not", "fresh", fresh[0].Event, fresh[1].Event)
	search("indexed and not", "old haystack", old[0].Event)
	search("indexed and not", "haystack old")
	search("indexed and not", "fresh needle", fresh[0].Event)

	// Retention deletes the old events: neither the index nor the events
	// past it find them any more.
	retain(t, s, store.RetentionParams{Before: minute(4), Now: minute(4), Limit: 2}, nil)
	needles("after retention", fresh[0].Event)
	search("after retention", "haystack")
	searchIndex(t, s)
	needles("after retention, indexed", fresh[0].Event)
	search("after retention, indexed", "fresh", fresh[0].Event, fresh[1].Event)
	search("after retention, indexed", "alone")

	// The other project's event (minute 4, not before the cut) was kept
	// and is found in its own project only.
	got, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: bob.Project.ID, Search: "needle", Limit: 10})
	noErr(t, "EventList", err)
	sameEvents(t, "the other project's search", got, []volley.Event{old[3].Event})
}

// SearchIndexYields fills the body search index of a store with events
// not yet indexed, batch by batch, and checks, like RetentionYields, that
// an ingest issued while a batch is held open commits before the indexing
// ends. The store must implement store.SearchIndexer; the gate must hold
// its batches.
func SearchIndexYields(t *testing.T, s store.Store, cfg YieldConfig) {
	ix, ok := s.(store.SearchIndexer)
	if !ok {
		t.Fatalf("%T does not index bodies in the background", s)
	}
	c := Graph(t, s)
	const limit, rounds = 10, 4
	if _, err := s.EventInsert(t.Context(), Events(limit*rounds, 0, c, time.Time{})); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context) (int, error) {
		for n := 0; ; n++ {
			res, err := ix.SearchIndex(ctx, limit)
			if err != nil || res.Indexed == 0 {
				return n, err
			}
		}
	}
	yields(t, s, c, cfg, run, rounds)
}
