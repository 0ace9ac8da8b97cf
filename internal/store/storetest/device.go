package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

func deviceTests() []test {
	return []test{
		{"DeviceCodes/ApproveThenClaimOnce", testDeviceApproveClaim},
		{"DeviceCodes/Deny", testDeviceDeny},
		{"DeviceCodes/Expired", testDeviceExpired},
		{"DeviceCodes/ExpiredAreDeleted", testDeviceExpiredDeleted},
		{"DeviceCodes/HashConflict", testDeviceConflict},
		{"DeviceCodes/RevokedBeforeClaim", testDeviceRevokedBeforeClaim},
	}
}

func testTokenExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	tok := newToken("ada-expiring", volley.TokenKindAPI, ada.Account.ID)
	tok.ExpiresAt = now.Add(time.Hour)
	got, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: tok})
	noErr(t, "TokenCreate with ExpiresAt", err)
	tok.ID = got.ID
	same(t, "TokenCreate", *got, tok)

	_, err = s.TokenLookup(ctx, tok.Hash, now.Add(time.Hour-time.Microsecond))
	noErr(t, "TokenLookup just before expiry", err)
	_, err = s.TokenLookup(ctx, tok.Hash, now.Add(time.Hour))
	wantErr(t, "TokenLookup at expiry", err, store.ErrNotFound)
	// The admin token of the fixture has no expiry: it works years later.
	_, err = s.TokenLookup(ctx, ada.Token.Hash, now.AddDate(10, 0, 0))
	noErr(t, "TokenLookup of a token without expiry", err)

	tokens, err := s.TokenList(ctx, ada.Account.ID)
	noErr(t, "TokenList", err)
	if len(tokens) != 2 || !tokens[1].ExpiresAt.Equal(tok.ExpiresAt) || !tokens[0].ExpiresAt.IsZero() {
		t.Fatalf("TokenList = %+v, want the admin token without expiry and the expired token listed", tokens)
	}
}

func testTokenNamedCoexist(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	for _, secret := range []string{"ada-ci", "ada-deploy"} {
		_, err := s.TokenCreate(ctx, store.TokenCreateParams{Token: newToken(secret, volley.TokenKindAPI, ada.Account.ID)})
		noErr(t, "TokenCreate "+secret, err)
	}
	for _, secret := range []string{"ada-api", "ada-ci", "ada-deploy"} {
		_, err := s.TokenLookup(ctx, volley.HashToken(secret), now)
		noErr(t, "TokenLookup "+secret, err)
	}
}

// newDevice returns an unsaved pending device login with codes derived
// from name.
func newDevice(name string, at time.Time) volley.DeviceCode {
	return volley.DeviceCode{
		DeviceHash:  volley.HashToken("device-" + name),
		PairingHash: volley.HashToken("pairing-" + name),
		CreatedAt:   at,
		ExpiresAt:   at.Add(volley.DeviceCodeTTL),
	}
}

func createDevice(t *testing.T, s store.Store, name string, at time.Time) volley.DeviceCode {
	t.Helper()
	d := newDevice(name, at)
	noErr(t, "DeviceCodeCreate "+name, s.DeviceCodeCreate(t.Context(), &d))
	if d.ID == 0 || d.Status != volley.DevicePending {
		t.Fatalf("DeviceCodeCreate left %+v, want an ID and status pending", d)
	}
	return d
}

func testDeviceApproveClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	d := createDevice(t, s, "laptop", now)

	got, err := s.DeviceCodeClaim(ctx, d.DeviceHash)
	noErr(t, "DeviceCodeClaim of a pending login", err)
	same(t, "DeviceCodeClaim of a pending login", *got, d)

	tok := newToken("ada-laptop", volley.TokenKindCLI, ada.Account.ID)
	tok.Name = "laptop"
	approved, err := s.DeviceCodeApprove(ctx, store.DeviceCodeApproveParams{PairingHash: d.PairingHash, Token: tok, Now: now.Add(time.Minute)})
	noErr(t, "DeviceCodeApprove", err)
	tok.ID = approved.ID
	same(t, "DeviceCodeApprove token", *approved, tok)
	_, err = s.TokenLookup(ctx, tok.Hash, now)
	noErr(t, "TokenLookup of the approved token", err)

	_, err = s.DeviceCodeApprove(ctx, store.DeviceCodeApproveParams{PairingHash: d.PairingHash,
		Token: newToken("ada-laptop-2", volley.TokenKindCLI, ada.Account.ID), Now: now.Add(time.Minute)})
	wantErr(t, "DeviceCodeApprove twice", err, store.ErrNotFound)
	wantErr(t, "DeviceCodeDeny after approval", s.DeviceCodeDeny(ctx, d.PairingHash, ada.Account.ID, now), store.ErrNotFound)

	want := d
	want.Status, want.AccountID, want.DeviceName, want.TokenID = volley.DeviceApproved, ada.Account.ID, "laptop", tok.ID
	byPairing, err := s.DeviceCodeGetByPairing(ctx, d.PairingHash)
	noErr(t, "DeviceCodeGetByPairing", err)
	same(t, "DeviceCodeGetByPairing", *byPairing, want)

	want.TokenSealed = tok.Sealed
	got, err = s.DeviceCodeClaim(ctx, d.DeviceHash)
	noErr(t, "DeviceCodeClaim", err)
	same(t, "DeviceCodeClaim of an approved login", *got, want)

	want.Status, want.TokenSealed = volley.DeviceConsumed, nil
	got, err = s.DeviceCodeClaim(ctx, d.DeviceHash)
	noErr(t, "DeviceCodeClaim again", err)
	same(t, "DeviceCodeClaim of a consumed login", *got, want)

	_, err = s.DeviceCodeClaim(ctx, volley.HashToken("unknown"))
	wantErr(t, "DeviceCodeClaim of an unknown code", err, store.ErrNotFound)
	_, err = s.DeviceCodeGetByPairing(ctx, volley.HashToken("unknown"))
	wantErr(t, "DeviceCodeGetByPairing of an unknown code", err, store.ErrNotFound)
}

func testDeviceDeny(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	d := createDevice(t, s, "laptop", now)
	noErr(t, "DeviceCodeDeny", s.DeviceCodeDeny(ctx, d.PairingHash, ada.Account.ID, now))
	wantErr(t, "DeviceCodeDeny twice", s.DeviceCodeDeny(ctx, d.PairingHash, ada.Account.ID, now), store.ErrNotFound)
	_, err := s.DeviceCodeApprove(ctx, store.DeviceCodeApproveParams{PairingHash: d.PairingHash,
		Token: newToken("ada-laptop", volley.TokenKindCLI, ada.Account.ID), Now: now})
	wantErr(t, "DeviceCodeApprove after a denial", err, store.ErrNotFound)
	_, err = s.TokenLookup(ctx, volley.HashToken("ada-laptop"), now)
	wantErr(t, "TokenLookup of the refused approval's token", err, store.ErrNotFound)
	got, err := s.DeviceCodeClaim(ctx, d.DeviceHash)
	noErr(t, "DeviceCodeClaim", err)
	if got.Status != volley.DeviceDenied || got.AccountID != ada.Account.ID || got.TokenSealed != nil {
		t.Fatalf("DeviceCodeClaim of a denied login = %+v, want denied by %d without a token", got, ada.Account.ID)
	}
}

func testDeviceExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	d := createDevice(t, s, "laptop", now)
	_, err := s.DeviceCodeApprove(ctx, store.DeviceCodeApproveParams{PairingHash: d.PairingHash,
		Token: newToken("ada-laptop", volley.TokenKindCLI, ada.Account.ID), Now: d.ExpiresAt})
	wantErr(t, "DeviceCodeApprove at expiry", err, store.ErrNotFound)
	wantErr(t, "DeviceCodeDeny at expiry", s.DeviceCodeDeny(ctx, d.PairingHash, ada.Account.ID, d.ExpiresAt), store.ErrNotFound)
	_, err = s.DeviceCodeApprove(ctx, store.DeviceCodeApproveParams{PairingHash: d.PairingHash,
		Token: newToken("ada-laptop", volley.TokenKindCLI, ada.Account.ID), Now: d.ExpiresAt.Add(-time.Microsecond)})
	noErr(t, "DeviceCodeApprove just before expiry", err)
}

func testDeviceExpiredDeleted(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := createDevice(t, s, "old", now)
	createDevice(t, s, "new", old.ExpiresAt)
	_, err := s.DeviceCodeClaim(ctx, old.DeviceHash)
	wantErr(t, "DeviceCodeClaim of a login expired before the next create", err, store.ErrNotFound)
	// Its codes are free again.
	createDevice(t, s, "old", old.ExpiresAt)
}

func testDeviceConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := createDevice(t, s, "laptop", now)
	again := newDevice("other", now)
	again.PairingHash = d.PairingHash
	wantConflict(t, "DeviceCodeCreate with a taken pairing code", s.DeviceCodeCreate(ctx, &again))
	again = newDevice("other", now)
	again.DeviceHash = d.DeviceHash
	wantConflict(t, "DeviceCodeCreate with a taken device code", s.DeviceCodeCreate(ctx, &again))
}

func testDeviceRevokedBeforeClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := newFixture(t, s, "ada")
	d := createDevice(t, s, "laptop", now)
	tok, err := s.DeviceCodeApprove(ctx, store.DeviceCodeApproveParams{PairingHash: d.PairingHash,
		Token: newToken("ada-laptop", volley.TokenKindCLI, ada.Account.ID), Now: now})
	noErr(t, "DeviceCodeApprove", err)
	noErr(t, "TokenDelete", s.TokenDelete(ctx, ada.Account.ID, tok.ID))
	got, err := s.DeviceCodeClaim(ctx, d.DeviceHash)
	noErr(t, "DeviceCodeClaim", err)
	if got.Status != volley.DeviceApproved || got.TokenSealed != nil {
		t.Fatalf("DeviceCodeClaim after the token was revoked = %+v, want approved without a sealed token", got)
	}
}
