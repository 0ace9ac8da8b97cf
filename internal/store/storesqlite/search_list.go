package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// A body search through the index (searchCandidates) is listed here rather
// than by the shared list queries, which check every candidate twice, once
// for the count and once for the page, and sort every matching row with
// its body before they take the page's first 50: two thirds of the list's
// time at 2,000 candidates (docs/benchmarks.md). Here the candidates the
// other filters keep are sorted by their keys alone, each body that needs
// a check is checked at most once, in batches, and only the page's rows
// are read in full.

// checkBatch is how many candidates' bodies one query reads.
const checkBatch = 256

// checksBodies reports whether a search for text must check the bodies of
// the candidates the index found. The index finds the events holding each
// word of the text, so the text itself is checked, unless it is one word
// shorter than the index's cut (payload.IndexWordMax: a word of that
// length may be the cut of a longer one): then the index's candidates are
// its matches. The events past the index are always checked.
func checksBodies(text string) bool {
	return !payload.IsWord(text) || utf8.RuneCountInString(text) >= payload.IndexWordMax
}

// searchKey is a candidate's place in the list and its external id.
type searchKey struct {
	id, created int64
	external    string
}

// indexSearch is EventList for a body search through the candidates c, in
// one read transaction. Past searchExactMax candidates it lists them with
// a walk of the project's events (candidateWalk) when that finds the page
// soon enough: a candidate's keys cost a read of its event's page, the
// walk's keys come a page of events at a time.
func (s *Store) indexSearch(ctx context.Context, p store.EventListParams, routes storesql.Routes, c *searchCands) ([]volley.Event, store.Total, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, store.Total{}, err
	}
	defer tx.Rollback()
	if len(c.list) > s.searchExactMax {
		list, total, ok, err := s.candidateWalk(ctx, tx, p, routes, c)
		if ok || err != nil {
			return list, total, err
		}
	}
	w, err := candidateKeys(ctx, tx, p, routes, c)
	if err != nil {
		return nil, store.Total{}, fmt.Errorf("candidates: %w", err)
	}
	ids, err := w.page(p)
	if err != nil {
		return nil, store.Total{}, err
	}
	var total store.Total
	if checksBodies(p.Search) && len(w.keys) > s.searchExactMax {
		total, err = w.estimate(s.searchSample, p.Page.CountLimit)
	} else {
		total.N, err = w.count(p.Page.CountLimit)
	}
	if err != nil {
		return nil, store.Total{}, err
	}
	list, err := readPage(ctx, tx, ids)
	return list, total, err
}

// candidateKeys returns a walk over the keys of the candidates c that the
// list p's other filters keep, in the list's order.
func candidateKeys(ctx context.Context, tx *sql.Tx, p store.EventListParams, routes storesql.Routes, c *searchCands) (*searchWalk, error) {
	w := &searchWalk{ctx: ctx, tx: tx, text: []byte(p.Search)}
	if !checksBodies(p.Search) {
		w.indexedMatch = c.past
	}
	query, args := keysQuery(p, routes, c)
	keys, err := readKeys(ctx, tx, query, args)
	if err != nil {
		return nil, err
	}
	w.keys, w.state = keys, make([]int8, len(keys))
	return w, nil
}

// searchExactMax is how many candidates of a body search the list counts
// exactly, each body checked (checksBodies). Past it the count checks
// searchSample of them and scales what it finds (store.Total.Estimated):
// a candidate costs about 25 µs at 10M events, uncached (a read of its
// event's page and of its body's), 250 ms for 10,000 (docs/benchmarks.md).
const searchExactMax = 2_000

// searchSample is how many candidates an estimated count checks.
const searchSample = 1_000

// readPage reads the events ids, in the list's order.
func readPage(ctx context.Context, tx *sql.Tx, ids []int64) ([]volley.Event, error) {
	if len(ids) == 0 {
		return []volley.Event{}, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+eventCols+eventFrom+` WHERE e.id IN (SELECT value FROM json_each(?))
		ORDER BY e.created_at DESC, e.id DESC`, jsonIDs(ids))
	if err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	list, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	return list, nil
}

// candidates is the condition holding for the candidates c of a search:
// the events the index found, those past it, and those whose external id
// is the text.
func (c *searchCands) candidates(string) (string, []any) {
	return `e.id IN (SELECT value FROM json_each(?)
			UNION ALL SELECT id FROM events WHERE id > ` + strconv.FormatInt(c.past, 10) + `
			UNION ALL SELECT value FROM json_each(?))`, []any{c.ids, jsonIDs(c.external)}
}

// keysQuery is the query of the keys of every candidate c of the list p
// that its other filters keep, in the list's order, from the start: the
// cursor is applied by searchWalk.page, as the count ignores it.
func keysQuery(p store.EventListParams, routes storesql.Routes, c *searchCands) (string, []any) {
	p.Offset, p.Limit, p.Page = 0, -1, store.PageParams{}
	d := dialect
	d.Search = c.candidates
	q := storesql.EventListQuery(p, d, keyCols, " FROM events e", routes)
	return q.Page, q.PageArgs
}

// keyCols are the columns readKeys reads.
const keyCols = "e.id, e.created_at, coalesce(e.external_id, '')"

// readKeys reads the candidates' keys query selects.
func readKeys(ctx context.Context, tx *sql.Tx, query string, args []any) ([]searchKey, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []searchKey
	for rows.Next() {
		var k searchKey
		if err := rows.Scan(&k.id, &k.created, &k.external); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// searchWalk checks candidates' bodies on demand, each at most once.
type searchWalk struct {
	ctx   context.Context
	tx    *sql.Tx
	text  []byte
	keys  []searchKey // in the list's order: newest first
	state []int8      // per key: 0 unchecked, 1 matches, -1 does not
	// indexedMatch is the id up to which the index's candidates are
	// matches without a check (see checksBodies); 0 when all are checked.
	indexedMatch int64
	// only, when set, keeps the keys it accepts: the others do not match
	// (a walk restricted to a search's candidates).
	only    func(searchKey) bool
	matcher *payload.Matcher // of text, made by the first check
	// external are the events whose external id is the text, ascending:
	// they match (a walk's keys do not carry the external id).
	external []int64
}

// page returns the ids of the page p asks for, in the list's order.
func (w *searchWalk) page(p store.EventListParams) ([]int64, error) {
	// The keys are newest first: an After cursor's page starts at the
	// first key older than it, a Before cursor's ends at the last key
	// newer than it and is read from there towards the newest.
	start, step := 0, 1
	switch c := p.Page; {
	case c.After != nil:
		start = len(w.keys)
		for i, k := range w.keys {
			if k.created < c.After.Key || k.created == c.After.Key && k.id < int64(c.After.ID) {
				start = i
				break
			}
		}
	case c.Before != nil:
		start, step = -1, -1
		for i, k := range w.keys {
			if k.created > c.Before.Key || k.created == c.Before.Key && k.id > int64(c.Before.ID) {
				start = i
			}
		}
	}
	skip := p.Offset
	return w.take(start, step, &skip, p.Limit)
}

// take returns the ids of the matching candidates from start in the
// direction step, past the first *skip of them (counting those it passes
// off *skip), at most limit.
func (w *searchWalk) take(start, step int, skip *int, limit int) ([]int64, error) {
	var ids []int64
	for i := start; i >= 0 && i < len(w.keys) && len(ids) < limit; i += step {
		ok, err := w.matches(i, step)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
		case *skip > 0:
			*skip--
		default:
			ids = append(ids, w.keys[i].id)
		}
	}
	return ids, nil
}

// count counts the matching candidates, at most limit+1 of them when
// limit > 0 (store.PageParams.CountLimit).
func (w *searchWalk) count(limit int) (int64, error) {
	var n int64
	for i := range w.keys {
		if limit > 0 && n > int64(limit) {
			break
		}
		ok, err := w.matches(i, 1)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// matches reports whether candidate i matches: the index found it and
// that is enough (indexedMatch), its external id is the text, or its body
// matches it (payload.Matcher). An unchecked candidate is checked with the
// next checkBatch unchecked ones in the direction step, whose bodies are
// read in one query.
func (w *searchWalk) matches(i, step int) (bool, error) {
	if w.state[i] == 0 {
		var js []int
		for j := i; j >= 0 && j < len(w.keys) && len(js) < checkBatch; j += step {
			if w.settle(j) {
				js = append(js, j)
			}
		}
		if err := w.checkKeys(js); err != nil {
			return false, err
		}
	}
	return w.state[i] > 0, nil
}

// settle decides key j when that needs no body (see matches) and reports
// whether its body is left to check.
func (w *searchWalk) settle(j int) bool {
	switch k := w.keys[j]; {
	case w.state[j] != 0:
	case w.only != nil && !w.only(k):
		w.state[j] = -1
	case k.id <= w.indexedMatch || k.external == string(w.text) || w.isExternal(k.id):
		w.state[j] = 1
	default:
		return true
	}
	return false
}

// rules makes w decide keys as from does: only, indexedMatch, external.
func (w *searchWalk) rules(from *searchWalk) {
	w.only, w.indexedMatch, w.external = from.only, from.indexedMatch, from.external
}

// isExternal reports whether id is one of w.external.
func (w *searchWalk) isExternal(id int64) bool {
	_, found := slices.BinarySearch(w.external, id)
	return found
}

// decide decides the keys js, checking the bodies of those that need it.
func (w *searchWalk) decide(js []int) error {
	var unchecked []int
	for _, j := range js {
		if w.settle(j) {
			unchecked = append(unchecked, j)
		}
	}
	return w.checkKeys(unchecked)
}

// checkKeys checks the bodies of the keys js, checkBatch at a time, and
// marks each.
func (w *searchWalk) checkKeys(js []int) error {
	for len(js) > 0 {
		n := min(len(js), checkBatch)
		batch := make([]int64, 0, n)
		at := make(map[int64]int, n)
		for _, j := range js[:n] {
			w.state[j] = -1 // unless its body matches, below
			batch = append(batch, w.keys[j].id)
			at[w.keys[j].id] = j
		}
		if err := w.check(batch, at); err != nil {
			return err
		}
		js = js[n:]
	}
	return nil
}

// check reads the bodies of the candidates ids and marks those matching.
func (w *searchWalk) check(ids []int64, at map[int64]int) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := w.tx.QueryContext(w.ctx, `SELECT event_id, encoding, body FROM event_payloads
		WHERE event_id IN (SELECT value FROM json_each(?))`, jsonIDs(ids))
	if err != nil {
		return fmt.Errorf("check bodies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var encoding int
		var stored []byte
		if err := rows.Scan(&id, &encoding, &stored); err != nil {
			return fmt.Errorf("check bodies: %w", err)
		}
		body, err := payload.DecodeBody(encoding, stored)
		if err != nil {
			return fmt.Errorf("check bodies: event %d: %w", id, err)
		}
		if w.matcher == nil {
			w.matcher = payload.NewMatcher(w.text)
		}
		if w.matcher.Match(body) {
			w.state[at[id]] = 1
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check bodies: %w", err)
	}
	return nil
}

// jsonIDs is ids as a JSON array, for json_each.
func jsonIDs(ids []int64) string {
	b, _ := json.Marshal(ids) // integers always encode
	return string(b)
}
