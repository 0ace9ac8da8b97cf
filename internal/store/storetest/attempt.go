package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func attemptTests() []test {
	return []test{
		{"Attempts/List", testAttemptList},
		{"Attempts/ListByConnection", testAttemptListByConnection},
		{"Attempts/ConnectionMetrics", testConnectionMetrics},
		{"Attempts/ConnectionMetricsUnused", testConnectionMetricsUnused},
	}
}

// normalAttempt drops the id, checked apart, and what drivers may store as
// "unset": empty response headers and bodies.
func normalAttempt(a volley.Attempt) volley.Attempt {
	a.ID = 0
	if len(a.ResponseHeaders) == 0 {
		a.ResponseHeaders = nil
	}
	if len(a.ResponseBody) == 0 {
		a.ResponseBody = nil
	}
	return a
}

// wantIDs fails unless every attempt has an id of its own.
func wantIDs(t *testing.T, what string, attempts []volley.Attempt) {
	t.Helper()
	seen := map[uint64]bool{}
	for _, a := range attempts {
		if a.ID == 0 || seen[a.ID] {
			t.Errorf("%s: attempt ids are not set and distinct: %+v", what, attempts)
			return
		}
		seen[a.ID] = true
	}
}

// attemptsOf returns AttemptListByEvent.
func attemptsOf(t *testing.T, s store.Store, e volley.Event) []volley.Attempt {
	t.Helper()
	got, err := s.AttemptListByEvent(t.Context(), e.ID)
	noErr(t, "AttemptListByEvent "+e.UID, err)
	wantIDs(t, "AttemptListByEvent "+e.UID, got)
	return got
}

// wantAttempts checks AttemptListByEvent: every attempt of e, oldest first,
// with its response.
func wantAttempts(t *testing.T, s store.Store, e volley.Event, want ...volley.Attempt) {
	t.Helper()
	got := attemptsOf(t, s, e)
	same(t, "AttemptListByEvent "+e.UID, mapped(got, normalAttempt), mapped(want, normalAttempt))
}

// sameAttemptList is same for attempt listings, which need not carry the
// response.
func sameAttemptList(t *testing.T, what string, got, want []volley.Attempt) {
	t.Helper()
	wantIDs(t, what, got)
	strip := func(a volley.Attempt) volley.Attempt {
		a = normalAttempt(a)
		a.ResponseHeaders, a.ResponseBody = nil, nil
		return a
	}
	same(t, what, mapped(got, strip), mapped(want, strip))
}

// attemptLog is a site with seven attempts a[0]…a[6] made at minutes 1…7:
//
//	a[0] ev1 a→x failed  503   300 ms
//	a[1] ev1 a→y success 200   120 ms
//	a[2] ev2 b→x failed    0 15000 ms
//	a[3] ev1 a→x success 201    80 ms
//	a[4] ev3 a→x failed  410    45 ms
//	a[5] ev2 b→x success 204   900 ms
//	a[6] ev3 a→x success 202    60 ms (a replay)
type attemptLog struct {
	site
	ev []stored
	a  []volley.Attempt
}

func newAttemptLog(t *testing.T, s store.Store, projectID uint64, name string) attemptLog {
	t.Helper()
	l := attemptLog{site: newSite(t, s, projectID, name)}
	h := func(c volley.Connection) volley.Delivery { return handed(c, minute(100)) }
	l.ev = insert(t, s,
		routed(newEvent(l.A, "evt_"+name+"_1", minute(0)), h(l.AX), h(l.AY)),
		routed(newEvent(l.B, "evt_"+name+"_2", minute(0)), h(l.BX)),
		routed(newEvent(l.A, "evt_"+name+"_3", minute(0)), h(l.AX)),
	)
	ax1, ay1, bx2, ax3 := l.ev[0].Deliveries[0], l.ev[0].Deliveries[1], l.ev[1].Deliveries[0], l.ev[2].Deliveries[0]
	for i, step := range []struct {
		d     volley.Delivery
		n     int
		code  int
		ms    int64
		state string
	}{
		{ax1, 1, 503, 300, volley.DeliveryPending},
		{ay1, 1, 200, 120, volley.DeliverySuccess},
		{bx2, 1, 0, 15000, volley.DeliveryPending},
		{ax1, 2, 201, 80, volley.DeliverySuccess},
		{ax3, 1, 410, 45, volley.DeliveryFailed},
		{bx2, 2, 204, 900, volley.DeliverySuccess},
	} {
		a := newAttempt(step.d, step.n, step.code, step.ms, minute(i+1))
		o := outcome(step.d, step.state, a, minute(i+1))
		if step.state == volley.DeliveryPending {
			o.NextAttemptAt = minute(i + 2)
		}
		finish(t, s, o)
		l.a = append(l.a, *a)
	}
	r := newAttempt(ax3, 2, 202, 60, minute(7))
	r.Trigger = volley.AttemptReplay
	noErr(t, "DeliveryReplayed", s.DeliveryReplayed(t.Context(), r))
	l.a = append(l.a, *r)
	return l
}

// pick returns the attempts a[i] for each i.
func (l attemptLog) pick(i ...int) []volley.Attempt {
	out := make([]volley.Attempt, len(i))
	for j, k := range i {
		out[j] = l.a[k]
	}
	return out
}

func testAttemptList(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	l := newAttemptLog(t, s, ada.Project.ID, "w")
	other := newAttemptLog(t, s, staging.ID, "v")
	wantAttempts(t, s, l.ev[0].Event, l.pick(0, 1, 3)...)
	wantAttempts(t, s, l.ev[2].Event, l.pick(4, 6)...)

	for _, tc := range []struct {
		name string
		p    store.AttemptListParams
		want []volley.Attempt
	}{
		{"All", store.AttemptListParams{}, l.pick(6, 5, 4, 3, 2, 1, 0)},
		{"Event", store.AttemptListParams{EventID: l.ev[0].Event.ID}, l.pick(3, 1, 0)},
		{"Source", store.AttemptListParams{SourceID: l.B.ID}, l.pick(5, 2)},
		{"Destination", store.AttemptListParams{DestinationID: l.X.ID}, l.pick(6, 5, 4, 3, 2, 0)},
		{"OtherDestination", store.AttemptListParams{DestinationID: l.Y.ID}, l.pick(1)},
		{"Connection", store.AttemptListParams{ConnectionID: l.AX.ID}, l.pick(6, 4, 3, 0)},
		{"Success", store.AttemptListParams{Status: volley.AttemptSuccess}, l.pick(6, 5, 3, 1)},
		{"Failed", store.AttemptListParams{Status: volley.AttemptFailed}, l.pick(4, 2, 0)},
		{"StartInclusive", store.AttemptListParams{Start: minute(3)}, l.pick(6, 5, 4, 3, 2)},
		{"EndInclusive", store.AttemptListParams{End: minute(3)}, l.pick(2, 1, 0)},
		{"StartAndEnd", store.AttemptListParams{Start: minute(2), End: minute(4)}, l.pick(3, 2, 1)},
		{"ConnectionFailed", store.AttemptListParams{ConnectionID: l.AX.ID, Status: volley.AttemptFailed}, l.pick(4, 0)},
		{"SourceStartSuccess", store.AttemptListParams{SourceID: l.A.ID, Start: minute(4), Status: volley.AttemptSuccess}, l.pick(6, 3)},
		{"EventOldest", store.AttemptListParams{EventID: l.ev[2].Event.ID, Sort: store.AttemptSortOldest}, l.pick(4, 6)},
		{"SortTime", store.AttemptListParams{Sort: store.AttemptSortTime}, l.pick(6, 5, 4, 3, 2, 1, 0)},
		{"SortOldest", store.AttemptListParams{Sort: store.AttemptSortOldest}, l.pick(0, 1, 2, 3, 4, 5, 6)},
		{"SortDuration", store.AttemptListParams{Sort: store.AttemptSortDuration}, l.pick(2, 5, 0, 1, 3, 6, 4)},
		{"SortStatusCode", store.AttemptListParams{Sort: store.AttemptSortStatusCode}, l.pick(0, 4, 5, 6, 3, 1, 2)},
		{"FailedByDuration", store.AttemptListParams{Status: volley.AttemptFailed, Sort: store.AttemptSortDuration}, l.pick(2, 0, 4)},
		{"OtherProject", store.AttemptListParams{ProjectID: staging.ID}, other.pick(6, 5, 4, 3, 2, 1, 0)},
		{"OtherProjectsEvent", store.AttemptListParams{EventID: other.ev[0].Event.ID}, nil},
		{"UnknownProject", store.AttemptListParams{ProjectID: staging.ID + 1000}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p.ProjectID == 0 {
				p.ProjectID = ada.Project.ID
			}
			p.Limit = 100
			got, total, err := s.AttemptList(t.Context(), p)
			noErr(t, "AttemptList", err)
			sameAttemptList(t, "AttemptList", got, tc.want)
			if total != int64(len(tc.want)) {
				t.Errorf("AttemptList total = %d, want %d", total, len(tc.want))
			}
		})
	}

	t.Run("Projects", func(t *testing.T) {
		// Both projects' attempts, merged newest first (ties: newest id).
		both := append(slices.Clone(l.a), other.a...)
		slices.SortFunc(both, func(x, y volley.Attempt) int {
			if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
				return c
			}
			return cmp.Compare(y.ID, x.ID)
		})
		p := store.AttemptListParams{ProjectIDs: []uint64{ada.Project.ID, staging.ID}, Limit: 100}
		got, total, err := s.AttemptList(t.Context(), p)
		noErr(t, "AttemptList", err)
		sameAttemptList(t, "AttemptList of two projects", got, both)
		if total != int64(len(both)) {
			t.Errorf("AttemptList of two projects: total = %d, want %d", total, len(both))
		}
		// Paged by offset and by cursor, in both directions, across both.
		p = store.AttemptListParams{ProjectIDs: []uint64{ada.Project.ID, staging.ID}, Limit: 3, Offset: 2}
		got, _, err = s.AttemptList(t.Context(), p)
		noErr(t, "AttemptList", err)
		sameAttemptList(t, "AttemptList of two projects, offset 2", got, both[2:5])
		p = store.AttemptListParams{ProjectIDs: []uint64{ada.Project.ID, staging.ID}, Limit: 3, Page: attemptAfter(both[4], timeKey)}
		got, _, err = s.AttemptList(t.Context(), p)
		noErr(t, "AttemptList", err)
		sameAttemptList(t, "AttemptList of two projects after a cursor", got, both[5:8])
		p = store.AttemptListParams{ProjectIDs: []uint64{ada.Project.ID, staging.ID}, Limit: 3, Page: attemptBefore(both[4], timeKey)}
		got, _, err = s.AttemptList(t.Context(), p)
		noErr(t, "AttemptList", err)
		sameAttemptList(t, "AttemptList of two projects before a cursor", got, both[1:4])
		p = store.AttemptListParams{ProjectIDs: []uint64{staging.ID}, Status: volley.AttemptFailed, Limit: 2, Offset: 1}
		got, total, err = s.AttemptList(t.Context(), p)
		noErr(t, "AttemptList", err)
		sameAttemptList(t, "AttemptList of one project in a set, failed, paged", got, other.pick(2, 0))
		if total != 3 {
			t.Errorf("AttemptList of one project in a set, failed: total = %d, want 3", total)
		}
		if _, _, err := s.AttemptList(t.Context(), store.AttemptListParams{Limit: 10}); err == nil {
			t.Error("AttemptList with no project: no error")
		}
	})

	t.Run("Paging", func(t *testing.T) {
		for _, tc := range []struct {
			p     store.AttemptListParams
			want  []volley.Attempt
			total int64
		}{
			{store.AttemptListParams{Sort: store.AttemptSortDuration, Limit: 3}, l.pick(2, 5, 0), 7},
			{store.AttemptListParams{Sort: store.AttemptSortDuration, Limit: 3, Offset: 3}, l.pick(1, 3, 6), 7},
			{store.AttemptListParams{Sort: store.AttemptSortDuration, Limit: 3, Offset: 6}, l.pick(4), 7},
			{store.AttemptListParams{Limit: 3, Offset: 7}, nil, 7},
			{store.AttemptListParams{Limit: 2, Offset: 1}, l.pick(5, 4), 7},
			{store.AttemptListParams{Status: volley.AttemptSuccess, Sort: store.AttemptSortOldest, Limit: 2, Offset: 1}, l.pick(3, 5), 4},
			// Cursors in each order: the item's sort key and id.
			{store.AttemptListParams{Limit: 2, Page: attemptAfter(l.a[5], timeKey)}, l.pick(4, 3), 7},
			{store.AttemptListParams{Limit: 2, Page: attemptBefore(l.a[2], timeKey)}, l.pick(4, 3), 7},
			{store.AttemptListParams{Sort: store.AttemptSortOldest, Limit: 3, Page: attemptAfter(l.a[3], timeKey)}, l.pick(4, 5, 6), 7},
			{store.AttemptListParams{Sort: store.AttemptSortOldest, Limit: 3, Page: attemptBefore(l.a[1], timeKey)}, l.pick(0), 7},
			{store.AttemptListParams{Sort: store.AttemptSortDuration, Limit: 3, Page: attemptAfter(l.a[0], durationKey)}, l.pick(1, 3, 6), 7},
			{store.AttemptListParams{Sort: store.AttemptSortDuration, Limit: 2, Page: attemptBefore(l.a[1], durationKey)}, l.pick(5, 0), 7},
			{store.AttemptListParams{Sort: store.AttemptSortStatusCode, Limit: 2, Page: attemptAfter(l.a[4], statusKey)}, l.pick(5, 6), 7},
			{store.AttemptListParams{Limit: 1, Page: store.PageParams{CountLimit: 2}}, l.pick(6), 3},
		} {
			p := tc.p
			p.ProjectID = ada.Project.ID
			got, total, err := s.AttemptList(t.Context(), p)
			noErr(t, "AttemptList", err)
			sameAttemptList(t, fmt.Sprintf("AttemptList %+v", p), got, tc.want)
			if total != tc.total {
				t.Errorf("AttemptList %+v total = %d, want %d", p, total, tc.total)
			}
		}
	})
}

func testAttemptListByConnection(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	l := newAttemptLog(t, s, ada.Project.ID, "w")
	other := newAttemptLog(t, s, ada.Project.ID, "v")
	for _, tc := range []struct {
		name  string
		conn  uint64
		limit int
		want  []volley.Attempt
	}{
		{"Limited", l.AX.ID, 3, l.pick(6, 4, 3)},
		{"All", l.AX.ID, 10, l.pick(6, 4, 3, 0)},
		{"One", l.BX.ID, 1, l.pick(5)},
		{"OtherConnection", l.AY.ID, 10, l.pick(1)},
		{"OtherSite", other.BX.ID, 10, other.pick(5, 2)},
		{"Unknown", other.BX.ID + 1000, 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.AttemptListByConnection(t.Context(), tc.conn, tc.limit)
			noErr(t, "AttemptListByConnection", err)
			sameAttemptList(t, "AttemptListByConnection", got, tc.want)
		})
	}
}

// testConnectionMetrics builds traffic whose deliveries are created and
// finished on the same side of since, so that counting either by creation
// or by finishing gives the same numbers, and 21 latencies whose 50th and
// 95th percentiles are the same under every usual definition (nearest rank,
// lower, interpolated) and bounds of latency buckets, so the bucket holding
// each rank reports it exactly. since is rounded down to its minute; nothing
// happens in the seconds it gains.
func testConnectionMetrics(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	sec := func(m int) time.Time { return minute(m).Add(time.Second) }

	// Before since: only the backlog counts.
	old := insertOne(t, s, newEvent(w.A, "evt_old", minute(-60)), handed(w.AX, minute(-50)))
	o := outcome(old.Deliveries[0], volley.DeliverySuccess, newAttempt(old.Deliveries[0], 1, 200, 99_999, sec(-60)), sec(-60))
	finish(t, s, o)
	insertOne(t, s, newEvent(w.A, "evt_backlog", minute(-30)), due(w.AX, minute(-30)))

	durations := []int64{500, 10, 100, 160, 20, 500, 30, 110, 40, 100, 50, 120, 60, 130, 70, 500, 140, 80, 150, 90, 100}
	var batch []store.NewEvent
	for i := range durations {
		batch = append(batch, routed(newEvent(w.A, fmt.Sprintf("evt_ok_%02d", i), minute(1+i)), handed(w.AX, minute(50))))
	}
	batch = append(batch,
		routed(newEvent(w.A, "evt_failed_1", minute(22)), handed(w.AX, minute(50))),
		routed(newEvent(w.A, "evt_failed_2", minute(23)), handed(w.AX, minute(50))),
		routed(newEvent(w.A, "evt_held", minute(24)), held(w.AX)),
		routed(newEvent(w.A, "evt_pending", minute(25)), due(w.AX, minute(25))),
		routed(newEvent(w.A, "evt_elsewhere", minute(26)), handed(w.AY, minute(50))),
	)
	evs := insert(t, s, batch...)
	var outcomes []store.Outcome
	for i, ms := range durations {
		d := evs[i].Deliveries[0]
		o := outcome(d, volley.DeliverySuccess, newAttempt(d, 1, 200, ms, sec(1+i)), sec(1+i))
		if i%2 == 1 {
			o = anonymous(o) // the store reads the connection: counted the same
		}
		outcomes = append(outcomes, o)
	}
	for i, ms := range []int64{1, 2} {
		d := evs[len(durations)+i].Deliveries[0]
		outcomes = append(outcomes, outcome(d, volley.DeliveryFailed, newAttempt(d, 1, 500, ms, sec(22+i)), sec(22+i)))
	}
	d := evs[len(evs)-1].Deliveries[0]
	outcomes = append(outcomes, outcome(d, volley.DeliverySuccess, newAttempt(d, 1, 200, 77_777, sec(26)), sec(26)))
	finish(t, s, outcomes...)

	for _, tc := range []struct {
		name  string
		conn  uint64
		since time.Time
		want  volley.ConnectionMetrics
	}{
		{"Busy", w.AX.ID, minute(0), volley.ConnectionMetrics{EventsRouted: 25, Delivered: 21, Failed: 2, Pending: 3,
			LatencyP50MS: 100, LatencyP95MS: 500, LastDeliveryAt: sec(23)}},
		{"Recent", w.AX.ID, minute(22), volley.ConnectionMetrics{EventsRouted: 4, Failed: 2, Pending: 3, LastDeliveryAt: sec(23)}},
		// Beyond the last bound (60 s), the top bucket reports 120 s.
		{"OneAttempt", w.AY.ID, minute(0), volley.ConnectionMetrics{EventsRouted: 1, Delivered: 1,
			LatencyP50MS: 120_000, LatencyP95MS: 120_000, LastDeliveryAt: sec(26)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ConnectionMetrics(ctx, tc.conn, tc.since)
			noErr(t, "ConnectionMetrics", err)
			tc.want.Since = tc.since.Truncate(time.Minute)
			same(t, "ConnectionMetrics", *got, tc.want)
		})
	}
}

func testConnectionMetricsUnused(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	insertOne(t, s, newEvent(w.A, "evt_elsewhere", minute(1)), due(w.AX, minute(1)))
	got, err := s.ConnectionMetrics(t.Context(), w.BX.ID, minute(0))
	noErr(t, "ConnectionMetrics", err)
	same(t, "ConnectionMetrics of an unused connection", *got, volley.ConnectionMetrics{Since: minute(0).Truncate(time.Minute)})
}

// Attempt sort keys, as the API puts them in a cursor.
func timeKey(a volley.Attempt) int64     { return a.CreatedAt.UnixMicro() }
func durationKey(a volley.Attempt) int64 { return a.DurationMS }
func statusKey(a volley.Attempt) int64   { return int64(a.StatusCode) }

func attemptAfter(a volley.Attempt, key func(volley.Attempt) int64) store.PageParams {
	return store.PageParams{After: &store.Cursor{Key: key(a), ID: a.ID}}
}

func attemptBefore(a volley.Attempt, key func(volley.Attempt) int64) store.PageParams {
	return store.PageParams{Before: &store.Cursor{Key: key(a), ID: a.ID}}
}
