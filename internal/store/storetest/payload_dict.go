package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
	"github.com/volleyhq/volley/internal/volley"
)

func payloadDictTests() []test {
	return []test{
		{"Payloads/Dictionaries", testPayloadDicts},
		{"Payloads/DictionarySources", testPayloadDictSources},
	}
}

// dictBody is a JSON body of about 600 bytes, alike for every i as one
// source's webhooks are.
func dictBody(i int) []byte {
	return fmt.Appendf(nil, `{"id":"evt_%08d","type":"invoice.paid","data":{"object":{"id":"in_%d","customer":"cus_%d",`+
		`"amount_due":%d,"amount_paid":%d,"currency":"eur","status":"paid","lines":[{"description":"Plan %d",`+
		`"quantity":%d,"unit_amount":%d}],"billing_reason":"subscription_cycle","customer_email":"c%d@example.com",`+
		`"hosted_invoice_url":"https://invoice.example.com/i/%x"}},"livemode":false,"pending_webhooks":1}`,
		i, i*7919, i*31, i*13%10000, i*13%10000, i%5, 1+i%3, i*17%5000, i, i*2654435761)
}

// dictEvent is an event of src at minute at whose body is dictBody(i).
func dictEvent(src volley.Source, i, at int) volley.Event {
	e := newEvent(src, fmt.Sprintf("evt_dict_%s_%04d", src.Slug, i), minute(at))
	e.Headers = http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
		"Stripe-Signature": {fmt.Sprintf("t=%d,v1=%064x", 1700000000+i, i)}}
	e.Body = dictBody(i)
	return e
}

// trainFrom trains a dictionary on a source's sample, as the trainer does.
func trainFrom(t *testing.T, s store.Store, sourceID uint64, at time.Time) *store.PayloadDict {
	t.Helper()
	sample, err := s.PayloadSample(t.Context(), sourceID, 150)
	noErr(t, "PayloadSample", err)
	var in [][]byte
	for _, p := range sample {
		in = append(in, p.Body, []byte(p.Headers))
	}
	raw, err := payload.TrainDict(in, 0)
	noErr(t, "TrainDict", err)
	id, err := payload.DictID(raw)
	noErr(t, "DictID", err)
	return &store.PayloadDict{ID: id, SourceID: sourceID, Dict: raw, Ratio: 0.4, CreatedAt: at}
}

// testPayloadDicts checks that payloads written before any dictionary,
// with a source's first and with its second read back exactly, through
// every path that reads them: get, list, search, lease and stream.
func testPayloadDicts(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	var all []volley.Event
	add := func(from, to, at int) {
		var batch []store.NewEvent
		for i := from; i < to; i++ {
			batch = append(batch, routed(dictEvent(w.A, i, at), due(w.AX, minute(at))))
		}
		for _, st := range insert(t, s, batch...) {
			all = append(all, st.Event)
		}
	}
	add(0, 150, 1)

	sample, err := s.PayloadSample(t.Context(), w.A.ID, 1000)
	noErr(t, "PayloadSample", err)
	if len(sample) != 150 {
		t.Fatalf("PayloadSample gave %d payloads, want 150", len(sample))
	}
	for _, p := range sample {
		if !bytes.Contains(p.Body, []byte(`"type":"invoice.paid"`)) || !bytes.Contains([]byte(p.Headers), []byte("Stripe/1.0")) {
			t.Fatalf("PayloadSample payload %q %q is not one of the source's", p.Headers, p.Body)
		}
	}

	first := trainFrom(t, s, w.A.ID, minute(2))
	noErr(t, "PayloadDictInsert", s.PayloadDictInsert(t.Context(), first))
	if err := s.PayloadDictInsert(t.Context(), first); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PayloadDictInsert of a taken id: %v, want a conflict", err)
	}
	missing := *first // a missing source is found out before the taken id
	missing.SourceID = w.A.ID + 1000
	if err := s.PayloadDictInsert(t.Context(), &missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PayloadDictInsert for a missing source: %v, want ErrNotFound", err)
	}
	got, err := s.PayloadDictGet(t.Context(), first.ID)
	noErr(t, "PayloadDictGet", err)
	same(t, "PayloadDictGet", *got, *first)
	if _, err := s.PayloadDictGet(t.Context(), first.ID+1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PayloadDictGet of a missing id: %v, want ErrNotFound", err)
	}
	add(150, 160, 3)

	second := trainFrom(t, s, w.A.ID, minute(4))
	noErr(t, "PayloadDictInsert second", s.PayloadDictInsert(t.Context(), second))
	add(160, 170, 5)
	// Another source's dictionary does not touch this one's payloads.
	add2 := insertOne(t, s, dictEvent(w.B, 0, 5))
	all = append(all, add2.Event)

	// Get, in every era.
	for _, i := range []int{0, 149, 150, 159, 160, 169, 170} {
		wantEvent(t, s, ada.Org.ID, all[i])
	}
	// List, with a search by a word of one body only.
	list, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, SourceID: w.A.ID, Limit: 200})
	noErr(t, "EventList", err)
	if len(list) != 170 {
		t.Fatalf("EventList gave %d events, want 170", len(list))
	}
	byUID := map[string]volley.Event{}
	for _, e := range all {
		byUID[e.UID] = e
	}
	for _, e := range list {
		same(t, "EventList "+e.UID, normalEvent(e), normalEvent(byUID[e.UID]))
	}
	for _, i := range []int{3, 155, 165} {
		want := all[i]
		found, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID,
			Search: fmt.Sprintf("c%d@example.com", i), Limit: 10})
		noErr(t, "EventList search", err)
		sameEvents(t, "search in body "+want.UID, found, []volley.Event{want})
	}
	// Lease: the delivery gets its event's exact payload.
	jobs, err := s.DeliveryLease(t.Context(), store.LeaseParams{Owner: "n", Now: minute(9), Until: minute(10), Limit: 500})
	noErr(t, "DeliveryLease", err)
	if len(jobs) != 170 {
		t.Fatalf("DeliveryLease gave %d jobs, want 170", len(jobs))
	}
	for _, j := range jobs {
		same(t, "leased "+j.Event.UID, normalEvent(j.Event), normalEvent(byUID[j.Event.UID]))
	}
	// Stream (volley listen).
	for _, e := range streamAll(t, s, []uint64{w.A.ID}, store.StreamPos{}, 100, 170) {
		same(t, "streamed "+e.Event.UID, normalEvent(e.Event), normalEvent(byUID[e.Event.UID]))
	}
}

// testPayloadDictSources checks the trainer's view: each source once, by
// id, with its newest dictionary, and whether one without has enough events.
func testPayloadDictSources(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	bob := newFixture(t, s, "bob")
	w := newSite(t, s, ada.Project.ID, "w")
	v := newSite(t, s, bob.Project.ID, "v")
	var batch []store.NewEvent
	for i := range 150 {
		batch = append(batch, routed(dictEvent(w.A, i, 1)))
		if i < 149 {
			batch = append(batch, routed(dictEvent(v.B, i, 1)))
		}
	}
	insert(t, s, batch...)
	first := trainFrom(t, s, w.A.ID, minute(2))
	noErr(t, "PayloadDictInsert", s.PayloadDictInsert(t.Context(), first))
	second := trainFrom(t, s, w.A.ID, minute(3))
	second.Ratio = 0.35
	noErr(t, "PayloadDictInsert", s.PayloadDictInsert(t.Context(), second))

	var got []store.PayloadDictSource
	after := uint64(0)
	for {
		page, err := s.PayloadDictSources(t.Context(), store.PayloadDictSourcesParams{After: after, Limit: 3, MinEvents: 149})
		noErr(t, "PayloadDictSources", err)
		if len(page) > 3 {
			t.Fatalf("PayloadDictSources gave %d sources, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].SourceID
	}
	want := []store.PayloadDictSource{
		{SourceID: w.A.ID, DictID: second.ID, DictRatio: 0.35, DictCreatedAt: minute(3)},
		{SourceID: w.B.ID},
		{SourceID: v.A.ID},
		{SourceID: v.B.ID, Enough: true},
	}
	same(t, "PayloadDictSources", got, want)
	page, err := s.PayloadDictSources(t.Context(), store.PayloadDictSourcesParams{Limit: 10, MinEvents: 150})
	noErr(t, "PayloadDictSources", err)
	if len(page) != 4 || page[3].Enough {
		t.Errorf("PayloadDictSources with MinEvents 150: %+v, want source %d without enough", page, v.B.ID)
	}
}
