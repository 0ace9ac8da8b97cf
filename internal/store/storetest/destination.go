package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func destinationTests() []test {
	return []test{
		{"Destinations/Create", testDestinationCreate},
		{"Destinations/List", testDestinationList},
		{"Destinations/Update", testDestinationUpdate},
		{"Destinations/UpdateUnknown", testDestinationUpdateUnknown},
		{"Destinations/OtherOrg", testDestinationOtherOrg},
		{"Destinations/Delete", testDestinationDelete},
	}
}

// plainDestination returns an unsaved destination without static headers
// and without a previous signing secret.
func plainDestination(projectID uint64, name string, headers map[string]string) volley.Destination {
	d := newDestination(projectID, name)
	d.Headers, d.PrevSigningSecret, d.PrevSecretExpiresAt, d.TimeoutMS, d.EPS = headers, nil, time.Time{}, 0, 0
	d.InsecureSkipVerify = false
	return d
}

func wantDestinations(t *testing.T, s store.Store, projectID uint64, want ...volley.Destination) {
	t.Helper()
	got, err := s.DestinationList(t.Context(), projectID)
	noErr(t, "DestinationList", err)
	if len(got) != len(want) {
		t.Fatalf("DestinationList = %+v, want %+v", got, want)
	}
	for i := range want {
		sameDestination(t, "DestinationList", got[i], want[i])
	}
}

func testDestinationCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	full := createDestination(t, s, newDestination(ada.Project.ID, "full"))
	noHeaders := createDestination(t, s, plainDestination(ada.Project.ID, "nil-headers", nil))
	emptyHeaders := createDestination(t, s, plainDestination(ada.Project.ID, "empty-headers", map[string]string{}))
	for _, want := range []volley.Destination{full, noHeaders, emptyHeaders} {
		got, err := s.DestinationGet(ctx, ada.Org.ID, want.ID)
		noErr(t, "DestinationGet", err)
		sameDestination(t, "DestinationGet "+want.Name, *got, want)
	}
	wantDestinations(t, s, ada.Project.ID, full, noHeaders, emptyHeaders)
}

func testDestinationList(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	one := createDestination(t, s, newDestination(ada.Project.ID, "one"))
	elsewhere := createDestination(t, s, newDestination(staging.ID, "elsewhere"))
	two := createDestination(t, s, newDestination(ada.Project.ID, "two"))
	wantDestinations(t, s, ada.Project.ID, one, two)
	wantDestinations(t, s, staging.ID, elsewhere)
	wantDestinations(t, s, staging.ID+1000)
}

func testDestinationUpdate(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	p := ada.Project.ID
	for _, tc := range []struct {
		name   string
		from   volley.Destination
		change func(*volley.Destination)
	}{
		{"EveryField", newDestination(p, "every"), func(d *volley.Destination) {
			d.Name, d.URL, d.EPS, d.Status, d.TimeoutMS = "renamed", "http://10.0.0.1:8080/in", 99, volley.DestinationDisabled, 60_000
			d.Headers = map[string]string{"X-Other": "1"}
			d.SigningSecret, d.PrevSigningSecret = []byte("sealed-new"), []byte("sealed-previous")
			d.PrevSecretExpiresAt = now.Add(48 * time.Hour)
			d.InsecureSkipVerify = false
		}},
		{"SkipTLSVerification", plainDestination(p, "skip-verify", nil), func(d *volley.Destination) { d.InsecureSkipVerify = true }},
		{"RotateSecret", plainDestination(p, "rotate", nil), func(d *volley.Destination) {
			d.SigningSecret, d.PrevSigningSecret = []byte("sealed-rotated"), d.SigningSecret
			d.PrevSecretExpiresAt = now.Add(24 * time.Hour)
		}},
		{"ClearPrevSecretAndHeaders", newDestination(p, "clear"), func(d *volley.Destination) {
			d.Headers, d.PrevSigningSecret, d.PrevSecretExpiresAt = map[string]string{}, nil, time.Time{}
		}},
		{"NilHeaders", newDestination(p, "nil"), func(d *volley.Destination) { d.Headers = nil }},
		{"SetHeaders", plainDestination(p, "set", nil), func(d *volley.Destination) {
			d.Headers = map[string]string{"Authorization": "Basic dTpw", "X-Empty": ""}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			want := createDestination(t, s, tc.from)
			tc.change(&want)
			want.UpdatedAt = now.Add(time.Hour)
			update := want
			noErr(t, "DestinationUpdate", s.DestinationUpdate(ctx, &update))
			got, err := s.DestinationGet(ctx, ada.Org.ID, want.ID)
			noErr(t, "DestinationGet", err)
			sameDestination(t, "DestinationGet after DestinationUpdate", *got, want)
		})
	}
}

func testDestinationUpdateUnknown(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	d := createDestination(t, s, newDestination(ada.Project.ID, "known"))
	d.ID += 1000
	wantErr(t, "DestinationUpdate of an unknown destination", s.DestinationUpdate(t.Context(), &d), store.ErrNotFound)
}

func testDestinationOtherOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	g := newGraph(t, s, ada.Project.ID, "a")
	_, err := s.DestinationGet(ctx, bob.Org.ID, g.Destination.ID)
	wantErr(t, "DestinationGet with another org", err, store.ErrNotFound)
	err = s.DestinationDelete(ctx, bob.Org.ID, g.Destination.ID, now)
	wantErr(t, "DestinationDelete with another org", err, store.ErrNotFound)
	g.wantPresent(t, s, ada.Org.ID)
}

func testDestinationDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	g := newGraph(t, s, ada.Project.ID, "a")
	kept := newGraph(t, s, ada.Project.ID, "b")
	noErr(t, "DestinationDelete", s.DestinationDelete(ctx, ada.Org.ID, g.Destination.ID, now))
	_, err := s.DestinationGet(ctx, ada.Org.ID, g.Destination.ID)
	wantErr(t, "DestinationGet of a deleted destination", err, store.ErrNotFound)
	_, err = s.ConnectionGet(ctx, ada.Org.ID, g.Connection.ID)
	wantErr(t, "ConnectionGet of a deleted destination's connection", err, store.ErrNotFound)
	src, err := s.SourceGet(ctx, ada.Org.ID, g.Source.ID)
	noErr(t, "SourceGet of a deleted destination's source", err)
	want := g.Source
	want.ConnectionCount = 0
	same(t, "SourceGet", *src, want)
	wantDestinations(t, s, ada.Project.ID, kept.Destination)
	kept.wantPresent(t, s, ada.Org.ID)
	wantErr(t, "DestinationDelete twice", s.DestinationDelete(ctx, ada.Org.ID, g.Destination.ID, now), store.ErrNotFound)
}
