package storesql

import (
	"fmt"
	"slices"
	"strings"
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
// driver's FROM clause for the page's columns, over `events e`; r is what
// the driver found with LoadRoutes (NoRoutes without it).
func EventListQuery(p store.EventListParams, d Dialect, cols, pageFrom string, r Routes) ListQuery {
	q := eventListQuery(p, d, eventFilters(p, d, false, r), cols, pageFrom)
	if join, _ := statusJoin(p, d); join != "" && p.SourceID == 0 && p.ConnectionID == 0 && p.DestinationID == 0 && p.Search == "" {
		// Every filter is a column of the status table: its index alone
		// counts, where the join would look up each event it counts.
		w := &Where{}
		w.Add("st.project_id = ?", p.ProjectID)
		w.Add("st.status = ?", p.Status)
		if !p.Start.IsZero() {
			w.Add("st.created_at >= ?", d.Time(p.Start))
		}
		if !p.End.IsZero() {
			w.Add("st.created_at <= ?", d.Time(p.End))
		}
		q.Count, q.CountArgs = countQuery(w, " FROM "+d.StatusTable+" st", p.Page.CountLimit)
	}
	if r.walk() && onlyRoute(p) && p.Page.CountLimit > 0 && p.Page.CountLimit <= RouteListMax {
		// The count already found more than the cap allows: counting again
		// by probing events would read ten thousand of them or more.
		q.Count, q.CountArgs = "SELECT CAST(? AS bigint)", []any{p.Page.CountLimit + 1}
	}
	return q
}

// EventListByExternalIDQuery is EventListQuery with the search text looked
// up as an external id, through its index (see ExternalIDSearch).
func EventListByExternalIDQuery(p store.EventListParams, d Dialect, cols, pageFrom string, r Routes) ListQuery {
	return eventListQuery(p, d, eventFilters(p, d, true, r), cols, pageFrom)
}

// eventListQuery is an event list's queries over the conditions w.
func eventListQuery(p store.EventListParams, d Dialect, w *Where, cols, pageFrom string) ListQuery {
	join, k := statusJoin(p, d)
	return listQuery(w, k, p.Page, p.Limit, p.Offset, d, " FROM events e"+join, "SELECT "+cols+pageFrom+join, true)
}

// AttemptListQuery returns the queries of an attempt list, over
// `attempts a`. The page of several projects (an organization's) is the
// union of each project's own page: one sorted read of the list's index
// per project, bounded by the page, where "project_id IN (…)" would sort
// every attempt of every project on each call.
func AttemptListQuery(p store.AttemptListParams, d Dialect, cols string) (ListQuery, error) {
	w, err := AttemptFilters(p, d)
	if err != nil {
		return ListQuery{}, err
	}
	k, pageSelect := attemptSorts[p.Sort], "SELECT "+cols+" FROM attempts a"
	q := listQuery(w, k, p.Page, p.Limit, p.Offset, d, " FROM attempts a", pageSelect, false)
	if p.ProjectID != 0 || len(p.ProjectIDs) < 2 {
		return q, nil
	}
	rest := attemptConds(p, d)
	branches := make([]string, len(p.ProjectIDs))
	q.PageArgs = nil
	desc := false
	for i, id := range p.ProjectIDs {
		bw := &Where{}
		bw.Add("a.project_id = ?", id)
		bw.conds, bw.Args = append(bw.conds, rest.conds...), append(bw.Args, rest.Args...)
		var page, order string
		var args []any
		page, args, order, desc = pageQuery(bw, k, p.Page, d, pageSelect)
		branches[i] = fmt.Sprintf("SELECT * FROM (%s%s LIMIT ?) b%d", page, order, i)
		q.PageArgs = append(q.PageArgs, append(args, p.Limit+p.Offset)...)
	}
	q.Page = strings.Join(branches, " UNION ALL ") + orderBy(unqualified(k.col), unqualified(k.id), desc) + " LIMIT ? OFFSET ?"
	q.PageArgs = append(q.PageArgs, p.Limit, p.Offset)
	return q, nil
}

// listQuery returns a list's queries: the count over countFrom, the page
// through pageSelect. With skipByKey, a page read at an offset skips the
// rows it passes by their keys alone (the list's id over countFrom and the
// filters), and only the page's rows are read through pageSelect: the
// event page's select joins each event to its payload, and skipping its
// rows made a page at offset 1,000,000 take 1.5 s on SQLite
// (docs/benchmarks.md). The skip is still one step per row passed: deep
// pages are for cursors (PageParams.After).
func listQuery(w *Where, k sortKey, pg store.PageParams, limit, offset int, d Dialect, countFrom, pageSelect string, skipByKey bool) ListQuery {
	var q ListQuery
	q.Count, q.CountArgs = countQuery(w, countFrom, pg.CountLimit)
	if offset > 0 && skipByKey {
		keys, args, order, _ := pageQuery(w, k, pg, d, "SELECT "+k.id+countFrom)
		q.Page = pageSelect + " WHERE " + k.id + " IN (" + keys + order + " LIMIT ? OFFSET ?)" + order
		q.PageArgs = append(args, limit, offset)
	} else {
		page, args, order, _ := pageQuery(w, k, pg, d, pageSelect)
		q.Page, q.PageArgs = page+order+" LIMIT ? OFFSET ?", append(args, limit, offset)
	}
	q.Reversed = pg.Before != nil
	return q
}

// countQuery returns the count of the rows from matching w: all of them,
// or, with a limit (PageParams.CountLimit), at most limit+1.
func countQuery(w *Where, from string, limit int) (string, []any) {
	if limit > 0 {
		return "SELECT count(*) FROM (SELECT 1" + from + w.SQL() + " LIMIT ?) c", append(slices.Clone(w.Args), limit+1)
	}
	return "SELECT count(*)" + from + w.SQL(), slices.Clone(w.Args)
}

// pageQuery returns the page of w from its cursor, without LIMIT: the
// query, its arguments, its ORDER BY clause, and whether it reads towards
// smaller keys. A Before page reads against the list's order, from the
// cursor outwards (the caller reverses it).
func pageQuery(w *Where, k sortKey, pg store.PageParams, d Dialect, pageSelect string) (query string, args []any, order string, desc bool) {
	page := &Where{conds: slices.Clone(w.conds), Args: slices.Clone(w.Args)}
	desc = k.desc
	switch {
	case pg.After != nil:
		page.Add(cursorCond(k, !k.desc), cursorArgs(k, *pg.After, d)...)
	case pg.Before != nil:
		page.Add(cursorCond(k, k.desc), cursorArgs(k, *pg.Before, d)...)
		desc = !k.desc
	}
	return pageSelect + page.SQL(), page.Args, orderBy(k.col, k.id, desc), desc
}

// orderBy sorts by col, ties by id, both in one direction.
func orderBy(col, id string, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	return " ORDER BY " + col + dir + ", " + id + dir
}

// unqualified drops the table alias of a column ("a.created_at" →
// "created_at"): the name a union's result column has.
func unqualified(col string) string {
	_, name, _ := strings.Cut(col, ".")
	return name
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
