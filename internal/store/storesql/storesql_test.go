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
	d := Dialect{Time: func(t time.Time) any { return t }, Search: func(s string) (string, []any) { return "body has ?", []any{s} }}
	const (
		project   = "e.project_id = ?"
		unindexed = "e.project_id + 0 = ?" // the id range drives the plan
		idRange   = "e.event_id >= ? AND e.event_id < ?"
		shortID   = "e.event_id || '' >= ? AND e.event_id || '' < ?"
	)
	for _, tc := range []struct {
		search  string
		project string
		cond    string
		args    []any
	}{
		{"evt_0ujsswThIGTUYm2K8FjOOfXtY1K", unindexed, idRange, []any{"evt_0ujsswThIGTUYm2K8FjOOfXtY1K", "evt_0ujsswThIGTUYm2K8FjOOfXtY1L"}},
		{"evt_0ujsswT", unindexed, idRange, []any{"evt_0ujsswT", "evt_0ujsswU"}},
		{"evt_0u_s", project, shortID, []any{"evt_0u_s", "evt_0u_t"}},
		{"evt_", project, shortID, []any{"evt_", "evt`"}},
		{"evt_\x01", project, "1 = 0", nil},
		{"paid", unindexed, "body has ?", []any{"paid"}},
	} {
		w := EventFilters(store.EventListParams{ProjectID: 7, Search: tc.search}, d)
		if args := w.Args[1:]; w.conds[0] != tc.project || w.conds[1] != tc.cond || len(args) != len(tc.args) ||
			(len(args) > 0 && !reflect.DeepEqual(args, tc.args)) {
			t.Errorf("search %q: %q %v", tc.search, w.conds, w.Args)
		}
	}
}

// TestEventFiltersIDSearchDrives checks that beside a long id search no
// other filter is left for an index: the id range must drive the plan.
func TestEventFiltersIDSearchDrives(t *testing.T) {
	t.Parallel()
	d := Dialect{Time: func(t time.Time) any { return t }, Search: func(s string) (string, []any) { return "body has ?", []any{s} }}
	p := store.EventListParams{ProjectID: 7, SourceID: 8, ConnectionID: 9, DestinationID: 10, Status: "failed",
		Start: time.Unix(1, 0), End: time.Unix(2, 0), Search: "evt_0ujsswT"}
	want := []string{"e.project_id + 0 = ?", "e.source_id + 0 = ?", "e.status = ?", "e.created_at >= ?", "e.created_at <= ?",
		"e.id + 0 IN (SELECT event_id FROM deliveries WHERE connection_id = ?)",
		"e.id + 0 IN (SELECT event_id FROM deliveries WHERE connection_id IN (SELECT id FROM connections WHERE destination_id = ?))",
		"e.event_id >= ? AND e.event_id < ?"}
	if w := EventFilters(p, d); !reflect.DeepEqual(w.conds, want) {
		t.Errorf("conditions:\n%q\nwant\n%q", w.conds, want)
	}
	p.Search = "evt_0ujssw"
	if w := EventFilters(p, d); w.conds[0] != "e.project_id = ?" || w.conds[1] != "e.source_id = ?" {
		t.Errorf("short id search: conditions %q, want them indexable", w.conds)
	}
}

func TestAttemptFiltersRejectsUnknownSort(t *testing.T) {
	t.Parallel()
	if _, err := AttemptFilters(store.AttemptListParams{Sort: "size"}, Dialect{}); err == nil {
		t.Fatal("unknown sort accepted")
	}
}
