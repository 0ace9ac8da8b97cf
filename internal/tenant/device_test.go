package tenant_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// setupClock is setup with a clock the test moves, and an account.
func setupClock(t *testing.T) (*tenant.Service, *fakeClock, *tenant.NewAccount) {
	t.Helper()
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := seal.NewBox(bytes.Repeat([]byte{3}, 32), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	svc := tenant.New(tenant.Config{Store: st, Box: box, Rand: rand.Reader, NowFunc: clock.Now, PasswordCost: bcrypt.MinCost})
	a, err := svc.CreateAccount(t.Context(), tenant.AccountParams{Email: "ada@example.com", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	return svc, clock, a
}

func wantPoll(t *testing.T, svc *tenant.Service, device, status string) *tenant.DevicePollResult {
	t.Helper()
	res, err := svc.DevicePoll(t.Context(), device)
	if err != nil || res.Status != status {
		t.Fatalf("DevicePoll = %+v, %v; want status %s", res, err, status)
	}
	if (res.Token != "") != (status == tenant.DeviceStatusComplete) {
		t.Fatalf("DevicePoll token %q with status %s", res.Token, status)
	}
	return res
}

func TestDeviceLoginApprove(t *testing.T) {
	t.Parallel()
	svc, _, ada := setupClock(t)
	ctx := t.Context()
	d, err := svc.DeviceStart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if volley.NormalizePairingCode(d.PairingCode) != d.PairingCode || len(d.DeviceCode) < 40 {
		t.Fatalf("DeviceStart = %+v: want a normalised pairing code and a long device code", d)
	}
	wantPoll(t, svc, d.DeviceCode, tenant.DeviceStatusPending)
	shown, err := svc.DeviceLookup(ctx, " "+d.PairingCode[:4]+d.PairingCode[5:]+" ") // as typed: no dash, spaces
	if err != nil || shown.Status != tenant.DeviceStatusPending || shown.PairingCode != d.PairingCode || shown.DeviceCode != "" {
		t.Fatalf("DeviceLookup = %+v, %v", shown, err)
	}
	if err := svc.DeviceApprove(ctx, ada.Account.ID, d.PairingCode, "ada's laptop"); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeviceApprove(ctx, ada.Account.ID, d.PairingCode, ""); !errors.Is(err, tenant.ErrDeviceCodeNotFound) {
		t.Fatalf("second DeviceApprove = %v, want ErrDeviceCodeNotFound", err)
	}
	res := wantPoll(t, svc, d.DeviceCode, tenant.DeviceStatusComplete)
	acct, tok, err := svc.Authenticate(ctx, res.Token)
	if err != nil || acct.ID != ada.Account.ID || tok.Kind != volley.TokenKindCLI || tok.Name != "ada's laptop" {
		t.Fatalf("Authenticate(CLI token) = %+v, %+v, %v", acct, tok, err)
	}
	// Handed out once.
	wantPoll(t, svc, d.DeviceCode, tenant.DeviceStatusExpired)
	if shown, _ := svc.DeviceLookup(ctx, d.PairingCode); shown.Status != tenant.DeviceStatusComplete {
		t.Fatalf("DeviceLookup after approval = %+v", shown)
	}
	wantPoll(t, svc, "dc_unknown", tenant.DeviceStatusExpired)
	wantPoll(t, svc, "", tenant.DeviceStatusExpired)
}

func TestDeviceLoginDenyAndExpiry(t *testing.T) {
	t.Parallel()
	svc, clock, ada := setupClock(t)
	ctx := t.Context()
	denied, err := svc.DeviceStart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeviceDeny(ctx, ada.Account.ID, denied.PairingCode); err != nil {
		t.Fatal(err)
	}
	wantPoll(t, svc, denied.DeviceCode, tenant.DeviceStatusDenied)
	if err := svc.DeviceApprove(ctx, ada.Account.ID, denied.PairingCode, ""); !errors.Is(err, tenant.ErrDeviceCodeNotFound) {
		t.Fatalf("DeviceApprove after a denial = %v", err)
	}

	late, err := svc.DeviceStart(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(volley.DeviceCodeTTL)
	wantPoll(t, svc, late.DeviceCode, tenant.DeviceStatusExpired)
	if shown, err := svc.DeviceLookup(ctx, late.PairingCode); err != nil || shown.Status != tenant.DeviceStatusExpired {
		t.Fatalf("DeviceLookup of an expired code = %+v, %v", shown, err)
	}
	if err := svc.DeviceApprove(ctx, ada.Account.ID, late.PairingCode, ""); !errors.Is(err, tenant.ErrDeviceCodeNotFound) {
		t.Fatalf("DeviceApprove after expiry = %v", err)
	}
	for _, bad := range []string{"", "ABCD-12345", "IIII-0000", "abcd-12x4"} {
		if _, err := svc.DeviceLookup(ctx, bad); !errors.Is(err, tenant.ErrDeviceCodeNotFound) {
			t.Fatalf("DeviceLookup(%q) = %v", bad, err)
		}
	}
}

func TestTokensExpire(t *testing.T) {
	t.Parallel()
	svc, clock, ada := setupClock(t)
	ctx := t.Context()
	if _, err := svc.CreateToken(ctx, ada.Account.ID, "ci", clock.Now()); err == nil {
		t.Fatal("CreateToken with an expiry in the past succeeded")
	}
	tok, err := svc.CreateToken(ctx, ada.Account.ID, "ci", clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Authenticate(ctx, tok.Value); err != nil {
		t.Fatalf("Authenticate before expiry: %v", err)
	}
	clock.Add(time.Hour)
	if _, _, err := svc.Authenticate(ctx, tok.Value); !errors.Is(err, tenant.ErrUnauthenticated) {
		t.Fatalf("Authenticate at expiry = %v, want ErrUnauthenticated", err)
	}
	// The first token has no expiry and still works; both are listed.
	if _, _, err := svc.Authenticate(ctx, ada.Token); err != nil {
		t.Fatalf("Authenticate with the account's first token: %v", err)
	}
	tokens, err := svc.ListTokens(ctx, ada.Account.ID)
	if err != nil || len(tokens) != 2 {
		t.Fatalf("ListTokens = %+v, %v", tokens, err)
	}
	if err := svc.RevokeToken(ctx, ada.Account.ID, tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Authenticate(ctx, ada.Token); !errors.Is(err, tenant.ErrUnauthenticated) {
		t.Fatalf("Authenticate with a revoked token = %v", err)
	}
}
