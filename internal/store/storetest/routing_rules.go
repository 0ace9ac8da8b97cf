package storetest

import (
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func routingRuleTests() []test {
	return []test{
		{"Transformations/CRUD", testTransformationCRUD},
		{"Transformations/OtherOrg", testTransformationOtherOrg},
		{"Transformations/UsedByConnection", testTransformationInUse},
		{"Transformations/DeletedWithProject", testTransformationDeletedWithProject},
		{"Connections/FilterAndTransformation", testConnectionRules},
		{"Filtered/AtInsert", testFilteredAtInsert},
		{"Filtered/ByOutcome", testFilteredByOutcome},
		{"Filtered/AddedDelivery", testFilteredDeliveryCreate},
		{"Attempts/TransformationFields", testAttemptTransformationFields},
		{"Events/Path", testEventPath},
	}
}

func newTransformation(projectID uint64, name string) volley.Transformation {
	return volley.Transformation{ProjectID: projectID, Name: name, Code: "(request) => request // " + name,
		CreatedAt: now, UpdatedAt: now}
}

func createTransformation(t *testing.T, s store.Store, tr volley.Transformation) volley.Transformation {
	t.Helper()
	noErr(t, "TransformationCreate", s.TransformationCreate(t.Context(), &tr))
	if tr.ID == 0 {
		t.Fatal("TransformationCreate left ID unset")
	}
	return tr
}

func testTransformationCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	one := createTransformation(t, s, newTransformation(ada.Project.ID, "one"))
	two := createTransformation(t, s, newTransformation(ada.Project.ID, "two"))
	if one.ID == two.ID {
		t.Fatal("two transformations got one id")
	}
	list, err := s.TransformationList(ctx, ada.Project.ID)
	noErr(t, "TransformationList", err)
	same(t, "TransformationList", list, []volley.Transformation{one, two})
	got, err := s.TransformationGet(ctx, ada.Org.ID, one.ID)
	noErr(t, "TransformationGet", err)
	same(t, "TransformationGet", *got, one)
	got, err = s.TransformationGetByID(ctx, two.ID)
	noErr(t, "TransformationGetByID", err)
	same(t, "TransformationGetByID", *got, two)

	dup := newTransformation(ada.Project.ID, "one")
	wantConflict(t, "TransformationCreate with a taken name", s.TransformationCreate(ctx, &dup))
	wantErr(t, "TransformationCreate in an unknown project", s.TransformationCreate(ctx, ptr(newTransformation(ada.Project.ID+1000, "x"))), store.ErrNotFound)

	one.Name, one.Code, one.UpdatedAt = "first", "(r) => null", minute(5)
	noErr(t, "TransformationUpdate", s.TransformationUpdate(ctx, &one))
	got, err = s.TransformationGet(ctx, ada.Org.ID, one.ID)
	noErr(t, "TransformationGet", err)
	same(t, "TransformationGet after update", *got, one)
	clash := two
	clash.Name = "first"
	wantConflict(t, "TransformationUpdate to a taken name", s.TransformationUpdate(ctx, &clash))
	gone := one
	gone.ID += 1000
	wantErr(t, "TransformationUpdate unknown", s.TransformationUpdate(ctx, &gone), store.ErrNotFound)

	noErr(t, "TransformationDelete", s.TransformationDelete(ctx, ada.Org.ID, one.ID))
	_, err = s.TransformationGet(ctx, ada.Org.ID, one.ID)
	wantErr(t, "TransformationGet deleted", err, store.ErrNotFound)
	wantErr(t, "TransformationDelete again", s.TransformationDelete(ctx, ada.Org.ID, one.ID), store.ErrNotFound)
	list, err = s.TransformationList(ctx, ada.Project.ID)
	noErr(t, "TransformationList", err)
	same(t, "TransformationList after delete", list, []volley.Transformation{two})
	// Ids are never handed out twice.
	three := createTransformation(t, s, newTransformation(ada.Project.ID, "three"))
	if three.ID <= two.ID {
		t.Errorf("new transformation id %d reuses an old one (highest %d)", three.ID, two.ID)
	}
}

func ptr[T any](v T) *T { return &v }

func testTransformationOtherOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	bob := newFixture(t, s, "bob")
	tr := createTransformation(t, s, newTransformation(ada.Project.ID, "mine"))
	_, err := s.TransformationGet(ctx, bob.Org.ID, tr.ID)
	wantErr(t, "TransformationGet from another org", err, store.ErrNotFound)
	wantErr(t, "TransformationDelete from another org", s.TransformationDelete(ctx, bob.Org.ID, tr.ID), store.ErrNotFound)
	list, err := s.TransformationList(ctx, bob.Project.ID)
	noErr(t, "TransformationList", err)
	same(t, "TransformationList of another project", list, []volley.Transformation{})
}

func testTransformationInUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	g := newGraph(t, s, ada.Project.ID, "g")
	tr := createTransformation(t, s, newTransformation(ada.Project.ID, "used"))
	foreign := createTransformation(t, s, newTransformation(staging.ID, "foreign"))

	c := g.Connection
	c.TransformationID = foreign.ID
	wantErr(t, "ConnectionUpdate with another project's transformation", s.ConnectionUpdate(ctx, &c), store.ErrNotFound)
	c.TransformationID = tr.ID + 1000
	wantErr(t, "ConnectionUpdate with an unknown transformation", s.ConnectionUpdate(ctx, &c), store.ErrNotFound)
	c.TransformationID = tr.ID
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &c))

	wantErr(t, "TransformationDelete while used", s.TransformationDelete(ctx, ada.Org.ID, tr.ID), volley.ErrTransformationInUse)
	if _, err := s.TransformationGet(ctx, ada.Org.ID, tr.ID); err != nil {
		t.Fatalf("a refused TransformationDelete deleted it: %v", err)
	}
	c.TransformationID = 0
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &c))
	noErr(t, "TransformationDelete once unused", s.TransformationDelete(ctx, ada.Org.ID, tr.ID))

	// A new connection is checked the same way.
	dst := createDestination(t, s, newDestination(ada.Project.ID, "other"))
	src, err := s.SourceGet(ctx, ada.Org.ID, g.Connection.SourceID)
	noErr(t, "SourceGet", err)
	nc := newConnection(*src, dst)
	nc.TransformationID = foreign.ID
	wantErr(t, "ConnectionCreate with another project's transformation", s.ConnectionCreate(ctx, &nc), store.ErrNotFound)
}

func testTransformationDeletedWithProject(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	g := newGraph(t, s, staging.ID, "g")
	tr := createTransformation(t, s, newTransformation(staging.ID, "t"))
	c := g.Connection
	c.TransformationID = tr.ID
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &c))
	noErr(t, "ProjectDelete", s.ProjectDelete(ctx, ada.Org.ID, staging.ID, minute(1)))
	_, err := s.TransformationGetByID(ctx, tr.ID)
	wantErr(t, "TransformationGetByID after its project's delete", err, store.ErrNotFound)
}

func testConnectionRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	src := createSource(t, s, newSource(ada.Project.ID, "shop"))
	dst := createDestination(t, s, newDestination(ada.Project.ID, "crm"))
	tr := createTransformation(t, s, newTransformation(ada.Project.ID, "t"))
	c := newConnection(src, dst)
	c.Filter = []byte(`{"body":{"type":{"$startsWith":"order."}},"headers":{"x-shop":"eu"}}`)
	c.TransformationID = tr.ID
	noErr(t, "ConnectionCreate", s.ConnectionCreate(ctx, &c))
	want := joined(c, src, dst)
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, want)
	bySource, err := s.ConnectionListBySource(ctx, src.ID)
	noErr(t, "ConnectionListBySource", err)
	same(t, "ConnectionListBySource", bySource, []volley.Connection{want})

	c.Filter, c.TransformationID, c.UpdatedAt = nil, 0, minute(1)
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &c))
	got, err := s.ConnectionGetByID(ctx, c.ID)
	noErr(t, "ConnectionGetByID", err)
	if got.Filter != nil || got.TransformationID != 0 {
		t.Errorf("cleared filter and transformation came back as %q, %d", got.Filter, got.TransformationID)
	}
}

// filtered returns an unsaved delivery through c that its filter left out.
func filtered(c volley.Connection) volley.Delivery {
	d := due(c, minute(0))
	d.State, d.Reason = volley.DeliveryFiltered, volley.ReasonFilter
	return d
}

func testFilteredAtInsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	got := insert(t, s,
		routed(newEvent(w.A, "evt_all_filtered", minute(1)), filtered(w.AX), filtered(w.AY)),
		routed(newEvent(w.A, "evt_some_filtered", minute(2)), filtered(w.AX), handed(w.AY, minute(100))),
	)
	all, some := got[0], got[1]
	for i := range all.Deliveries {
		all.Deliveries[i].FinishedAt = all.Event.CreatedAt
	}
	all.Deliveries[0].FinishedAt = all.Event.CreatedAt
	wantStatus(t, s, ada.Org.ID, all.Event, volley.EventFiltered)
	wantDeliveries(t, s, all.Event, all.Deliveries...)
	wantStatus(t, s, ada.Org.ID, some.Event, volley.EventPending)
	some.Deliveries[0].FinishedAt = some.Event.CreatedAt
	wantDeliveries(t, s, some.Event, some.Deliveries...)

	// Filtered deliveries are never leased.
	jobs := lease(t, s, "n1", minute(200), minute(300), 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != some.Deliveries[1].ID {
		t.Fatalf("DeliveryLease = %+v, want only the unfiltered delivery", jobs)
	}
	// Once the other delivery succeeds, the event is processed, not filtered.
	settle(t, s, jobs[0].Delivery, volley.DeliverySuccess, minute(201))
	wantStatus(t, s, ada.Org.ID, some.Event, volley.EventProcessed)

	list, total, err := s.EventList(ctx, store.EventListParams{ProjectID: ada.Project.ID, Status: volley.EventFiltered, Limit: 10})
	noErr(t, "EventList status=filtered", err)
	if total.N != 1 || len(list) != 1 || list[0].UID != all.Event.UID {
		t.Errorf("EventList status=filtered = %d events (total %d), want %s", len(list), total.N, all.Event.UID)
	}
}

func testFilteredByOutcome(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	ev := insertOne(t, s, newEvent(w.B, "evt_dropped_by_code", minute(1)), handed(w.BX, minute(100)))
	d := ev.Deliveries[0]
	o := outcome(d, volley.DeliveryFiltered, nil, minute(2))
	o.Reason = volley.ReasonTransformation
	finish(t, s, o)
	d.State, d.Reason, d.LeaseOwner, d.FinishedAt = volley.DeliveryFiltered, volley.ReasonTransformation, "", minute(2)
	wantDeliveries(t, s, ev.Event, d)
	wantStatus(t, s, ada.Org.ID, ev.Event, volley.EventFiltered)
	if jobs := lease(t, s, "n1", minute(500), minute(600), 10); len(jobs) != 0 {
		t.Errorf("DeliveryLease leased a filtered delivery: %+v", jobs)
	}
}

func testFilteredDeliveryCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	ev := insertOne(t, s, newEvent(w.A, "evt_later", minute(1)))
	wantStatus(t, s, ada.Org.ID, ev.Event, volley.EventDropped)
	d := filtered(w.AX)
	d.EventID, d.EventUID, d.CreatedAt = ev.Event.ID, ev.Event.UID, minute(3)
	noErr(t, "DeliveryCreate", s.DeliveryCreate(ctx, &d))
	d.FinishedAt = minute(3)
	wantDeliveries(t, s, ev.Event, d)
	wantStatus(t, s, ada.Org.ID, ev.Event, volley.EventFiltered)
}

func testAttemptTransformationFields(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	ev := insertOne(t, s, newEvent(w.A, "evt_transformed", minute(1)), handed(w.AX, minute(100)), handed(w.AY, minute(100)))
	failed := newAttempt(ev.Deliveries[0], 1, 0, 1000, minute(2))
	failed.ErrorReason = "transformation stopped: time limit of 1s exceeded"
	failed.TransformationError = failed.ErrorReason
	failed.TransformationLogs = "started\n[warn] slow\n"
	ok := newAttempt(ev.Deliveries[1], 1, 200, 5, minute(2))
	ok.TransformationLogs = "rewrote body\n"
	finish(t, s, outcome(ev.Deliveries[0], volley.DeliveryFailed, failed, minute(2)),
		outcome(ev.Deliveries[1], volley.DeliverySuccess, ok, minute(2)))
	got, err := s.AttemptListByEvent(ctx, ev.Event.ID)
	noErr(t, "AttemptListByEvent", err)
	if len(got) != 2 {
		t.Fatalf("AttemptListByEvent = %d attempts, want 2", len(got))
	}
	for i, want := range []*volley.Attempt{failed, ok} {
		if got[i].TransformationLogs != want.TransformationLogs || got[i].TransformationError != want.TransformationError {
			t.Errorf("attempt %d transformation logs %q error %q, want %q, %q", i, got[i].TransformationLogs,
				got[i].TransformationError, want.TransformationLogs, want.TransformationError)
		}
	}
	list, _, err := s.AttemptList(ctx, store.AttemptListParams{ProjectID: ada.Project.ID, Sort: store.AttemptSortOldest, Limit: 10})
	noErr(t, "AttemptList", err)
	if len(list) != 2 || list[0].TransformationError != failed.TransformationError && list[1].TransformationError != failed.TransformationError {
		t.Errorf("AttemptList lost the transformation error: %+v", list)
	}
	wantStatus(t, s, ada.Org.ID, ev.Event, volley.EventFailed)
}

func testEventPath(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	e := newEvent(w.A, "evt_with_path", minute(1))
	e.Path = "/orders/42/é"
	st := insertOne(t, s, e, due(w.AX, minute(1)))
	wantEvent(t, s, ada.Org.ID, st.Event)
	bare := insertOne(t, s, newEvent(w.A, "evt_bare", minute(2)))
	wantEvent(t, s, ada.Org.ID, bare.Event)
	jobs := lease(t, s, "n1", minute(3), minute(10), 10)
	if len(jobs) != 1 || jobs[0].Event.Path != e.Path {
		t.Fatalf("leased job events = %+v, want the path %q", jobs, e.Path)
	}
}
