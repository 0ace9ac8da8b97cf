package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func streamTests() []test {
	return []test{
		{"Stream/ResumeWithoutSkipOrRepeat", testStreamResume},
		{"Stream/HeadSkipsOldEvents", testStreamHead},
		{"Stream/SourcesWithoutConnections", testStreamUnconnected},
	}
}

// streamAll reads the stream from after in pages of limit until it has
// want events. A driver may hold back events until older transactions
// (other tests' included) finish, so an empty page is read again until a
// deadline; more than want events fails.
func streamAll(t *testing.T, s store.Store, sources []uint64, after store.StreamPos, limit, want int) []store.StreamEvent {
	t.Helper()
	var out []store.StreamEvent
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < want {
		if time.Now().After(deadline) {
			t.Fatalf("EventStream gave %d events %v before the deadline, want %d", len(out), uids(out), want)
		}
		page, err := s.EventStream(t.Context(), store.EventStreamParams{SourceIDs: sources, After: after, Limit: limit})
		noErr(t, "EventStream", err)
		if len(page) > limit {
			t.Fatalf("EventStream returned %d events, limit %d", len(page), limit)
		}
		for _, e := range page {
			if !after.Less(e.Pos) {
				t.Fatalf("EventStream position %v does not come after %v", e.Pos, after)
			}
			after = e.Pos
		}
		out = append(out, page...)
		if len(page) == 0 {
			time.Sleep(time.Millisecond) // polling with a deadline
		}
	}
	if len(out) > want {
		t.Fatalf("EventStream gave %d events %v, want %d", len(out), uids(out), want)
	}
	// Nothing follows the last one.
	page, err := s.EventStream(t.Context(), store.EventStreamParams{SourceIDs: sources, After: after, Limit: limit})
	noErr(t, "EventStream", err)
	if len(page) != 0 {
		t.Fatalf("EventStream after the last event = %v, want none", uids(page))
	}
	return out
}

func uids(events []store.StreamEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Event.UID
	}
	return out
}

func testStreamResume(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	other := createSource(t, s, bareSource(ada.Project.ID, "other"))
	start, err := s.EventStreamHead(t.Context())
	noErr(t, "EventStreamHead", err)

	var want []string
	for i := range 7 {
		a := newEvent(w.A, fmt.Sprintf("evt_a%d", i), minute(i))
		b := newEvent(w.B, fmt.Sprintf("evt_b%d", i), minute(i))
		o := newEvent(other, fmt.Sprintf("evt_o%d", i), minute(i))
		// Times out of order do not matter: the stream follows commits.
		b.CreatedAt = minute(-i)
		insert(t, s, routed(a, due(w.AX, now)), routed(o), routed(b))
		want = append(want, a.UID, b.UID)
	}
	sources := []uint64{w.A.ID, w.B.ID}
	all := streamAll(t, s, sources, start, 100, len(want))
	same(t, "EventStream of both sources", uids(all), want)
	got := all[0].Event
	wantE := newEvent(w.A, "evt_a0", minute(0))
	wantE.ID, wantE.Status = got.ID, volley.EventPending
	sameEvents(t, "EventStream event", []volley.Event{got}, []volley.Event{wantE})

	// Cut after every possible event and resume with pages of 2: the
	// concatenation is the same list.
	for cut := range all {
		first := uids(all[:cut+1])
		rest := streamAll(t, s, sources, all[cut].Pos, 2, len(all)-cut-1)
		same(t, fmt.Sprintf("EventStream resumed after %d", cut), append(first, uids(rest)...), want)
	}
	// Positions survive their text form (the SSE id).
	for _, e := range all {
		p, err := store.ParseStreamPos(e.Pos.String())
		noErr(t, "ParseStreamPos", err)
		same(t, "ParseStreamPos(String())", p, e.Pos)
	}
}

func testStreamHead(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	src := createSource(t, s, bareSource(ada.Project.ID, "a"))
	insertOne(t, s, newEvent(src, "evt_old", now))
	head, err := s.EventStreamHead(t.Context())
	noErr(t, "EventStreamHead", err)
	insertOne(t, s, newEvent(src, "evt_new", now))
	if head.Commit == 0 {
		// Plain id positions: the head splits visible events from the
		// rest exactly.
		got := streamAll(t, s, []uint64{src.ID}, head, 10, 1)
		same(t, "EventStream from the head", uids(got), []string{"evt_new"})
	} else {
		// Commit positions: an event committed while an older transaction
		// (another test's) was still running may come after the head too;
		// the new one always does, last.
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := s.EventStream(t.Context(), store.EventStreamParams{SourceIDs: []uint64{src.ID}, After: head, Limit: 10})
			noErr(t, "EventStream", err)
			if n := len(got); n > 0 && got[n-1].Event.UID == "evt_new" {
				if n > 2 {
					t.Fatalf("EventStream from the head = %v, want at most evt_old and evt_new", uids(got))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("EventStream from the head = %v before the deadline, want evt_new last", uids(got))
			}
			time.Sleep(time.Millisecond) // polling with a deadline
		}
	}
	got, err := s.EventStream(t.Context(), store.EventStreamParams{After: head, Limit: 10})
	noErr(t, "EventStream of no sources", err)
	if len(got) != 0 {
		t.Fatalf("EventStream of no sources = %v, want none", uids(got))
	}
}

func testStreamUnconnected(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	src := createSource(t, s, bareSource(ada.Project.ID, "lonely"))
	head, err := s.EventStreamHead(t.Context())
	noErr(t, "EventStreamHead", err)
	insertOne(t, s, newEvent(src, "evt_dropped", now))
	got := streamAll(t, s, []uint64{src.ID}, head, 10, 1)
	same(t, "EventStream of a source without connections", uids(got), []string{"evt_dropped"})
	if got[0].Event.Status != volley.EventDropped {
		t.Fatalf("EventStream status = %q, want dropped", got[0].Event.Status)
	}
}
