package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/tenant"
)

// RateLimiter counts an API request against its token's limit (a
// *limit.Local on one node, a *limit.Shared across nodes).
type RateLimiter interface {
	Take(ctx context.Context, key string, now time.Time) (limit.Decision, error)
}

// limitRate counts an authenticated request against its token's rate and
// sets the RateLimit-* headers, on refusals and on successes alike. A
// limiter that cannot answer (the database is unreachable) lets the
// request through: the limit protects the service, it must not be the
// reason it fails.
func (a *API) limitRate(w http.ResponseWriter, r *http.Request, c *caller) error {
	if a.cfg.RateLimiter == nil || c.token == nil {
		return nil
	}
	d, err := a.cfg.RateLimiter.Take(r.Context(), "t:"+strconv.FormatUint(c.token.ID, 10), a.cfg.NowFunc())
	if err != nil {
		a.cfg.Logger.WarnContext(r.Context(), "api rate limit unavailable; request let through", "err", err)
		return nil
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(d.Reset.Seconds()))))
	if d.Allowed {
		return nil
	}
	return &Error{Status: http.StatusTooManyRequests, Message: "rate limit exceeded", RetryAfter: d.RetryAfter,
		Detail: fmt.Sprintf("too many requests with this token (at most %d at once, then a steady rate); retry in %d s",
			d.Limit, limit.Seconds(d.RetryAfter))}
}

// badToken records a presented token that did not authenticate against the
// client's address: the answer is delayed once the address has failed a
// few times, and becomes a 429 once it has failed too often. Requests
// without a token are plain 401s: they guess nothing.
func (a *API) badToken(r *http.Request, err error) error {
	if !errors.Is(err, tenant.ErrUnauthenticated) || bearerToken(r) == "" {
		return err
	}
	if retry, blocked := a.cfg.TokenGuard.Fail(r.Context(), a.cfg.Proxies.Client(r)); blocked {
		return tooManyFailures(retry, "invalid API tokens")
	}
	return err
}

// tooManyFailures is the 429 of a client address that failed too often.
func tooManyFailures(retry time.Duration, what string) *Error {
	return &Error{Status: http.StatusTooManyRequests, Message: "too many failed attempts", RetryAfter: retry,
		Detail: fmt.Sprintf("this address sent too many %s; retry in %d s", what, limit.Seconds(retry))}
}
