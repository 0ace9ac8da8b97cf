// Package storesql holds the SQL both storage drivers share: the filters
// and orders of the event and attempt lists, written once with "?"
// placeholders. A driver supplies its Dialect (how a time is bound, how a
// body is searched); PostgreSQL renumbers the placeholders with Numbered.
package storesql

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Dialect is what differs between the drivers in the shared queries.
type Dialect struct {
	// Time turns a time into a query argument.
	Time func(time.Time) any
	// Search returns the condition, over `events e`, that holds for the
	// events a text search finds (see docs/api.md): an index finds the
	// candidates, whose bodies are then checked for the whole text; an
	// event whose external id is the text matches too.
	Search func(text string) (cond string, args []any)
	// ExternalID returns the condition that holds for the events whose
	// external id is text; nil means "e.external_id = ?", through the
	// driver's index of it.
	ExternalID func(text string) (cond string, args []any)
	// StatusTable, when set, is the driver's table of event statuses, kept
	// apart from the events rows so that a status change never writes one:
	// a row (event_id, project_id, status, created_at) per event, with an
	// index on (project_id, status, created_at, event_id). Empty means the
	// column e.status.
	StatusTable string
}

// statusJoin returns the join and the order of an event list: a list by
// status of a driver with a StatusTable is read from that table, in its
// order (the same times and ids as the events'). The project is joined
// too, so that the list's "e.project_id = ?" holds for st.project_id: the
// planner derives equalities to a value. (It does not derive ranges, so
// the list's times are st's own; and a join on created_at as well would be
// taken as a second, independent condition: estimated to match almost
// nothing, it turned LIMIT off in the planner's eyes, and plans read and
// sorted every row.)
func statusJoin(p store.EventListParams, d Dialect) (join string, k sortKey) {
	if p.Status == "" || d.StatusTable == "" {
		return "", eventSort
	}
	return " JOIN " + d.StatusTable + " st ON st.event_id = e.id AND st.project_id = e.project_id",
		sortKey{col: "st.created_at", id: "st.event_id", time: true, desc: true}
}

// externalID is d.ExternalID's condition, or the default.
func (d Dialect) externalID(text string) (string, []any) {
	if d.ExternalID != nil {
		return d.ExternalID(text)
	}
	return "e.external_id = ?", []any{text}
}

// Where accumulates conditions and their arguments.
type Where struct {
	conds []string
	Args  []any
}

// Add appends a condition with its arguments.
func (w *Where) Add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.Args = append(w.Args, args...)
}

// SQL returns the WHERE clause, with a leading space.
func (w *Where) SQL() string { return " WHERE " + strings.Join(w.conds, " AND ") }

// IndexedIDPrefix is the shortest event id search, "evt_" included, that
// EventFilters serves from the event_id index. Volley's ids are "evt_" and
// 22 base62 digits whose leading ones encode the creation time in
// milliseconds: 7 digits after "evt_" pin it to a window of about 0.64 s
// (62^15 / 2^80 ms), so the index range holds only the events ingested, by
// all projects together, in 0.64 s: a few thousand at the ingest rates in
// docs/benchmarks.md. 6 digits would mean 40 s, 5 digits 40 minutes.
// Shorter searches read the project's events instead: their cost grows
// with the project, not with the whole installation's traffic.
const IndexedIDPrefix = len("evt_") + 7

// unindexed rewrites the conditions of EventFilters that an index could
// serve so that none can: "+ 0" turns a column into an expression, in
// SQLite and PostgreSQL alike.
var unindexed = strings.NewReplacer(
	"e.project_id = ", "e.project_id + 0 = ",
	"e.source_id = ", "e.source_id + 0 = ",
	"e.id IN ", "e.id + 0 IN ",
)

// EventFilters returns the conditions of an event list over `events e`.
func EventFilters(p store.EventListParams, d Dialect) *Where {
	return eventFilters(p, d, false, NoRoutes)
}

// RouteListMax is the most deliveries a connection or destination filter
// reads as a list; past it the list probes the project's events instead
// (see eventFilters).
const RouteListMax = 10_000

// Routes is what a driver found out, before building an event list, about
// its connection or destination filter (LoadRoutes).
type Routes struct {
	// Deliveries counts the deliveries the filter matches, at most
	// RouteListMax+1; -1 when the list has no such filter.
	Deliveries int
	// Connections are the destination filter's connections, when they were
	// read (ConnectionsRead): the list's conditions name them as values.
	// Through a subquery over connections, PostgreSQL could not tell how
	// many deliveries the destination has, took them for a few and planned
	// parallel scans, whose workers cost 100-250 ms on a busy 2-core
	// machine, where the same list by connection took 5-10 ms.
	Connections     []uint64
	ConnectionsRead bool
}

// NoRoutes is Routes of a list without a connection or destination filter.
var NoRoutes = Routes{Deliveries: -1}

func (r Routes) walk() bool { return r.Deliveries > RouteListMax }

// routeConnectionsMax is the most connections of a destination named as
// values; past it the conditions read them through a subquery.
const routeConnectionsMax = 100

// LoadRoutes fills Routes for p with the driver's queries: ids runs a query
// returning ids, count one returning a count (both in the ? style).
func LoadRoutes(p store.EventListParams, ids func(q string, args ...any) ([]uint64, error),
	count func(q string, args ...any) (int, error)) (Routes, error) {
	r := NoRoutes
	switch {
	case p.ConnectionID != 0:
		n, err := count("SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE connection_id = ? LIMIT ?) c",
			p.ConnectionID, RouteListMax+1)
		if err != nil {
			return r, fmt.Errorf("count the connection's deliveries: %w", err)
		}
		r.Deliveries = n
	case p.DestinationID != 0:
		conns, err := ids("SELECT id FROM connections WHERE destination_id = ? ORDER BY id LIMIT ?",
			p.DestinationID, routeConnectionsMax+1)
		if err != nil {
			return r, fmt.Errorf("read the destination's connections: %w", err)
		}
		if len(conns) <= routeConnectionsMax {
			r.Connections, r.ConnectionsRead = conns, true
		}
		if r.ConnectionsRead && len(conns) == 0 {
			r.Deliveries = 0
			break
		}
		in, args := r.destinationConnections(p.DestinationID)
		n, err := count("SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE connection_id "+in+" LIMIT ?) c",
			append(args, RouteListMax+1)...)
		if err != nil {
			return r, fmt.Errorf("count the destination's deliveries: %w", err)
		}
		r.Deliveries = n
	}
	return r, nil
}

// destinationConnections returns the condition on a delivery's
// connection_id that keeps the connections of destination: an IN list of
// the connections read, else a subquery.
func (r Routes) destinationConnections(destination uint64) (string, []any) {
	if !r.ConnectionsRead {
		return "IN (SELECT id FROM connections WHERE destination_id = ?)", []any{destination}
	}
	args := make([]any, len(r.Connections))
	for i, id := range r.Connections {
		args[i] = id
	}
	return "IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")", args
}

// onlyRoute reports whether p filters by nothing but its project and one
// connection or destination: then the deliveries counted for Routes are
// exactly the events listed.
func onlyRoute(p store.EventListParams) bool {
	return (p.ConnectionID != 0) != (p.DestinationID != 0) && p.SourceID == 0 && p.Status == "" &&
		p.Start.IsZero() && p.End.IsZero() && p.Search == ""
}

// eventFilters is EventFilters; byExternalID searches the events whose
// external id is the search text instead.
func eventFilters(p store.EventListParams, d Dialect, byExternalID bool, r Routes) *Where {
	w := &Where{}
	w.Add("e.project_id = ?", p.ProjectID)
	if p.SourceID != 0 {
		w.Add("e.source_id = ?", p.SourceID)
	}
	_, k := statusJoin(p, d)
	switch {
	case p.Status == "":
	case d.StatusTable == "":
		w.Add("e.status = ?", p.Status)
	default:
		w.Add("st.status = ?", p.Status)
	}
	if !p.Start.IsZero() {
		w.Add(k.col+" >= ?", d.Time(p.Start))
	}
	if !p.End.IsZero() {
		w.Add(k.col+" <= ?", d.Time(p.End))
	}
	// A connection or destination filter either reads the list of its
	// events (few: a bounded IN list, sorted) or, for many, probes each of
	// the project's events newest first through the deliveries_event index
	// until the page is full: cost page / share, where the IN list would
	// read and sort every one of them (seconds at 200k).
	if p.ConnectionID != 0 {
		if r.walk() {
			w.Add("EXISTS (SELECT 1 FROM deliveries rd WHERE rd.event_id = e.id AND rd.connection_id = ?)", p.ConnectionID)
		} else {
			w.Add("e.id IN (SELECT event_id FROM deliveries WHERE connection_id = ?)", p.ConnectionID)
		}
	}
	if p.DestinationID != 0 {
		in, args := r.destinationConnections(p.DestinationID)
		switch {
		case r.ConnectionsRead && len(r.Connections) == 0:
			w.Add("1 = 0") // a destination no connection delivers to
		case r.walk():
			w.Add("EXISTS (SELECT 1 FROM deliveries rd WHERE rd.event_id = e.id AND rd.connection_id "+in+")", args...)
		default:
			w.Add("e.id IN (SELECT event_id FROM deliveries WHERE connection_id "+in+")", args...)
		}
	}
	switch {
	case p.Search == "":
	case byExternalID:
		// The external id index drives, like the id range below.
		for i, c := range w.conds {
			w.conds[i] = unindexed.Replace(c)
		}
		cond, args := d.externalID(p.Search)
		w.Add(cond, args...)
	case strings.HasPrefix(p.Search, "evt_") && printableASCII(p.Search) && len(p.Search) >= IndexedIDPrefix:
		// A prefix range over the ASCII event ids, narrow enough (see
		// IndexedIDPrefix) to drive the plan through the event_id index.
		// Left to choose, SQLite reads every event of the project through
		// events_project_created (with or without sqlite_stat1), or of the
		// source or connection filtered on, and checks each one's id. So
		// the conditions above go out of index choice (the drivers' plan
		// tests check the result).
		for i, c := range w.conds {
			w.conds[i] = unindexed.Replace(c)
		}
		w.Add("e.event_id >= ? AND e.event_id < ?", p.Search, prefixEnd(p.Search))
	case strings.HasPrefix(p.Search, "evt_") && printableASCII(p.Search):
		if lo, hi, ok := IDTimeRange(p.Search); ok {
			// A short prefix of a Volley id pins its creation time to a
			// range (see IDTimeRange): the project's (project_id,
			// created_at) index serves it, and the id range checks each
			// event in it. "|| ''" keeps the id range out of index choice.
			w.Add("e.created_at >= ? AND e.created_at < ?", d.Time(lo), d.Time(hi))
			w.Add("e.event_id || '' >= ? AND e.event_id || '' < ?", p.Search, prefixEnd(p.Search))
			break
		}
		// A short prefix ("evt_" matches every id) spans too much time to
		// search through the event_id index, which holds every project's
		// events; PostgreSQL would still combine that index with the
		// project's, reading all of it for "evt_". "|| ''" keeps the range
		// out of index choice, so the plan is the unfiltered list's: the
		// project's events (or, on PostgreSQL, a scan of the table when
		// the project is most of it), each checked.
		w.Add("e.event_id || '' >= ? AND e.event_id || '' < ?", p.Search, prefixEnd(p.Search))
	case strings.HasPrefix(p.Search, "evt_"):
		w.Add("1 = 0") // no event id holds other bytes
	default:
		// The search's index lookups drive the plan, as the id range does.
		for i, c := range w.conds {
			w.conds[i] = unindexed.Replace(c)
		}
		cond, args := d.Search(p.Search)
		w.Add(cond, args...)
	}
	return w
}

// ExternalIDSearch reports whether an event list that found nothing should
// be run again with its search text looked up as an external id (see
// EventListByExternalIDQuery): a search for "evt_…" is first a Volley id,
// but Stripe's event ids start with "evt_" too. Other searches look up
// external ids in the same query already.
func ExternalIDSearch(p store.EventListParams) bool {
	return strings.HasPrefix(p.Search, "evt_") && len(p.Search) > len("evt_")
}

// AttemptFilters returns the conditions of an attempt list over
// `attempts a`.
func AttemptFilters(p store.AttemptListParams, d Dialect) (*Where, error) {
	if _, ok := attemptSorts[p.Sort]; !ok {
		return nil, fmt.Errorf("unknown sort %q", p.Sort)
	}
	w := &Where{}
	switch {
	case p.ProjectID != 0:
		w.Add("a.project_id = ?", p.ProjectID)
	case len(p.ProjectIDs) > 0:
		args := make([]any, len(p.ProjectIDs))
		for i, id := range p.ProjectIDs {
			args[i] = id
		}
		w.Add("a.project_id IN (?"+strings.Repeat(", ?", len(args)-1)+")", args...)
	default:
		return nil, fmt.Errorf("attempt list: no project given")
	}
	rest := attemptConds(p, d)
	w.conds, w.Args = append(w.conds, rest.conds...), append(w.Args, rest.Args...)
	return w, nil
}

// attemptConds returns the conditions of an attempt list other than its
// projects.
func attemptConds(p store.AttemptListParams, d Dialect) *Where {
	w := &Where{}
	for _, f := range []struct {
		col string
		v   uint64
	}{{"a.event_id", p.EventID}, {"a.source_id", p.SourceID}, {"a.destination_id", p.DestinationID}, {"a.connection_id", p.ConnectionID}} {
		if f.v != 0 {
			w.Add(f.col+" = ?", f.v)
		}
	}
	switch p.Status {
	case "":
	case volley.AttemptFailed, volley.AttemptSuccess:
		// A literal, not an argument: only a query that names the value
		// can use the index of failed attempts (a partial index), on
		// SQLite and in PostgreSQL's generic plans alike.
		w.Add("a.status = '" + p.Status + "'")
	default:
		w.Add("a.status = ?", p.Status)
	}
	if !p.Start.IsZero() {
		w.Add("a.created_at >= ?", d.Time(p.Start))
	}
	if !p.End.IsZero() {
		w.Add("a.created_at <= ?", d.Time(p.End))
	}
	return w
}

// Numbered rewrites "?" placeholders as $1, $2, … for PostgreSQL. The
// shared queries have no "?" anywhere else.
func Numbered(query string) string {
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(query, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			n++
			b.WriteString(p)
			b.WriteString("$" + strconv.Itoa(n))
		} else {
			b.WriteString(part)
		}
	}
	return b.String()
}

// prefixEnd returns the smallest string greater than every string with the
// given printable-ASCII prefix, so "col >= p AND col < prefixEnd(p)" is an
// indexable prefix match (under PostgreSQL's "C" collation, and SQLite's
// byte order).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0x7e {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x7f"
}

// printableASCII reports whether s could be part of an event id.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
