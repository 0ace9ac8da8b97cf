package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Ids are never handed out twice: traffic keeps plain ids of the
// configuration it came through, so a reused id would show a deleted
// source's events under a new source, perhaps in another organization. The
// tests delete the newest row of each kind, the one whose id a careless
// driver gives out again.

func idTests() []test {
	return []test{
		{"IDs/Orgs", testIDsOrgs},
		{"IDs/Tokens", testIDsTokens},
		{"IDs/Projects", testIDsProjects},
		{"IDs/Config", testIDsConfig},
		{"IDs/Traffic", testIDsTraffic},
		{"IDs/DeletedSourceTraffic", testIDsDeletedSourceTraffic},
		{"IDs/DeletedProjectTraffic", testIDsDeletedProjectTraffic},
	}
}

// wantNewer checks that the id given after deleting the newest row is larger
// than that row's. It lets the test go on, so that a failure also shows what
// a reused id exposes.
func wantNewer(t *testing.T, what string, got, deleted uint64) {
	t.Helper()
	if got <= deleted {
		t.Errorf("%s after deleting the newest (id %d) got id %d, want a larger one", what, deleted, got)
	}
}

func testIDsOrgs(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	p := store.OrgCreateParams{Name: "Doomed", Slug: "doomed", AccountID: ada.Account.ID, Now: now}
	doomed, err := s.OrgCreate(ctx, p)
	noErr(t, "OrgCreate", err)
	doomedProjects, err := s.ProjectList(ctx, doomed.ID)
	noErr(t, "ProjectList", err)
	noErr(t, "OrgDelete", s.OrgDelete(ctx, doomed.ID, now))

	next, err := s.OrgCreate(ctx, p)
	noErr(t, "OrgCreate", err)
	wantNewer(t, "OrgCreate", next.ID, doomed.ID)
	projects, err := s.ProjectList(ctx, next.ID)
	noErr(t, "ProjectList", err)
	if len(projects) != 1 || len(doomedProjects) != 1 {
		t.Fatalf("default projects %+v and %+v, want one each", doomedProjects, projects)
	}
	wantNewer(t, "the default project of OrgCreate", projects[0].ID, doomedProjects[0].ID)
}

func testIDsTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	doomed, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: newToken("doomed", volley.TokenKindCLI, ada.Account.ID)})
	noErr(t, "TokenCreate", err)
	noErr(t, "TokenDelete", s.TokenDelete(ctx, ada.Account.ID, doomed.ID))
	next, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: newToken("next", volley.TokenKindCLI, ada.Account.ID)})
	noErr(t, "TokenCreate", err)
	wantNewer(t, "TokenCreate", next.ID, doomed.ID)
}

func testIDsProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	doomed := createProject(t, s, ada.Org.ID, ada.Account.ID, "Doomed", false)
	noErr(t, "ProjectDelete", s.ProjectDelete(ctx, ada.Org.ID, doomed.ID, now))
	next := createProject(t, s, ada.Org.ID, ada.Account.ID, "Next", false)
	wantNewer(t, "ProjectCreate", next.ID, doomed.ID)
}

// testIDsConfig deletes the newest source, destination and connection, each
// alone, and creates them again.
func testIDsConfig(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	org, project := ada.Org.ID, ada.Project.ID

	doomedSrc := createSource(t, s, newSource(project, "doomed"))
	noErr(t, "SourceDelete", s.SourceDelete(ctx, org, doomedSrc.ID, now))
	src := createSource(t, s, newSource(project, "next"))
	wantNewer(t, "SourceCreate", src.ID, doomedSrc.ID)

	doomedDst := createDestination(t, s, newDestination(project, "doomed"))
	noErr(t, "DestinationDelete", s.DestinationDelete(ctx, org, doomedDst.ID, now))
	dst := createDestination(t, s, newDestination(project, "next"))
	wantNewer(t, "DestinationCreate", dst.ID, doomedDst.ID)

	doomedConn := createConnection(t, s, src, dst)
	noErr(t, "ConnectionDelete", s.ConnectionDelete(ctx, org, doomedConn.ID, now))
	wantNewer(t, "ConnectionCreate", createConnection(t, s, src, dst).ID, doomedConn.ID)
}

// testIDsTraffic lets retention delete the newest event with its delivery and
// attempt, then stores another.
func testIDsTraffic(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	w := newSite(t, s, ada.Project.ID, "w")
	old := insertOne(t, s, newEvent(w.A, "evt_old", minute(0)), handed(w.AX, minute(5)))
	settle(t, s, old.Deliveries[0], volley.DeliverySuccess, minute(1))
	oldAttempts := attemptsOf(t, s, old.Event)
	if len(oldAttempts) != 1 {
		t.Fatalf("attempts of %s = %+v, want one", old.Event.UID, oldAttempts)
	}
	retain(t, s, store.RetentionParams{Before: minute(10), Now: minute(10), Limit: 10}, nil)
	wantSwept(t, s, ada.Org.ID, old.Event)

	next := insertOne(t, s, newEvent(w.A, "evt_next", minute(11)), handed(w.AX, minute(15)))
	settle(t, s, next.Deliveries[0], volley.DeliverySuccess, minute(12))
	wantNewer(t, "EventInsert", next.Event.ID, old.Event.ID)
	wantNewer(t, "the delivery of EventInsert", next.Deliveries[0].ID, old.Deliveries[0].ID)
	nextAttempts := attemptsOf(t, s, next.Event)
	if len(nextAttempts) != 1 {
		t.Fatalf("attempts of %s = %+v, want one", next.Event.UID, nextAttempts)
	}
	wantNewer(t, "DeliveryFinish", nextAttempts[0].ID, oldAttempts[0].ID)
}

// noTraffic checks that no event, attempt or metric is filed under the
// source, destination and connection of g, in project projectID.
func noTraffic(t *testing.T, s store.Store, projectID uint64, g graph) {
	t.Helper()
	ctx := t.Context()
	for _, p := range []store.EventListParams{
		{ProjectID: projectID, SourceID: g.Source.ID},
		{ProjectID: projectID, DestinationID: g.Destination.ID},
		{ProjectID: projectID, ConnectionID: g.Connection.ID},
	} {
		p.Limit = 10
		got, total, err := s.EventList(ctx, p)
		noErr(t, "EventList", err)
		if len(got) != 0 || total.N != 0 {
			t.Errorf("EventList %+v = %d events of %d, want none: %+v", p, len(got), total.N, got)
		}
	}
	for _, p := range []store.AttemptListParams{
		{ProjectID: projectID, SourceID: g.Source.ID},
		{ProjectID: projectID, DestinationID: g.Destination.ID},
		{ProjectID: projectID, ConnectionID: g.Connection.ID},
	} {
		p.Limit = 10
		got, total, err := s.AttemptList(ctx, p)
		noErr(t, "AttemptList", err)
		if len(got) != 0 || total != 0 {
			t.Errorf("AttemptList %+v = %d attempts of %d, want none: %+v", p, len(got), total, got)
		}
	}
	as, err := s.AttemptListByConnection(ctx, g.Connection.ID, 10)
	noErr(t, "AttemptListByConnection", err)
	if len(as) != 0 {
		t.Errorf("AttemptListByConnection of a new connection = %+v, want none", as)
	}
	m, err := s.ConnectionMetrics(ctx, g.Connection.ID, time.Time{})
	noErr(t, "ConnectionMetrics", err)
	if *m != (volley.ConnectionMetrics{Since: m.Since}) {
		t.Errorf("ConnectionMetrics of a new connection = %+v, want nothing", *m)
	}
}

// trafficOn stores two events through g, one delivered with an attempt and
// one still pending, and returns them as stored.
func trafficOn(t *testing.T, s store.Store, g graph, name string) []stored {
	t.Helper()
	evs := insert(t, s,
		routed(newEvent(g.Source, "evt_"+name+"_done", minute(0)), handed(g.Connection, minute(5))),
		routed(newEvent(g.Source, "evt_"+name+"_pending", minute(0)), due(g.Connection, minute(30))),
	)
	evs[0].Deliveries[0] = settle(t, s, evs[0].Deliveries[0], volley.DeliverySuccess, minute(1))
	return evs
}

// testIDsDeletedSourceTraffic deletes the newest source, destination and
// connection while their traffic stays, then creates new ones: in the same
// project, and (after another round) in another organization. None of the
// old traffic is filed under them.
func testIDsDeletedSourceTraffic(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	for i, target := range []fixture{ada, bob} {
		name := fmt.Sprintf("doomed%d", i)
		doomed := newGraph(t, s, ada.Project.ID, name)
		evs := trafficOn(t, s, doomed, name)
		noErr(t, "SourceDelete", s.SourceDelete(ctx, ada.Org.ID, doomed.Source.ID, minute(2)))
		noErr(t, "DestinationDelete", s.DestinationDelete(ctx, ada.Org.ID, doomed.Destination.ID, minute(2)))

		g := newGraph(t, s, target.Project.ID, fmt.Sprintf("next%d", i))
		wantNewer(t, "SourceCreate in "+target.Org.Slug, g.Source.ID, doomed.Source.ID)
		wantNewer(t, "DestinationCreate in "+target.Org.Slug, g.Destination.ID, doomed.Destination.ID)
		wantNewer(t, "ConnectionCreate in "+target.Org.Slug, g.Connection.ID, doomed.Connection.ID)
		noTraffic(t, s, target.Project.ID, g)

		// The old events keep their source id, with no slug to show.
		for _, ev := range evs {
			e, err := s.EventGet(ctx, ada.Org.ID, ev.Event.ID)
			noErr(t, "EventGet", err)
			if e.SourceID != doomed.Source.ID || e.SourceSlug != "" {
				t.Errorf("event of a deleted source: source %d %q, want %d with no slug", e.SourceID, e.SourceSlug, doomed.Source.ID)
			}
		}
	}
}

// testIDsDeletedProjectTraffic deletes the newest project while its traffic
// waits to be swept, then another organization creates a project: the
// traffic is not filed under it.
func testIDsDeletedProjectTraffic(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	doomedProject := createProject(t, s, ada.Org.ID, ada.Account.ID, "Doomed", false)
	doomed := newGraph(t, s, doomedProject.ID, "doomed")
	trafficOn(t, s, doomed, "doomed")
	noErr(t, "ProjectDelete", s.ProjectDelete(ctx, ada.Org.ID, doomedProject.ID, minute(2)))

	next := createProject(t, s, bob.Org.ID, bob.Account.ID, "Next", false)
	wantNewer(t, "ProjectCreate", next.ID, doomedProject.ID)
	g := newGraph(t, s, next.ID, "next")
	noTraffic(t, s, next.ID, g)
	if n := eventTotal(t, s, next.ID); n != 0 {
		t.Errorf("EventList of the new project: %d events, want none", n)
	}
	as, total, err := s.AttemptList(ctx, store.AttemptListParams{ProjectID: next.ID, Limit: 10})
	noErr(t, "AttemptList", err)
	if len(as) != 0 || total != 0 {
		t.Errorf("AttemptList of the new project = %d attempts of %d, want none", len(as), total)
	}
}
