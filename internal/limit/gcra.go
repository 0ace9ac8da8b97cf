// Package limit holds Volley's abuse limits: the per-token API rate limit
// (a GCRA, kept in process or in a store shared by several nodes), the
// brute-force guard that slows down and then refuses addresses making
// failed authentications, and the client address of a request behind
// trusted proxies.
package limit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Rate is a limit of PerSecond requests per second that allows bursts of
// Burst requests (a full bucket).
type Rate struct {
	PerSecond float64
	Burst     int
}

// Interval is the emission interval 1/PerSecond, at least a microsecond
// (the resolution of the shared store).
func (r Rate) Interval() time.Duration {
	return max(time.Duration(float64(time.Second)/r.PerSecond), time.Microsecond)
}

// Decision is the outcome of one request against a Rate, in the terms of
// the RateLimit-* response headers.
type Decision struct {
	Allowed bool
	// Limit is the burst: requests a full bucket allows at once.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// Reset is how long until the bucket is full again.
	Reset time.Duration
	// RetryAfter is, when the request is refused, how long until one
	// request is allowed again; 0 when it is allowed.
	RetryAfter time.Duration
}

// Step runs the generic cell rate algorithm for one request. tat is the
// key's theoretical arrival time (zero for a key never seen); it returns
// the new one (unchanged when the request is refused) and the decision.
//
// A request at now is allowed when max(tat, now) + interval − burst ×
// interval ≤ now: the bucket then holds at least one request. Each allowed
// request moves tat one interval further, so Burst requests pass at once
// and then one per interval.
func Step(r Rate, tat, now time.Time) (time.Time, Decision) {
	t := r.Interval()
	next := tat
	if next.Before(now) {
		next = now
	}
	next = next.Add(t)
	if next.Add(-time.Duration(r.Burst) * t).After(now) {
		return tat, Decide(r, tat, false, now)
	}
	return next, Decide(r, next, true, now)
}

// Decide describes the state after a request: tat is the key's theoretical
// arrival time once the request was counted (allowed) or left as it was
// (refused). Shared stores run the step in their own query and use Decide
// to report it.
func Decide(r Rate, tat time.Time, allowed bool, now time.Time) Decision {
	t := r.Interval()
	d := Decision{Allowed: allowed, Limit: r.Burst, Reset: max(tat.Sub(now), 0)}
	// Free room in the bucket: how far tat is below now + burst × interval.
	room := now.Add(time.Duration(r.Burst) * t).Sub(tat)
	d.Remaining = min(max(int(room/t), 0), r.Burst)
	if !allowed {
		d.Remaining = 0
		// The next request passes once tat − (burst−1) × interval ≤ now.
		d.RetryAfter = max(tat.Add(-time.Duration(r.Burst-1)*t).Sub(now), time.Nanosecond)
	}
	return d
}

// Seconds rounds d up to whole seconds, at least 1: the unit of
// Retry-After and RateLimit-Reset.
func Seconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

// Local is the in-process rate limiter: one theoretical arrival time per
// key, for a store that serves one node (SQLite).
type Local struct {
	rate Rate

	mu    sync.Mutex
	tat   map[string]time.Time
	calls int // since the last sweep
}

// localSweepEvery is how many calls pass between sweeps of keys whose
// bucket is full again (their entry says nothing any more).
const localSweepEvery = 4096

// NewLocal returns an in-process limiter of rate r.
func NewLocal(r Rate) *Local { return &Local{rate: r, tat: map[string]time.Time{}} }

// Take counts one request of key at now.
func (l *Local) Take(_ context.Context, key string, now time.Time) (Decision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls++; l.calls >= localSweepEvery {
		l.calls = 0
		for k, tat := range l.tat {
			if !tat.After(now) {
				delete(l.tat, k)
			}
		}
	}
	tat, d := Step(l.rate, l.tat[key], now)
	l.tat[key] = tat
	return d, nil
}

// SharedStore keeps theoretical arrival times where every node sees them
// (store.Cluster on PostgreSQL).
type SharedStore interface {
	// APIRateTake runs one GCRA step for key atomically and returns the
	// key's theoretical arrival time afterwards and whether the request
	// was allowed.
	APIRateTake(ctx context.Context, key string, interval time.Duration, burst int, now time.Time) (time.Time, bool, error)
}

// Shared is the rate limiter of nodes sharing a store: each request is one
// atomic statement in the store. A refusal is remembered in process until
// it expires, so a flood over the limit costs no round trip per request.
type Shared struct {
	rate  Rate
	store SharedStore

	mu      sync.Mutex
	refused map[string]time.Time // key → tat when refused (tat only grows)
}

// NewShared returns a limiter of rate r over st.
func NewShared(r Rate, st SharedStore) *Shared {
	return &Shared{rate: r, store: st, refused: map[string]time.Time{}}
}

// Take counts one request of key at now across every node.
func (s *Shared) Take(ctx context.Context, key string, now time.Time) (Decision, error) {
	s.mu.Lock()
	tat, ok := s.refused[key]
	if ok {
		if s.refuses(tat, now) {
			s.mu.Unlock()
			return Decide(s.rate, tat, false, now), nil
		}
		delete(s.refused, key)
	}
	s.mu.Unlock()
	tat, allowed, err := s.store.APIRateTake(ctx, key, s.rate.Interval(), s.rate.Burst, now)
	if err != nil {
		return Decision{}, err
	}
	if !allowed {
		s.mu.Lock()
		if len(s.refused) >= sharedSweepAt {
			for k, t := range s.refused {
				if !s.refuses(t, now) {
					delete(s.refused, k)
				}
			}
		}
		s.refused[key] = tat
		s.mu.Unlock()
	}
	return Decide(s.rate, tat, allowed, now), nil
}

// sharedSweepAt is the number of remembered refusals at which the expired
// ones are dropped, bounding the memory a flood of tokens can take.
const sharedSweepAt = 4096

// refuses reports whether a key whose theoretical arrival time is tat is
// still refused at now.
func (s *Shared) refuses(tat, now time.Time) bool {
	return tat.Add(-time.Duration(s.rate.Burst-1) * s.rate.Interval()).After(now)
}
