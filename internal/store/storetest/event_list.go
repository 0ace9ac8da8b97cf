package storetest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// newestFirst returns events in list order: created_at descending, then id
// descending.
func newestFirst(events ...volley.Event) []volley.Event {
	out := slices.Clone(events)
	slices.SortFunc(out, func(a, b volley.Event) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

func testEventList(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	w := newSite(t, s, ada.Project.ID, "w")
	v := newSite(t, s, staging.ID, "v")
	body := func(e volley.Event, b string) volley.Event {
		e.Body = []byte(b)
		return e
	}
	st := insert(t, s,
		routed(newEvent(w.A, "evt_list_a1", minute(1)), due(w.AX, minute(1))),
		routed(newEvent(w.A, "evt_list_a2", minute(2)), handed(w.AX, minute(9)), handed(w.AY, minute(9))),
		routed(newEvent(w.B, "evt_list_b1", minute(3)), handed(w.BX, minute(9))),
		// Same created_at as b1: the higher id comes first.
		routed(body(newEvent(w.B, "evt_list_b2", minute(3)), "needle: 50% off, a_b")),
		routed(body(newEvent(w.A, "evt_other_a3", minute(4)), "needle: 50 percent off, axb"), held(w.AY)),
		routed(body(newEvent(w.A, "evt_list_a4", minute(5)), "see evt_list_b1")),
		routed(body(newEvent(v.A, "evt_list_s1", minute(2)), "needle in staging"), due(v.AX, minute(2))),
	)
	a2, b1 := st[1], st[2]
	finish(t, s,
		outcome(a2.Deliveries[0], volley.DeliverySuccess, newAttempt(a2.Deliveries[0], 1, 200, 10, minute(6)), minute(6)),
		outcome(a2.Deliveries[1], volley.DeliverySuccess, newAttempt(a2.Deliveries[1], 1, 204, 10, minute(6)), minute(6)),
		outcome(b1.Deliveries[0], volley.DeliveryFailed, newAttempt(b1.Deliveries[0], 1, 410, 10, minute(6)), minute(6)),
	)
	st[1].Event.Status, st[2].Event.Status = volley.EventProcessed, volley.EventFailed
	a1, a2e, b1e, b2, a3, a4, s1 := st[0].Event, st[1].Event, st[2].Event, st[3].Event, st[4].Event, st[5].Event, st[6].Event
	all := newestFirst(a1, a2e, b1e, b2, a3, a4)
	unrouted := createDestination(t, s, newDestination(ada.Project.ID, "w-unrouted")) // no connection

	for _, tc := range []struct {
		name string
		p    store.EventListParams
		want []volley.Event
	}{
		{"All", store.EventListParams{}, all},
		{"Source", store.EventListParams{SourceID: w.A.ID}, []volley.Event{a4, a3, a2e, a1}},
		{"OtherSource", store.EventListParams{SourceID: w.B.ID}, newestFirst(b1e, b2)},
		{"Pending", store.EventListParams{Status: volley.EventPending}, []volley.Event{a3, a1}},
		{"Processed", store.EventListParams{Status: volley.EventProcessed}, []volley.Event{a2e}},
		{"Failed", store.EventListParams{Status: volley.EventFailed}, []volley.Event{b1e}},
		{"Dropped", store.EventListParams{Status: volley.EventDropped}, []volley.Event{a4, b2}},
		{"StartInclusive", store.EventListParams{Start: minute(3)}, newestFirst(a4, a3, b2, b1e)},
		{"EndInclusive", store.EventListParams{End: minute(3)}, newestFirst(b2, b1e, a2e, a1)},
		{"StartAndEnd", store.EventListParams{Start: minute(2), End: minute(3)}, newestFirst(b2, b1e, a2e)},
		{"Connection", store.EventListParams{ConnectionID: w.AX.ID}, []volley.Event{a2e, a1}},
		{"OtherConnection", store.EventListParams{ConnectionID: w.AY.ID}, []volley.Event{a3, a2e}},
		{"Destination", store.EventListParams{DestinationID: w.X.ID}, []volley.Event{b1e, a2e, a1}},
		{"OtherDestination", store.EventListParams{DestinationID: w.Y.ID}, []volley.Event{a3, a2e}},
		{"DestinationWithoutConnections", store.EventListParams{DestinationID: unrouted.ID}, nil},
		{"OtherProjectDestination", store.EventListParams{ProjectID: staging.ID, DestinationID: w.X.ID}, nil},
		{"SearchFullID", store.EventListParams{Search: "evt_list_b1"}, []volley.Event{b1e}},
		{"SearchIDPrefix", store.EventListParams{Search: "evt_list_a"}, []volley.Event{a4, a2e, a1}},
		{"SearchEveryID", store.EventListParams{Search: "evt_"}, all},
		// From storesql.IndexedIDPrefix on, the id range drives the plan;
		// the other filters still apply.
		{"SearchLongID", store.EventListParams{Search: "evt_other_a3"}, []volley.Event{a3}},
		{"SearchLongIDOtherSource", store.EventListParams{Search: "evt_other_a3", SourceID: w.B.ID}, nil},
		{"SearchLongIDConnection", store.EventListParams{Search: "evt_other_a3", ConnectionID: w.AY.ID}, []volley.Event{a3}},
		{"SearchLongIDOtherProject", store.EventListParams{ProjectID: staging.ID, Search: "evt_other_a3"}, nil},
		{"SearchUnknownID", store.EventListParams{Search: "evt_nope"}, nil},
		{"SearchBody", store.EventListParams{Search: "needle"}, []volley.Event{a3, b2}},
		{"SearchBodyPercentIsLiteral", store.EventListParams{Search: "50%"}, []volley.Event{b2}},
		{"SearchBodyUnderscoreIsLiteral", store.EventListParams{Search: "a_b"}, []volley.Event{b2}},
		{"SearchBodyJSON", store.EventListParams{Search: `"event":"evt_list_a1"`}, []volley.Event{a1}},
		// Several words: an index finds the events holding each (a3 and
		// b2 hold both), their bodies then the text.
		{"SearchBodyWords", store.EventListParams{Search: "needle: 50"}, []volley.Event{a3, b2}},
		{"SearchBodyWordsApart", store.EventListParams{Search: "50 off"}, nil},
		{"SearchBodyWordsStatus", store.EventListParams{Search: "needle: 50", Status: volley.EventPending}, []volley.Event{a3}},
		{"SourceStatusStart", store.EventListParams{SourceID: w.A.ID, Status: volley.EventPending, Start: minute(2)}, []volley.Event{a3}},
		{"DestinationSource", store.EventListParams{DestinationID: w.X.ID, SourceID: w.B.ID}, []volley.Event{b1e}},
		{"ConnectionStatus", store.EventListParams{ConnectionID: w.AX.ID, Status: volley.EventProcessed}, []volley.Event{a2e}},
		{"SearchStatus", store.EventListParams{Search: "needle", Status: volley.EventDropped}, []volley.Event{b2}},
		{"ConnectionEnd", store.EventListParams{ConnectionID: w.AY.ID, End: minute(3)}, []volley.Event{a2e}},
		{"OtherProject", store.EventListParams{ProjectID: staging.ID}, []volley.Event{s1}},
		{"OtherProjectConnection", store.EventListParams{ProjectID: staging.ID, ConnectionID: w.AX.ID}, nil},
		{"UnknownProject", store.EventListParams{ProjectID: staging.ID + 1000}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p.ProjectID == 0 {
				p.ProjectID = ada.Project.ID
			}
			p.Limit = 100
			got, total, err := s.EventList(t.Context(), p)
			noErr(t, "EventList", err)
			sameEvents(t, "EventList", got, tc.want)
			if total.N != int64(len(tc.want)) || total.Estimated {
				t.Errorf("EventList total = %d, want %d", total.N, len(tc.want))
			}
		})
	}

	t.Run("Paging", func(t *testing.T) {
		for _, tc := range []struct {
			p     store.EventListParams
			want  []volley.Event
			total int64
		}{
			{store.EventListParams{Limit: 2}, all[:2], 6},
			{store.EventListParams{Limit: 2, Offset: 2}, all[2:4], 6},
			{store.EventListParams{Limit: 2, Offset: 4}, all[4:], 6},
			{store.EventListParams{Limit: 2, Offset: 6}, nil, 6},
			{store.EventListParams{Limit: 4, Offset: 5}, all[5:], 6},
			{store.EventListParams{SourceID: w.A.ID, Limit: 3, Offset: 3}, []volley.Event{a1}, 4},
			{store.EventListParams{Search: "needle", Limit: 1, Offset: 1}, []volley.Event{b2}, 2},
			// A search of several words, whose candidates' bodies are
			// checked (a3 is one for "needle: 50%" and does not match),
			// paged every way.
			{store.EventListParams{Search: "needle: 50", Limit: 1}, []volley.Event{a3}, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 1, Offset: 1}, []volley.Event{b2}, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 1, Offset: 2}, nil, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 1, Page: pageAfter(a3)}, []volley.Event{b2}, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 1, Page: pageAfter(b2)}, nil, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 1, Page: pageBefore(b2)}, []volley.Event{a3}, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 5, Page: pageBefore(a3)}, nil, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 5, Page: pageBefore(a1)}, []volley.Event{a3, b2}, 2},
			{store.EventListParams{Search: "needle: 50", Limit: 1, Page: store.PageParams{CountLimit: 1}}, []volley.Event{a3}, 2},
			{store.EventListParams{Search: "needle: 50%", Limit: 1}, []volley.Event{b2}, 1},
			{store.EventListParams{Search: "needle: 50%", Limit: 1, Page: pageAfter(a4)}, []volley.Event{b2}, 1},
			{store.EventListParams{Search: "needle: 50%", Limit: 1, Page: pageBefore(b1e)}, []volley.Event{b2}, 1},
			// Cursors: the next page after an item, the previous page
			// before one, ties (b1 and b2 share a time) broken by id.
			{store.EventListParams{Limit: 2, Page: pageAfter(all[1])}, all[2:4], 6},
			{store.EventListParams{Limit: 2, Page: pageAfter(all[2])}, all[3:5], 6},
			{store.EventListParams{Limit: 2, Page: pageAfter(all[3])}, all[4:6], 6},
			{store.EventListParams{Limit: 2, Page: pageAfter(all[5])}, nil, 6},
			{store.EventListParams{Limit: 2, Page: pageBefore(all[4])}, all[2:4], 6},
			{store.EventListParams{Limit: 2, Page: pageBefore(all[3])}, all[1:3], 6},
			{store.EventListParams{Limit: 5, Page: pageBefore(all[1])}, all[:1], 6},
			{store.EventListParams{Limit: 5, Page: pageBefore(all[0])}, nil, 6},
			{store.EventListParams{Limit: 1, Offset: 1, Page: pageAfter(all[0])}, all[2:3], 6},
			{store.EventListParams{SourceID: w.A.ID, Limit: 5, Page: pageAfter(a1)}, nil, 4},
			// A capped count stops at the cap plus one.
			{store.EventListParams{Limit: 1, Page: store.PageParams{CountLimit: 3}}, all[:1], 4},
			{store.EventListParams{Limit: 1, Page: store.PageParams{CountLimit: 6}}, all[:1], 6},
			{store.EventListParams{Limit: 1, Page: store.PageParams{CountLimit: 3, After: cursorOf(all[0])}}, all[1:2], 4},
		} {
			p := tc.p
			p.ProjectID = ada.Project.ID
			got, total, err := s.EventList(t.Context(), p)
			noErr(t, "EventList", err)
			sameEvents(t, "EventList page", got, tc.want)
			if total.N != tc.total || total.Estimated {
				t.Errorf("EventList %+v total = %d, want %d", p, total.N, tc.total)
			}
		}
	})
}

// testEventListSourceDeleted lists events whose source is gone: they stay,
// with an empty source slug.
func testEventListSourceDeleted(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	a := insertOne(t, s, newEvent(w.A, "evt_kept_source", minute(1))).Event
	b := insertOne(t, s, newEvent(w.B, "evt_gone_source", minute(2))).Event
	noErr(t, "SourceDelete", s.SourceDelete(ctx, ada.Org.ID, w.B.ID, minute(3)))
	b.SourceSlug = ""
	got, total, err := s.EventList(ctx, store.EventListParams{ProjectID: ada.Project.ID, Limit: 10})
	noErr(t, "EventList", err)
	sameEvents(t, "EventList after SourceDelete", got, []volley.Event{b, a})
	if total.N != 2 {
		t.Errorf("EventList total = %d, want 2", total.N)
	}
	got, _, err = s.EventList(ctx, store.EventListParams{ProjectID: ada.Project.ID, SourceID: w.B.ID, Limit: 10})
	noErr(t, "EventList", err)
	sameEvents(t, "EventList of a deleted source", got, []volley.Event{b})
	wantEvent(t, s, ada.Org.ID, b)
}

// cursorOf is an event's position in an event list.
func cursorOf(e volley.Event) *store.Cursor {
	return &store.Cursor{Key: e.CreatedAt.UnixMicro(), ID: e.ID}
}

func pageAfter(e volley.Event) store.PageParams  { return store.PageParams{After: cursorOf(e)} }
func pageBefore(e volley.Event) store.PageParams { return store.PageParams{Before: cursorOf(e)} }
