package delivery

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// DefaultSchedule is the wait before each retry: 5s, 30s, 2m, 10m, 30m, 1h,
// 2h, 4h, 8h, then 12h for every later retry. With the default of 5 retries
// a failing delivery gives up about 43 minutes after its first attempt.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour,
}

// DefaultJitter spreads retries by ±20 % so that a destination that failed
// many deliveries at once is not hit by all their retries at once.
const DefaultJitter = 0.2

// MaxRetryAfter caps how long a Retry-After header may postpone a retry.
const MaxRetryAfter = 24 * time.Hour

// RetryPolicy decides what happens to a delivery after a failed attempt:
// exponential backoff from Schedule (the last entry repeats, which caps the
// wait), jittered by ±Jitter, lengthened by a longer Retry-After on 429 and
// 503 (capped at MaxRetryAfter), and stopped at once by 410 Gone or when the
// connection's retries are used up.
type RetryPolicy struct {
	Schedule []time.Duration
	Jitter   float64 // fraction, 0 ≤ Jitter < 1
}

// Wait returns the jittered wait before retry n (1 = the first retry).
// rnd is uniform in [0, 1).
func (p RetryPolicy) Wait(n int, rnd float64) time.Duration {
	if len(p.Schedule) == 0 || n < 1 {
		return 0
	}
	base := p.Schedule[min(n, len(p.Schedule))-1]
	return time.Duration(float64(base) * (1 + p.Jitter*(2*rnd-1)))
}

// Decision is what to do with a delivery after an attempt.
type Decision struct {
	State string    // volley.DeliverySuccess, DeliveryFailed or DeliveryPending (retry)
	Next  time.Time // when State is pending
}

// Decide applies the policy to attempt number n (1-based) with result res.
// maxRetries is the connection's max_retries; retryAfter is the parsed
// Retry-After of the response (0 if none).
func (p RetryPolicy) Decide(n, maxRetries int, a *volley.Attempt, retryAfter time.Duration, now time.Time, rnd float64) Decision {
	switch {
	case a.Status == volley.AttemptSuccess:
		return Decision{State: volley.DeliverySuccess}
	case a.StatusCode == http.StatusGone:
		return Decision{State: volley.DeliveryFailed}
	case n > maxRetries: // n-1 retries made; another would exceed maxRetries
		return Decision{State: volley.DeliveryFailed}
	}
	wait := p.Wait(n, rnd)
	if (a.StatusCode == http.StatusTooManyRequests || a.StatusCode == http.StatusServiceUnavailable) && retryAfter > wait {
		wait = min(retryAfter, MaxRetryAfter)
	}
	return Decision{State: volley.DeliveryPending, Next: now.Add(wait)}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It returns 0 when the header is absent, malformed or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return min(time.Duration(secs)*time.Second, MaxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// ParseSchedule reads a comma-separated list of durations ("5s,30s,2m").
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("retry schedule: %q is not a positive duration like 30s or 2m", part)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("retry schedule: no durations in %q", s)
	}
	return out, nil
}
