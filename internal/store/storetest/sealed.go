package storetest

import (
	"testing"

	"github.com/volleyhq/volley/internal/store"
)

func sealedTests() []test {
	return []test{
		{"Sealed/ListEveryColumn", testSealedListEveryColumn},
		{"Sealed/ReplaceOnlyUnchanged", testSealedReplaceOnlyUnchanged},
	}
}

// sealedGraph stores one row with a value in every sealed column and
// returns the values by column.
func sealedGraph(t *testing.T, s store.Store) map[store.SealedColumn][]store.SealedValue {
	t.Helper()
	f := newFixture(t, s, "ada")
	src := createSource(t, s, newSource(f.Project.ID, "github"))
	createSource(t, s, bareSource(f.Project.ID, "bare")) // no secrets: listed nowhere
	dst := createDestination(t, s, newDestination(f.Project.ID, "inbox"))
	inv := newInvitation(f.Org.ID, f.Account.ID, "new@example.com", "inv-secret", now)
	noErr(t, "InvitationCreate", s.InvitationCreate(t.Context(), &inv))
	v := func(c store.SealedColumn, id uint64, b []byte) []store.SealedValue {
		return []store.SealedValue{{Column: c, RowID: id, Value: b}}
	}
	return map[store.SealedColumn][]store.SealedValue{
		store.SealedTokens:                 v(store.SealedTokens, f.Token.ID, f.Token.Sealed),
		store.SealedInvitations:            v(store.SealedInvitations, inv.ID, inv.Sealed),
		store.SealedSourceAuthKeys:         v(store.SealedSourceAuthKeys, src.ID, src.AuthKey),
		store.SealedSourceWebhookSecrets:   v(store.SealedSourceWebhookSecrets, src.ID, src.WebhookSecret),
		store.SealedDestinationSecrets:     v(store.SealedDestinationSecrets, dst.ID, dst.SigningSecret),
		store.SealedDestinationPrevSecrets: v(store.SealedDestinationPrevSecrets, dst.ID, dst.PrevSigningSecret),
	}
}

func testSealedListEveryColumn(t *testing.T, s store.Store) {
	want := sealedGraph(t, s)
	for _, col := range store.SealedColumns() {
		got, err := s.SealedList(t.Context(), store.SealedListParams{Column: col, Limit: 10})
		noErr(t, "SealedList "+string(col), err)
		same(t, "SealedList "+string(col), got, want[col])
		got, err = s.SealedList(t.Context(), store.SealedListParams{Column: col, AfterID: want[col][0].RowID, Limit: 10})
		noErr(t, "SealedList "+string(col)+" after its row", err)
		same(t, "SealedList "+string(col)+" after its row", got, []store.SealedValue{})
	}
	if _, err := s.SealedList(t.Context(), store.SealedListParams{Column: "accounts.password_hash", Limit: 1}); err == nil {
		t.Fatal("SealedList of a column that is not sealed succeeded")
	}
}

func testSealedReplaceOnlyUnchanged(t *testing.T, s store.Store) {
	ctx := t.Context()
	vals := sealedGraph(t, s)
	var reps []store.SealedReplacement
	for _, col := range store.SealedColumns() {
		v := vals[col][0]
		reps = append(reps, store.SealedReplacement{Column: col, RowID: v.RowID, Old: v.Value, New: append([]byte("new:"), v.Value...)})
	}
	// The destination's secret changed meanwhile: it is left alone.
	stale := reps[4]
	stale.Old = []byte("not what it holds")
	reps[4] = stale
	n, err := s.SealedReplace(ctx, reps)
	noErr(t, "SealedReplace", err)
	if n != len(reps)-1 {
		t.Fatalf("SealedReplace replaced %d, want %d", n, len(reps)-1)
	}
	for i, col := range store.SealedColumns() {
		got, err := s.SealedList(ctx, store.SealedListParams{Column: col, Limit: 10})
		noErr(t, "SealedList "+string(col), err)
		want := vals[col][0].Value
		if i != 4 {
			want = reps[i].New
		}
		same(t, "value of "+string(col)+" after SealedReplace", got[0].Value, want)
	}
	dst, err := s.DestinationGetByID(ctx, vals[store.SealedDestinationPrevSecrets][0].RowID)
	noErr(t, "DestinationGetByID", err)
	same(t, "previous signing secret read through the destination", dst.PrevSigningSecret, reps[5].New)
}
