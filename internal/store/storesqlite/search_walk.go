package storesqlite

// Body searches that read the project's events in the list's order, a
// page of events at a time: all of them when the text's words are in too
// many events to read the index's candidates (walkSearch), or only the
// index's candidates among them when those are many (candidateWalk).

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// walkMax bounds the events a walk's count (walkSearch) reads, and the
// events its page reads at a time.
const walkMax = 10_000

// walkSearch is EventList for a body search that reads the project's
// events (the text's words are in too many events to read the index's
// candidates), in one read transaction: the events the other filters keep,
// newest first, each body checked. A common word fills a page after a few
// reads. The count would read events until it had found CountLimit+1
// matches, a million for a word in one event of a hundred (7.4 s at 10M
// events), so it reads the newest walkMax at most: past them the total is
// what it found there, a lower bound (Estimated). The page is not bounded: a
// replay pages through a search with cursors, and a short page ends it.
// c holds the events whose external id is the text (searchCandidates).
func (s *Store) walkSearch(ctx context.Context, p store.EventListParams, routes storesql.Routes, c *searchCands) ([]volley.Event, store.Total, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, store.Total{}, err
	}
	defer tx.Rollback()
	count, cut, err := s.walkKeys(ctx, tx, p, routes, store.PageParams{})
	if err != nil {
		return nil, store.Total{}, fmt.Errorf("count: %w", err)
	}
	count.external = c.external
	n, err := count.count(p.Page.CountLimit)
	if err != nil {
		return nil, store.Total{}, err
	}
	ids, _, err := s.walkPage(ctx, tx, p, routes, count, cut, 0)
	if err != nil {
		return nil, store.Total{}, err
	}
	list, err := readPage(ctx, tx, ids)
	limit := int64(p.Page.CountLimit)
	return list, store.Total{N: n, Estimated: cut && (limit == 0 || n <= limit)}, err
}

// candidateWalk is indexSearch for many candidates c: the page is read by
// a walk of the project's events restricted to the candidates (walkPage),
// and the count is the walk's when the list is at most walkMax events,
// else estimated from searchSample candidates spread over c (sampleCount).
// It reports false, having read nothing into the answer, when the walk
// read its bound of events (candidateWalkMax) without filling its page, or
// would have (candidatesFar):
// candidates few for the project's size, far from its newest events, or
// whose bodies do not match, are cheaper to look up one by one.
func (s *Store) candidateWalk(ctx context.Context, tx *sql.Tx, p store.EventListParams, routes storesql.Routes, c *searchCands) ([]volley.Event, store.Total, bool, error) {
	most := min(s.candidateWalkMax, walkPerCandidate*len(c.list))
	if far, err := candidatesFar(ctx, tx, p, routes, c, most); err != nil || far {
		return nil, store.Total{}, false, err
	}
	count, cut, err := s.walkKeys(ctx, tx, p, routes, store.PageParams{})
	if err != nil {
		return nil, store.Total{}, false, fmt.Errorf("count: %w", err)
	}
	count.external = c.external
	count.only = func(k searchKey) bool {
		_, found := slices.BinarySearch(c.list, k.id)
		return found || k.id > c.past || count.isExternal(k.id)
	}
	if !checksBodies(p.Search) {
		count.indexedMatch = c.past
	}
	ids, ok, err := s.walkPage(ctx, tx, p, routes, count, cut, most)
	if err != nil || !ok {
		return nil, store.Total{}, false, err
	}
	var total store.Total
	if cut {
		total, err = s.sampleCount(ctx, tx, p, routes, c)
	} else {
		total.N, err = count.count(p.Page.CountLimit)
	}
	if err != nil {
		return nil, store.Total{}, false, err
	}
	list, err := readPage(ctx, tx, ids)
	return list, total, true, err
}

// candidatesFar reports whether a walk for the first page of p, restricted
// to the candidates c, would read more than most events before it reached
// the page's last candidate, and so give up having read them for nothing:
// when the project's newest events hold none of the candidates (a customer
// quiet of late: at 10M events, the scale run's search after its ingest
// steps walked 80,000 events, then looked its 10,000 candidates up one by
// one). The page's last candidate is taken to be the (offset+limit)-th
// newest by id, and the events newer than it in the list's order are
// counted, most+1 at most, through the list's index alone, unless fewer
// than most events of any project came after it. Ids follow the list's
// order but for events stored out of time order, which can only make the
// guess wrong, not the answer.
func candidatesFar(ctx context.Context, tx *sql.Tx, p store.EventListParams, routes storesql.Routes, c *searchCands, most int) (bool, error) {
	need := p.Offset + p.Limit
	if p.Page.After != nil || p.Page.Before != nil || need <= 0 || need > len(c.list) {
		return false, nil
	}
	last := c.list[len(c.list)-need]
	var newest int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&newest); err != nil {
		return false, fmt.Errorf("newest event: %w", err)
	}
	if newest-last <= int64(most) {
		return false, nil
	}
	var created int64
	switch err := tx.QueryRowContext(ctx, `SELECT created_at FROM events WHERE id = ?`, last).Scan(&created); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil // deleted since the index was read
	case err != nil:
		return false, fmt.Errorf("page's last candidate: %w", err)
	}
	query, args := walkKeysQuery(p, routes, store.PageParams{Before: &store.Cursor{Key: created, ID: uint64(last)}}, most+1)
	var newer int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+query+`)`, args...).Scan(&newer); err != nil {
		return false, fmt.Errorf("events before the page's last candidate: %w", err)
	}
	return newer > most, nil
}

// candidateWalkMax bounds the events a walk restricted to a search's
// candidates reads for its page (candidateWalk), in walkMax steps, and so
// does walkPerCandidate events per candidate: a walk reads an event's keys
// in about 1 µs at 10M events, a candidate's own cost about 8 µs (a read
// of its event's page), so a walk that gives up has cost about what
// reading the candidates' keys one by one then costs.
const (
	candidateWalkMax = 200_000
	walkPerCandidate = 8
)

// walkPage returns the ids of the page p asks for, read walkMax events at
// a time from its cursor until it is full or the list ends; first is the
// walk of the list's first walkMax events (more: there are more), which it
// reads from unless p has a cursor, and whose only and indexedMatch every
// step keeps. With most > 0 it reads at most most events and reports false
// if its page is not done by then.
func (s *Store) walkPage(ctx context.Context, tx *sql.Tx, p store.EventListParams, routes storesql.Routes, first *searchWalk, more bool, most int) ([]int64, bool, error) {
	page, pg := first, p.Page
	var err error
	if pg.After != nil || pg.Before != nil {
		if page, more, err = s.walkKeys(ctx, tx, p, routes, pg); err != nil {
			return nil, false, fmt.Errorf("page: %w", err)
		}
		page.rules(first)
	}
	var ids []int64
	skip, read := p.Offset, len(page.keys)
	for {
		got, err := page.take(0, 1, &skip, p.Limit-len(ids))
		if err != nil {
			return nil, false, err
		}
		ids = append(ids, got...)
		if len(ids) == p.Limit || !more {
			return ids, true, nil
		}
		if most > 0 && read >= most {
			return nil, false, nil
		}
		last := page.keys[len(page.keys)-1]
		next := &store.Cursor{Key: last.created, ID: uint64(last.id)}
		if pg.Before != nil {
			pg = store.PageParams{Before: next}
		} else {
			pg = store.PageParams{After: next}
		}
		if page, more, err = s.walkKeys(ctx, tx, p, routes, pg); err != nil {
			return nil, false, fmt.Errorf("page: %w", err)
		}
		page.rules(first)
		read += len(page.keys)
	}
}

// walkKeys returns a walk over the keys of the first walkMax events of the
// list p from the cursor of pg, without its search, in the order a page
// reads them (from a Before cursor towards the newest), and whether there
// are more. The keys come in one row, as two JSON arrays: a walk reads
// tens of thousands of events per page, and a row each through
// database/sql cost more than reading them (docs/benchmarks.md). An
// event whose external id is the text matches (searchWalk.external).
func (s *Store) walkKeys(ctx context.Context, tx *sql.Tx, p store.EventListParams, routes storesql.Routes, pg store.PageParams) (*searchWalk, bool, error) {
	w := &searchWalk{ctx: ctx, tx: tx, text: []byte(p.Search)}
	query, args := walkKeysQuery(p, routes, pg, s.walkMax+1)
	var n int
	var ids, times string
	if err := tx.QueryRowContext(ctx, `SELECT count(*), json_group_array(id), json_group_array(created_at) FROM (`+query+`)`,
		args...).Scan(&n, &ids, &times); err != nil {
		return nil, false, err
	}
	idList, err := parseIDs(ids)
	if err != nil {
		return nil, false, fmt.Errorf("walk keys: %w", err)
	}
	timeList, err := parseIDs(times)
	if err != nil || len(timeList) != len(idList) {
		return nil, false, fmt.Errorf("walk keys: %d ids, %d times: %v", len(idList), len(timeList), err)
	}
	keys := make([]searchKey, len(idList))
	for i := range keys {
		keys[i] = searchKey{id: idList[i], created: timeList[i]}
	}
	// In the page's order whatever order the aggregate saw them in.
	slices.SortFunc(keys, func(a, b searchKey) int {
		c := cmp.Or(cmp.Compare(b.created, a.created), cmp.Compare(b.id, a.id))
		if pg.Before != nil {
			return -c
		}
		return c
	})
	w.keys = keys[:min(len(keys), s.walkMax)]
	w.state = make([]int8, len(w.keys))
	return w, n > s.walkMax, nil
}

// walkKeysQuery is the query of the keys of the first n events of the list
// p with the cursor of pg, without its search.
func walkKeysQuery(p store.EventListParams, routes storesql.Routes, pg store.PageParams, n int) (string, []any) {
	p.Search, p.Offset, p.Limit, p.Page = "", 0, n, pg
	q := storesql.EventListQuery(p, dialect, "e.id, e.created_at", " FROM events e", routes)
	return q.Page, q.PageArgs
}

// parseIDs reads a JSON array of integers, as json_group_array writes
// them: encoding/json took a tenth of a walk's time.
func parseIDs(s string) ([]int64, error) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("not a JSON array of integers: %.40q", s)
	}
	s = s[1 : len(s)-1]
	out := make([]int64, 0, strings.Count(s, ",")+1)
	for more := len(s) > 0; more; {
		var n string
		n, s, more = strings.Cut(s, ",")
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not a JSON array of integers: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}
