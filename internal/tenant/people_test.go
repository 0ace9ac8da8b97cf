package tenant_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	svc, _, _ := setup(t)
	ctx := t.Context()
	if _, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "ada@example.com", Name: "Ada", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]tenant.SignInParams{
		"wrong password": {Email: "ada@example.com", Password: "correct hors"},
		"unknown email":  {Email: "bob@example.com", Password: "correct horse"},
		"empty":          {},
		"bad email":      {Email: "not an email", Password: "correct horse"},
	} {
		if _, _, err := svc.SignIn(ctx, p); !errors.Is(err, tenant.ErrBadCredentials) {
			t.Errorf("sign in with %s: %v, want ErrBadCredentials", name, err)
		}
	}
	ns, acct, err := svc.SignIn(ctx, tenant.SignInParams{Email: " ADA@example.com", Password: "correct horse", UserAgent: "Firefox", ClientAddr: "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	if acct.Email != "ada@example.com" || ns.UserAgent != "Firefox" || ns.ClientAddr != "192.0.2.7" || len(ns.Secret) < 40 {
		t.Fatalf("session %+v of %+v", ns, acct)
	}
	if strings.Contains(string(ns.Hash), ns.Secret) {
		t.Fatal("the session's hash holds its secret")
	}
	ss, who, err := svc.Session(ctx, ns.Secret)
	if err != nil || ss.ID != ns.ID || who.ID != acct.ID {
		t.Fatalf("Session = %+v, %+v, %v", ss, who, err)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("x", 200)} {
		if _, _, err := svc.Session(ctx, bad); !errors.Is(err, tenant.ErrUnauthenticated) {
			t.Errorf("Session(%q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
	if err := svc.EndSession(ctx, acct.ID, ns.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, ns.Secret); !errors.Is(err, tenant.ErrUnauthenticated) {
		t.Fatalf("Session after sign-out = %v", err)
	}
}

func TestPasswordHashUpgrades(t *testing.T) {
	t.Parallel()
	svc, st, _ := setup(t)
	ctx := t.Context()
	a, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "ada@example.com", Name: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	// A password stored with bcrypt by an older version still works, and
	// is rehashed with argon2id at the first sign-in.
	old, err := bcrypt.GenerateFromPassword([]byte("battery staple"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AccountSetPassword(ctx, a.Account.ID, string(old)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SignIn(ctx, tenant.SignInParams{Email: "ada@example.com", Password: "battery stapl"}); !errors.Is(err, tenant.ErrBadCredentials) {
		t.Fatalf("wrong password against a bcrypt hash: %v", err)
	}
	if got, _ := st.AccountGet(ctx, a.Account.ID); got.PasswordHash != string(old) {
		t.Fatal("a failed sign-in replaced the hash")
	}
	if _, _, err := svc.SignIn(ctx, tenant.SignInParams{Email: "ada@example.com", Password: "battery staple"}); err != nil {
		t.Fatalf("sign in against a bcrypt hash: %v", err)
	}
	got, _ := st.AccountGet(ctx, a.Account.ID)
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash after sign-in = %q, want argon2id with the service's parameters", got.PasswordHash)
	}
	// Stronger parameters configured later: the next sign-in rehashes.
	stronger := tenant.New(tenant.Config{Store: st, Rand: rand.Reader, Password: tenant.PasswordParams{MemoryKiB: 128, Time: 2, Threads: 1}})
	if _, _, err := stronger.SignIn(ctx, tenant.SignInParams{Email: "ada@example.com", Password: "battery staple"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.AccountGet(ctx, a.Account.ID); !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Fatalf("hash after sign-in with stronger parameters = %q", got.PasswordHash)
	}
	if err := st.AccountSetPassword(ctx, a.Account.ID, "not a hash"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SignIn(ctx, tenant.SignInParams{Email: "ada@example.com", Password: "battery staple"}); err == nil || errors.Is(err, tenant.ErrBadCredentials) {
		t.Fatalf("sign in against an unreadable hash = %v, want an internal error", err)
	}
}

func TestChangeAndResetPassword(t *testing.T) {
	t.Parallel()
	svc, _, _ := setup(t)
	ctx := t.Context()
	if _, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "ada@example.com", Name: "Ada", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	signIn := func(pw string) (*tenant.NewSession, *volley.Account, error) {
		return svc.SignIn(ctx, tenant.SignInParams{Email: "ada@example.com", Password: pw})
	}
	here, acct, err := signIn("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, _, err := signIn("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	var invalid *volley.FieldError
	if err := svc.ChangePassword(ctx, acct, "wrong", "new password 1", here.ID); !errors.As(err, &invalid) || invalid.Field != "current_password" {
		t.Fatalf("change with a wrong current password: %v", err)
	}
	if err := svc.ChangePassword(ctx, acct, "correct horse", "short", here.ID); !errors.As(err, &invalid) || invalid.Field != "password" {
		t.Fatalf("change to a short password: %v", err)
	}
	if err := svc.ChangePassword(ctx, acct, "correct horse", "new password 1", here.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, here.Secret); err != nil {
		t.Fatalf("the session that changed the password: %v", err)
	}
	if _, _, err := svc.Session(ctx, elsewhere.Secret); !errors.Is(err, tenant.ErrUnauthenticated) {
		t.Fatalf("another session after a password change: %v, want signed out", err)
	}
	if _, _, err := signIn("correct horse"); !errors.Is(err, tenant.ErrBadCredentials) {
		t.Fatal("the old password still works")
	}

	_, generated, err := svc.ResetPassword(ctx, "ADA@example.com", "")
	if err != nil || len(generated) < tenant.MinPasswordLen {
		t.Fatalf("ResetPassword = %q, %v", generated, err)
	}
	if _, _, err := svc.Session(ctx, here.Secret); !errors.Is(err, tenant.ErrUnauthenticated) {
		t.Fatal("a reset left a session signed in")
	}
	if _, _, err := signIn(generated); err != nil {
		t.Fatalf("sign in with the generated password: %v", err)
	}
	if _, _, err := svc.ResetPassword(ctx, "nobody@example.com", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reset of an unknown email: %v", err)
	}
}

func TestInvitations(t *testing.T) {
	t.Parallel()
	svc, st, _ := setup(t)
	ctx := t.Context()
	ada, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "ada@example.com", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := svc.Invite(ctx, ada.Org.ID, ada.Account.ID, " Carol@Example.com", volley.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "carol@example.com" || inv.Secret == "" || strings.Contains(string(inv.Sealed), inv.Secret) {
		t.Fatalf("invitation %+v", inv)
	}
	list, err := svc.Invitations(ctx, ada.Org.ID)
	if err != nil || len(list) != 1 || list[0].Secret != inv.Secret {
		t.Fatalf("Invitations = %+v, %v", list, err)
	}
	var invalid *volley.FieldError
	if _, err := svc.AcceptInvitation(ctx, inv.Secret, "Carol", "short"); !errors.As(err, &invalid) {
		t.Fatalf("accept with a short password: %v", err)
	}
	m, err := svc.AcceptInvitation(ctx, inv.Secret, "Carol", "correct horse")
	if err != nil || m.Role != volley.RoleMember || m.Email != "carol@example.com" {
		t.Fatalf("AcceptInvitation = %+v, %v", m, err)
	}
	if _, err := svc.AcceptInvitation(ctx, inv.Secret, "Carol", "correct horse"); !errors.Is(err, tenant.ErrInvitationGone) {
		t.Fatalf("second acceptance: %v", err)
	}
	if _, _, err := svc.SignIn(ctx, tenant.SignInParams{Email: "carol@example.com", Password: "correct horse"}); err != nil {
		t.Fatalf("the invitee signs in: %v", err)
	}

	// An existing account joins with an invitation to its own email only.
	bob, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "bob@example.com", Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	toBob, err := svc.Invite(ctx, ada.Org.ID, ada.Account.ID, "bob@example.com", volley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	carol, _ := st.AccountGetByEmail(ctx, "carol@example.com")
	if _, err := svc.JoinInvitation(ctx, toBob.Secret, carol); !errors.Is(err, tenant.ErrInvitationEmail) {
		t.Fatalf("join with another account: %v", err)
	}
	m, err = svc.JoinInvitation(ctx, toBob.Secret, &bob.Account)
	if err != nil || m.Role != volley.RoleAdmin || m.AccountID != bob.Account.ID {
		t.Fatalf("JoinInvitation = %+v, %v", m, err)
	}
	if _, err := svc.Invitation(ctx, toBob.Secret); !errors.Is(err, tenant.ErrInvitationGone) {
		t.Fatalf("a used invitation: %v", err)
	}
}
