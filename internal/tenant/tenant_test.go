package tenant_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

func setup(t *testing.T) (*tenant.Service, *storesqlite.Store, *seal.Box) {
	t.Helper()
	st, err := storesqlite.Open(context.Background(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := seal.NewBox(bytes.Repeat([]byte{3}, 32), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return tenant.New(tenant.Config{Store: st, Box: box, Rand: rand.Reader, NowFunc: func() time.Time { return now }, Password: tenant.TestPasswordParams}), st, box
}

func TestCreateAccountGeneratesSecrets(t *testing.T) {
	t.Parallel()
	svc, st, box := setup(t)
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "Ada@Example.com", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Account.Email != "ada@example.com" || a.Org.Role != volley.RoleOwner || !a.Project.IsDefault {
		t.Fatalf("account = %+v", a)
	}
	if !strings.HasPrefix(a.Token, volley.TokenPrefix) || len(a.Password) < tenant.MinPasswordLen {
		t.Fatalf("generated token %q / password %q", a.Token, a.Password)
	}
	if !strings.HasPrefix(a.Account.PasswordHash, "$argon2id$v=19$") {
		t.Fatalf("stored hash %q is not argon2id", a.Account.PasswordHash)
	}
	if _, _, err := svc.SignIn(ctx, tenant.SignInParams{Email: "ada@example.com", Password: a.Password}); err != nil {
		t.Fatalf("sign in with the generated password: %v", err)
	}
	// The token is stored hashed for lookup and sealed for "view token",
	// never in plain text.
	if bytes.Contains(a.AccountCreateResult.Token.Sealed, []byte(a.Token)) {
		t.Fatal("sealed token contains the plain token")
	}
	if plain, err := box.OpenString(a.AccountCreateResult.Token.Sealed); err != nil || plain != a.Token {
		t.Fatalf("sealed token opens to %q, %v", plain, err)
	}
	acct, _, err := svc.Authenticate(ctx, a.Token)
	if err != nil || acct.ID != a.Account.ID {
		t.Fatalf("Authenticate = %v, %v", acct, err)
	}
	if n, _ := st.AccountCount(ctx); n != 1 {
		t.Fatalf("AccountCount = %d", n)
	}
}

func TestCreateAccountValidates(t *testing.T) {
	t.Parallel()
	svc, _, _ := setup(t)
	ctx := context.Background()
	for _, p := range []tenant.AccountParams{
		{Email: "nope", Name: "A"},
		{Email: "a@b.c", Name: ""},
		{Email: "a@b.c", Name: "A", Password: "short"},
		{Email: "a@b.c", Name: "A", Token: "vk_tooshort"},
		{Email: "a@b.c", Name: "A", Token: strings.Repeat("t", 40)},               // no vk_ prefix
		{Email: "a@b.c", Name: "A", Token: "vk_" + strings.Repeat("t", 40) + "!"}, // not letters and digits
	} {
		var fe *volley.FieldError
		if _, err := svc.CreateAccount(ctx, p); err == nil || (!errors.As(err, &fe) && !strings.Contains(err.Error(), "token")) {
			t.Errorf("CreateAccount(%+v) = %v", p, err)
		}
	}
}

func TestOrgSlugsStayUnique(t *testing.T) {
	t.Parallel()
	svc, _, _ := setup(t)
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "a@x.io", Name: "Sam", Token: "vk_" + strings.Repeat("t", 40)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.CreateAccount(ctx, tenant.AccountParams{Email: "b@x.io", Name: "Sam"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Org.Slug != "sams-organization" || b.Org.Slug != "sams-organization-2" {
		t.Fatalf("slugs %q, %q", a.Org.Slug, b.Org.Slug)
	}
	seen := map[string]bool{a.Org.Slug: true, b.Org.Slug: true}
	for range 10 {
		m, err := svc.CreateOrg(ctx, a.Account.ID, "Sam's organization")
		if err != nil {
			t.Fatal(err)
		}
		if seen[m.Slug] {
			t.Fatalf("slug %q reused", m.Slug)
		}
		seen[m.Slug] = true
	}
}

func TestAuthenticateRejects(t *testing.T) {
	t.Parallel()
	svc, _, _ := setup(t)
	for _, tok := range []string{"", "vk_unknown", strings.Repeat("x", 50)} {
		if _, _, err := svc.Authenticate(context.Background(), tok); !errors.Is(err, tenant.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v", tok, err)
		}
	}
}
