package console

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type apiDestination struct {
	ID               uint64            `json:"id"`
	Name             string            `json:"name"`
	URL              string            `json:"url"`
	EPS              int               `json:"eps"`
	Status           string            `json:"status"`
	TimeoutMS        int               `json:"timeout_ms"`
	Headers          map[string]string `json:"headers"`
	SigningSecretSet bool              `json:"signing_secret_set"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`

	// InsecureSkipVerify: TLS certificates of the destination are not
	// verified.
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
	// ForwardTraceparent: attempts carry the W3C traceparent of their span.
	ForwardTraceparent bool `json:"forward_traceparent"`
}

type apiSecret struct {
	Secret                  string     `json:"secret"`
	PreviousSecret          string     `json:"previous_secret"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
}

// destinationForm is the destination form as typed.
type destinationForm struct {
	Name, URL, EPS, Status, TimeoutMS, Headers string
	InsecureSkipVerify, ForwardTraceparent     bool
}

type destinationData struct {
	Destinations []apiDestination
	Destination  *apiDestination // nil on the new destination form
	Form         destinationForm
	Problem      *problem
	// Secret is shown after an explicit reveal or rotation.
	Secret *apiSecret
}

func (c *Console) destinationRoutes() {
	c.mux.HandleFunc("GET /projects/{project_id}/destinations", c.inProject(c.destinationsPage))
	c.mux.HandleFunc("GET /projects/{project_id}/destinations/new", c.inProject(c.newDestinationPage))
	c.mux.HandleFunc("POST /projects/{project_id}/destinations", c.inProject(c.createDestination))
	c.mux.HandleFunc("GET /projects/{project_id}/destinations/{destination_id}", c.inProject(c.destinationPage))
	c.mux.HandleFunc("POST /projects/{project_id}/destinations/{destination_id}", c.inProject(c.updateDestination))
	c.mux.HandleFunc("POST /projects/{project_id}/destinations/{destination_id}/secret", c.inProject(c.revealSecret))
	c.mux.HandleFunc("POST /projects/{project_id}/destinations/{destination_id}/secret/rotate", c.inProject(c.rotateSecret))
}

func (c *Console) destinationsPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	var list struct {
		Destinations []apiDestination `json:"destinations"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("destinations"), nil, &list); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	c.render(w, r, http.StatusOK, "destinations", view{Title: "Destinations", Account: a, Scope: sc, Section: "destinations",
		Data: destinationData{Destinations: list.Destinations}})
}

func (c *Console) newDestinationPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.showDestination(w, r, a, sc, destinationData{Form: destinationForm{Status: "active"}}, "")
}

func (c *Console) showDestination(w http.ResponseWriter, r *http.Request, a *account, sc *scope, d destinationData, notice string) {
	title := "New destination"
	if d.Destination != nil {
		title = "Destination " + d.Destination.Name
	}
	c.render(w, r, statusOf(d.Problem), "destination", view{Title: title, Account: a, Scope: sc, Section: "destinations",
		Error: errorText(d.Problem), Notice: notice, Data: d})
}

// readDestinationForm reads the posted form and the API request it makes.
// Headers are one "Name: value" per line.
func readDestinationForm(r *http.Request) (destinationForm, map[string]any, *problem) {
	f := destinationForm{
		Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		EPS: strings.TrimSpace(r.PostFormValue("eps")), Status: r.PostFormValue("status"),
		TimeoutMS: strings.TrimSpace(r.PostFormValue("timeout_ms")), Headers: r.PostFormValue("headers"),
		// Checkboxes: sent when ticked, absent when not.
		InsecureSkipVerify: r.PostFormValue("insecure_skip_verify") != "",
		ForwardTraceparent: r.PostFormValue("forward_traceparent") != "",
	}
	in := map[string]any{"name": f.Name, "url": f.URL, "status": f.Status,
		"insecure_skip_verify": f.InsecureSkipVerify, "forward_traceparent": f.ForwardTraceparent}
	eps, p := intField(r, "eps", "Events per second")
	if p != nil {
		return f, nil, p
	}
	if eps == nil {
		eps = new(int)
	}
	in["eps"] = *eps
	timeout, p := intField(r, "timeout_ms", "Timeout")
	if p != nil {
		return f, nil, p
	}
	if timeout != nil {
		in["timeout_ms"] = *timeout
	}
	headers, bad := parseHeaderLines(f.Headers)
	if bad > 0 {
		return f, nil, &problem{Status: http.StatusBadRequest, Field: "headers",
			Message: "headers: line " + strconv.Itoa(bad) + " is not \"Name: value\""}
	}
	in["headers"] = headers
	return f, in, nil
}

// parseHeaderLines reads a form's text of "Name: value" lines (blank lines
// skipped, spaces trimmed) into headers; bad is the number of the first
// line that is not one, 0 when all are.
func parseHeaderLines(text string) (headers map[string]string, bad int) {
	headers = map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, i + 1
		}
		headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return headers, 0
}

func formOfDestination(d *apiDestination) destinationForm {
	names := make([]string, 0, len(d.Headers))
	for k := range d.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var h strings.Builder
	for _, k := range names {
		h.WriteString(k + ": " + d.Headers[k] + "\n")
	}
	return destinationForm{Name: d.Name, URL: d.URL, EPS: strconv.Itoa(d.EPS), Status: d.Status,
		TimeoutMS: strconv.Itoa(d.TimeoutMS), Headers: h.String(),
		InsecureSkipVerify: d.InsecureSkipVerify, ForwardTraceparent: d.ForwardTraceparent}
}

func (c *Console) createDestination(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	f, in, p := readDestinationForm(r)
	if p == nil {
		var created apiDestination
		ok, p2 := c.submit(w, r, a, sc, http.MethodPost, "/api"+sc.Path("destinations"), in, &created)
		if ok {
			http.Redirect(w, r, sc.Path("destinations", created.ID)+"?created=1", http.StatusSeeOther)
			return
		}
		if p2 == nil {
			return
		}
		p = p2
	}
	c.showDestination(w, r, a, sc, destinationData{Form: f, Problem: p}, "")
}

// loadDestination reads the destination of the URL through the API; it
// answers the request itself and returns nil when that fails.
func (c *Console) loadDestination(w http.ResponseWriter, r *http.Request, a *account, sc *scope) *apiDestination {
	id, err := strconv.ParseUint(r.PathValue("destination_id"), 10, 64)
	if err != nil {
		c.render(w, r, http.StatusNotFound, "message", view{Title: "Not found", Account: a, Scope: sc, Error: "No such destination."})
		return nil
	}
	var d apiDestination
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("destinations", id), nil, &d); err != nil {
		c.failAPI(w, r, a, sc, err)
		return nil
	}
	return &d
}

func (c *Console) destinationPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	d := c.loadDestination(w, r, a, sc)
	if d == nil {
		return
	}
	notice := ""
	switch {
	case r.URL.Query().Get("created") == "1":
		notice = "Destination created. Connect a source to it to start delivering."
	case r.URL.Query().Get("saved") == "1":
		notice = "Destination saved."
	}
	c.showDestination(w, r, a, sc, destinationData{Destination: d, Form: formOfDestination(d)}, notice)
}

func (c *Console) updateDestination(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	d := c.loadDestination(w, r, a, sc)
	if d == nil {
		return
	}
	f, in, p := readDestinationForm(r)
	if p == nil {
		ok, p2 := c.submit(w, r, a, sc, http.MethodPut, "/api"+sc.Path("destinations", d.ID), in, nil)
		if ok {
			http.Redirect(w, r, sc.Path("destinations", d.ID)+"?saved=1", http.StatusSeeOther)
			return
		}
		if p2 == nil {
			return
		}
		p = p2
	}
	c.showDestination(w, r, a, sc, destinationData{Destination: d, Form: f, Problem: p}, "")
}

// revealSecret shows a destination's signing secret after an explicit POST
// (the API allows owners and admins only).
func (c *Console) revealSecret(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.secret(w, r, a, sc, http.MethodGet, "", "Shown because you asked; it is not stored in this page's address.")
}

// rotateSecret gives a destination a new signing secret; the previous one
// keeps signing for the grace period.
func (c *Console) rotateSecret(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.secret(w, r, a, sc, http.MethodPost, "/rotate", "A new secret signs from now on; the previous one also signs until it expires, so receivers can switch.")
}

func (c *Console) secret(w http.ResponseWriter, r *http.Request, a *account, sc *scope, method, suffix, notice string) {
	if !c.form(w, r) {
		return
	}
	d := c.loadDestination(w, r, a, sc)
	if d == nil {
		return
	}
	var in any
	if method == http.MethodPost {
		in = map[string]any{}
	}
	var s apiSecret
	ok, p := c.submit(w, r, a, sc, method, "/api"+sc.Path("destinations", d.ID, "secret")+suffix, in, &s)
	if !ok {
		if p != nil {
			c.failAPI(w, r, a, sc, p)
		}
		return
	}
	c.showDestination(w, r, a, sc, destinationData{Destination: d, Form: formOfDestination(d), Secret: &s}, notice)
}
