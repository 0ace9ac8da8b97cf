package storesql

import (
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// maxTrafficPeriods bounds the periods of one ProjectTraffic call.
const maxTrafficPeriods = 1000

// TrafficWindow checks the window of a ProjectTraffic call and returns the
// start of its first period (Since rounded down to a whole step in UTC) and
// its periods, oldest first, with zero counts. Drivers add their counters
// to the period of index Bucket(...).
func TrafficWindow(p store.ProjectTrafficParams) ([]volley.TrafficPeriod, error) {
	if p.Step < time.Hour || p.Step%time.Hour != 0 {
		return nil, fmt.Errorf("project traffic: step %v is not a whole number of hours", p.Step)
	}
	since := p.Since.UTC().Truncate(p.Step)
	if !p.Until.After(since) {
		return nil, nil
	}
	n := int((p.Until.Sub(since) + p.Step - 1) / p.Step)
	if n > maxTrafficPeriods {
		return nil, fmt.Errorf("project traffic: %d periods of %v, more than %d", n, p.Step, maxTrafficPeriods)
	}
	out := make([]volley.TrafficPeriod, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * p.Step)
	}
	return out, nil
}
