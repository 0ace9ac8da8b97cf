package storesql

import (
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// ListQuery is a list's two queries, with "?" placeholders: the count of
// every item the filters match (capped by PageParams.CountLimit), and the
// page.
type ListQuery struct {
	Count     string
	CountArgs []any
	Page      string
	PageArgs  []any
	// Reversed means the page comes back in the opposite of the list's
	// order (a Before page is read from the cursor outwards): the driver
	// reverses it.
	Reversed bool
}

// sortKey is a list order: a key column, ties broken by the id column in
// the same direction.
type sortKey struct {
	col, id string
	time    bool // the key is a time (a Cursor holds it in microseconds)
	desc    bool
}

// eventSort is the order of event lists: newest first.
var eventSort = sortKey{col: "e.created_at", id: "e.id", time: true, desc: true}

// attemptSorts maps a sort name to its order; ties fall back to the id.
var attemptSorts = map[string]sortKey{
	"":                          {col: "a.created_at", id: "a.id", time: true, desc: true},
	store.AttemptSortTime:       {col: "a.created_at", id: "a.id", time: true, desc: true},
	store.AttemptSortOldest:     {col: "a.created_at", id: "a.id", time: true},
	store.AttemptSortDuration:   {col: "a.duration_ms", id: "a.id", desc: true},
	store.AttemptSortStatusCode: {col: "a.status_code", id: "a.id", desc: true},
}

// EventListQuery returns the queries of an event list; pageFrom is the
// driver's FROM clause for the page's columns, over `events e`.
func EventListQuery(p store.EventListParams, d Dialect, cols, pageFrom string) ListQuery {
	return listQuery(EventFilters(p, d), eventSort, p.Page, p.Limit, p.Offset, d,
		" FROM events e", "SELECT "+cols+pageFrom)
}

// AttemptListQuery returns the queries of an attempt list, over
// `attempts a`.
func AttemptListQuery(p store.AttemptListParams, d Dialect, cols string) (ListQuery, error) {
	w, err := AttemptFilters(p, d)
	if err != nil {
		return ListQuery{}, err
	}
	return listQuery(w, attemptSorts[p.Sort], p.Page, p.Limit, p.Offset, d,
		" FROM attempts a", "SELECT "+cols+" FROM attempts a"), nil
}

func listQuery(w *Where, k sortKey, pg store.PageParams, limit, offset int, d Dialect, countFrom, pageSelect string) ListQuery {
	var q ListQuery
	if pg.CountLimit > 0 {
		q.Count = "SELECT count(*) FROM (SELECT 1" + countFrom + w.SQL() + " LIMIT ?) c"
		q.CountArgs = append(clone(w.Args), pg.CountLimit+1)
	} else {
		q.Count = "SELECT count(*)" + countFrom + w.SQL()
		q.CountArgs = clone(w.Args)
	}
	page := &Where{conds: clone(w.conds), Args: clone(w.Args)}
	forward := k.desc // the page runs in the list's direction
	switch {
	case pg.After != nil:
		page.Add(cursorCond(k, !k.desc), cursorArgs(k, *pg.After, d)...)
	case pg.Before != nil:
		page.Add(cursorCond(k, k.desc), cursorArgs(k, *pg.Before, d)...)
		forward, q.Reversed = !k.desc, true
	}
	dir := " ASC"
	if forward {
		dir = " DESC"
	}
	q.Page = pageSelect + page.SQL() + " ORDER BY " + k.col + dir + ", " + k.id + dir + " LIMIT ? OFFSET ?"
	q.PageArgs = append(page.Args, limit, offset)
	return q
}

// cursorCond is the condition "after the cursor" towards greater keys (up)
// or smaller ones. Its first term bounds the key column alone, so that an
// index on it serves the range.
func cursorCond(k sortKey, up bool) string {
	if up {
		return fmt.Sprintf("%s >= ? AND (%s > ? OR %s > ?)", k.col, k.col, k.id)
	}
	return fmt.Sprintf("%s <= ? AND (%s < ? OR %s < ?)", k.col, k.col, k.id)
}

func cursorArgs(k sortKey, c store.Cursor, d Dialect) []any {
	var key any = c.Key
	if k.time {
		key = d.Time(time.UnixMicro(c.Key).UTC())
	}
	return []any{key, key, c.ID}
}

func clone[T any](s []T) []T { return append([]T(nil), s...) }
