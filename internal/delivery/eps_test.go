package delivery_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// The rate-limit tests check the starts the engine records (an attempt's
// created_at is the start its limits granted), never when requests reach a
// sink: on a loaded machine requests sent exactly 1/eps apart can arrive
// bunched up, and a check on arrivals fails for what the engine cannot
// control.

// starts returns the sorted start times of attempts.
func starts(attempts []attemptJSON) []time.Time {
	out := make([]time.Time, 0, len(attempts))
	for _, a := range attempts {
		out = append(out, a.CreatedAt)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// checkPaced fails the test unless the starts keep to eps: at most eps+1
// in any closed one-second window (the pacer's promise), and spread over at
// least (n-1)/eps, so that pacing did not drop anything either. The spread
// is allowed a thousandth less, for a wall clock being slewed (at most 500
// parts per million); the starts are stored to the microsecond, which
// loses nothing at the rates tested here (whole microseconds apart).
func checkPaced(t *testing.T, what string, times []time.Time, eps int) {
	t.Helper()
	if got := maxInWindow(times, time.Second); got > eps+1 {
		t.Errorf("%s: %d attempts started within one second, want at most %d (eps %d)", what, got, eps+1, eps)
	}
	n := len(times)
	least := time.Duration(n-1) * time.Second / time.Duration(eps)
	least -= least / 1000
	if span := times[n-1].Sub(times[0]); span < least {
		t.Errorf("%s: %d attempts started over %v, want at least %v at %d per second", what, n, span, least, eps)
	}
}

// awaitAttempts waits until the attempts matching query number at least n
// and returns them. The deadline only bounds the wait.
func (e *env) awaitAttempts(t *testing.T, query string, n int) []attemptJSON {
	t.Helper()
	var attempts []attemptJSON
	eventually(t, 30*time.Second, func() bool {
		attempts = e.attempts(t, query)
		return len(attempts) >= n
	}, func() string {
		return strconv.Itoa(len(attempts)) + " attempts recorded (" + query + "), want " + strconv.Itoa(n)
	})
	return attempts
}

// checkFirstSuccesses fails the test unless every attempt is the first of
// its delivery and succeeded: waiting for the rate limit is never an
// attempt.
func checkFirstSuccesses(t *testing.T, attempts []attemptJSON) {
	t.Helper()
	for _, a := range attempts {
		if a.Status != volley.AttemptSuccess || a.Number != 1 {
			t.Errorf("attempt %d: %s number %d (%s), want a first attempt that succeeded", a.ID, a.Status, a.Number, a.ErrorReason)
		}
	}
}

func TestDestinationEPS(t *testing.T) {
	t.Parallel()
	const eps, n = 20, 60
	e := setup(t, fastConfig())
	s := newSink(t, nil)
	src, destID, _ := e.route(t, s.URL, map[string]any{"eps": eps}, nil)
	e.ingestMany(t, src.IngestionID, n)

	attempts := e.awaitAttempts(t, "destination_id="+strconv.FormatUint(destID, 10), n)
	if len(attempts) != n {
		t.Errorf("%d attempts recorded, want exactly %d: waiting for the rate limit is not an attempt", len(attempts), n)
	}
	checkFirstSuccesses(t, attempts)
	checkPaced(t, "destination", starts(attempts), eps)
	if got := s.count(); got != n {
		t.Errorf("the destination received %d requests, want %d", got, n)
	}
}

// TestConnectionEPS checks a connection's eps, with a second, unlimited
// connection to the same destination whose events all go through as well.
// That the second is not held back by the first's budget is checked by
// TestConnectionEPSSparesOthers on a clock that stands still: on the real
// one it would be a race between ingestion and the pacer.
func TestConnectionEPS(t *testing.T) {
	t.Parallel()
	const eps, n = 5, 12
	e := setup(t, fastConfig())
	s := newSink(t, nil)
	dest := e.destination(t, "shared", s.URL, nil)
	slow, fast := e.source(t, "slow"), e.source(t, "fast")
	slowConn := e.connect(t, slow.ID, dest, map[string]any{"eps": eps})
	fastConn := e.connect(t, fast.ID, dest, nil)

	e.ingestMany(t, slow.IngestionID, n)
	e.ingestMany(t, fast.IngestionID, n)

	slowAttempts := e.awaitAttempts(t, "connection_id="+strconv.FormatUint(slowConn, 10), n)
	fastAttempts := e.awaitAttempts(t, "connection_id="+strconv.FormatUint(fastConn, 10), n)
	if len(slowAttempts) != n || len(fastAttempts) != n {
		t.Fatalf("attempts: %d of the limited connection, %d of the other; want %d each", len(slowAttempts), len(fastAttempts), n)
	}
	checkFirstSuccesses(t, slowAttempts)
	checkFirstSuccesses(t, fastAttempts)
	checkPaced(t, "limited connection", starts(slowAttempts), eps)
}

// TestHangingDestinationIsolated checks that a destination that does not
// answer does not slow down another destination of the same events: every
// delivery to the healthy one succeeds while the other's requests are held
// by a handler that only the test releases, and once released they go
// through too. Nothing here depends on how fast the machine is: the hang
// lasts until the test ends it.
func TestHangingDestinationIsolated(t *testing.T) {
	t.Parallel()
	const n = 50
	cfg := fastConfig()
	cfg.Concurrency = 4
	e := setup(t, cfg)
	release := make(chan struct{})
	stuck := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-t.Context().Done():
		}
	})
	healthy := newSink(t, nil)
	src := e.source(t, "fanout")
	// The longest timeout there is, so that the engine does not give up on
	// the held requests while the test waits (its waits are shorter).
	stuckID := e.destination(t, "stuck", stuck.URL, map[string]any{"timeout_ms": volley.MaxTimeoutMS})
	healthyID := e.destination(t, "healthy", healthy.URL, nil)
	e.connect(t, src.ID, stuckID, nil)
	e.connect(t, src.ID, healthyID, nil)
	stuckQuery := "destination_id=" + strconv.FormatUint(stuckID, 10)

	e.ingestMany(t, src.IngestionID, n)
	ok := e.awaitAttempts(t, "destination_id="+strconv.FormatUint(healthyID, 10)+"&status=success", n)
	if len(ok) != n {
		t.Errorf("%d successful attempts to the healthy destination, want %d", len(ok), n)
	}
	// The held destination has a full lane: as many requests in flight as
	// the concurrency allows, none finished, the rest queued.
	stuck.awaitCount(t, cfg.Concurrency, 30*time.Second)
	if got := e.attempts(t, stuckQuery); len(got) != 0 {
		t.Errorf("%d attempts to the held destination finished while it was held, want none: %+v", len(got), got[0])
	}
	if got := stuck.count(); got != cfg.Concurrency {
		t.Errorf("the held destination received %d requests, want its concurrency (%d)", got, cfg.Concurrency)
	}

	close(release)
	done := e.awaitAttempts(t, stuckQuery, n)
	checkFirstSuccesses(t, done)
}
