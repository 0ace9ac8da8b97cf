package storesql

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// TestIDTimeRange checks that every prefix of real ids bounds their
// creation time, and that a few digits bound it tightly.
func TestIDTimeRange(t *testing.T) {
	t.Parallel()
	rng := rand.NewChaCha8([32]byte{1})
	for _, at := range []time.Time{time.UnixMilli(0), time.Date(2026, 12, 3, 10, 4, 5, 678e6, time.UTC),
		time.Date(2031, 1, 1, 0, 0, 0, 999e6, time.UTC)} {
		for range 20 {
			id, err := volley.NewEventID(rng, at)
			if err != nil {
				t.Fatal(err)
			}
			for n := 1; n < 22; n++ {
				lo, hi, ok := IDTimeRange(id[:4+n])
				if !ok || at.Before(lo) || !at.Before(hi) {
					t.Fatalf("IDTimeRange(%q) = %v, %v, %v; want it to hold %v", id[:4+n], lo, hi, ok, at)
				}
				if n == 6 && hi.Sub(lo) > 41*time.Second {
					t.Errorf("IDTimeRange(%q) spans %v, want about 40 s", id[:4+n], hi.Sub(lo))
				}
			}
		}
	}
	for _, p := range []string{"evt_", "evt_a_b", "evt_0ujsswThIGTUYm2K8FjOOfXtY1K", "src_0ujs", "0ujs"} {
		if _, _, ok := IDTimeRange(p); ok {
			t.Errorf("IDTimeRange(%q) ok, want not a short id prefix", p)
		}
	}
	if lo, hi, ok := IDTimeRange("evt_zzzz"); !ok || !lo.Equal(hi) {
		t.Errorf("IDTimeRange(evt_zzzz) = %v, %v, %v, want an empty range", lo, hi, ok)
	}
}

// TestEventFiltersShortID checks a short id prefix's filters: a time range
// for the project's index, and the exact prefix.
func TestEventFiltersShortID(t *testing.T) {
	t.Parallel()
	d := Dialect{Time: func(t time.Time) any { return t }}
	lo, hi, _ := IDTimeRange("evt_0ujssw")
	w := EventFilters(store.EventListParams{ProjectID: 7, Search: "evt_0ujssw"}, d)
	want := []string{"e.project_id = ?", "e.created_at >= ? AND e.created_at < ?",
		"e.event_id || '' >= ? AND e.event_id || '' < ?"}
	if len(w.conds) != 3 || w.conds[0] != want[0] || w.conds[1] != want[1] || w.conds[2] != want[2] {
		t.Fatalf("conds = %q, want %q", w.conds, want)
	}
	if w.Args[1] != lo || w.Args[2] != hi || w.Args[3] != "evt_0ujssw" || w.Args[4] != "evt_0ujssx" {
		t.Errorf("args = %v", w.Args)
	}
}
