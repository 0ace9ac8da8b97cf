package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// attemptsPageSize is the number of attempts on a page of the list.
const attemptsPageSize = 50

// attemptSorts are the API's attempt orders with their labels.
var attemptSorts = []struct{ Value, Label string }{
	{store.AttemptSortTime, "Newest first"},
	{store.AttemptSortOldest, "Oldest first"},
	{store.AttemptSortDuration, "Slowest first"},
	{store.AttemptSortStatusCode, "Highest status code first"},
}

// attemptFilter is the attempts list's filters and sort, as the form sends
// them.
type attemptFilter struct {
	Status, SourceID, ConnectionID, EventID, From, To, Sort string
}

func (f attemptFilter) query(extra ...string) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "source_id": f.SourceID, "connection_id": f.ConnectionID,
		"event_id": f.EventID, "from": f.From, "to": f.To, "sort": f.Sort} {
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

// Filtered reports whether any filter is set (for the empty state).
func (f attemptFilter) Filtered() bool {
	return f.Status != "" || f.SourceID != "" || f.ConnectionID != "" || f.EventID != "" || f.From != "" || f.To != ""
}

// attemptsData is what the attempts page shows.
type attemptsData struct {
	Filter      attemptFilter
	Sorts       []struct{ Value, Label string }
	Statuses    []string
	Sources     []apiSource
	Connections []apiConnection
	Attempts    []attemptRow
	Page        apiPage
	FieldError  string
	NextURL     string
	PrevURL     string
	FirstURL    string
}

// attemptRow is one line of the attempts list.
type attemptRow struct {
	apiAttempt
	Connection string
}

// attemptsPage serves /projects/{project_id}/attempts: the project's
// delivery attempts with the API's filters and sorts, paged by its
// cursors.
func (c *Console) attemptsPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	rq := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(rq.Get(k)) }
	f := attemptFilter{Status: get("status"), SourceID: get("source_id"), ConnectionID: get("connection_id"),
		EventID: get("event_id"), From: get("from"), To: get("to"), Sort: get("sort")}
	q := url.Values{"limit": {strconv.Itoa(attemptsPageSize)}}
	for k, s := range map[string]string{"status": f.Status, "source_id": f.SourceID, "connection_id": f.ConnectionID,
		"event_id": f.EventID, "start_time": formTimeToAPI(f.From), "end_time": formTimeToAPI(f.To), "sort": f.Sort,
		"after": rq.Get("after"), "before": rq.Get("before")} {
		if s != "" {
			q.Set(k, s)
		}
	}
	d := attemptsData{Filter: f, Sorts: attemptSorts, Statuses: []string{volley.AttemptSuccess, volley.AttemptFailed}}
	if err := c.filterChoices(r, a, sc, &d.Sources, &d.Connections); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	var list struct {
		Attempts []apiAttempt `json:"attempts"`
		apiPage
	}
	v := view{Title: "Delivery attempts", Account: a, Scope: sc, Section: "attempts"}
	status := http.StatusOK
	err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("delivery-attempts")+"?"+q.Encode(), nil, &list)
	if ae := asAPIError(err); ae != nil && ae.Status == http.StatusBadRequest {
		status, v.Error, d.FieldError = ae.Status, ae.Text(), filterField(ae.Field)
	} else if err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	names := map[uint64]string{}
	for _, cn := range d.Connections {
		names[cn.ID] = cn.Name
	}
	for _, at := range list.Attempts {
		name := names[at.ConnectionID]
		if name == "" {
			name = "#" + strconv.FormatUint(at.ConnectionID, 10)
		}
		d.Attempts = append(d.Attempts, attemptRow{apiAttempt: at, Connection: name})
	}
	d.Page = list.apiPage
	base := sc.Path("attempts")
	if d.Page.NextCursor != "" {
		d.NextURL = base + f.query("after", d.Page.NextCursor)
	}
	if d.Page.PrevCursor != "" {
		d.PrevURL = base + f.query("before", d.Page.PrevCursor)
		d.FirstURL = base + f.query()
	}
	v.Data = d
	c.render(w, r, status, "attempts", v)
}

// trafficRoutes registers the traffic pages: events, the live tail, an
// event with its replay, and delivery attempts.
func (c *Console) trafficRoutes() {
	c.mux.HandleFunc("GET /projects/{project_id}/events", c.inProject(c.eventsPage))
	c.mux.HandleFunc("GET /projects/{project_id}/events/tail", c.inProject(c.eventsTail))
	c.mux.HandleFunc("GET /projects/{project_id}/events/{event_id}", c.inProject(c.eventPage))
	c.mux.HandleFunc("POST /projects/{project_id}/events/{event_id}/replay", c.inProject(c.replayEvent))
	c.mux.HandleFunc("GET /projects/{project_id}/attempts", c.inProject(c.attemptsPage))
}
