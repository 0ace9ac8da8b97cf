package storetest

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// PlanAttempts stores n events of the connection c (Graph) with one
// attempt each, for the drivers' plan tests of attempt lists: one in 50
// failed (as on a healthy installation, where a walk of the project's
// attempts for the failed ones reads nearly all of them), durations and
// status codes spread, created one second apart.
func PlanAttempts(t *testing.T, s store.Store, c *volley.Connection, n int) {
	t.Helper()
	start := time.Now().Add(-time.Duration(n) * time.Second)
	const batch = 500
	for first := 0; first < n; first += batch {
		events := Events(min(batch, n-first), first/batch, c, time.Time{})
		for j := range events {
			events[j].Event.CreatedAt = start.Add(time.Duration(first+j) * time.Second)
		}
		inserted, err := s.EventInsert(t.Context(), events)
		noErr(t, "EventInsert", err)
		outcomes := make([]store.Outcome, len(inserted))
		for j, res := range inserted {
			i, e := first+j, events[j].Event
			a := &volley.Attempt{DeliveryID: res.DeliveryIDs[0], EventID: res.ID, EventUID: res.UID, ProjectID: e.ProjectID,
				SourceID: e.SourceID, ConnectionID: c.ID, DestinationID: c.DestinationID, Number: 1,
				Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200 + i%5,
				DurationMS: int64(5 + (i*7919)%2000), ResponseBody: []byte("ok"), CreatedAt: e.CreatedAt}
			state := volley.DeliverySuccess
			if i%50 == 0 {
				a.Status, a.StatusCode, a.ErrorReason, state = volley.AttemptFailed, 500, "HTTP 500", volley.DeliveryFailed
			}
			outcomes[j] = store.Outcome{DeliveryID: res.DeliveryIDs[0], LeaseToken: 1, EventID: res.ID, Attempt: a,
				State: state, Now: e.CreatedAt}
		}
		noErr(t, "DeliveryFinish", s.DeliveryFinish(t.Context(), outcomes))
	}
}

// AttemptPlanCase is an attempt list whose plan a driver checks: the
// status filter and each sort, alone and with the other filters the API
// offers.
type AttemptPlanCase struct {
	Name   string
	Params store.AttemptListParams
}

// AttemptPlanCases returns the attempt lists of PlanAttempts' project and
// connection whose plans must read an index in the list's order (no sort of
// the project's attempts).
func AttemptPlanCases(c *volley.Connection) []AttemptPlanCase {
	var out []AttemptPlanCase
	for _, f := range []struct {
		name string
		p    store.AttemptListParams
	}{
		{"project", store.AttemptListParams{}},
		{"connection", store.AttemptListParams{ConnectionID: c.ID}},
		{"destination", store.AttemptListParams{DestinationID: c.DestinationID}},
		{"source", store.AttemptListParams{SourceID: c.SourceID}},
	} {
		for _, sort := range []string{store.AttemptSortTime, store.AttemptSortOldest, store.AttemptSortDuration, store.AttemptSortStatusCode} {
			for _, status := range []string{"", volley.AttemptFailed} {
				p := f.p
				p.ProjectID, p.Sort, p.Status, p.Limit = c.ProjectID, sort, status, 50
				p.Page.CountLimit = 10_000 // as the API counts
				name := f.name + " sort " + sort
				if status != "" {
					name += " status " + status
				}
				out = append(out, AttemptPlanCase{Name: name, Params: p})
			}
		}
	}
	return out
}
