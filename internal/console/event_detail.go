package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// eventDetail is what the event page shows.
type eventDetail struct {
	Event   apiEvent
	Path    string // the ingestion path the request was sent to
	Headers []header
	Body    bodyView
	// Deliveries are the event's deliveries, one per connection it was
	// routed to; a filtered one has no attempt.
	Deliveries []deliveryView
	// Attempts are the event's attempts in the order they were made.
	Attempts []attemptView
	// Connections are the connections of the event's source: the replay
	// targets.
	Connections []apiConnection
	ReplayURL   string
	// Parked names the connections whose delivery of the event waits for
	// the one before it of the same ordering key, with that key.
	Parked []parkedView
}

// parkedView is a delivery waiting behind an earlier one of its key.
type parkedView struct {
	Connection, Key string
}

// deliveryView is one delivery of the event, with its connection's name.
type deliveryView struct {
	apiDelivery
	Connection string // its name, or "#id" for a connection deleted since
}

// attemptView is one attempt on the event's timeline.
type attemptView struct {
	apiAttempt
	Connection string // its name, or "#id" for a connection deleted since
	Headers    []header
	Body       *bodyView // nil when the attempt got no response
}

// eventPage serves /projects/{project_id}/events/{event_id}: one event with
// its request and every attempt, and the replay form.
func (c *Console) eventPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.showEvent(w, r, a, sc, http.StatusOK, "", replayNotice(r.URL.Query()))
}

// showEvent renders the event page with status and an error or notice
// (a replay's outcome).
func (c *Console) showEvent(w http.ResponseWriter, r *http.Request, a *account, sc *scope, status int, errMsg, notice string) {
	uid := r.PathValue("event_id")
	var ev apiEvent
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("events", url.PathEscape(uid)), nil, &ev); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	var sources []apiSource
	var conns []apiConnection
	if err := c.filterChoices(r, a, sc, &sources, &conns); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	d := eventDetail{Event: ev, Headers: headerLines(ev.Headers), Body: renderBody(contentType(ev.Headers), ev.body()),
		ReplayURL: sc.Path("events", url.PathEscape(ev.EventID), "replay")}
	d.Path = "/hook/"
	for _, s := range sources {
		if s.ID == ev.SourceID {
			d.Path += s.IngestionID
		}
	}
	names := map[uint64]string{}
	for _, cn := range conns {
		names[cn.ID] = cn.Name
		if cn.SourceID == ev.SourceID {
			d.Connections = append(d.Connections, cn)
		}
	}
	for _, dl := range ev.Deliveries {
		v := deliveryView{apiDelivery: dl, Connection: names[dl.ConnectionID]}
		if v.Connection == "" {
			v.Connection = "#" + strconv.FormatUint(dl.ConnectionID, 10)
		}
		d.Deliveries = append(d.Deliveries, v)
		if dl.State == "parked" {
			d.Parked = append(d.Parked, parkedView{Connection: v.Connection, Key: dl.OrderingKey})
		}
	}
	for _, at := range ev.DeliveryAttempts {
		v := attemptView{apiAttempt: at, Connection: names[at.ConnectionID]}
		if v.Connection == "" {
			v.Connection = "#" + strconv.FormatUint(at.ConnectionID, 10)
		}
		if at.ResponseBody != nil {
			v.Headers = headerLines(at.ResponseHeaders)
			b := renderBody(contentType(at.ResponseHeaders), []byte(*at.ResponseBody))
			v.Body = &b
		}
		d.Attempts = append(d.Attempts, v)
	}
	c.render(w, r, status, "event", view{Title: "Event " + ev.EventID, Account: a, Scope: sc, Section: "events",
		Error: errMsg, Notice: notice, Data: d})
}

// replayNotice is the message of a replay's redirect (?replayed=ok/total).
// Only numbers travel in the URL, so nobody can make the page say anything
// else.
func replayNotice(q url.Values) string {
	ok, total, found := strings.Cut(q.Get("replayed"), "/")
	n, err1 := strconv.Atoi(ok)
	t, err2 := strconv.Atoi(total)
	if !found || err1 != nil || err2 != nil || n < 0 || t < 1 || n > t {
		return ""
	}
	return fmt.Sprintf("Replayed: %d of %d attempts succeeded. The new attempts are at the end of the timeline.", n, t)
}

// replayEvent serves POST /projects/{project_id}/events/{event_id}/replay:
// one attempt now to the chosen connection, or to every connection of the
// event, through the API's replay. Any member may replay.
func (c *Console) replayEvent(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	uid := r.PathValue("event_id")
	req := map[string]any{"event_id": uid}
	if v := r.PostFormValue("connection_id"); v != "" {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil || id == 0 {
			c.showEvent(w, r, a, sc, http.StatusBadRequest, "Choose a connection to replay to, or all of them.", "")
			return
		}
		req["connection_id"] = id
	}
	var out apiReplay
	if err := c.call(r, a, sc.Org.ID, http.MethodPost, "/api/replay-event", req, &out); err != nil {
		ae := asAPIError(err)
		if ae == nil || ae.Status >= 500 || ae.Status == http.StatusNotFound && ae.Field == "" {
			c.failAPI(w, r, a, sc, err)
			return
		}
		c.showEvent(w, r, a, sc, ae.Status, "The replay was refused: "+ae.Text(), "")
		return
	}
	ok := 0
	for _, at := range out.Attempts {
		if at.Status == "success" {
			ok++
		}
	}
	http.Redirect(w, r, sc.Path("events", url.PathEscape(uid))+fmt.Sprintf("?replayed=%d/%d#attempts", ok, len(out.Attempts)), http.StatusSeeOther)
}

// Duration formats the attempt's duration for people: "87 ms", "1.25s".
func (at apiAttempt) Duration() string {
	if at.DurationMS < 1000 {
		return strconv.FormatInt(at.DurationMS, 10) + " ms"
	}
	return (time.Duration(at.DurationMS) * time.Millisecond).Round(10 * time.Millisecond).String()
}
