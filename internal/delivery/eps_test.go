package delivery_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// arrivals returns the arrival times of a sink's requests, optionally only
// those of one source.
func arrivals(reqs []received, sourceID uint64) []time.Time {
	var out []time.Time
	for _, r := range reqs {
		if sourceID == 0 || r.Header.Get("X-Volley-Source-Id") == strconv.FormatUint(sourceID, 10) {
			out = append(out, r.At)
		}
	}
	return out
}

func TestDestinationEPS(t *testing.T) {
	t.Parallel()
	const eps, n = 20, 60
	e := setup(t, fastConfig())
	s := newSink(t, nil)
	src, destID, _ := e.route(t, s.URL, map[string]any{"eps": eps}, nil)
	e.ingestMany(t, src.IngestionID, n)
	s.awaitCount(t, n, 8*time.Second)

	times := arrivals(s.requests(), 0)
	if got := maxInWindow(times, time.Second); got > eps+1 {
		t.Errorf("%d requests arrived within one second, want at most %d (eps %d)", got, eps+1, eps)
	}
	// Pacing, not dropping: everything arrived, spread over (n-1)/eps.
	if span, least := times[n-1].Sub(times[0]), time.Duration(n-1)*time.Second/eps-100*time.Millisecond; span < least {
		t.Errorf("%d requests arrived over %v, want at least %v at %d per second", n, span, least, eps)
	}
	var attempts []attemptJSON
	eventually(t, 5*time.Second, func() bool {
		attempts = e.attempts(t, "destination_id="+strconv.FormatUint(destID, 10))
		return len(attempts) >= n
	}, func() string { return strconv.Itoa(len(attempts)) + " attempts recorded, want " + strconv.Itoa(n) })
	if len(attempts) != n {
		t.Errorf("%d attempts recorded, want exactly %d: waiting for the rate limit is not an attempt", len(attempts), n)
	}
	starts := make([]time.Time, 0, len(attempts))
	for _, a := range attempts {
		if a.Status != volley.AttemptSuccess || a.Number != 1 {
			t.Errorf("attempt %d: %s number %d (%s), want a first attempt that succeeded", a.ID, a.Status, a.Number, a.ErrorReason)
		}
		starts = append(starts, a.CreatedAt)
	}
	if got := maxInWindow(starts, time.Second); got > eps+1 {
		t.Errorf("%d attempts started within one second, want at most %d", got, eps+1)
	}
	if failed := e.attempts(t, "status=failed"); len(failed) != 0 {
		t.Errorf("%d failed attempts, want none: %+v", len(failed), failed[0])
	}
}

func TestConnectionEPS(t *testing.T) {
	t.Parallel()
	const eps, n = 5, 12
	e := setup(t, fastConfig())
	s := newSink(t, nil)
	dest := e.destination(t, "shared", s.URL, nil)
	slow, fast := e.source(t, "slow"), e.source(t, "fast")
	e.connect(t, slow.ID, dest, map[string]any{"eps": eps})
	e.connect(t, fast.ID, dest, nil)

	// The limited connection's events first, so the other's queue behind
	// them if the engine mixed up the two budgets.
	e.ingestMany(t, slow.IngestionID, n)
	e.ingestMany(t, fast.IngestionID, n)
	s.awaitCount(t, 2*n, 8*time.Second)

	reqs := s.requests()
	slowTimes, fastTimes := arrivals(reqs, slow.ID), arrivals(reqs, fast.ID)
	if len(slowTimes) != n || len(fastTimes) != n {
		t.Fatalf("arrivals: %d from the limited connection, %d from the other; want %d each", len(slowTimes), len(fastTimes), n)
	}
	if got := maxInWindow(slowTimes, time.Second); got > eps+1 {
		t.Errorf("limited connection: %d requests within one second, want at most %d (eps %d)", got, eps+1, eps)
	}
	if span, least := slowTimes[n-1].Sub(slowTimes[0]), time.Duration(n-1)*time.Second/eps-100*time.Millisecond; span < least {
		t.Errorf("limited connection: %d requests over %v, want at least %v", n, span, least)
	}
	// The other connection to the same destination is not held back.
	if last, slowLast := fastTimes[n-1], slowTimes[n-1]; !last.Before(slowLast.Add(-time.Second)) {
		t.Errorf("unlimited connection finished at %v, the limited one at %v: it waited for the other's budget", last, slowLast)
	}
}

// TestHangingDestinationIsolated checks that a destination that never
// answers does not slow down another destination of the same events.
func TestHangingDestinationIsolated(t *testing.T) {
	t.Parallel()
	const n = 50
	e := setup(t, fastConfig())
	stuck := newSink(t, func(w http.ResponseWriter, r *http.Request) { hang(t, r) })
	healthy := newSink(t, nil)
	src := e.source(t, "fanout")
	stuckID := e.destination(t, "stuck", stuck.URL, map[string]any{"timeout_ms": 5000})
	healthyID := e.destination(t, "healthy", healthy.URL, nil)
	e.connect(t, src.ID, stuckID, nil)
	e.connect(t, src.ID, healthyID, nil)

	e.ingestMany(t, src.IngestionID, n)
	healthy.awaitCount(t, n, 2*time.Second)

	if stuck.count() == 0 {
		t.Error("the hanging destination received nothing; the test proves nothing")
	}
	if got := e.attempts(t, "destination_id="+strconv.FormatUint(stuckID, 10)); len(got) != 0 {
		t.Errorf("%d attempts to the hanging destination finished already, want none", len(got))
	}
	eventually(t, 2*time.Second, func() bool {
		return len(e.attempts(t, "destination_id="+strconv.FormatUint(healthyID, 10)+"&status=success")) == n
	}, func() string { return "the healthy destination's attempts were not all recorded" })
}
