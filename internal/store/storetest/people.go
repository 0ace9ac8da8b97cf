package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func peopleTests() []test {
	return []test{
		{"People/AccountListAndPassword", testAccountListAndPassword},
		{"People/Sessions", testSessions},
		{"People/SessionLastSeen", testSessionLastSeen},
		{"People/SessionDeleteAll", testSessionDeleteAll},
		{"People/Invitations", testInvitations},
		{"People/InvitationAcceptNewAccount", testInvitationAcceptNewAccount},
		{"People/InvitationAcceptExistingAccount", testInvitationAcceptExistingAccount},
	}
}

func testAccountListAndPassword(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	noErr(t, "AccountSetPassword", s.AccountSetPassword(ctx, bob.Account.ID, "$argon2id$new"))
	wantErr(t, "AccountSetPassword of a missing account", s.AccountSetPassword(ctx, bob.Account.ID+100, "x"), store.ErrNotFound)
	got, err := s.AccountList(ctx)
	noErr(t, "AccountList", err)
	want := []volley.Account{ada.Account, bob.Account}
	want[1].PasswordHash = "$argon2id$new"
	same(t, "AccountList", got, want)
}

// newSession returns an unsaved session of an account whose secret is
// secret, created at when.
func newSession(accountID uint64, secret string, when time.Time) volley.Session {
	return volley.Session{
		AccountID: accountID, Hash: volley.HashToken(secret), UserAgent: "Browser " + secret, ClientAddr: "192.0.2.1",
		CreatedAt: when, LastSeenAt: when, ExpiresAt: when.Add(volley.SessionLifetime),
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	a1, a2 := newSession(ada.Account.ID, "a1", now), newSession(ada.Account.ID, "a2", now.Add(time.Second))
	b1 := newSession(bob.Account.ID, "b1", now)
	old := newSession(ada.Account.ID, "old", now.Add(-volley.SessionLifetime))
	for _, ss := range []*volley.Session{&a1, &a2, &b1, &old} {
		noErr(t, "SessionCreate", s.SessionCreate(ctx, ss))
	}
	dup := newSession(bob.Account.ID, "a1", now)
	wantConflict(t, "SessionCreate with a hash in use", s.SessionCreate(ctx, &dup))
	missing := newSession(bob.Account.ID+100, "nobody", now)
	wantErr(t, "SessionCreate for a missing account", s.SessionCreate(ctx, &missing), store.ErrNotFound)

	got, err := s.SessionLookup(ctx, a1.Hash, now)
	noErr(t, "SessionLookup", err)
	same(t, "SessionLookup", *got, a1)
	_, err = s.SessionLookup(ctx, old.Hash, now)
	wantErr(t, "SessionLookup of an expired session", err, store.ErrNotFound)
	_, err = s.SessionLookup(ctx, volley.HashToken("unknown"), now)
	wantErr(t, "SessionLookup of an unknown hash", err, store.ErrNotFound)

	list, err := s.SessionList(ctx, ada.Account.ID, now.Add(time.Second))
	noErr(t, "SessionList", err)
	same(t, "SessionList (newest first, expired left out)", list, []volley.Session{a2, a1})

	wantErr(t, "SessionDelete of another account's session", s.SessionDelete(ctx, ada.Account.ID, b1.ID), store.ErrNotFound)
	noErr(t, "SessionDelete", s.SessionDelete(ctx, ada.Account.ID, a1.ID))
	_, err = s.SessionLookup(ctx, a1.Hash, now)
	wantErr(t, "SessionLookup after SessionDelete", err, store.ErrNotFound)
	wantErr(t, "SessionDelete again", s.SessionDelete(ctx, ada.Account.ID, a1.ID), store.ErrNotFound)
	_, err = s.SessionLookup(ctx, b1.Hash, now)
	noErr(t, "SessionLookup of another account's session", err)
}

func testSessionLastSeen(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	ss := newSession(ada.Account.ID, "a", now)
	noErr(t, "SessionCreate", s.SessionCreate(ctx, &ss))
	// Seen at most once a minute: every page view would otherwise be a write.
	for _, step := range []struct{ at, want time.Time }{
		{now.Add(30 * time.Second), now},
		{now.Add(2 * time.Minute), now.Add(2 * time.Minute)},
		{now.Add(2*time.Minute + 59*time.Second), now.Add(2 * time.Minute)},
	} {
		got, err := s.SessionLookup(ctx, ss.Hash, step.at)
		noErr(t, "SessionLookup", err)
		same(t, "LastSeenAt after a lookup at "+step.at.String(), got.LastSeenAt, step.want)
		list, err := s.SessionList(ctx, ada.Account.ID, step.at)
		noErr(t, "SessionList", err)
		same(t, "listed LastSeenAt after a lookup at "+step.at.String(), list[0].LastSeenAt, step.want)
	}
}

func testSessionDeleteAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	a1, a2, a3 := newSession(ada.Account.ID, "a1", now), newSession(ada.Account.ID, "a2", now), newSession(ada.Account.ID, "a3", now)
	b1 := newSession(bob.Account.ID, "b1", now)
	bOld := newSession(bob.Account.ID, "b-old", now.Add(-volley.SessionLifetime-time.Hour))
	for _, ss := range []*volley.Session{&a1, &a2, &a3, &b1, &bOld} {
		noErr(t, "SessionCreate", s.SessionCreate(ctx, ss))
	}
	noErr(t, "SessionDeleteAll keeping a2", s.SessionDeleteAll(ctx, ada.Account.ID, a2.ID, now))
	list, err := s.SessionList(ctx, ada.Account.ID, now)
	noErr(t, "SessionList", err)
	same(t, "ada's sessions after SessionDeleteAll", list, []volley.Session{a2})
	list, err = s.SessionList(ctx, bob.Account.ID, now.Add(-volley.SessionLifetime-2*time.Hour))
	noErr(t, "SessionList", err)
	same(t, "bob's sessions, expired ones swept too", list, []volley.Session{b1})
	noErr(t, "SessionDeleteAll keeping none", s.SessionDeleteAll(ctx, ada.Account.ID, 0, now))
	list, err = s.SessionList(ctx, ada.Account.ID, now)
	noErr(t, "SessionList", err)
	same(t, "ada's sessions after SessionDeleteAll(0)", list, []volley.Session{})
}

// newInvitation returns an unsaved invitation to an organization.
func newInvitation(orgID, by uint64, email, secret string, when time.Time) volley.Invitation {
	return volley.Invitation{
		OrgID: orgID, Email: email, Role: volley.RoleAdmin, Hash: volley.HashToken(secret), Sealed: []byte("sealed:" + secret),
		InvitedBy: by, CreatedAt: when, ExpiresAt: when.Add(volley.InvitationLifetime),
	}
}

func testInvitations(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	i1 := newInvitation(ada.Org.ID, ada.Account.ID, "carol@example.com", "i1", now)
	i2 := newInvitation(ada.Org.ID, ada.Account.ID, "dan@example.com", "i2", now)
	old := newInvitation(ada.Org.ID, ada.Account.ID, "erin@example.com", "old", now.Add(-volley.InvitationLifetime))
	other := newInvitation(bob.Org.ID, bob.Account.ID, "carol@example.com", "other", now)
	for _, inv := range []*volley.Invitation{&i1, &i2, &old, &other} {
		noErr(t, "InvitationCreate", s.InvitationCreate(ctx, inv))
	}
	nowhere := newInvitation(bob.Org.ID+100, bob.Account.ID, "x@example.com", "nowhere", now)
	wantErr(t, "InvitationCreate for a missing organization", s.InvitationCreate(ctx, &nowhere), store.ErrNotFound)

	list, err := s.InvitationList(ctx, ada.Org.ID, now)
	noErr(t, "InvitationList", err)
	same(t, "InvitationList (expired left out)", list, []volley.Invitation{i1, i2})
	got, err := s.InvitationGetByHash(ctx, i1.Hash, now)
	noErr(t, "InvitationGetByHash", err)
	same(t, "InvitationGetByHash", *got, i1)
	_, err = s.InvitationGetByHash(ctx, old.Hash, now)
	wantErr(t, "InvitationGetByHash of an expired invitation", err, store.ErrNotFound)

	// Inviting the same email again replaces the pending invitation: the
	// old link stops working.
	again := newInvitation(ada.Org.ID, ada.Account.ID, "carol@example.com", "again", now.Add(time.Hour))
	again.Role = volley.RoleMember
	noErr(t, "InvitationCreate again", s.InvitationCreate(ctx, &again))
	_, err = s.InvitationGetByHash(ctx, i1.Hash, now)
	wantErr(t, "InvitationGetByHash of a replaced invitation", err, store.ErrNotFound)
	list, err = s.InvitationList(ctx, ada.Org.ID, now)
	noErr(t, "InvitationList", err)
	same(t, "InvitationList after a replacement", list, []volley.Invitation{i2, again})

	wantErr(t, "InvitationDelete from another organization", s.InvitationDelete(ctx, bob.Org.ID, i2.ID), store.ErrNotFound)
	noErr(t, "InvitationDelete", s.InvitationDelete(ctx, ada.Org.ID, i2.ID))
	wantErr(t, "InvitationDelete again", s.InvitationDelete(ctx, ada.Org.ID, i2.ID), store.ErrNotFound)
	_, err = s.InvitationGetByHash(ctx, other.Hash, now)
	noErr(t, "another organization's invitation", err)
}

func testInvitationAcceptNewAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	inv := newInvitation(ada.Org.ID, ada.Account.ID, "carol@example.com", "i", now)
	noErr(t, "InvitationCreate", s.InvitationCreate(ctx, &inv))
	later := now.Add(time.Hour)
	carol := &volley.Account{Email: "carol@example.com", Name: "Carol", PasswordHash: "$argon2id$carol"}
	m, err := s.InvitationAccept(ctx, store.InvitationAcceptParams{InvitationID: inv.ID, NewAccount: carol, Now: later})
	noErr(t, "InvitationAccept", err)
	acct, err := s.AccountGetByEmail(ctx, "carol@example.com")
	noErr(t, "AccountGetByEmail", err)
	same(t, "the new account", *acct, volley.Account{ID: m.AccountID, Email: carol.Email, Name: carol.Name, PasswordHash: carol.PasswordHash, CreatedAt: later})
	same(t, "the new member", *m, volley.Member{AccountID: acct.ID, Email: carol.Email, Name: carol.Name, Role: volley.RoleAdmin, CreatedAt: later})
	orgs, err := s.OrgList(ctx, acct.ID)
	noErr(t, "OrgList", err)
	if len(orgs) != 1 || orgs[0].ID != ada.Org.ID || orgs[0].Role != volley.RoleAdmin {
		t.Fatalf("the invitee's organizations = %+v, want only ada's as admin", orgs)
	}

	_, err = s.InvitationAccept(ctx, store.InvitationAcceptParams{InvitationID: inv.ID, NewAccount: carol, Now: later})
	wantErr(t, "InvitationAccept of a used invitation", err, store.ErrNotFound)

	// An email registered since the invitation was sent: the acceptance
	// fails and the invitation stays for the person to sign in and use.
	inv2 := newInvitation(ada.Org.ID, ada.Account.ID, "bob@example.com", "i2", now)
	noErr(t, "InvitationCreate", s.InvitationCreate(ctx, &inv2))
	newFixture(t, s, "bob")
	_, err = s.InvitationAccept(ctx, store.InvitationAcceptParams{InvitationID: inv2.ID,
		NewAccount: &volley.Account{Email: "bob@example.com", Name: "Bob", PasswordHash: "x"}, Now: later})
	wantConflict(t, "InvitationAccept with an email in use", err)
	_, err = s.InvitationGetByHash(ctx, inv2.Hash, later)
	noErr(t, "the invitation after a failed acceptance", err)

	expired := newInvitation(ada.Org.ID, ada.Account.ID, "dan@example.com", "i3", now)
	noErr(t, "InvitationCreate", s.InvitationCreate(ctx, &expired))
	_, err = s.InvitationAccept(ctx, store.InvitationAcceptParams{InvitationID: expired.ID,
		NewAccount: &volley.Account{Email: "dan@example.com", Name: "Dan", PasswordHash: "x"}, Now: now.Add(volley.InvitationLifetime)})
	wantErr(t, "InvitationAccept of an expired invitation", err, store.ErrNotFound)
	_, err = s.AccountGetByEmail(ctx, "dan@example.com")
	wantErr(t, "the account of an expired invitation", err, store.ErrNotFound)
}

func testInvitationAcceptExistingAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada, bob := newFixture(t, s, "ada"), newFixture(t, s, "bob")
	inv := newInvitation(ada.Org.ID, ada.Account.ID, "bob@example.com", "i", now)
	noErr(t, "InvitationCreate", s.InvitationCreate(ctx, &inv))
	m, err := s.InvitationAccept(ctx, store.InvitationAcceptParams{InvitationID: inv.ID, AccountID: bob.Account.ID, Now: now})
	noErr(t, "InvitationAccept", err)
	same(t, "the member", *m, volley.Member{AccountID: bob.Account.ID, Email: bob.Account.Email, Name: bob.Account.Name, Role: volley.RoleAdmin, CreatedAt: now})

	// Someone who is already a member keeps their role; the invitation is
	// used up.
	demote := newInvitation(ada.Org.ID, ada.Account.ID, "ada@example.com", "self", now)
	demote.Role = volley.RoleMember
	noErr(t, "InvitationCreate", s.InvitationCreate(ctx, &demote))
	m, err = s.InvitationAccept(ctx, store.InvitationAcceptParams{InvitationID: demote.ID, AccountID: ada.Account.ID, Now: now})
	noErr(t, "InvitationAccept by a member", err)
	if m.Role != volley.RoleOwner {
		t.Fatalf("role after accepting an invitation as a member = %s, want owner kept", m.Role)
	}
	_, err = s.InvitationGetByHash(ctx, demote.Hash, now)
	wantErr(t, "the used invitation", err, store.ErrNotFound)
}
