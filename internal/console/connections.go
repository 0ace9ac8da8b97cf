package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiConnection is a connection as the API shows it, with its metrics of
// the last 24 hours on GET /api/connections/{id}.
type apiConnection struct {
	ID              uint64      `json:"id"`
	ProjectID       uint64      `json:"project_id"`
	Name            string      `json:"name"`
	SourceID        uint64      `json:"source_id"`
	DestinationID   uint64      `json:"destination_id"`
	Status          string      `json:"status"`
	EPS             int         `json:"eps"`
	MaxRetries      int         `json:"max_retries"`
	DelayMS         int         `json:"delay_ms"`
	Ordering        string      `json:"ordering"`
	OrderingKey     string      `json:"ordering_key"`
	SourceSlug      string      `json:"source_slug"`
	DestinationName string      `json:"destination_name"`
	DestinationURL  string      `json:"destination_url"`
	Metrics         *apiMetrics `json:"metrics"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`

	// Filter and TransformationID are the connection's rules
	// (connection_rules.go).
	Filter           json.RawMessage `json:"filter"`
	TransformationID uint64          `json:"transformation_id"`
}

// apiMetrics is a connection's traffic of the last 24 hours.
type apiMetrics struct {
	Since          time.Time  `json:"since"`
	EventsRouted   int64      `json:"events_routed"`
	Delivered      int64      `json:"delivered"`
	Failed         int64      `json:"failed"`
	Pending        int64      `json:"pending"`
	SuccessRate    float64    `json:"success_rate"`
	LatencyP50MS   int64      `json:"latency_p50_ms"`
	LatencyP95MS   int64      `json:"latency_p95_ms"`
	LastDeliveryAt *time.Time `json:"last_delivery_at"`
}

// connectionForm is the connection form as typed.
type connectionForm struct {
	Name, SourceID, DestinationID, EPS, MaxRetries, Status string
	// DelayMS, Ordering ("none" or "fifo") and OrderingKey: see the API's
	// connection fields.
	DelayMS, Ordering, OrderingKey string
}

type connectionData struct {
	Connections  []apiConnection
	Connection   *apiConnection // nil on the new connection form
	Sources      []apiSource
	Destinations []apiDestination
	Form         connectionForm
	Problem      *problem
	// Hourly is the connection's traffic per hour over the last 24 hours.
	Hourly *chart
	// Rules is the filter and transformation part (connection_rules.go).
	Rules rulesData
}

func (c *Console) connectionRoutes() {
	c.mux.HandleFunc("GET /projects/{project_id}/connections", c.inProject(c.connectionsPage))
	c.mux.HandleFunc("GET /projects/{project_id}/connections/new", c.inProject(c.newConnectionPage))
	c.mux.HandleFunc("POST /projects/{project_id}/connections", c.inProject(c.createConnection))
	c.mux.HandleFunc("GET /projects/{project_id}/connections/{connection_id}", c.inProject(c.connectionPage))
	c.mux.HandleFunc("POST /projects/{project_id}/connections/{connection_id}", c.inProject(c.updateConnection))
	c.mux.HandleFunc("POST /projects/{project_id}/connections/{connection_id}/status", c.inProject(c.setConnectionStatus))
	c.connectionRulesRoutes()
}

func (c *Console) connectionsPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	var list struct {
		Connections []apiConnection `json:"connections"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("connections"), nil, &list); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	notice := ""
	if st := r.URL.Query().Get("status"); st != "" {
		notice = "Connection " + st + "."
	}
	c.render(w, r, http.StatusOK, "connections", view{Title: "Connections", Account: a, Scope: sc, Section: "connections",
		Notice: notice, Data: connectionData{Connections: list.Connections}})
}

// endpoints loads the project's sources and destinations for the form's
// pickers; false means the request was answered.
func (c *Console) endpoints(w http.ResponseWriter, r *http.Request, a *account, sc *scope, d *connectionData) bool {
	var srcs struct {
		Sources []apiSource `json:"sources"`
	}
	var dsts struct {
		Destinations []apiDestination `json:"destinations"`
	}
	for _, call := range []struct {
		path string
		out  any
	}{{"sources", &srcs}, {"destinations", &dsts}} {
		if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path(call.path), nil, call.out); err != nil {
			c.failAPI(w, r, a, sc, err)
			return false
		}
	}
	d.Sources, d.Destinations = srcs.Sources, dsts.Destinations
	return true
}

func (c *Console) newConnectionPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	d := connectionData{Form: connectionForm{SourceID: r.URL.Query().Get("source_id"), DestinationID: r.URL.Query().Get("destination_id")}}
	d.Rules.Form = rulesForm{Filter: map[string]string{}}
	if !c.endpoints(w, r, a, sc, &d) || !c.withRules(w, r, a, sc, &d) {
		return
	}
	c.showConnection(w, r, a, sc, d, "")
}

func (c *Console) showConnection(w http.ResponseWriter, r *http.Request, a *account, sc *scope, d connectionData, notice string) {
	title := "New connection"
	if d.Connection != nil {
		title = "Connection " + d.Connection.Name
	}
	c.render(w, r, statusOf(d.Problem), "connection", view{Title: title, Account: a, Scope: sc, Section: "connections",
		Error: errorText(d.Problem), Notice: notice, Data: d})
}

// readConnectionForm reads the posted form; withEndpoints for a new
// connection (source and destination cannot change afterwards).
func readConnectionForm(r *http.Request, withEndpoints bool) (connectionForm, map[string]any, *problem) {
	f := connectionForm{
		Name: strings.TrimSpace(r.PostFormValue("name")), SourceID: r.PostFormValue("source_id"),
		DestinationID: r.PostFormValue("destination_id"), EPS: strings.TrimSpace(r.PostFormValue("eps")),
		MaxRetries: strings.TrimSpace(r.PostFormValue("max_retries")), Status: r.PostFormValue("status"),
		DelayMS: strings.TrimSpace(r.PostFormValue("delay_ms")), Ordering: r.PostFormValue("ordering"),
		OrderingKey: strings.TrimSpace(r.PostFormValue("ordering_key")),
	}
	in := map[string]any{}
	if f.Name != "" || !withEndpoints {
		in["name"] = f.Name
	}
	if f.Status != "" {
		in["status"] = f.Status
	}
	if withEndpoints {
		for _, field := range []struct{ name, value, label string }{
			{"source_id", f.SourceID, "Choose a source."}, {"destination_id", f.DestinationID, "Choose a destination."},
		} {
			id, err := strconv.ParseUint(field.value, 10, 64)
			if err != nil || id == 0 {
				return f, nil, &problem{Status: http.StatusBadRequest, Field: field.name, Message: field.label}
			}
			in[field.name] = id
		}
	}
	eps, p := intField(r, "eps", "Events per second")
	if p != nil {
		return f, nil, p
	}
	if eps == nil {
		eps = new(int)
	}
	in["eps"] = *eps
	retries, p := intField(r, "max_retries", "Retries")
	if p != nil {
		return f, nil, p
	}
	if retries != nil {
		in["max_retries"] = *retries
	}
	delay, p := intField(r, "delay_ms", "Delay")
	if p != nil {
		return f, nil, p
	}
	if delay == nil {
		delay = new(int)
	}
	in["delay_ms"] = *delay
	if f.Ordering != "" {
		in["ordering"] = f.Ordering
	}
	in["ordering_key"] = f.OrderingKey
	return f, in, nil
}

func (c *Console) createConnection(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	f, in, p := readConnectionForm(r, true)
	rules, rp := readRules(r, in)
	if p == nil {
		p = rp
	}
	if p == nil {
		var created apiConnection
		ok, p2 := c.submit(w, r, a, sc, http.MethodPost, "/api"+sc.Path("connections"), in, &created)
		if ok {
			http.Redirect(w, r, sc.Path("connections", created.ID)+"?created=1", http.StatusSeeOther)
			return
		}
		if p2 == nil {
			return
		}
		p = rulesProblem(p2)
	}
	d := connectionData{Form: f, Problem: p, Rules: rulesData{Form: rules}}
	if !c.endpoints(w, r, a, sc, &d) || !c.withRules(w, r, a, sc, &d) {
		return
	}
	c.showConnection(w, r, a, sc, d, "")
}

// loadConnection reads the connection of the URL, with its metrics,
// through the API; it answers the request itself and returns nil when that
// fails or the connection is in another project.
func (c *Console) loadConnection(w http.ResponseWriter, r *http.Request, a *account, sc *scope) *apiConnection {
	id, err := strconv.ParseUint(r.PathValue("connection_id"), 10, 64)
	var conn apiConnection
	if err == nil {
		err = c.call(r, a, sc.Org.ID, http.MethodGet, "/api/connections/"+strconv.FormatUint(id, 10), nil, &conn)
		if err != nil {
			c.failAPI(w, r, a, sc, err)
			return nil
		}
	}
	if err != nil || conn.ProjectID != sc.Project.ID {
		c.render(w, r, http.StatusNotFound, "message", view{Title: "Not found", Account: a, Scope: sc, Error: "No such connection in this project."})
		return nil
	}
	return &conn
}

func formOfConnection(conn *apiConnection) connectionForm {
	return connectionForm{Name: conn.Name, SourceID: strconv.FormatUint(conn.SourceID, 10),
		DestinationID: strconv.FormatUint(conn.DestinationID, 10), EPS: strconv.Itoa(conn.EPS),
		MaxRetries: strconv.Itoa(conn.MaxRetries), Status: conn.Status,
		DelayMS: strconv.Itoa(conn.DelayMS), Ordering: conn.Ordering, OrderingKey: conn.OrderingKey}
}

func (c *Console) connectionPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	conn := c.loadConnection(w, r, a, sc)
	if conn == nil {
		return
	}
	d := connectionData{Connection: conn, Form: formOfConnection(conn), Rules: rulesData{Form: rulesOf(conn)}}
	if err := c.connectionChart(r, conn, &d); err != nil {
		c.internal(w, r, err)
		return
	}
	if !c.withRules(w, r, a, sc, &d) {
		return
	}
	notice := ""
	switch {
	case r.URL.Query().Get("created") == "1":
		notice = "Connection created: webhooks arriving at " + conn.SourceSlug + " are now delivered to " + conn.DestinationName + "."
	case r.URL.Query().Get("saved") == "1":
		notice = "Connection saved."
	case r.URL.Query().Get("status") != "":
		notice = "Connection " + conn.Status + "."
	}
	c.showConnection(w, r, a, sc, d, notice)
}

func (c *Console) updateConnection(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	conn := c.loadConnection(w, r, a, sc)
	if conn == nil {
		return
	}
	f, in, p := readConnectionForm(r, false)
	rules, rp := readRules(r, in)
	if p == nil {
		p = rp
	}
	if p == nil {
		ok, p2 := c.submit(w, r, a, sc, http.MethodPut, "/api/connections/"+strconv.FormatUint(conn.ID, 10), in, nil)
		if ok {
			http.Redirect(w, r, sc.Path("connections", conn.ID)+"?saved=1", http.StatusSeeOther)
			return
		}
		if p2 == nil {
			return
		}
		p = rulesProblem(p2)
	}
	d := connectionData{Connection: conn, Form: f, Problem: p, Rules: rulesData{Form: rules}}
	if err := c.connectionChart(r, conn, &d); err != nil {
		c.internal(w, r, err)
		return
	}
	if !c.withRules(w, r, a, sc, &d) {
		return
	}
	c.showConnection(w, r, a, sc, d, "")
}

// setConnectionStatus pauses, resumes (enables) or disables a connection.
// It goes back to where the button was: the list or the connection.
func (c *Console) setConnectionStatus(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	conn := c.loadConnection(w, r, a, sc)
	if conn == nil {
		return
	}
	status := r.PostFormValue("status")
	ok, p := c.submit(w, r, a, sc, http.MethodPut, "/api/connections/"+strconv.FormatUint(conn.ID, 10),
		map[string]any{"status": status}, nil)
	if !ok {
		if p != nil {
			c.failAPI(w, r, a, sc, p)
		}
		return
	}
	back := sc.Path("connections", conn.ID)
	if r.PostFormValue("back") == "list" {
		back = sc.Path("connections")
	}
	http.Redirect(w, r, back+"?status="+statusWord(status), http.StatusSeeOther)
}

// statusWord is the past participle the notice shows for a status change.
func statusWord(status string) string {
	switch status {
	case "paused":
		return "paused"
	case "disabled":
		return "disabled"
	}
	return "resumed"
}
