package httpapi

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/volleyhq/volley/internal/store"
)

// Lists page by offset, as every official client does, and also by
// cursor: `next_cursor` in a page names its last item, and ?after= with it
// reads the next page without the store skipping over the ones before (an
// OFFSET deep into a big list reads every row it skips). `prev_cursor` and
// ?before= go back. A cursor is opaque to clients: base64url of
// "<kind>:<sort key>:<id>", where kind says which list and sort it belongs
// to, so one is never applied to another order.

// countCap bounds how far a list counts its matches: counting millions of
// rows on every page costs as much as reading them. Up to countCap the
// total is exact; past it, total is countCap and total_is_estimate is true.
const countCap = 10_000

// Cursor kinds: the event list, and the attempt list in each of its sorts.
const (
	cursorEvents = "e"
)

var attemptCursorKinds = map[string]string{
	"": "t", store.AttemptSortTime: "t", store.AttemptSortOldest: "o",
	store.AttemptSortDuration: "d", store.AttemptSortStatusCode: "s",
}

func encodeCursor(kind string, key int64, id uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(key, 10) + ":" + strconv.FormatUint(id, 10)))
}

// pageParams reads ?after= and ?before= for a list of the given kind.
func (q *query) pageParams(kind string) store.PageParams {
	p := store.PageParams{CountLimit: countCap}
	after, _ := q.str("after")
	before, _ := q.str("before")
	switch {
	case after != "" && before != "":
		q.fail("before", "give after or before, not both")
	case after != "":
		p.After = q.cursor("after", after, kind)
	case before != "":
		p.Before = q.cursor("before", before, kind)
	}
	return p
}

func (q *query) cursor(name, v, kind string) *store.Cursor {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	parts := strings.Split(string(raw), ":")
	if err != nil || len(parts) != 3 {
		q.fail(name, "%q is not a cursor: use the next_cursor or prev_cursor of a page of this list", v)
		return nil
	}
	if parts[0] != kind {
		q.fail(name, "the cursor belongs to another list or sort order than this one")
		return nil
	}
	key, kerr := strconv.ParseInt(parts[1], 10, 64)
	id, ierr := strconv.ParseUint(parts[2], 10, 64)
	if kerr != nil || ierr != nil {
		q.fail(name, "%q is not a cursor: use the next_cursor or prev_cursor of a page of this list", v)
		return nil
	}
	return &store.Cursor{Key: key, ID: id}
}

// capped is a count as the API answers it, and whether it is not exact:
// it stopped at countCap (a lower bound), or counting every match cost
// too much and the store estimated it (store.Total.Estimated).
func capped(t store.Total) (n int64, estimate bool) {
	return min(t.N, countCap), t.N > countCap || t.Estimated
}

// listPage is the envelope of a list page: the items under their key, the
// offset paging every client reads, and the cursors; total_is_estimate
// when the total is not exact (capped).
func listPage[T any](key string, items []T, total store.Total, limit, offset int, pg store.PageParams, cursor func(*T) string) map[string]any {
	n, estimate := capped(total)
	out := map[string]any{key: items, "total": n, "limit": limit, "offset": offset}
	if estimate {
		out["total_is_estimate"] = true
	}
	if len(items) == 0 {
		return out
	}
	// A full page may have a next one; any page reached by a cursor or an
	// offset may have a previous one. (A Before page is full unless it
	// reached the start.)
	if len(items) == limit || pg.Before != nil {
		out["next_cursor"] = cursor(&items[len(items)-1])
	}
	if pg.After != nil || offset > 0 || (pg.Before != nil && len(items) == limit) {
		out["prev_cursor"] = cursor(&items[0])
	}
	return out
}

// attemptCursor returns the cursor of an attempt in a list sorted by sort.
func attemptCursor(sort string) func(*attemptJSON) string {
	kind := attemptCursorKinds[sort]
	return func(a *attemptJSON) string {
		var key int64
		switch sort {
		case store.AttemptSortDuration:
			key = a.DurationMS
		case store.AttemptSortStatusCode:
			key = int64(a.StatusCode)
		default:
			key = a.CreatedAt.UnixMicro()
		}
		return encodeCursor(kind, key, a.ID)
	}
}

func eventCursor(e *eventJSON) string {
	return encodeCursor(cursorEvents, e.CreatedAt.UnixMicro(), e.ID)
}
