package rekey_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/rekey"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
)

var (
	oldKey = bytes.Repeat([]byte{1}, seal.KeySize)
	newKey = bytes.Repeat([]byte{2}, seal.KeySize)
	now    = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
)

func box(t *testing.T, current []byte, previous ...[]byte) *seal.Box {
	t.Helper()
	b, err := seal.NewBox(current, rand.Reader, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stores opens an empty store of each driver (PostgreSQL only with
// VOLLEY_TEST_DATABASE_URL).
func stores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			s, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			url := os.Getenv("VOLLEY_TEST_DATABASE_URL")
			if url == "" {
				t.Skip("VOLLEY_TEST_DATABASE_URL is not set: skipping PostgreSQL")
			}
			var b [8]byte
			rand.Read(b[:])
			schema := "rekey_" + hex.EncodeToString(b[:])
			t.Cleanup(func() {
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Errorf("drop schema: %v", err)
					return
				}
				defer conn.Close(ctx)
				conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
			})
			s, err := storepg.Open(t.Context(), storepg.Config{URL: url, Schema: schema, MaxConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// fill stores secrets sealed under the old key in every sealed column and
// returns the plaintext of each value by column and row.
func fill(t *testing.T, s store.Store, old *seal.Box) map[store.SealedColumn]map[uint64]string {
	t.Helper()
	ctx := t.Context()
	must := func(p string) []byte {
		b, err := old.SealString(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	acct, err := s.AccountCreate(ctx, store.AccountCreateParams{Email: "ada@example.com", Name: "Ada", PasswordHash: "x",
		OrgName: "Org", OrgSlug: "org", Now: now,
		Token: volley.APIToken{Kind: volley.TokenKindAPI, Name: "t", Hash: volley.HashToken("vk_1"), Sealed: must("vk_1"), Prefix: "vk_", CreatedAt: now}})
	if err != nil {
		t.Fatal(err)
	}
	inv := volley.Invitation{OrgID: acct.Org.ID, Email: "bob@example.com", Role: volley.RoleMember, Hash: volley.HashToken("inv"),
		Sealed: must("inv-secret"), InvitedBy: acct.Account.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.InvitationCreate(ctx, &inv); err != nil {
		t.Fatal(err)
	}
	want := map[store.SealedColumn]map[uint64]string{}
	put := func(c store.SealedColumn, id uint64, p string) {
		if want[c] == nil {
			want[c] = map[uint64]string{}
		}
		want[c][id] = p
	}
	put(store.SealedTokens, acct.Token.ID, "vk_1")
	put(store.SealedInvitations, inv.ID, "inv-secret")
	for i := range 4 {
		src := volley.Source{ProjectID: acct.Project.ID, Name: fmt.Sprint("s", i), Slug: fmt.Sprint("s", i),
			IngestionID: fmt.Sprint("src_", i), Type: volley.SourceTypeWebhook, Status: volley.SourceActive,
			AuthType: volley.AuthAPIKey, AuthKeyName: volley.DefaultAuthKeyName, AuthKey: must(fmt.Sprint("key-", i)),
			WebhookSecret: must(fmt.Sprint("whsec-in-", i)), CreatedAt: now, UpdatedAt: now}
		if err := s.SourceCreate(ctx, &src); err != nil {
			t.Fatal(err)
		}
		put(store.SealedSourceAuthKeys, src.ID, fmt.Sprint("key-", i))
		put(store.SealedSourceWebhookSecrets, src.ID, fmt.Sprint("whsec-in-", i))
		d := volley.Destination{ProjectID: acct.Project.ID, Name: fmt.Sprint("d", i), URL: "https://example.com/",
			Status: volley.DestinationActive, SigningSecret: must(fmt.Sprint("whsec-out-", i)),
			PrevSigningSecret: must(fmt.Sprint("whsec-prev-", i)), PrevSecretExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		if err := s.DestinationCreate(ctx, &d); err != nil {
			t.Fatal(err)
		}
		put(store.SealedDestinationSecrets, d.ID, fmt.Sprint("whsec-out-", i))
		put(store.SealedDestinationPrevSecrets, d.ID, fmt.Sprint("whsec-prev-", i))
	}
	return want
}

// check opens every sealed value with b and compares it with want; it
// returns how many are sealed under b's current key.
func check(t *testing.T, s store.Store, b *seal.Box, want map[store.SealedColumn]map[uint64]string) (current, total int) {
	t.Helper()
	for _, col := range store.SealedColumns() {
		vals, err := s.SealedList(t.Context(), store.SealedListParams{Column: col, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) != len(want[col]) {
			t.Fatalf("%s: %d values, want %d", col, len(vals), len(want[col]))
		}
		for _, v := range vals {
			got, err := b.OpenString(v.Value)
			if err != nil || got != want[col][v.RowID] {
				t.Fatalf("%s row %d opens to %q, %v; want %q", col, v.RowID, got, err, want[col][v.RowID])
			}
			total++
			if b.Current(v.Value) {
				current++
			}
		}
	}
	return current, total
}

// TestRotateInterruptedThenCompleted: a rotation stopped half-way leaves
// every value readable with the two keys; run again, it finishes what is
// left; then the old key can go and every value still opens, through the
// store's own reads too.
func TestRotateInterruptedThenCompleted(t *testing.T) {
	t.Parallel()
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			want := fill(t, s, box(t, oldKey))
			both := box(t, newKey, oldKey)
			stop := errors.New("simulated crash")
			res, err := rekey.Run(t.Context(), rekey.Config{Store: s, Box: both, Batch: 3,
				AfterBatchFunc: func(r rekey.Result) error {
					if r.Resealed >= 7 {
						return stop
					}
					return nil
				}})
			if !errors.Is(err, rekey.ErrStopped) || !errors.Is(err, stop) || res.Resealed < 7 {
				t.Fatalf("interrupted rotation = %+v, %v; want it stopped after 7 values", res, err)
			}
			current, total := check(t, s, both, want)
			if current != res.Resealed || current == total {
				t.Fatalf("after the interruption %d of %d values are under the new key, want the %d re-sealed", current, total, res.Resealed)
			}
			if _, err := rekey.Run(t.Context(), rekey.Config{Store: s, Box: box(t, newKey)}); !errors.Is(err, seal.ErrOpen) {
				t.Fatalf("resuming without the old key: %v, want a decryption error naming the value", err)
			}

			again, err := rekey.Run(t.Context(), rekey.Config{Store: s, Box: both, Batch: 3})
			if err != nil {
				t.Fatal(err)
			}
			if again.Current != res.Resealed || again.Resealed != total-res.Resealed || again.Changed != 0 {
				t.Fatalf("resumed rotation = %+v, want %d skipped and %d re-sealed", again, res.Resealed, total-res.Resealed)
			}
			onlyNew := box(t, newKey)
			if current, total := check(t, s, onlyNew, want); current != total {
				t.Fatalf("%d of %d values under the new key after the rotation", current, total)
			}
			src, err := s.SourceGetByIngestionID(t.Context(), "src_2")
			if err != nil {
				t.Fatal(err)
			}
			if key, err := onlyNew.OpenString(src.AuthKey); err != nil || key != "key-2" {
				t.Fatalf("source key read through the store = %q, %v", key, err)
			}
			last, err := rekey.Run(t.Context(), rekey.Config{Store: s, Box: onlyNew})
			if err != nil || last.Resealed != 0 || last.Current != total {
				t.Fatalf("rotation with nothing left = %+v, %v", last, err)
			}
		})
	}
}
