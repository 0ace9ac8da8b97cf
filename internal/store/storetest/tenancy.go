package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func accountTests() []test {
	return []test{
		{"Accounts/Create", testAccountCreate},
		{"Accounts/EmailConflict", testAccountEmailConflict},
		{"Accounts/OrgSlugConflictIsAtomic", testAccountOrgSlugConflict},
		{"Accounts/NotFound", testAccountNotFound},
		{"Accounts/TimesInUTCMicroseconds", testAccountTimes},
	}
}

func testAccountCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := accountParams("ada")
	res, err := s.AccountCreate(ctx, p)
	noErr(t, "AccountCreate", err)
	if res.Account.ID == 0 || res.Org.ID == 0 || res.Project.ID == 0 || res.Token.ID == 0 {
		t.Fatalf("AccountCreate left an ID unset: %+v", res)
	}
	account := volley.Account{ID: res.Account.ID, Email: p.Email, Name: p.Name, PasswordHash: p.PasswordHash, CreatedAt: now}
	org := volley.Membership{
		Org:  volley.Org{ID: res.Org.ID, Name: p.OrgName, Slug: p.OrgSlug, AccountID: account.ID, CreatedAt: now},
		Role: volley.RoleOwner,
	}
	project := volley.Project{ID: res.Project.ID, OrgID: org.ID, AccountID: account.ID, Name: volley.DefaultProjectName,
		IsDefault: true, CreatedAt: now, UpdatedAt: now}
	token := p.Token
	token.ID, token.AccountID = res.Token.ID, account.ID
	same(t, "AccountCreate", *res, store.AccountCreateResult{Account: account, Org: org, Project: project, Token: token})

	got, err := s.AccountGet(ctx, account.ID)
	noErr(t, "AccountGet", err)
	same(t, "AccountGet", *got, account)
	got, err = s.AccountGetByEmail(ctx, p.Email)
	noErr(t, "AccountGetByEmail", err)
	same(t, "AccountGetByEmail", *got, account)
	m, err := s.OrgGet(ctx, org.ID, account.ID)
	noErr(t, "OrgGet", err)
	same(t, "OrgGet", *m, org)
	orgs, err := s.OrgList(ctx, account.ID)
	noErr(t, "OrgList", err)
	same(t, "OrgList", orgs, []volley.Membership{org})
	projects, err := s.ProjectList(ctx, org.ID)
	noErr(t, "ProjectList", err)
	same(t, "ProjectList", projects, []volley.Project{project})
	members, err := s.MemberList(ctx, org.ID)
	noErr(t, "MemberList", err)
	same(t, "MemberList", members, []volley.Member{
		{AccountID: account.ID, Email: p.Email, Name: p.Name, Role: volley.RoleOwner, CreatedAt: now},
	})
	tokens, err := s.TokenList(ctx, account.ID)
	noErr(t, "TokenList", err)
	same(t, "TokenList", tokens, []volley.APIToken{token})
	if n, err := s.AccountCount(ctx); err != nil || n != 1 {
		t.Fatalf("AccountCount = %d, %v; want 1", n, err)
	}
}

func testAccountEmailConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	p := accountParams("bob")
	p.Email = ada.Account.Email
	_, err := s.AccountCreate(ctx, p)
	wantConflict(t, "AccountCreate with a taken email", err)

	if n, err := s.AccountCount(ctx); err != nil || n != 1 {
		t.Fatalf("AccountCount = %d, %v; want 1", n, err)
	}
	_, err = s.TokenLookup(ctx, p.Token.Hash, now)
	wantErr(t, "TokenLookup of the failed account's token", err, store.ErrNotFound)
	// The failed call must not have kept its organization: the slug is free.
	_, err = s.OrgCreate(ctx, store.OrgCreateParams{Name: p.OrgName, Slug: p.OrgSlug, AccountID: ada.Account.ID, Now: now})
	noErr(t, "OrgCreate with the failed account's slug", err)
}

func testAccountOrgSlugConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	p := accountParams("bob")
	p.OrgSlug = ada.Org.Slug
	_, err := s.AccountCreate(ctx, p)
	wantConflict(t, "AccountCreate with a taken org slug", err)

	_, err = s.AccountGetByEmail(ctx, p.Email)
	wantErr(t, "AccountGetByEmail after the failed create", err, store.ErrNotFound)
	if n, err := s.AccountCount(ctx); err != nil || n != 1 {
		t.Fatalf("AccountCount = %d, %v; want 1", n, err)
	}
	_, err = s.TokenLookup(ctx, p.Token.Hash, now)
	wantErr(t, "TokenLookup of the failed account's token", err, store.ErrNotFound)
	orgs, err := s.OrgList(ctx, ada.Account.ID)
	noErr(t, "OrgList", err)
	same(t, "OrgList", orgs, []volley.Membership{ada.Org})
	// Nothing of the failed call is left to clash with.
	p.OrgSlug = "org-bob"
	_, err = s.AccountCreate(ctx, p)
	noErr(t, "AccountCreate retried with a free slug", err)
}

func testAccountNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	for name, call := range map[string]func() error{
		"AccountGet": func() error {
			_, err := s.AccountGet(ctx, ada.Account.ID+1000)
			return err
		},
		"AccountGetByEmail": func() error {
			_, err := s.AccountGetByEmail(ctx, "nobody@example.com")
			return err
		},
	} {
		wantErr(t, name+" of an unknown account", call(), store.ErrNotFound)
	}
}

// testAccountTimes writes a time that is neither in UTC nor a whole number of
// microseconds.
func testAccountTimes(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := time.Date(2025, 1, 2, 4, 4, 5, 123456789, time.FixedZone("CET", 3600))
	p := accountParams("ada")
	p.Now = in
	res, err := s.AccountCreate(ctx, p)
	noErr(t, "AccountCreate", err)
	microUTC(t, "AccountCreate Account.CreatedAt", res.Account.CreatedAt, in)
	microUTC(t, "AccountCreate Project.CreatedAt", res.Project.CreatedAt, in)
	a, err := s.AccountGet(ctx, res.Account.ID)
	noErr(t, "AccountGet", err)
	microUTC(t, "AccountGet CreatedAt", a.CreatedAt, in)
	m, err := s.OrgGet(ctx, res.Org.ID, res.Account.ID)
	noErr(t, "OrgGet", err)
	microUTC(t, "OrgGet CreatedAt", m.CreatedAt, in)
	pr, err := s.ProjectGet(ctx, res.Org.ID, res.Project.ID)
	noErr(t, "ProjectGet", err)
	microUTC(t, "ProjectGet UpdatedAt", pr.UpdatedAt, in)
	tok, err := s.TokenLookup(ctx, p.Token.Hash, in)
	noErr(t, "TokenLookup", err)
	microUTC(t, "TokenLookup LastUsedAt", tok.LastUsedAt, in)
}

func tokenTests() []test {
	return []test{
		{"Tokens/Lookup", testTokenLookup},
		{"Tokens/LastUsedAtEveryMinute", testTokenLastUsedAt},
		{"Tokens/ReplaceKind", testTokenReplaceKind},
		{"Tokens/List", testTokenList},
		{"Tokens/Delete", testTokenDelete},
		{"Tokens/HashConflict", testTokenHashConflict},
		{"Tokens/Expiry", testTokenExpiry},
		{"Tokens/NamedTokensCoexist", testTokenNamedCoexist},
	}
}

func testTokenLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	newFixture(t, s, "bob")
	got, err := s.TokenLookup(ctx, ada.Token.Hash, now)
	noErr(t, "TokenLookup", err)
	want := ada.Token
	want.LastUsedAt = now
	same(t, "TokenLookup", *got, want)

	for name, hash := range map[string][]byte{"unknown": volley.HashToken("unknown"), "empty": nil} {
		_, err := s.TokenLookup(ctx, hash, now)
		wantErr(t, "TokenLookup of an "+name+" hash", err, store.ErrNotFound)
	}
}

func testTokenLastUsedAt(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	tokens, err := s.TokenList(ctx, ada.Account.ID)
	noErr(t, "TokenList", err)
	if !tokens[0].LastUsedAt.IsZero() {
		t.Fatalf("LastUsedAt of an unused token = %v, want zero", tokens[0].LastUsedAt)
	}
	// The use is recorded at most once a minute: every API call would
	// otherwise be a write.
	for _, step := range []struct{ at, want time.Time }{
		{now, now},
		{now.Add(30 * time.Second), now},
		{now.Add(2 * time.Minute), now.Add(2 * time.Minute)},
		{now.Add(2*time.Minute + 59*time.Second), now.Add(2 * time.Minute)},
	} {
		got, err := s.TokenLookup(ctx, ada.Token.Hash, step.at)
		noErr(t, "TokenLookup", err)
		same(t, "TokenLookup at "+step.at.String()+" LastUsedAt", got.LastUsedAt, step.want)
		tokens, err := s.TokenList(ctx, ada.Account.ID)
		noErr(t, "TokenList", err)
		same(t, "TokenList after a lookup at "+step.at.String()+" LastUsedAt", tokens[0].LastUsedAt, step.want)
	}
}

func testTokenReplaceKind(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	cli, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: newToken("ada-cli", volley.TokenKindCLI, ada.Account.ID)})
	noErr(t, "TokenCreate cli", err)
	api := newToken("ada-api-2", volley.TokenKindAPI, ada.Account.ID)
	api.CreatedAt = now.Add(time.Hour)
	got, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: api, ReplaceKind: true})
	noErr(t, "TokenCreate with ReplaceKind", err)
	if got.ID == 0 || got.ID == ada.Token.ID || got.ID == cli.ID {
		t.Fatalf("TokenCreate ID = %d, want a new one", got.ID)
	}
	api.ID = got.ID
	same(t, "TokenCreate", *got, api)

	tokens, err := s.TokenList(ctx, ada.Account.ID)
	noErr(t, "TokenList", err)
	same(t, "TokenList", tokens, []volley.APIToken{*cli, api})
	_, err = s.TokenLookup(ctx, ada.Token.Hash, now)
	wantErr(t, "TokenLookup of the replaced token", err, store.ErrNotFound)
	for name, hash := range map[string][]byte{
		"the new token": api.Hash, "a token of another kind": cli.Hash, "another account's token": bob.Token.Hash,
	} {
		_, err := s.TokenLookup(ctx, hash, now)
		noErr(t, "TokenLookup of "+name, err)
	}
}

func testTokenList(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	want := []volley.APIToken{ada.Token}
	for i, secret := range []string{"ada-laptop", "ada-desktop"} {
		tok := newToken(secret, volley.TokenKindCLI, ada.Account.ID)
		tok.CreatedAt = now.Add(time.Duration(i+1) * time.Minute)
		got, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: tok})
		noErr(t, "TokenCreate", err)
		tok.ID = got.ID
		want = append(want, tok)
	}
	tokens, err := s.TokenList(ctx, ada.Account.ID)
	noErr(t, "TokenList", err)
	same(t, "TokenList", tokens, want)
	tokens, err = s.TokenList(ctx, bob.Account.ID)
	noErr(t, "TokenList", err)
	same(t, "TokenList of another account", tokens, []volley.APIToken{bob.Token})
	tokens, err = s.TokenList(ctx, bob.Account.ID+1000)
	noErr(t, "TokenList", err)
	same(t, "TokenList of an unknown account", tokens, []volley.APIToken{})
}

func testTokenDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	err := s.TokenDelete(ctx, bob.Account.ID, ada.Token.ID)
	wantErr(t, "TokenDelete of another account's token", err, store.ErrNotFound)
	_, err = s.TokenLookup(ctx, ada.Token.Hash, now)
	noErr(t, "TokenLookup after another account's TokenDelete", err)

	noErr(t, "TokenDelete", s.TokenDelete(ctx, ada.Account.ID, ada.Token.ID))
	_, err = s.TokenLookup(ctx, ada.Token.Hash, now)
	wantErr(t, "TokenLookup of a deleted token", err, store.ErrNotFound)
	tokens, err := s.TokenList(ctx, ada.Account.ID)
	noErr(t, "TokenList", err)
	same(t, "TokenList after TokenDelete", tokens, []volley.APIToken{})
	err = s.TokenDelete(ctx, ada.Account.ID, ada.Token.ID)
	wantErr(t, "TokenDelete twice", err, store.ErrNotFound)
}

func testTokenHashConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	tok := newToken("ada-api", volley.TokenKindCLI, bob.Account.ID) // ada's secret
	_, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: tok})
	wantConflict(t, "TokenCreate with a taken hash", err)
	got, err := s.TokenLookup(ctx, ada.Token.Hash, now)
	noErr(t, "TokenLookup", err)
	if got.AccountID != ada.Account.ID {
		t.Fatalf("TokenLookup AccountID = %d, want %d", got.AccountID, ada.Account.ID)
	}
}

func orgTests() []test {
	return []test{
		{"Orgs/Create", testOrgCreate},
		{"Orgs/SlugConflict", testOrgSlugConflict},
		{"Orgs/List", testOrgList},
		{"Orgs/GetNonMember", testOrgGetNonMember},
		{"Orgs/DeleteCascades", testOrgDelete},
	}
}

func testOrgCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	later := now.Add(time.Hour)
	m, err := s.OrgCreate(ctx, store.OrgCreateParams{Name: "Second", Slug: "second", AccountID: ada.Account.ID, Now: later})
	noErr(t, "OrgCreate", err)
	if m.ID == 0 || m.ID == ada.Org.ID {
		t.Fatalf("OrgCreate ID = %d, want a new one", m.ID)
	}
	want := volley.Membership{
		Org:  volley.Org{ID: m.ID, Name: "Second", Slug: "second", AccountID: ada.Account.ID, CreatedAt: later},
		Role: volley.RoleOwner,
	}
	same(t, "OrgCreate", *m, want)
	got, err := s.OrgGet(ctx, m.ID, ada.Account.ID)
	noErr(t, "OrgGet", err)
	same(t, "OrgGet", *got, want)

	projects, err := s.ProjectList(ctx, m.ID)
	noErr(t, "ProjectList", err)
	if len(projects) != 1 || projects[0].ID == 0 {
		t.Fatalf("ProjectList = %+v, want the default project", projects)
	}
	same(t, "ProjectList", projects, []volley.Project{
		{ID: projects[0].ID, OrgID: m.ID, AccountID: ada.Account.ID, Name: volley.DefaultProjectName, IsDefault: true,
			CreatedAt: later, UpdatedAt: later},
	})
	members, err := s.MemberList(ctx, m.ID)
	noErr(t, "MemberList", err)
	same(t, "MemberList", members, []volley.Member{
		{AccountID: ada.Account.ID, Email: ada.Account.Email, Name: ada.Account.Name, Role: volley.RoleOwner, CreatedAt: later},
	})
	projects, err = s.ProjectList(ctx, ada.Org.ID)
	noErr(t, "ProjectList", err)
	same(t, "ProjectList of the first org", projects, []volley.Project{ada.Project})
}

func testOrgSlugConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	for _, f := range []fixture{ada, bob} {
		_, err := s.OrgCreate(ctx, store.OrgCreateParams{Name: "Clash", Slug: ada.Org.Slug, AccountID: f.Account.ID, Now: now})
		wantConflict(t, "OrgCreate with a taken slug by "+f.Account.Email, err)
		orgs, err := s.OrgList(ctx, f.Account.ID)
		noErr(t, "OrgList", err)
		same(t, "OrgList", orgs, []volley.Membership{f.Org})
	}
}

func testOrgList(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	shared, err := s.OrgCreate(ctx, store.OrgCreateParams{Name: "Shared", Slug: "shared", AccountID: ada.Account.ID, Now: now})
	noErr(t, "OrgCreate", err)
	_, err = s.MemberAdd(ctx, store.MemberParams{OrgID: shared.ID, AccountID: bob.Account.ID, Role: volley.RoleAdmin, Now: now})
	noErr(t, "MemberAdd", err)
	if !(ada.Org.ID < bob.Org.ID && bob.Org.ID < shared.ID) {
		t.Fatalf("org ids %d, %d, %d do not grow", ada.Org.ID, bob.Org.ID, shared.ID)
	}

	orgs, err := s.OrgList(ctx, ada.Account.ID)
	noErr(t, "OrgList", err)
	same(t, "OrgList of the creator", orgs, []volley.Membership{ada.Org, *shared})
	orgs, err = s.OrgList(ctx, bob.Account.ID)
	noErr(t, "OrgList", err)
	same(t, "OrgList of the added admin", orgs, []volley.Membership{bob.Org, {Org: shared.Org, Role: volley.RoleAdmin}})
	orgs, err = s.OrgList(ctx, bob.Account.ID+1000)
	noErr(t, "OrgList", err)
	same(t, "OrgList of an unknown account", orgs, []volley.Membership{})
}

func testOrgGetNonMember(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	_, err := s.OrgGet(ctx, ada.Org.ID, bob.Account.ID)
	wantErr(t, "OrgGet by a non-member", err, store.ErrNotFound)
	_, err = s.OrgGet(ctx, bob.Org.ID+1000, ada.Account.ID)
	wantErr(t, "OrgGet of an unknown org", err, store.ErrNotFound)
}

func testOrgDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	_, err := s.MemberAdd(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleMember, Now: now})
	noErr(t, "MemberAdd", err)
	extra := createProject(t, s, ada.Org.ID, ada.Account.ID, "Extra", false)
	graphs := []graph{newGraph(t, s, ada.Project.ID, "a"), newGraph(t, s, extra.ID, "b")}
	kept := newGraph(t, s, bob.Project.ID, "a")

	noErr(t, "OrgDelete", s.OrgDelete(ctx, ada.Org.ID, now))
	_, err = s.OrgGet(ctx, ada.Org.ID, ada.Account.ID)
	wantErr(t, "OrgGet of a deleted org", err, store.ErrNotFound)
	orgs, err := s.OrgList(ctx, ada.Account.ID)
	noErr(t, "OrgList", err)
	same(t, "OrgList of the owner after OrgDelete", orgs, []volley.Membership{})
	orgs, err = s.OrgList(ctx, bob.Account.ID)
	noErr(t, "OrgList", err)
	same(t, "OrgList of a member after OrgDelete", orgs, []volley.Membership{bob.Org})
	members, err := s.MemberList(ctx, ada.Org.ID)
	noErr(t, "MemberList", err)
	same(t, "MemberList of a deleted org", members, []volley.Member{})
	projects, err := s.ProjectList(ctx, ada.Org.ID)
	noErr(t, "ProjectList", err)
	same(t, "ProjectList of a deleted org", projects, []volley.Project{})
	for _, id := range []uint64{ada.Project.ID, extra.ID} {
		_, err := s.ProjectGet(ctx, ada.Org.ID, id)
		wantErr(t, "ProjectGet in a deleted org", err, store.ErrNotFound)
	}
	for _, g := range graphs {
		g.wantGone(t, s, ada.Org.ID)
	}
	kept.wantPresent(t, s, bob.Org.ID)

	// The accounts outlive the organization.
	_, err = s.AccountGet(ctx, ada.Account.ID)
	noErr(t, "AccountGet", err)
	_, err = s.TokenLookup(ctx, ada.Token.Hash, now)
	noErr(t, "TokenLookup", err)
	wantErr(t, "OrgDelete twice", s.OrgDelete(ctx, ada.Org.ID, now), store.ErrNotFound)
}
