package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Paging limits of list endpoints.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// query reads and validates list parameters, collecting the first error.
type query struct {
	v   url.Values
	err error
}

func newQuery(r *http.Request) *query { return &query{v: r.URL.Query()} }

func (q *query) fail(name, format string, args ...any) {
	if q.err == nil {
		q.err = &Error{Status: http.StatusBadRequest, Field: name, Message: name + ": " + fmt.Sprintf(format, args...)}
	}
}

// str returns the first non-empty value among names (aliases).
func (q *query) str(names ...string) (string, string) {
	for _, n := range names {
		if v := strings.TrimSpace(q.v.Get(n)); v != "" {
			return v, n
		}
	}
	return "", names[0]
}

// id parses an optional numeric id; 0 when absent.
func (q *query) id(name string) uint64 {
	v, _ := q.str(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		q.fail(name, "%q is not a valid id (a positive integer)", v)
	}
	return n
}

// page parses limit (default 50, at most 500) and offset.
func (q *query) page() (limit, offset int) {
	limit, offset = defaultLimit, 0
	if v, _ := q.str("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			q.fail("limit", "must be an integer from 1 to %d, not %q", maxLimit, v)
		}
		limit = n
	}
	if v, _ := q.str("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			q.fail("offset", "must be a non-negative integer, not %q", v)
		}
		offset = n
	}
	return limit, offset
}

// time parses an optional time: RFC 3339 with any offset and optional
// fractional seconds, or a bare date (the start of that day in UTC, or its
// end when endOfDay is set, for family B's start_date/end_date).
func (q *query) time(endOfDay bool, names ...string) time.Time {
	v, name := q.str(names...)
	if v == "" {
		return time.Time{}
	}
	// An unencoded "+05:30" offset arrives as " 05:30".
	if t, err := time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1)); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			t = t.Add(24*time.Hour - time.Microsecond)
		}
		return t
	}
	q.fail(name, "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", v)
	return time.Time{}
}
