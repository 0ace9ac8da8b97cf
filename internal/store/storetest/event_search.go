package storetest

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// testEventSearch checks the semantics of a body search (docs/api.md):
// whole words, case ignored, the whole text present in the body, on
// compressed and plain bodies alike, before and after a driver that indexes
// in the background (store.SearchIndexer) has indexed them; deleting an
// event takes it out of the index. Every driver gives these answers.
func testEventSearch(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	ev := func(uid string, at int, body []byte) store.NewEvent {
		e := newEvent(w.A, uid, minute(at))
		e.Body = body
		return routed(e)
	}
	long := []byte(`{"order":{"lines":[` + strings.Repeat(`{"sku":"tea-pot","qty":1},`, 50) + `{}]},"note":"Café Crème for Ada"}`)
	st := insert(t, s,
		ev("evt_search_words", 1, []byte("The Quick brown fox; order #1234 from ada@example.com")),
		ev("evt_search_long", 2, long),
		ev("evt_search_binary", 3, append([]byte{0xff, 0x00, 0xfe, ' '}, []byte("binary needle here")...)),
		ev("evt_search_part", 4, []byte("foxes and quicker things")),
	)
	words, compressed, binary := st[0].Event, st[1].Event, st[2].Event
	// The same answers whether the events are not yet indexed or indexed.
	for _, indexed := range []bool{false, true} {
		if indexed {
			searchIndex(t, s)
		}
		for _, tc := range []struct {
			search string
			want   []volley.Event
		}{
			{"quick", []volley.Event{words}},
			{"QUICK BROWN", []volley.Event{words}},
			{"brown fox", []volley.Event{words}},
			{"fox brown", nil}, // the words are there, the text is not
			{"quic", nil},      // not a whole word
			{"foxes", []volley.Event{st[3].Event}},
			{"ada@example.com", []volley.Event{words}},
			{"#1234", []volley.Event{words}},
			{`"sku":"tea-pot"`, []volley.Event{compressed}},
			{"café crème", []volley.Event{compressed}},
			{"needle", []volley.Event{binary}},
			{"%", nil},
		} {
			got, total, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, Search: tc.search, Limit: 10})
			noErr(t, "EventList", err)
			sameEvents(t, fmt.Sprintf("search %s (indexed %v)", tc.search, indexed), got, tc.want)
			if total.N != int64(len(tc.want)) || total.Estimated {
				t.Errorf("search %q (indexed %v): total = %d, want %d", tc.search, indexed, total.N, len(tc.want))
			}
		}
	}

	// The body comes back exact, compressed or not.
	for _, e := range []volley.Event{words, compressed, binary} {
		wantEvent(t, s, ada.Org.ID, e)
	}

	// Retention deletes the events; a later event with the same words is
	// the only one found (the drivers' own tests check the index rows).
	retain(t, s, store.RetentionParams{Before: minute(5), Now: minute(5), Limit: 2}, nil)
	again := insertOne(t, s, newEvent(w.A, "evt_search_again", minute(6))).Event
	got, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, Search: "evt_search_", Limit: 10})
	noErr(t, "EventList", err)
	sameEvents(t, "search after retention", got, []volley.Event{again})
}

// testEventSearchProviderID checks that a provider's delivery id finds its
// event exactly: from the headers Volley knows, or the body's top-level
// "id" (Stripe's "evt_…" ids, looked up when no Volley id matches).
func testEventSearchProviderID(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	other := newFixture(t, s, "bob")
	w := newSite(t, s, ada.Project.ID, "w")
	v := newSite(t, s, other.Project.ID, "v")
	ev := func(src volley.Source, uid string, at int, h http.Header, body string) store.NewEvent {
		e := newEvent(src, uid, minute(at))
		for k, vs := range h {
			e.Headers[k] = vs
		}
		e.Body = []byte(body)
		return routed(e)
	}
	github := http.Header{"X-Github-Delivery": {"72d3162e-cc78-11e3-81ab-4c9367dc0958"}}
	svix := http.Header{"Svix-Id": {"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}}
	st := insert(t, s,
		ev(w.A, "evt_provider_github", 1, github, `{"action":"opened"}`),
		ev(w.A, "evt_provider_svix", 2, svix, `{"type":"user.created"}`),
		ev(w.A, "evt_provider_stripe", 3, nil, `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event"}`),
		ev(w.A, "evt_provider_mention", 4, nil, `{"parent":"evt_1NG8Du2eZvKYlo2CUI79vXWy"}`),
		ev(v.A, "evt_provider_other", 5, github, `{}`),
		ev(w.A, "evt_provider_number", 6, nil, `{"id":12345}`),
	)
	cases := []struct {
		search string
		want   []volley.Event
	}{
		{"72d3162e-cc78-11e3-81ab-4c9367dc0958", []volley.Event{st[0].Event}},
		{"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", []volley.Event{st[1].Event}},
		// No Volley id starts so: the provider id, then. (The event that
		// mentions it in its body is not a full-text match of an evt_
		// search, which is an id search.)
		{"evt_1NG8Du2eZvKYlo2CUI79vXWy", []volley.Event{st[2].Event}},
		{"evt_1NG8Du2eZvKYlo2CUI79vXW", nil}, // ids match whole
		{"evt_provider_s", newestFirst(st[1].Event, st[2].Event)},
		{"12345", []volley.Event{st[5].Event}}, // a number is no id, but the body holds it
	}
	// Before and after a driver that indexes in the background has indexed
	// the events: their ids are found either way.
	for _, when := range []string{"as written", "indexed"} {
		if when == "indexed" {
			searchIndex(t, s)
		}
		for _, tc := range cases {
			got, total, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, Search: tc.search, Limit: 10})
			noErr(t, "EventList", err)
			sameEvents(t, when+": search "+tc.search, got, tc.want)
			if total.N != int64(len(tc.want)) || total.Estimated {
				t.Errorf("%s: search %q: total = %d, want %d", when, tc.search, total.N, len(tc.want))
			}
		}
	}

	// A lease hands the delivery its event's exact payload.
	e := newEvent(w.A, "evt_provider_lease", minute(7))
	e.Body = bytes.Repeat([]byte(`{"k":"v"},`), 100)
	insertOne(t, s, e, due(w.AX, minute(7)))
	jobs, err := s.DeliveryLease(t.Context(), store.LeaseParams{Owner: "n", Now: minute(8), Until: minute(9), Limit: 100})
	noErr(t, "DeliveryLease", err)
	found := false
	for _, j := range jobs {
		if j.Event.UID == e.UID {
			found = true
			if !bytes.Equal(j.Event.Body, e.Body) || j.Event.Headers.Get("X-Trace") != "a" {
				t.Errorf("leased event body %q headers %v, want the stored ones", j.Event.Body, j.Event.Headers)
			}
		}
	}
	if !found {
		t.Errorf("DeliveryLease did not hand out %s", e.UID)
	}
}
