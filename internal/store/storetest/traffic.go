package storetest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func eventTests() []test {
	return []test{
		{"Events/Insert", testEventInsert},
		{"Events/Payload", testEventPayload},
		{"Events/Times", testEventTimes},
		{"Events/Idempotency", testEventIdempotency},
		{"Events/IdempotencyInOneBatch", testEventIdempotencyBatch},
		{"Events/List", testEventList},
		{"Events/Search", testEventSearch},
		{"Events/SearchProviderID", testEventSearchProviderID},
		{"Events/SearchIndex", testEventSearchIndex},
		{"Events/ListAfterSourceDelete", testEventListSourceDeleted},
		{"Events/OtherOrg", testEventOtherOrg},
	}
}

// minute returns now plus n minutes. Traffic tests pass every time
// explicitly, on this clock, and never sleep.
func minute(n int) time.Time { return now.Add(time.Duration(n) * time.Minute) }

// site is a project's routing graph for traffic: two sources and two
// destinations, connected a→x, a→y and b→x.
type site struct {
	A, B       volley.Source
	X, Y       volley.Destination
	AX, AY, BX volley.Connection
}

// newSite creates a site in a project; name tells sites in one store apart.
func newSite(t *testing.T, s store.Store, projectID uint64, name string) site {
	t.Helper()
	var w site
	w.A = createSource(t, s, bareSource(projectID, name+"-a"))
	w.B = createSource(t, s, bareSource(projectID, name+"-b"))
	w.X = createDestination(t, s, newDestination(projectID, name+"-x"))
	w.Y = createDestination(t, s, newDestination(projectID, name+"-y"))
	w.AX = createConnection(t, s, w.A, w.X)
	w.AY = createConnection(t, s, w.A, w.Y)
	w.BX = createConnection(t, s, w.B, w.X)
	return w
}

// newEvent returns an unsaved event received on src at at, with the source
// slug it is listed with. Its uid must be unique within the store.
func newEvent(src volley.Source, uid string, at time.Time) volley.Event {
	return volley.Event{
		UID:        uid,
		ProjectID:  src.ProjectID,
		SourceID:   src.ID,
		SourceSlug: src.Slug,
		Method:     http.MethodPost,
		Query:      "topic=orders&id=" + uid,
		Headers:    http.Header{"Content-Type": {"application/json"}, "X-Trace": {"a", "b"}},
		Body:       []byte(`{"event":"` + uid + `"}`),
		CreatedAt:  at,
		// Every event carries a trace context; Traffic/TraceParent checks
		// one without.
		TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	}
}

// due returns an unsaved pending delivery through c, due at at.
func due(c volley.Connection, at time.Time) volley.Delivery {
	return volley.Delivery{
		ProjectID:     c.ProjectID,
		SourceID:      c.SourceID,
		ConnectionID:  c.ID,
		DestinationID: c.DestinationID,
		State:         volley.DeliveryPending,
		NextAttemptAt: at,
	}
}

// held returns an unsaved delivery through c held for its connection.
func held(c volley.Connection) volley.Delivery {
	d := due(c, time.Time{})
	d.State = volley.DeliveryHeld
	return d
}

// handed returns an unsaved pending delivery through c handed straight to
// the worker "ingest" with lease token 1, its lease expiring at until.
func handed(c volley.Connection, until time.Time) volley.Delivery {
	d := due(c, until)
	d.LeaseOwner, d.LeaseToken = "ingest", 1
	return d
}

// routed returns e to be stored with deliveries, created with it.
func routed(e volley.Event, deliveries ...volley.Delivery) store.NewEvent {
	for i := range deliveries {
		deliveries[i].CreatedAt = e.CreatedAt
	}
	return store.NewEvent{Event: e, Deliveries: deliveries}
}

// stored is an event and its deliveries as the store should return them.
type stored struct {
	Event      volley.Event
	Deliveries []volley.Delivery
}

// insert stores events, none of them a duplicate, in one EventInsert call
// and returns them as stored.
func insert(t *testing.T, s store.Store, events ...store.NewEvent) []stored {
	t.Helper()
	res, err := s.EventInsert(t.Context(), events)
	noErr(t, "EventInsert", err)
	if len(res) != len(events) {
		t.Fatalf("EventInsert returned %d results for %d events", len(res), len(events))
	}
	out := make([]stored, len(events))
	seen := map[uint64]bool{}
	for i, ne := range events {
		r := res[i]
		if r.Duplicate || r.ID == 0 || r.UID != ne.Event.UID || len(r.DeliveryIDs) != len(ne.Deliveries) {
			t.Fatalf("EventInsert result %d = %+v, want new event %s with %d delivery ids",
				i, r, ne.Event.UID, len(ne.Deliveries))
		}
		e := ne.Event
		e.ID, e.Status = r.ID, volley.EventPending
		if len(ne.Deliveries) == 0 {
			e.Status = volley.EventDropped
		}
		out[i].Event = e
		for j, d := range ne.Deliveries {
			if id := r.DeliveryIDs[j]; id == 0 || seen[id] {
				t.Fatalf("EventInsert delivery ids %v of %s are not new and distinct", r.DeliveryIDs, e.UID)
			}
			seen[r.DeliveryIDs[j]] = true
			d.ID, d.EventID, d.EventUID = r.DeliveryIDs[j], e.ID, e.UID
			out[i].Deliveries = append(out[i].Deliveries, d)
		}
	}
	return out
}

// insertOne stores e routed to deliveries.
func insertOne(t *testing.T, s store.Store, e volley.Event, deliveries ...volley.Delivery) stored {
	t.Helper()
	return insert(t, s, routed(e, deliveries...))[0]
}

// normalEvent drops what drivers may store as "unset": empty headers and
// bodies come back nil or empty.
func normalEvent(e volley.Event) volley.Event {
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
	if len(e.Body) == 0 {
		e.Body = nil
	}
	return e
}

// normalDelivery drops what the contract leaves open: the lease token of a
// delivery nobody holds and the due time of one that is not pending.
func normalDelivery(d volley.Delivery) volley.Delivery {
	if d.LeaseOwner == "" {
		d.LeaseToken = 0
	}
	if d.State != volley.DeliveryPending {
		d.NextAttemptAt = time.Time{}
	}
	return d
}

func mapped[T any](in []T, f func(T) T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// sameEvents is same for events, normalised.
func sameEvents(t *testing.T, what string, got, want []volley.Event) {
	t.Helper()
	same(t, what, mapped(got, normalEvent), mapped(want, normalEvent))
}

// wantEvent checks EventGet and EventGetByUID in an organization.
func wantEvent(t *testing.T, s store.Store, orgID uint64, want volley.Event) {
	t.Helper()
	got, err := s.EventGet(t.Context(), orgID, want.ID)
	noErr(t, "EventGet "+want.UID, err)
	same(t, "EventGet "+want.UID, normalEvent(*got), normalEvent(want))
	got, err = s.EventGetByUID(t.Context(), orgID, want.UID)
	noErr(t, "EventGetByUID "+want.UID, err)
	same(t, "EventGetByUID "+want.UID, normalEvent(*got), normalEvent(want))
}

// wantStatus checks an event's status.
func wantStatus(t *testing.T, s store.Store, orgID uint64, e volley.Event, status string) {
	t.Helper()
	got, err := s.EventGet(t.Context(), orgID, e.ID)
	noErr(t, "EventGet "+e.UID, err)
	if got.Status != status {
		t.Errorf("event %s status = %q, want %q", e.UID, got.Status, status)
	}
}

// wantDeliveries checks DeliveryListByEvent, normalised.
func wantDeliveries(t *testing.T, s store.Store, e volley.Event, want ...volley.Delivery) {
	t.Helper()
	got, err := s.DeliveryListByEvent(t.Context(), e.ID)
	noErr(t, "DeliveryListByEvent "+e.UID, err)
	same(t, "DeliveryListByEvent "+e.UID, mapped(got, normalDelivery), mapped(want, normalDelivery))
}

// eventTotal returns the number of a project's events.
func eventTotal(t *testing.T, s store.Store, projectID uint64) int64 {
	t.Helper()
	_, total, err := s.EventList(t.Context(), store.EventListParams{ProjectID: projectID, Limit: 1})
	noErr(t, "EventList", err)
	return total.N
}

func testEventInsert(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	got := insert(t, s,
		routed(newEvent(w.A, "evt_none", minute(0))),
		routed(newEvent(w.A, "evt_one", minute(1)), due(w.AX, minute(1))),
		routed(newEvent(w.A, "evt_two", minute(2)), due(w.AX, minute(3)), held(w.AY)),
	)
	ids := map[uint64]bool{}
	for i, st := range got {
		if want := []string{volley.EventDropped, volley.EventPending, volley.EventPending}[i]; st.Event.Status != want {
			t.Fatalf("test bug: %s is %s", st.Event.UID, st.Event.Status)
		}
		if ids[st.Event.ID] {
			t.Fatalf("EventInsert gave %s the id of another event", st.Event.UID)
		}
		ids[st.Event.ID] = true
		wantEvent(t, s, ada.Org.ID, st.Event)
		wantDeliveries(t, s, st.Event, st.Deliveries...)
	}
	if n := eventTotal(t, s, ada.Project.ID); n != 3 {
		t.Errorf("EventList total = %d, want 3", n)
	}
}

func testEventPayload(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	large := make([]byte, 256<<10)
	for i := range large {
		large[i] = byte(i * 7)
	}
	for i, tc := range []struct {
		name   string
		change func(*volley.Event)
	}{
		{"JSON", func(*volley.Event) {}},
		{"NonUTF8Body", func(e *volley.Event) {
			e.Body = []byte{0xff, 0xfe, 0x00, 'h', 0xc3, 0x28, 0x80, 0x00}
			e.Headers = http.Header{"Content-Type": {"application/octet-stream"}}
		}},
		{"EmptyBody", func(e *volley.Event) { e.Method, e.Query, e.Body = http.MethodGet, "", []byte{} }},
		{"NilBodyNoHeaders", func(e *volley.Event) { e.Method, e.Body, e.Headers = http.MethodPut, nil, nil }},
		{"MultiValueHeaders", func(e *volley.Event) {
			e.Method, e.Query = http.MethodPatch, "a=1&a=2&q=%E2%9C%93&flag&x=%ZZ"
			e.Headers = http.Header{
				"Set-Cookie": {"a=1", "b=2", "a=1"}, "X-Empty": {""}, "X-Unicode": {"ä ü ✓"},
				"Authorization": {"Bearer t"}, "X-Multi": {"3", "1", "2"},
			}
		}},
		{"LargeBinaryBody", func(e *volley.Event) { e.Body = large }},
		// Bodies and headers that compress: stored as zstd frames by
		// SQLite, by lz4 in PostgreSQL; the bytes must come back exact.
		{"CompressibleJSON", func(e *volley.Event) {
			e.Body = []byte(`{"items":[` + strings.Repeat(`{"sku":"A-1","qty":2,"price":1999},`, 60) + `{}]}`)
			e.Headers = http.Header{"X-Long": {strings.Repeat("token-", 60)}, "Content-Type": {"application/json"}}
		}},
		{"CompressibleNonUTF8Body", func(e *volley.Event) {
			e.Body = bytes.Repeat([]byte{0xff, 0x00, 'a', 0xc3, 0x28, 0x80}, 200)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvent(w.A, "evt_payload_"+tc.name, minute(i))
			tc.change(&e)
			st := insertOne(t, s, e, due(w.AX, minute(i)))
			got, err := s.EventGet(t.Context(), ada.Org.ID, st.Event.ID)
			noErr(t, "EventGet", err)
			if len(got.Body) != len(e.Body) {
				t.Fatalf("EventGet body has %d bytes, want %d", len(got.Body), len(e.Body))
			}
			wantEvent(t, s, ada.Org.ID, st.Event)
		})
	}
}

// testEventTimes stores times that are neither in UTC nor whole microseconds.
func testEventTimes(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	in := time.Date(2025, 1, 2, 5, 4, 5, 123456789, time.FixedZone("EET", 2*3600))
	next := in.Add(time.Minute)
	e := newEvent(w.A, "evt_times", in)
	d := due(w.AX, next)
	st := insertOne(t, s, e, d)
	got, err := s.EventGet(t.Context(), ada.Org.ID, st.Event.ID)
	noErr(t, "EventGet", err)
	microUTC(t, "EventGet CreatedAt", got.CreatedAt, in)
	ds, err := s.DeliveryListByEvent(t.Context(), st.Event.ID)
	noErr(t, "DeliveryListByEvent", err)
	if len(ds) != 1 {
		t.Fatalf("DeliveryListByEvent = %+v, want one delivery", ds)
	}
	microUTC(t, "Delivery CreatedAt", ds[0].CreatedAt, in)
	microUTC(t, "Delivery NextAttemptAt", ds[0].NextAttemptAt, next)
	list, _, err := s.EventList(t.Context(), store.EventListParams{ProjectID: ada.Project.ID, Start: got.CreatedAt, End: got.CreatedAt, Limit: 10})
	noErr(t, "EventList", err)
	if len(list) != 1 {
		t.Errorf("EventList from and to the stored CreatedAt = %d events, want 1", len(list))
	}
}

// keyed returns ne with an idempotency key valid until until.
func keyed(ne store.NewEvent, key string, until time.Time) store.NewEvent {
	ne.IdempotencyKey, ne.IdempotencyUntil = key, until
	return ne
}

// wantDuplicate inserts ne alone and checks that it is a duplicate of orig
// and was not stored.
func wantDuplicate(t *testing.T, s store.Store, orgID uint64, ne store.NewEvent, orig volley.Event) {
	t.Helper()
	res, err := s.EventInsert(t.Context(), []store.NewEvent{ne})
	noErr(t, "EventInsert of a duplicate", err)
	if len(res) != 1 || !res[0].Duplicate || res[0].ID != orig.ID || res[0].UID != orig.UID || len(res[0].DeliveryIDs) != 0 {
		t.Fatalf("EventInsert of %s = %+v, want a duplicate of %s (id %d) without deliveries", ne.Event.UID, res, orig.UID, orig.ID)
	}
	_, err = s.EventGetByUID(t.Context(), orgID, ne.Event.UID)
	wantErr(t, "EventGetByUID of a duplicate", err, store.ErrNotFound)
}

func testEventIdempotency(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	p := ada.Project.ID
	first := insert(t, s, keyed(routed(newEvent(w.A, "evt_first", minute(0)), due(w.AX, minute(0))), "order-1", minute(60)))[0]

	// Nothing of a duplicate is stored, not even a longer window for the key.
	wantDuplicate(t, s, ada.Org.ID, keyed(routed(newEvent(w.A, "evt_dup", minute(30)), due(w.AX, minute(30))), "order-1", minute(90)), first.Event)
	wantDuplicate(t, s, ada.Org.ID, keyed(routed(newEvent(w.A, "evt_dup_last", minute(59))), "order-1", minute(119)), first.Event)
	if n := eventTotal(t, s, p); n != 1 {
		t.Fatalf("EventList total after duplicates = %d, want 1", n)
	}
	wantDeliveries(t, s, first.Event, first.Deliveries...)

	// The key is per source, and other keys are other events.
	insert(t, s,
		keyed(routed(newEvent(w.B, "evt_other_source", minute(31)), due(w.BX, minute(31))), "order-1", minute(91)),
		keyed(routed(newEvent(w.A, "evt_other_key", minute(32))), "order-2", minute(92)),
		routed(newEvent(w.A, "evt_no_key", minute(33))),
	)

	// After the window the key is new again, and names the new event.
	late := insert(t, s, keyed(routed(newEvent(w.A, "evt_late", minute(61)), due(w.AX, minute(61))), "order-1", minute(121)))[0]
	wantDuplicate(t, s, ada.Org.ID, keyed(routed(newEvent(w.A, "evt_late_dup", minute(62))), "order-1", minute(122)), late.Event)
	if n := eventTotal(t, s, p); n != 5 {
		t.Errorf("EventList total = %d, want 5", n)
	}
	wantEvent(t, s, ada.Org.ID, first.Event)
	wantEvent(t, s, ada.Org.ID, late.Event)
}

func testEventIdempotencyBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	res, err := s.EventInsert(ctx, []store.NewEvent{
		keyed(routed(newEvent(w.A, "evt_a", minute(0)), due(w.AX, minute(0))), "k", minute(60)),
		keyed(routed(newEvent(w.A, "evt_a_again", minute(0)), due(w.AX, minute(0))), "k", minute(60)),
		keyed(routed(newEvent(w.B, "evt_b", minute(0))), "k", minute(60)),
		routed(newEvent(w.A, "evt_c", minute(0))),
	})
	noErr(t, "EventInsert", err)
	if len(res) != 4 {
		t.Fatalf("EventInsert returned %d results, want 4", len(res))
	}
	if res[0].Duplicate || res[2].Duplicate || res[3].Duplicate || res[0].ID == 0 || len(res[0].DeliveryIDs) != 1 {
		t.Fatalf("EventInsert = %+v, want events 0, 2 and 3 stored", res)
	}
	if !res[1].Duplicate || res[1].ID != res[0].ID || res[1].UID != "evt_a" || len(res[1].DeliveryIDs) != 0 {
		t.Fatalf("EventInsert result 1 = %+v, want a duplicate of %+v", res[1], res[0])
	}
	if n := eventTotal(t, s, ada.Project.ID); n != 3 {
		t.Errorf("EventList total = %d, want 3", n)
	}
	ds, err := s.DeliveryListByEvent(ctx, res[0].ID)
	noErr(t, "DeliveryListByEvent", err)
	if len(ds) != 1 || ds[0].ID != res[0].DeliveryIDs[0] {
		t.Errorf("DeliveryListByEvent = %+v, want only delivery %d", ds, res[0].DeliveryIDs[0])
	}
	_, err = s.EventGetByUID(ctx, ada.Org.ID, "evt_a_again")
	wantErr(t, "EventGetByUID of a duplicate", err, store.ErrNotFound)
}

func testEventOtherOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	home := insertOne(t, s, newEvent(newSite(t, s, ada.Project.ID, "home").A, "evt_home", minute(0))).Event
	other := insertOne(t, s, newEvent(newSite(t, s, staging.ID, "staging").A, "evt_staging", minute(1))).Event
	insertOne(t, s, newEvent(newSite(t, s, bob.Project.ID, "bob").A, "evt_bob", minute(2)))
	for _, e := range []volley.Event{home, other} {
		wantEvent(t, s, ada.Org.ID, e)
		_, err := s.EventGet(ctx, bob.Org.ID, e.ID)
		wantErr(t, "EventGet with another org", err, store.ErrNotFound)
		_, err = s.EventGetByUID(ctx, bob.Org.ID, e.UID)
		wantErr(t, "EventGetByUID with another org", err, store.ErrNotFound)
	}
	_, err := s.EventGet(ctx, ada.Org.ID, other.ID+1000)
	wantErr(t, "EventGet of an unknown event", err, store.ErrNotFound)
	_, err = s.EventGetByUID(ctx, ada.Org.ID, "evt_unknown")
	wantErr(t, "EventGetByUID of an unknown event", err, store.ErrNotFound)
	_, err = s.EventGetByUID(ctx, ada.Org.ID, "evt_bob")
	wantErr(t, "EventGetByUID of another org's event", err, store.ErrNotFound)
}
