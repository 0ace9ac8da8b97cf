package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/httpapi"
	"github.com/volleyhq/volley/internal/volley"
)

// eventsPageSize is the number of events on a page of the list.
const eventsPageSize = 50

// formTime is how the time-range inputs (type=datetime-local) send a time.
// The console reads and shows them as UTC: the server does not know the
// viewer's time zone, and the labels say so.
const formTime = "2006-01-02T15:04"

// Streamer serves the live tail: the new events of some sources as
// server-sent events, each rendered by render. httpapi.API implements it
// (ServeStream), so the tail shares the API stream's positions, wake-ups,
// heartbeats and shutdown.
type Streamer interface {
	ServeStream(w http.ResponseWriter, r *http.Request, sources []uint64, render func(*volley.Event) any) error
}

var _ Streamer = (*httpapi.API)(nil)

// eventFilter is the events list's filters, as the form sends them.
type eventFilter struct {
	Status, SourceID, ConnectionID, From, To, Search string
}

// narrowed reports whether any filter but the source is set: the live tail
// then stays off, as new events could not be matched the same way.
func (f eventFilter) narrowed() bool {
	return f.Status != "" || f.ConnectionID != "" || f.From != "" || f.To != "" || f.Search != ""
}

// query returns the filter as the list page's query string, plus extra
// parameters (a cursor).
func (f eventFilter) query(extra ...string) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "source_id": f.SourceID, "connection_id": f.ConnectionID,
		"from": f.From, "to": f.To, "search": f.Search} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Query is the filter as a query string ("" when empty), for links that
// carry it (the replays form).
func (f eventFilter) Query() string { return f.query() }

// readEventFilter reads the filters of the events page.
func readEventFilter(r *http.Request) eventFilter {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return eventFilter{Status: get("status"), SourceID: get("source_id"), ConnectionID: get("connection_id"),
		From: get("from"), To: get("to"), Search: get("search")}
}

// formTimeToAPI turns a datetime-local value (UTC) into the API's RFC 3339;
// anything else goes to the API as it is, which explains what it expects.
func formTimeToAPI(v string) string {
	// Browsers add seconds when the value has them.
	for _, layout := range []string{formTime, formTime + ":05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// eventsData is what the events page shows.
type eventsData struct {
	Filter      eventFilter
	Statuses    []string
	Sources     []apiSource
	Connections []apiConnection
	Events      []apiEvent
	Page        apiPage
	// FieldError is the filter the API refused ("" for none); the page's
	// Error says why.
	FieldError string
	// Tail is set when the live tail applies: the newest page, not
	// narrowed by more than a source.
	Tail                       bool
	TailURL, RefreshURL        string
	NextURL, PrevURL, FirstURL string
}

// eventsPage serves /projects/{project_id}/events: the project's events,
// newest first, filtered and paged by the API's cursors.
func (c *Console) eventsPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	f := readEventFilter(r)
	q := url.Values{"limit": {strconv.Itoa(eventsPageSize)}}
	for k, s := range map[string]string{"status": f.Status, "source_id": f.SourceID, "connection_id": f.ConnectionID,
		"start_time": formTimeToAPI(f.From), "end_time": formTimeToAPI(f.To), "search": f.Search,
		"after": r.URL.Query().Get("after"), "before": r.URL.Query().Get("before")} {
		if s != "" {
			q.Set(k, s)
		}
	}
	d := eventsData{Filter: f, Statuses: []string{volley.EventPending, volley.EventProcessed, volley.EventFailed, volley.EventFiltered, volley.EventDropped}}
	if err := c.filterChoices(r, a, sc, &d.Sources, &d.Connections); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	first := r.URL.Query().Get("after") == "" && r.URL.Query().Get("before") == ""
	tail := first && !f.narrowed() && c.cfg.Stream != nil
	var head string
	if tail {
		// The tail starts where the list is read, so that no event falls
		// between the two; the script skips the few both show.
		pos, err := c.cfg.Store.EventStreamHead(r.Context())
		if err != nil {
			c.internal(w, r, err)
			return
		}
		head = pos.String()
	}
	var list struct {
		Events []apiEvent `json:"requests"`
		apiPage
	}
	v := view{Title: "Events", Account: a, Scope: sc, Section: "events"}
	status := http.StatusOK
	err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("events")+"?"+q.Encode(), nil, &list)
	if ae := asAPIError(err); ae != nil && ae.Status == http.StatusBadRequest {
		// A filter the API refused: shown in place, next to the form.
		status, v.Error, d.FieldError = ae.Status, ae.Text(), filterField(ae.Field)
	} else if err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	d.Events, d.Page = list.Events, list.apiPage
	base := sc.Path("events")
	d.RefreshURL = base + f.query()
	if d.Page.NextCursor != "" {
		d.NextURL = base + f.query("after", d.Page.NextCursor)
	}
	if d.Page.PrevCursor != "" {
		d.PrevURL = base + f.query("before", d.Page.PrevCursor)
		d.FirstURL = d.RefreshURL
	}
	// Without a source there is nothing to tail: the empty state says how
	// to get one.
	if d.Tail = tail && d.FieldError == "" && len(d.Sources) > 0; d.Tail {
		tq := url.Values{"last_event_id": {head}}
		if f.SourceID != "" {
			tq.Set("source_id", f.SourceID)
		}
		d.TailURL = base + "/tail?" + tq.Encode()
	}
	v.Data = d
	c.render(w, r, status, "events", v)
}

// filterField maps an API query parameter to the page's filter field.
func filterField(apiField string) string {
	switch apiField {
	case "start_time", "start_date":
		return "from"
	case "end_time", "end_date":
		return "to"
	}
	return apiField
}

// filterChoices loads the project's sources and connections for the
// filter menus (configuration: a handful of rows, not traffic).
func (c *Console) filterChoices(r *http.Request, a *account, sc *scope, sources *[]apiSource, conns *[]apiConnection) error {
	var s struct {
		Sources []apiSource `json:"sources"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("sources"), nil, &s); err != nil {
		return err
	}
	var cn struct {
		Connections []apiConnection `json:"connections"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("connections"), nil, &cn); err != nil {
		return err
	}
	*sources, *conns = s.Sources, cn.Connections
	return nil
}

// tailEvent is one message of the live tail: what a row of the events
// table shows, already formatted. The script puts every field in the page
// as text, never as markup.
type tailEvent struct {
	EventID   string `json:"event_id"`
	URL       string `json:"url"`
	Source    string `json:"source"`
	Method    string `json:"method"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"` // RFC 3339, UTC
	Created   string `json:"created"`    // "2006-01-02 15:04:05 UTC"
}

// eventsTail serves /projects/{project_id}/events/tail: the live tail of
// the events page, as server-sent events of the project's sources (or the
// one of ?source_id=), authenticated by the session cookie. It is the
// API's listen stream (Streamer) with the events rendered as rows; a
// browser that reconnects sends Last-Event-ID and misses nothing.
func (c *Console) eventsTail(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if c.cfg.Stream == nil {
		c.fail(w, r, http.StatusNotFound, "This server has no live tail; reload the events page instead.")
		return
	}
	var s struct {
		Sources []apiSource `json:"sources"`
	}
	// Through the API: the sources this account may read in the project.
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("sources"), nil, &s); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	want := r.URL.Query().Get("source_id")
	var ids []uint64
	for _, src := range s.Sources {
		if want == "" || want == strconv.FormatUint(src.ID, 10) || want == src.IngestionID {
			ids = append(ids, src.ID)
		}
	}
	if len(ids) == 0 {
		// Nothing to stream: 204 tells EventSource not to reconnect.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	base := sc.Path("events")
	err := c.cfg.Stream.ServeStream(w, r, ids, func(e *volley.Event) any {
		u := e.CreatedAt.UTC()
		return tailEvent{EventID: e.UID, URL: base + "/" + url.PathEscape(e.UID), Source: e.SourceSlug, Method: e.Method,
			Status: e.Status, CreatedAt: u.Format(time.RFC3339), Created: u.Format("2006-01-02 15:04:05 UTC")}
	})
	var he *httpapi.Error
	switch {
	case errors.As(err, &he):
		c.fail(w, r, he.Status, he.Message)
	case err != nil:
		c.internal(w, r, err)
	}
}
