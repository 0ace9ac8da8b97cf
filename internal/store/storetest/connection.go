package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func connectionTests() []test {
	return []test{
		{"Connections/Create", testConnectionCreate},
		{"Connections/Conflict", testConnectionConflict},
		{"Connections/Update", testConnectionUpdate},
		{"Connections/UpdateUnknown", testConnectionUpdateUnknown},
		{"Connections/Delete", testConnectionDelete},
		{"Connections/DeletedWithSource", testConnectionDeletedWithSource},
		{"Connections/DeletedWithDestination", testConnectionDeletedWithDestination},
		{"Connections/OtherOrg", testConnectionOtherOrg},
		{"Connections/CreateWithMissingEnd", testConnectionCreateMissingEnd},
	}
}

// newConnection returns an unsaved connection from src to dst.
func newConnection(src volley.Source, dst volley.Destination) volley.Connection {
	return volley.Connection{
		ProjectID:     src.ProjectID,
		SourceID:      src.ID,
		DestinationID: dst.ID,
		Name:          volley.DefaultConnectionName(src.Slug, dst.Name),
		Status:        volley.ConnectionEnabled,
		EPS:           7,
		MaxRetries:    volley.DefaultMaxRetries,
		Ordering:      volley.OrderingNone,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// joined returns c with the fields joined from its source and destination.
func joined(c volley.Connection, src volley.Source, dst volley.Destination) volley.Connection {
	c.SourceSlug, c.SourceEPS = src.Slug, src.EPS
	c.DestinationName, c.DestinationURL, c.DestinationEPS, c.DestinationStatus = dst.Name, dst.URL, dst.EPS, dst.Status
	return c
}

// createConnection connects src to dst and returns the connection as
// ConnectionGet should return it.
func createConnection(t *testing.T, s store.Store, src volley.Source, dst volley.Destination) volley.Connection {
	t.Helper()
	c := newConnection(src, dst)
	created := c
	noErr(t, "ConnectionCreate", s.ConnectionCreate(t.Context(), &created))
	if created.ID == 0 {
		t.Fatal("ConnectionCreate left ID unset")
	}
	c.ID = created.ID
	return joined(c, src, dst)
}

func wantConnections(t *testing.T, s store.Store, orgID, projectID uint64, want ...volley.Connection) {
	t.Helper()
	got, err := s.ConnectionList(t.Context(), projectID)
	noErr(t, "ConnectionList", err)
	same(t, "ConnectionList", got, want)
	for _, c := range want {
		got, err := s.ConnectionGet(t.Context(), orgID, c.ID)
		noErr(t, "ConnectionGet", err)
		same(t, "ConnectionGet", *got, c)
	}
}

// wantConnectionCount checks a source's ConnectionCount in SourceGet.
func wantConnectionCount(t *testing.T, s store.Store, orgID, sourceID uint64, want int64) {
	t.Helper()
	src, err := s.SourceGet(t.Context(), orgID, sourceID)
	noErr(t, "SourceGet", err)
	if src.ConnectionCount != want {
		t.Errorf("source %d ConnectionCount = %d, want %d", sourceID, src.ConnectionCount, want)
	}
}

func testConnectionCreate(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	src := createSource(t, s, newSource(ada.Project.ID, "stripe"))
	one := createDestination(t, s, newDestination(ada.Project.ID, "one"))
	two := createDestination(t, s, newDestination(ada.Project.ID, "two"))
	c1 := createConnection(t, s, src, one)
	other := newGraph(t, s, staging.ID, "other")
	c2 := createConnection(t, s, src, two)
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, c1, c2)
	wantConnections(t, s, ada.Org.ID, staging.ID, other.Connection)
	wantConnections(t, s, ada.Org.ID, staging.ID+1000)
	wantConnectionCount(t, s, ada.Org.ID, src.ID, 2)
}

func testConnectionConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	g := newGraph(t, s, ada.Project.ID, "a")
	again := newConnection(g.Source, g.Destination)
	again.Name = "again"
	wantConflict(t, "ConnectionCreate of connected ends", s.ConnectionCreate(ctx, &again))
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, g.Connection)
	wantConnectionCount(t, s, ada.Org.ID, g.Source.ID, 1)
}

func testConnectionUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	g := newGraph(t, s, ada.Project.ID, "a")
	want := g.Connection
	want.Name, want.Status, want.EPS, want.MaxRetries = "renamed", volley.ConnectionPaused, 0, volley.MaxMaxRetries
	want.UpdatedAt = now.Add(time.Hour)
	update := want
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &update))
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, want)

	want.Status, want.MaxRetries, want.UpdatedAt = volley.ConnectionDisabled, 0, now.Add(2*time.Hour)
	update = want
	noErr(t, "ConnectionUpdate", s.ConnectionUpdate(ctx, &update))
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, want)

	// The joined fields follow their source and destination.
	src, dst := g.Source, g.Destination
	src.Slug, src.EPS, dst.Name, dst.URL, dst.EPS = "renamed-src", 3, "renamed-dst", "https://new.example.com/", 4
	noErr(t, "SourceUpdate", s.SourceUpdate(ctx, &src))
	noErr(t, "DestinationUpdate", s.DestinationUpdate(ctx, &dst))
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, joined(want, src, dst))
}

func testConnectionUpdateUnknown(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	c := newGraph(t, s, ada.Project.ID, "a").Connection
	c.ID += 1000
	wantErr(t, "ConnectionUpdate of an unknown connection", s.ConnectionUpdate(t.Context(), &c), store.ErrNotFound)
}

func testConnectionDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	g := newGraph(t, s, ada.Project.ID, "a")
	kept := newGraph(t, s, ada.Project.ID, "b")
	noErr(t, "ConnectionDelete", s.ConnectionDelete(ctx, ada.Org.ID, g.Connection.ID, now))
	_, err := s.ConnectionGet(ctx, ada.Org.ID, g.Connection.ID)
	wantErr(t, "ConnectionGet of a deleted connection", err, store.ErrNotFound)
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, kept.Connection)
	wantConnectionCount(t, s, ada.Org.ID, g.Source.ID, 0)
	d, err := s.DestinationGet(ctx, ada.Org.ID, g.Destination.ID)
	noErr(t, "DestinationGet of a deleted connection's destination", err)
	sameDestination(t, "DestinationGet", *d, g.Destination)
	wantErr(t, "ConnectionDelete twice", s.ConnectionDelete(ctx, ada.Org.ID, g.Connection.ID, now), store.ErrNotFound)
}

func testConnectionDeletedWithSource(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	p := ada.Project.ID
	doomed, kept := createSource(t, s, newSource(p, "doomed")), createSource(t, s, newSource(p, "kept"))
	one, two := createDestination(t, s, newDestination(p, "one")), createDestination(t, s, newDestination(p, "two"))
	gone := []volley.Connection{createConnection(t, s, doomed, one), createConnection(t, s, doomed, two)}
	left := createConnection(t, s, kept, one)

	noErr(t, "SourceDelete", s.SourceDelete(ctx, ada.Org.ID, doomed.ID, now))
	for _, c := range gone {
		_, err := s.ConnectionGet(ctx, ada.Org.ID, c.ID)
		wantErr(t, "ConnectionGet of a deleted source's connection", err, store.ErrNotFound)
	}
	wantConnections(t, s, ada.Org.ID, p, left)
	wantConnectionCount(t, s, ada.Org.ID, kept.ID, 1)
	wantDestinations(t, s, p, one, two)
}

func testConnectionDeletedWithDestination(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	p := ada.Project.ID
	busy, idle := createSource(t, s, newSource(p, "busy")), createSource(t, s, newSource(p, "idle"))
	doomed, kept := createDestination(t, s, newDestination(p, "doomed")), createDestination(t, s, newDestination(p, "kept"))
	gone := []volley.Connection{createConnection(t, s, busy, doomed), createConnection(t, s, idle, doomed)}
	left := createConnection(t, s, busy, kept)
	wantConnectionCount(t, s, ada.Org.ID, busy.ID, 2)
	wantConnectionCount(t, s, ada.Org.ID, idle.ID, 1)

	noErr(t, "DestinationDelete", s.DestinationDelete(ctx, ada.Org.ID, doomed.ID, now))
	for _, c := range gone {
		_, err := s.ConnectionGet(ctx, ada.Org.ID, c.ID)
		wantErr(t, "ConnectionGet of a deleted destination's connection", err, store.ErrNotFound)
	}
	wantConnections(t, s, ada.Org.ID, p, left)
	wantConnectionCount(t, s, ada.Org.ID, busy.ID, 1)
	wantConnectionCount(t, s, ada.Org.ID, idle.ID, 0)
}

func testConnectionOtherOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	g := newGraph(t, s, ada.Project.ID, "a")
	_, err := s.ConnectionGet(ctx, bob.Org.ID, g.Connection.ID)
	wantErr(t, "ConnectionGet with another org", err, store.ErrNotFound)
	err = s.ConnectionDelete(ctx, bob.Org.ID, g.Connection.ID, now)
	wantErr(t, "ConnectionDelete with another org", err, store.ErrNotFound)
	g.wantPresent(t, s, ada.Org.ID)
}

func testConnectionCreateMissingEnd(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	g := newGraph(t, s, ada.Project.ID, "a")
	missingSource := newConnection(g.Source, g.Destination)
	missingSource.SourceID += 1000
	wantErr(t, "ConnectionCreate from an unknown source", s.ConnectionCreate(ctx, &missingSource), store.ErrNotFound)
	missingDestination := newConnection(g.Source, g.Destination)
	missingDestination.DestinationID += 1000
	wantErr(t, "ConnectionCreate to an unknown destination", s.ConnectionCreate(ctx, &missingDestination), store.ErrNotFound)
	wantConnections(t, s, ada.Org.ID, ada.Project.ID, g.Connection)
}
