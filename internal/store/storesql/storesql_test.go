package storesql

import (
	"reflect"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

func TestNumbered(t *testing.T) {
	t.Parallel()
	got := Numbered("a = ? AND b IN (?, ?) LIMIT ?")
	if got != "a = $1 AND b IN ($2, $3) LIMIT $4" {
		t.Fatalf("Numbered = %q", got)
	}
}

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"evt_a": "evt_b", "evt_~": "evt`", "~~": "\x7f"} {
		if got := prefixEnd(in); got != want {
			t.Errorf("prefixEnd(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEventFiltersSearch(t *testing.T) {
	t.Parallel()
	d := Dialect{Time: func(t time.Time) any { return t }, BodyContains: "body has ?"}
	for _, tc := range []struct {
		search string
		cond   string
		args   []any
	}{
		{"evt_ab", "e.event_id >= ? AND e.event_id < ?", []any{"evt_ab", "evt_ac"}},
		{"evt_\x01", "1 = 0", nil},
		{"paid", "body has ?", []any{[]byte("paid")}},
	} {
		w := EventFilters(store.EventListParams{ProjectID: 7, Search: tc.search}, d)
		if args := w.Args[1:]; w.conds[1] != tc.cond || len(args) != len(tc.args) || (len(args) > 0 && !reflect.DeepEqual(args, tc.args)) {
			t.Errorf("search %q: %q %v", tc.search, w.conds[1], w.Args)
		}
	}
}

func TestAttemptFiltersRejectsUnknownSort(t *testing.T) {
	t.Parallel()
	if _, err := AttemptFilters(store.AttemptListParams{Sort: "size"}, Dialect{}); err == nil {
		t.Fatal("unknown sort accepted")
	}
}
