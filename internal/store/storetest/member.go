package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func memberTests() []test {
	return []test{
		{"Members/AddUpdateDelete", testMemberLifecycle},
		{"Members/AddTwice", testMemberAddTwice},
		{"Members/AddUnknown", testMemberAddUnknown},
		{"Members/LastOwner", testMemberLastOwner},
		{"Members/TwoOwners", testMemberTwoOwners},
		{"Members/NonMember", testMemberNonMember},
	}
}

// member is how an organization sees the fixture's account.
func (f fixture) member(role volley.Role, joined time.Time) volley.Member {
	return volley.Member{AccountID: f.Account.ID, Email: f.Account.Email, Name: f.Account.Name, Role: role, CreatedAt: joined}
}

func wantMembers(t *testing.T, s store.Store, orgID uint64, want ...volley.Member) {
	t.Helper()
	members, err := s.MemberList(t.Context(), orgID)
	noErr(t, "MemberList", err)
	if want == nil {
		want = []volley.Member{}
	}
	same(t, "MemberList", members, want)
}

func testMemberLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	joined := now.Add(time.Hour)
	m, err := s.MemberAdd(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleAdmin, Now: joined})
	noErr(t, "MemberAdd", err)
	same(t, "MemberAdd", *m, bob.member(volley.RoleAdmin, joined))
	wantMembers(t, s, ada.Org.ID, ada.member(volley.RoleOwner, now), bob.member(volley.RoleAdmin, joined))
	got, err := s.OrgGet(ctx, ada.Org.ID, bob.Account.ID)
	noErr(t, "OrgGet by the new member", err)
	same(t, "OrgGet by the new member", *got, volley.Membership{Org: ada.Org.Org, Role: volley.RoleAdmin})

	m, err = s.MemberUpdate(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleMember, Now: joined.Add(time.Hour)})
	noErr(t, "MemberUpdate", err)
	same(t, "MemberUpdate", *m, bob.member(volley.RoleMember, joined))
	wantMembers(t, s, ada.Org.ID, ada.member(volley.RoleOwner, now), bob.member(volley.RoleMember, joined))

	noErr(t, "MemberDelete", s.MemberDelete(ctx, ada.Org.ID, bob.Account.ID))
	wantMembers(t, s, ada.Org.ID, ada.member(volley.RoleOwner, now))
	_, err = s.OrgGet(ctx, ada.Org.ID, bob.Account.ID)
	wantErr(t, "OrgGet by a removed member", err, store.ErrNotFound)
	// Removing a member leaves its account and its own organization alone.
	wantMembers(t, s, bob.Org.ID, bob.member(volley.RoleOwner, now))
	_, err = s.AccountGet(ctx, bob.Account.ID)
	noErr(t, "AccountGet of a removed member", err)
}

func testMemberAddTwice(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	p := store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleMember, Now: now}
	_, err := s.MemberAdd(ctx, p)
	noErr(t, "MemberAdd", err)
	p.Role = volley.RoleOwner
	_, err = s.MemberAdd(ctx, p)
	wantConflict(t, "MemberAdd of a member", err)
	p.AccountID = ada.Account.ID
	_, err = s.MemberAdd(ctx, p)
	wantConflict(t, "MemberAdd of the owner", err)
	wantMembers(t, s, ada.Org.ID, ada.member(volley.RoleOwner, now), bob.member(volley.RoleMember, now))
}

func testMemberAddUnknown(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	for name, p := range map[string]store.MemberParams{
		"an unknown account": {OrgID: ada.Org.ID, AccountID: ada.Account.ID + 1000, Role: volley.RoleMember, Now: now},
		"an unknown org":     {OrgID: ada.Org.ID + 1000, AccountID: ada.Account.ID, Role: volley.RoleMember, Now: now},
	} {
		_, err := s.MemberAdd(ctx, p)
		wantErr(t, "MemberAdd of "+name, err, store.ErrNotFound)
	}
	wantMembers(t, s, ada.Org.ID, ada.member(volley.RoleOwner, now))
}

func testMemberLastOwner(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	// An admin is not an owner: ada stays the last one.
	_, err := s.MemberAdd(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleAdmin, Now: now})
	noErr(t, "MemberAdd", err)
	for _, role := range []volley.Role{volley.RoleAdmin, volley.RoleMember} {
		_, err := s.MemberUpdate(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: ada.Account.ID, Role: role, Now: now})
		wantErr(t, "MemberUpdate demoting the last owner to "+string(role), err, volley.ErrLastOwner)
	}
	wantErr(t, "MemberDelete of the last owner", s.MemberDelete(ctx, ada.Org.ID, ada.Account.ID), volley.ErrLastOwner)
	wantMembers(t, s, ada.Org.ID, ada.member(volley.RoleOwner, now), bob.member(volley.RoleAdmin, now))

	// Keeping the owner's role is no demotion.
	m, err := s.MemberUpdate(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: ada.Account.ID, Role: volley.RoleOwner, Now: now})
	noErr(t, "MemberUpdate of the last owner to owner", err)
	same(t, "MemberUpdate", *m, ada.member(volley.RoleOwner, now))
}

func testMemberTwoOwners(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	_, err := s.MemberAdd(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleOwner, Now: now})
	noErr(t, "MemberAdd", err)
	m, err := s.MemberUpdate(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: ada.Account.ID, Role: volley.RoleAdmin, Now: now})
	noErr(t, "MemberUpdate demoting one of two owners", err)
	same(t, "MemberUpdate", *m, ada.member(volley.RoleAdmin, now))

	// Now bob is the last owner.
	_, err = s.MemberUpdate(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: bob.Account.ID, Role: volley.RoleMember, Now: now})
	wantErr(t, "MemberUpdate demoting the last owner", err, volley.ErrLastOwner)
	wantErr(t, "MemberDelete of the last owner", s.MemberDelete(ctx, ada.Org.ID, bob.Account.ID), volley.ErrLastOwner)
	noErr(t, "MemberDelete of the admin", s.MemberDelete(ctx, ada.Org.ID, ada.Account.ID))
	wantMembers(t, s, ada.Org.ID, bob.member(volley.RoleOwner, now))
}

func testMemberNonMember(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	for name, accountID := range map[string]uint64{"a non-member": bob.Account.ID, "an unknown account": bob.Account.ID + 1000} {
		_, err := s.MemberUpdate(ctx, store.MemberParams{OrgID: ada.Org.ID, AccountID: accountID, Role: volley.RoleAdmin, Now: now})
		wantErr(t, "MemberUpdate of "+name, err, store.ErrNotFound)
		wantErr(t, "MemberDelete of "+name, s.MemberDelete(ctx, ada.Org.ID, accountID), store.ErrNotFound)
	}
	_, err := s.MemberUpdate(ctx, store.MemberParams{OrgID: bob.Org.ID + 1000, AccountID: ada.Account.ID, Role: volley.RoleAdmin, Now: now})
	wantErr(t, "MemberUpdate in an unknown org", err, store.ErrNotFound)
	wantMembers(t, s, ada.Org.ID, ada.member(volley.RoleOwner, now))
	wantMembers(t, s, bob.Org.ID, bob.member(volley.RoleOwner, now))
}
