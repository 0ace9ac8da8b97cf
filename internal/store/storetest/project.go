package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func projectTests() []test {
	return []test{
		{"Projects/Create", testProjectCreate},
		{"Projects/Creator", testProjectCreator},
		{"Projects/DefaultMovesOnCreate", testProjectDefaultMovesOnCreate},
		{"Projects/Rename", testProjectRename},
		{"Projects/MakeDefault", testProjectMakeDefault},
		{"Projects/DeleteDefault", testProjectDeleteDefault},
		{"Projects/DeleteCascades", testProjectDelete},
		{"Projects/OtherOrg", testProjectOtherOrg},
		{"Projects/CreateInUnknownOrg", testProjectCreateUnknownOrg},
	}
}

// createProject creates a project of orgID, created by the account creator at
// now, and returns it as stored.
func createProject(t *testing.T, s store.Store, orgID, creator uint64, name string, isDefault bool) volley.Project {
	t.Helper()
	p := volley.Project{OrgID: orgID, AccountID: creator, Name: name, IsDefault: isDefault, CreatedAt: now, UpdatedAt: now}
	created := p
	noErr(t, "ProjectCreate", s.ProjectCreate(t.Context(), &created))
	if created.ID == 0 {
		t.Fatal("ProjectCreate left ID unset")
	}
	p.ID = created.ID
	return p
}

// wantProjects checks ProjectList, and that each project is also what
// ProjectGet returns.
func wantProjects(t *testing.T, s store.Store, orgID uint64, want ...volley.Project) {
	t.Helper()
	projects, err := s.ProjectList(t.Context(), orgID)
	noErr(t, "ProjectList", err)
	same(t, "ProjectList", projects, want)
	for _, p := range want {
		got, err := s.ProjectGet(t.Context(), orgID, p.ID)
		noErr(t, "ProjectGet", err)
		same(t, "ProjectGet", *got, p)
	}
}

func testProjectCreate(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	bob := newFixture(t, s, "bob")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	if staging.ID == ada.Project.ID || staging.ID == bob.Project.ID {
		t.Fatalf("ProjectCreate reused ID %d", staging.ID)
	}
	wantProjects(t, s, ada.Org.ID, ada.Project, staging)
	wantProjects(t, s, bob.Org.ID, bob.Project)
}

// testProjectCreator checks that a project keeps the account that created
// it, a member who is not the organization's creator, through updates.
func testProjectCreator(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	if ada.Project.AccountID != ada.Account.ID || bob.Project.AccountID != bob.Account.ID {
		t.Fatalf("default projects created by %d and %d, want their accounts %d and %d",
			ada.Project.AccountID, bob.Project.AccountID, ada.Account.ID, bob.Account.ID)
	}
	_, err := s.MemberAdd(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleAdmin, Now: now})
	noErr(t, "MemberAdd", err)
	shared := createProject(t, s, ada.Org.ID, bob.Account.ID, "Shared", false)
	wantProjects(t, s, ada.Org.ID, ada.Project, shared)

	later := now.Add(time.Hour)
	got, err := s.ProjectUpdate(ctx, store.ProjectUpdateParams{OrgID: ada.Org.ID, ID: shared.ID, Name: "Main", MakeDefault: true, Now: later})
	noErr(t, "ProjectUpdate", err)
	shared.Name, shared.IsDefault, shared.UpdatedAt = "Main", true, later
	same(t, "ProjectUpdate", *got, shared)
	old := ada.Project
	old.IsDefault = false
	wantProjects(t, s, ada.Org.ID, old, shared)
}

func testProjectDefaultMovesOnCreate(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	bob := newFixture(t, s, "bob")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", true)
	old := ada.Project
	old.IsDefault = false
	wantProjects(t, s, ada.Org.ID, old, staging)
	// Other organizations keep their default.
	wantProjects(t, s, bob.Org.ID, bob.Project)
}

func testProjectRename(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	later := now.Add(time.Hour)
	got, err := s.ProjectUpdate(ctx, store.ProjectUpdateParams{OrgID: ada.Org.ID, ID: staging.ID, Name: "Production", Now: later})
	noErr(t, "ProjectUpdate", err)
	want := staging
	want.Name, want.UpdatedAt = "Production", later
	same(t, "ProjectUpdate", *got, want)
	wantProjects(t, s, ada.Org.ID, ada.Project, want)

	// An empty name keeps the name.
	latest := later.Add(time.Hour)
	got, err = s.ProjectUpdate(ctx, store.ProjectUpdateParams{OrgID: ada.Org.ID, ID: staging.ID, Now: latest})
	noErr(t, "ProjectUpdate", err)
	want.UpdatedAt = latest
	same(t, "ProjectUpdate without a name", *got, want)
	wantProjects(t, s, ada.Org.ID, ada.Project, want)
}

func testProjectMakeDefault(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	later := now.Add(time.Hour)
	got, err := s.ProjectUpdate(ctx, store.ProjectUpdateParams{OrgID: ada.Org.ID, ID: staging.ID, MakeDefault: true, Now: later})
	noErr(t, "ProjectUpdate MakeDefault", err)
	staging.IsDefault, staging.UpdatedAt = true, later
	same(t, "ProjectUpdate MakeDefault", *got, staging)
	old := ada.Project
	old.IsDefault = false
	wantProjects(t, s, ada.Org.ID, old, staging)

	// Making the default the default changes nothing but UpdatedAt.
	got, err = s.ProjectUpdate(ctx, store.ProjectUpdateParams{OrgID: ada.Org.ID, ID: staging.ID, Name: "Main", MakeDefault: true, Now: later})
	noErr(t, "ProjectUpdate MakeDefault of the default", err)
	staging.Name = "Main"
	same(t, "ProjectUpdate MakeDefault of the default", *got, staging)
	wantProjects(t, s, ada.Org.ID, old, staging)
}

func testProjectDeleteDefault(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	g := newGraph(t, s, ada.Project.ID, "a")
	err := s.ProjectDelete(ctx, ada.Org.ID, ada.Project.ID, now)
	wantErr(t, "ProjectDelete of the default project", err, volley.ErrDefaultProject)
	wantProjects(t, s, ada.Org.ID, ada.Project, staging)
	g.wantPresent(t, s, ada.Org.ID)

	// Once the flag has moved, the former default can go.
	_, err = s.ProjectUpdate(ctx, store.ProjectUpdateParams{OrgID: ada.Org.ID, ID: staging.ID, MakeDefault: true, Now: now})
	noErr(t, "ProjectUpdate MakeDefault", err)
	noErr(t, "ProjectDelete of the former default", s.ProjectDelete(ctx, ada.Org.ID, ada.Project.ID, now))
	staging.IsDefault = true
	wantProjects(t, s, ada.Org.ID, staging)
	g.wantGone(t, s, ada.Org.ID)
}

func testProjectDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	doomed := newGraph(t, s, staging.ID, "a")
	kept := newGraph(t, s, ada.Project.ID, "a")

	noErr(t, "ProjectDelete", s.ProjectDelete(ctx, ada.Org.ID, staging.ID, now))
	_, err := s.ProjectGet(ctx, ada.Org.ID, staging.ID)
	wantErr(t, "ProjectGet of a deleted project", err, store.ErrNotFound)
	wantProjects(t, s, ada.Org.ID, ada.Project)
	doomed.wantGone(t, s, ada.Org.ID)
	kept.wantPresent(t, s, ada.Org.ID)
	wantErr(t, "ProjectDelete twice", s.ProjectDelete(ctx, ada.Org.ID, staging.ID, now), store.ErrNotFound)
}

func testProjectOtherOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	staging := createProject(t, s, ada.Org.ID, ada.Account.ID, "Staging", false)
	other := bob.Org.ID
	for _, id := range []uint64{ada.Project.ID, staging.ID} {
		_, err := s.ProjectGet(ctx, other, id)
		wantErr(t, "ProjectGet with another org", err, store.ErrNotFound)
		_, err = s.ProjectUpdate(ctx, store.ProjectUpdateParams{OrgID: other, ID: id, Name: "Stolen", MakeDefault: true, Now: now.Add(time.Hour)})
		wantErr(t, "ProjectUpdate with another org", err, store.ErrNotFound)
		// Not ErrDefaultProject for the default: the project is not there.
		wantErr(t, "ProjectDelete with another org", s.ProjectDelete(ctx, other, id, now), store.ErrNotFound)
	}
	wantProjects(t, s, ada.Org.ID, ada.Project, staging)
	wantProjects(t, s, bob.Org.ID, bob.Project)
}

func testProjectCreateUnknownOrg(t *testing.T, s store.Store) {
	ada := newFixture(t, s, "ada")
	p := volley.Project{OrgID: ada.Org.ID + 1000, AccountID: ada.Account.ID, Name: "Lost", CreatedAt: now, UpdatedAt: now}
	wantErr(t, "ProjectCreate in an unknown org", s.ProjectCreate(t.Context(), &p), store.ErrNotFound)
}
