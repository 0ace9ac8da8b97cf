package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// newSource returns an unsaved source with every field set.
func newSource(projectID uint64, slug string) volley.Source {
	return volley.Source{
		ProjectID:       projectID,
		Name:            "Source " + slug,
		Slug:            slug,
		IngestionID:     fmt.Sprintf("src_%d_%s", projectID, slug),
		Type:            volley.SourceTypeHMAC,
		EPS:             25,
		Status:          volley.SourceActive,
		AuthType:        volley.AuthAPIKey,
		AuthUsername:    "user-" + slug,
		AuthKeyName:     volley.DefaultAuthKeyName,
		AuthKey:         []byte("sealed-key-" + slug),
		VerifySignature: true,
		WebhookSecret:   []byte("sealed-secret-" + slug),
		HMAC:            volley.HMACConfig{Header: "X-Hub-Signature-256", Algorithm: "sha256", Encoding: "hex", Prefix: "sha256="},
		CreatedAt:       now,
		UpdatedAt:       now,
	}
}

// bareSource returns an unsaved source with no authentication, no signature
// check and no secrets.
func bareSource(projectID uint64, slug string) volley.Source {
	src := newSource(projectID, slug)
	src.Type, src.EPS = volley.SourceTypeWebhook, 0
	src.AuthType, src.AuthUsername, src.AuthKeyName, src.AuthKey = volley.AuthNone, "", "", nil
	src.VerifySignature, src.WebhookSecret, src.HMAC = false, nil, volley.HMACConfig{}
	return src
}

// createSource stores src and returns it with its new ID.
func createSource(t *testing.T, s store.Store, src volley.Source) volley.Source {
	t.Helper()
	created := src
	noErr(t, "SourceCreate "+src.Slug, s.SourceCreate(t.Context(), &created))
	if created.ID == 0 {
		t.Fatal("SourceCreate left ID unset")
	}
	src.ID = created.ID
	return src
}

// newDestination returns an unsaved destination with every field set.
func newDestination(projectID uint64, name string) volley.Destination {
	return volley.Destination{
		ProjectID:           projectID,
		Name:                name,
		URL:                 "https://" + name + ".example.com/hooks?x=1",
		EPS:                 10,
		Status:              volley.DestinationActive,
		TimeoutMS:           5000,
		Headers:             map[string]string{"Authorization": "Bearer " + name, "X-Tenant": "ä ü"},
		SigningSecret:       []byte("sealed-whsec-" + name),
		PrevSigningSecret:   []byte("sealed-old-whsec-" + name),
		PrevSecretExpiresAt: now.Add(24 * time.Hour),
		InsecureSkipVerify:  true,
		CreatedAt:           now,
		UpdatedAt:           now,
	}
}

// createDestination stores d and returns it with its new ID.
func createDestination(t *testing.T, s store.Store, d volley.Destination) volley.Destination {
	t.Helper()
	created := d
	noErr(t, "DestinationCreate "+d.Name, s.DestinationCreate(t.Context(), &created))
	if created.ID == 0 {
		t.Fatal("DestinationCreate left ID unset")
	}
	d.ID = created.ID
	return d
}

// sameDestination is same for destinations, except that a destination without
// headers may come back with a nil or an empty map.
func sameDestination(t *testing.T, what string, got, want volley.Destination) {
	t.Helper()
	if len(got.Headers) == 0 && len(want.Headers) == 0 {
		got.Headers, want.Headers = nil, nil
	}
	same(t, what, got, want)
}

// graph is a source connected to a destination, as stored.
type graph struct {
	Source      volley.Source
	Destination volley.Destination
	Connection  volley.Connection
}

// newGraph creates a source, a destination and their connection in a
// project; name tells graphs in one project apart.
func newGraph(t *testing.T, s store.Store, projectID uint64, name string) graph {
	t.Helper()
	src := createSource(t, s, newSource(projectID, "src-"+name))
	dst := createDestination(t, s, newDestination(projectID, "dst-"+name))
	conn := createConnection(t, s, src, dst)
	src.ConnectionCount = 1
	return graph{Source: src, Destination: dst, Connection: conn}
}

// wantPresent checks that every part of the graph reads back unchanged.
func (g graph) wantPresent(t *testing.T, s store.Store, orgID uint64) {
	t.Helper()
	ctx := t.Context()
	src, err := s.SourceGet(ctx, orgID, g.Source.ID)
	noErr(t, "SourceGet", err)
	same(t, "SourceGet", *src, g.Source)
	src, err = s.SourceGetByIngestionID(ctx, g.Source.IngestionID)
	noErr(t, "SourceGetByIngestionID", err)
	same(t, "SourceGetByIngestionID", *src, g.Source)
	dst, err := s.DestinationGet(ctx, orgID, g.Destination.ID)
	noErr(t, "DestinationGet", err)
	sameDestination(t, "DestinationGet", *dst, g.Destination)
	conn, err := s.ConnectionGet(ctx, orgID, g.Connection.ID)
	noErr(t, "ConnectionGet", err)
	same(t, "ConnectionGet", *conn, g.Connection)
}

// wantGone checks that no part of the graph can be read any more.
func (g graph) wantGone(t *testing.T, s store.Store, orgID uint64) {
	t.Helper()
	ctx := t.Context()
	_, err := s.SourceGet(ctx, orgID, g.Source.ID)
	wantErr(t, "SourceGet", err, store.ErrNotFound)
	_, err = s.SourceGetByIngestionID(ctx, g.Source.IngestionID)
	wantErr(t, "SourceGetByIngestionID", err, store.ErrNotFound)
	_, err = s.DestinationGet(ctx, orgID, g.Destination.ID)
	wantErr(t, "DestinationGet", err, store.ErrNotFound)
	_, err = s.ConnectionGet(ctx, orgID, g.Connection.ID)
	wantErr(t, "ConnectionGet", err, store.ErrNotFound)
	project := g.Source.ProjectID
	sources, err := s.SourceList(ctx, project)
	noErr(t, "SourceList", err)
	destinations, err := s.DestinationList(ctx, project)
	noErr(t, "DestinationList", err)
	connections, err := s.ConnectionList(ctx, project)
	noErr(t, "ConnectionList", err)
	for _, src := range sources {
		if src.ID == g.Source.ID {
			t.Errorf("SourceList still has source %d", src.ID)
		}
	}
	for _, d := range destinations {
		if d.ID == g.Destination.ID {
			t.Errorf("DestinationList still has destination %d", d.ID)
		}
	}
	for _, c := range connections {
		if c.ID == g.Connection.ID {
			t.Errorf("ConnectionList still has connection %d", c.ID)
		}
	}
}

func sourceTests() []test {
	return []test{
		{"Sources/Create", testSourceCreate},
		{"Sources/List", testSourceList},
		{"Sources/Update", testSourceUpdate},
		{"Sources/UpdateUnknown", testSourceUpdateUnknown},
		{"Sources/SlugUniquePerProject", testSourceSlugUnique},
		{"Sources/IngestionIDUnique", testSourceIngestionIDUnique},
		{"Sources/GetByIngestionIDUnknown", testSourceGetByIngestionIDUnknown},
		{"Sources/OtherOrg", testSourceOtherOrg},
		{"Sources/Delete", testSourceDelete},
		{"Sources/CreateInMissingProject", testSourceCreateMissingProject},
	}
}

func testSourceCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	full := createSource(t, s, newSource(ada.Project.ID, "full"))
	bare := createSource(t, s, bareSource(ada.Project.ID, "bare"))
	for _, want := range []volley.Source{full, bare} {
		got, err := s.SourceGet(ctx, ada.Org.ID, want.ID)
		noErr(t, "SourceGet", err)
		same(t, "SourceGet "+want.Slug, *got, want)
		got, err = s.SourceGetByIngestionID(ctx, want.IngestionID)
		noErr(t, "SourceGetByIngestionID", err)
		same(t, "SourceGetByIngestionID "+want.Slug, *got, want)
	}
	sources, err := s.SourceList(ctx, ada.Project.ID)
	noErr(t, "SourceList", err)
	same(t, "SourceList", sources, []volley.Source{full, bare})
}

func testSourceList(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	busy := createSource(t, s, newSource(ada.Project.ID, "busy"))
	idle := createSource(t, s, bareSource(ada.Project.ID, "idle"))
	elsewhere := createSource(t, s, newSource(staging.ID, "elsewhere"))
	for _, name := range []string{"one", "two"} {
		createConnection(t, s, busy, createDestination(t, s, newDestination(ada.Project.ID, name)))
	}
	busy.ConnectionCount = 2

	sources, err := s.SourceList(ctx, ada.Project.ID)
	noErr(t, "SourceList", err)
	same(t, "SourceList", sources, []volley.Source{busy, idle})
	sources, err = s.SourceList(ctx, staging.ID)
	noErr(t, "SourceList", err)
	same(t, "SourceList of another project", sources, []volley.Source{elsewhere})
	sources, err = s.SourceList(ctx, staging.ID+1000)
	noErr(t, "SourceList", err)
	same(t, "SourceList of an unknown project", sources, []volley.Source{})
	got, err := s.SourceGet(ctx, ada.Org.ID, busy.ID)
	noErr(t, "SourceGet", err)
	same(t, "SourceGet", *got, busy)
}

func testSourceUpdate(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	p := ada.Project.ID
	for _, tc := range []struct {
		name   string
		from   volley.Source
		change func(*volley.Source)
	}{
		{"EveryField", newSource(p, "every"), func(src *volley.Source) {
			src.Name, src.Slug, src.Type, src.EPS, src.Status = "Renamed", "renamed", volley.SourceTypeShopify, 500, volley.SourceDisabled
			src.AuthType, src.AuthUsername, src.AuthKeyName, src.AuthKey = volley.AuthBasic, "basic-user", "", []byte("sealed-password")
			src.VerifySignature, src.WebhookSecret = false, []byte("sealed-other-secret")
			src.HMAC = volley.HMACConfig{Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Prefix: "v1="}
		}},
		{"SecretsCleared", newSource(p, "cleared"), func(src *volley.Source) {
			src.Type, src.AuthType, src.AuthUsername, src.AuthKeyName, src.AuthKey = volley.SourceTypeWebhook, volley.AuthNone, "", "", nil
			src.VerifySignature, src.WebhookSecret, src.HMAC = false, nil, volley.HMACConfig{}
		}},
		{"SecretsSet", bareSource(p, "set"), func(src *volley.Source) {
			src.Type, src.AuthType, src.AuthKeyName, src.AuthKey = volley.SourceTypeGitHub, volley.AuthAPIKey, "X-Key", []byte("sealed-key")
			src.VerifySignature, src.WebhookSecret = true, []byte("sealed-secret")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			want := createSource(t, s, tc.from)
			tc.change(&want)
			want.UpdatedAt = now.Add(time.Hour)
			update := want
			noErr(t, "SourceUpdate", s.SourceUpdate(ctx, &update))
			got, err := s.SourceGet(ctx, ada.Org.ID, want.ID)
			noErr(t, "SourceGet", err)
			same(t, "SourceGet after SourceUpdate", *got, want)
			got, err = s.SourceGetByIngestionID(ctx, want.IngestionID)
			noErr(t, "SourceGetByIngestionID", err)
			same(t, "SourceGetByIngestionID after SourceUpdate", *got, want)
		})
	}
}

func testSourceUpdateUnknown(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	src := createSource(t, s, newSource(ada.Project.ID, "known"))
	src.ID += 1000
	src.Slug = "unknown"
	wantErr(t, "SourceUpdate of an unknown source", s.SourceUpdate(t.Context(), &src), store.ErrNotFound)
}

func testSourceSlugUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	first := createSource(t, s, newSource(ada.Project.ID, "stripe"))
	clash := newSource(ada.Project.ID, "stripe")
	clash.IngestionID = "src_clash"
	err := s.SourceCreate(ctx, &clash)
	wantConflict(t, "SourceCreate with a taken slug", err)

	// The slug is free in every other project.
	createSource(t, s, newSource(staging.ID, "stripe"))
	createSource(t, s, newSource(bob.Project.ID, "stripe"))

	second := createSource(t, s, newSource(ada.Project.ID, "github"))
	update := second
	update.Slug = first.Slug
	wantConflict(t, "SourceUpdate to a taken slug", s.SourceUpdate(ctx, &update))
	got, err := s.SourceGet(ctx, ada.Org.ID, second.ID)
	noErr(t, "SourceGet", err)
	same(t, "SourceGet after a failed SourceUpdate", *got, second)
	sources, err := s.SourceList(ctx, ada.Project.ID)
	noErr(t, "SourceList", err)
	same(t, "SourceList", sources, []volley.Source{first, second})
}

func testSourceIngestionIDUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	first := createSource(t, s, newSource(ada.Project.ID, "stripe"))
	clash := newSource(bob.Project.ID, "other")
	clash.IngestionID = first.IngestionID
	idClash := wantConflict(t, "SourceCreate with a taken ingestion id", s.SourceCreate(ctx, &clash))

	clash = newSource(ada.Project.ID, first.Slug)
	slugClash := wantConflict(t, "SourceCreate with a taken slug", s.SourceCreate(ctx, &clash))
	if idClash == slugClash {
		t.Errorf("an ingestion id clash and a slug clash are both reported as %q", idClash)
	}
	got, err := s.SourceGetByIngestionID(ctx, first.IngestionID)
	noErr(t, "SourceGetByIngestionID", err)
	same(t, "SourceGetByIngestionID", *got, first)
}

func testSourceGetByIngestionIDUnknown(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	createSource(t, s, newSource(ada.Project.ID, "known"))
	for _, id := range []string{"src_unknown", ""} {
		_, err := s.SourceGetByIngestionID(t.Context(), id)
		wantErr(t, fmt.Sprintf("SourceGetByIngestionID(%q)", id), err, store.ErrNotFound)
	}
}

func testSourceOtherOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	g := newGraph(t, s, ada.Project.ID, "a")
	_, err := s.SourceGet(ctx, bob.Org.ID, g.Source.ID)
	wantErr(t, "SourceGet with another org", err, store.ErrNotFound)
	err = s.SourceDelete(ctx, bob.Org.ID, g.Source.ID, now)
	wantErr(t, "SourceDelete with another org", err, store.ErrNotFound)
	g.wantPresent(t, s, ada.Org.ID)
}

func testSourceDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	g := newGraph(t, s, ada.Project.ID, "a")
	kept := newGraph(t, s, ada.Project.ID, "b")
	noErr(t, "SourceDelete", s.SourceDelete(ctx, ada.Org.ID, g.Source.ID, now))
	_, err := s.SourceGet(ctx, ada.Org.ID, g.Source.ID)
	wantErr(t, "SourceGet of a deleted source", err, store.ErrNotFound)
	_, err = s.SourceGetByIngestionID(ctx, g.Source.IngestionID)
	wantErr(t, "SourceGetByIngestionID of a deleted source", err, store.ErrNotFound)
	_, err = s.ConnectionGet(ctx, ada.Org.ID, g.Connection.ID)
	wantErr(t, "ConnectionGet of a deleted source's connection", err, store.ErrNotFound)
	got, err := s.DestinationGet(ctx, ada.Org.ID, g.Destination.ID)
	noErr(t, "DestinationGet of a deleted source's destination", err)
	sameDestination(t, "DestinationGet", *got, g.Destination)
	sources, err := s.SourceList(ctx, ada.Project.ID)
	noErr(t, "SourceList", err)
	same(t, "SourceList", sources, []volley.Source{kept.Source})
	kept.wantPresent(t, s, ada.Org.ID)
	wantErr(t, "SourceDelete twice", s.SourceDelete(ctx, ada.Org.ID, g.Source.ID, now), store.ErrNotFound)
}

func testSourceCreateMissingProject(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	deleted := createProject(t, s, ada.Org.ID, ada.Account.ID, "Deleted", false)
	noErr(t, "ProjectDelete", s.ProjectDelete(ctx, ada.Org.ID, deleted.ID, now))
	for name, projectID := range map[string]uint64{"a deleted project": deleted.ID, "an unknown project": deleted.ID + 1000} {
		src := newSource(projectID, "orphan")
		wantErr(t, "SourceCreate in "+name, s.SourceCreate(ctx, &src), store.ErrNotFound)
		d := newDestination(projectID, "orphan")
		wantErr(t, "DestinationCreate in "+name, s.DestinationCreate(ctx, &d), store.ErrNotFound)
	}
}
