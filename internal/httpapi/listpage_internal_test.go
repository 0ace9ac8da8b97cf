package httpapi

import (
	"testing"

	"github.com/volleyhq/volley/internal/store"
)

// TestListPageTotal checks the envelope's total: exact up to countCap, the
// cap past it, and what the store counted with total_is_estimate when its
// count stopped early (a lower bound).
func TestListPageTotal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		total    store.Total
		want     int64
		estimate bool
	}{
		{store.Total{N: 7}, 7, false},
		{store.Total{N: countCap}, countCap, false},
		{store.Total{N: countCap + 1}, countCap, true},
		{store.Total{N: 42, Estimated: true}, 42, true},
		{store.Total{N: countCap + 1, Estimated: true}, countCap, true},
	} {
		out := listPage("requests", []int{1}, tc.total, 50, 0, store.PageParams{}, func(*int) string { return "c" })
		_, estimate := out["total_is_estimate"]
		if out["total"] != tc.want || estimate != tc.estimate {
			t.Errorf("listPage(total %+v): total %v, total_is_estimate %v; want %d, %v", tc.total, out["total"], estimate, tc.want, tc.estimate)
		}
	}
}
