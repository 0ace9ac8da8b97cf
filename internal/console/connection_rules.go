package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// A connection's rules are its filter (which events it takes) and its
// transformation (how their requests are rewritten): the "Filter and
// transformation" part of the connection form, its test pane, and the
// summary on the connection's page. The API validates both; the console
// only assembles the filter document from the form's four sections.

// filterSections are the parts of a request a filter looks at, in the
// order the form shows them.
var filterSections = []string{"body", "headers", "query", "path"}

// rulesForm is the rules part of the connection form as typed.
type rulesForm struct {
	// Filter holds each section's JSON pattern as text ("" for none).
	Filter map[string]string
	// TransformationID is the chosen transformation ("" or "0" for none).
	TransformationID string
}

// filterRun is the API's answer to a test of a filter.
type filterRun struct {
	Matches bool `json:"matches"`
	Reason  *struct {
		Path     string `json:"path"`
		Expected string `json:"expected"`
		Actual   string `json:"actual"`
	} `json:"reason"`
	Sections []string `json:"sections"`
}

// rulesData is what the rules templates (_connection_rules.html) show.
type rulesData struct {
	Form            rulesForm
	Transformations []apiTransformation
	// Transformation is the saved connection's, for its summary.
	Transformation *apiTransformation
	Sample         *samplePane
	Run            *filterRun
	// TestURL is where the pane posts its test.
	TestURL string
}

// Section returns the text of one filter section, for the templates.
func (f rulesForm) Section(name string) string { return f.Filter[name] }

// Sections returns the sections that are set, in form order.
func (f rulesForm) Sections() []string {
	var out []string
	for _, s := range filterSections {
		if strings.TrimSpace(f.Filter[s]) != "" {
			out = append(out, s)
		}
	}
	return out
}

// HasFilter reports whether any section is set.
func (f rulesForm) HasFilter() bool {
	for _, s := range f.Filter {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// rulesOf returns the form of a saved connection's rules: each filter
// section indented for reading.
func rulesOf(conn *apiConnection) rulesForm {
	f := rulesForm{Filter: map[string]string{}}
	if conn.TransformationID != 0 {
		f.TransformationID = strconv.FormatUint(conn.TransformationID, 10)
	}
	var doc map[string]json.RawMessage
	if len(conn.Filter) > 0 && json.Unmarshal(conn.Filter, &doc) == nil {
		for k, v := range doc {
			var b bytes.Buffer
			if json.Indent(&b, v, "", "  ") == nil {
				f.Filter[k] = b.String()
			} else {
				f.Filter[k] = string(v)
			}
		}
	}
	return f
}

// readRules reads the rules part of a posted form and adds what it sets to
// the API request in. A form without the rules fields (the status buttons)
// leaves the rules as they are. A section that is not JSON is a problem
// naming its field; the API checks the rest.
func readRules(r *http.Request, in map[string]any) (rulesForm, *problem) {
	f := rulesForm{Filter: map[string]string{}, TransformationID: r.PostFormValue("transformation_id")}
	typed := false
	doc := map[string]json.RawMessage{}
	for _, s := range filterSections {
		name := "filter_" + s
		if _, ok := r.PostForm[name]; ok {
			typed = true
		}
		text := strings.TrimSpace(r.PostFormValue(name))
		f.Filter[s] = text
		if text == "" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return f, &problem{Status: http.StatusBadRequest, Field: name,
				Message: "The " + s + " filter is not valid JSON: " + err.Error()}
		}
		doc[s] = json.RawMessage(text)
	}
	if typed && in != nil {
		// {} removes the filter.
		in["filter"] = doc
	}
	if _, ok := r.PostForm["transformation_id"]; ok && in != nil {
		id, err := strconv.ParseUint(strings.TrimSpace(f.TransformationID), 10, 64)
		if f.TransformationID != "" && err != nil {
			return f, &problem{Status: http.StatusBadRequest, Field: "transformation_id", Message: "Choose a transformation from the list."}
		}
		in["transformation_id"] = id
	}
	return f, nil
}

// rulesProblem moves a filter refusal of the API to the section it is
// about: "filter.body.amount.$gt: …" belongs to filter_body.
func rulesProblem(p *problem) *problem {
	if p == nil || p.Field != "filter" {
		return p
	}
	q := *p
	for _, s := range filterSections {
		if strings.HasPrefix(p.Message, "filter."+s) {
			q.Field = "filter_" + s
		}
	}
	return &q
}

// loadRules fills the choices of the rules part of a connection page: the
// project's transformations and the test pane's recent events (of the
// connection's source, when it has one).
func (c *Console) loadRules(r *http.Request, a *account, sc *scope, d *rulesData, sourceID uint64, testURL string) error {
	var list struct {
		Transformations []apiTransformation `json:"transformations"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("transformations"), nil, &list); err != nil {
		return err
	}
	d.Transformations, d.TestURL = list.Transformations, testURL
	for i := range list.Transformations {
		if strconv.FormatUint(list.Transformations[i].ID, 10) == d.Form.TransformationID {
			d.Transformation = &list.Transformations[i]
		}
	}
	events, err := c.recentEvents(r, a, sc, sourceID)
	if err != nil {
		return err
	}
	if d.Sample == nil {
		d.Sample = &samplePane{Form: sampleForm{Use: "event"}}
		if len(events) > 0 {
			d.Sample.Form.EventID = events[0].EventID
		} else {
			d.Sample.Form.Use = "request"
		}
	}
	d.Sample.Events = events
	return nil
}

// testFilter runs the connection form's filter (as typed) on the test
// pane's sample through the API, without saving anything, and shows the
// form again with the outcome. A member's pane has no filter fields: it
// tests the connection's saved filter.
func (c *Console) testFilter(w http.ResponseWriter, r *http.Request, a *account, sc *scope, conn *apiConnection) (rulesData, *problem, bool) {
	var d rulesData
	in := map[string]any{}
	var p *problem
	d.Form, p = readRules(r, in)
	d.Sample = &samplePane{Form: readSampleForm(r)}
	if _, typed := in["filter"]; !typed {
		if conn == nil {
			c.fail(w, r, http.StatusBadRequest, "The form has no filter to test.")
			return d, nil, false
		}
		d.Form = rulesOf(conn)
		in = map[string]any{"connection_id": conn.ID}
	}
	delete(in, "transformation_id")
	if p == nil {
		sample, sp := d.Sample.Form.input()
		p = sp
		for k, v := range sample {
			in[k] = v
		}
	}
	if p == nil {
		var run filterRun
		var err error
		if p, err = c.dryRun(r, a, sc, "/api/connections/test-filter", in, &run); err != nil {
			c.failAPI(w, r, a, sc, err)
			return d, nil, false
		}
		if p == nil {
			d.Run = &run
		}
	}
	p = rulesProblem(p)
	d.Sample.Problem = p
	return d, p, true
}

func (c *Console) connectionRulesRoutes() {
	c.mux.HandleFunc("POST /projects/{project_id}/connections/new/test-filter", c.inProject(c.testNewConnectionFilter))
	c.mux.HandleFunc("POST /projects/{project_id}/connections/{connection_id}/test-filter", c.inProject(c.testConnectionFilter))
}

// withRules loads the choices of d's rules part; false means the request
// was answered.
func (c *Console) withRules(w http.ResponseWriter, r *http.Request, a *account, sc *scope, d *connectionData) bool {
	sourceID, _ := strconv.ParseUint(d.Form.SourceID, 10, 64)
	testURL := sc.Path("connections", "new", "test-filter")
	if d.Connection != nil {
		sourceID, testURL = d.Connection.SourceID, sc.Path("connections", d.Connection.ID, "test-filter")
	}
	if err := c.loadRules(r, a, sc, &d.Rules, sourceID, testURL); err != nil {
		c.failAPI(w, r, a, sc, err)
		return false
	}
	return true
}

// testNewConnectionFilter serves the test pane of the new connection form.
func (c *Console) testNewConnectionFilter(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	f, _, _ := readConnectionForm(r, true)
	rules, p, ok := c.testFilter(w, r, a, sc, nil)
	if !ok {
		return
	}
	d := connectionData{Form: f, Problem: p, Rules: rules}
	if !c.endpoints(w, r, a, sc, &d) || !c.withRules(w, r, a, sc, &d) {
		return
	}
	c.showConnection(w, r, a, sc, d, "")
}

// testConnectionFilter serves the test pane of a connection's page: the
// form as typed (an owner's) or the saved filter (a member's).
func (c *Console) testConnectionFilter(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	conn := c.loadConnection(w, r, a, sc)
	if conn == nil {
		return
	}
	f := formOfConnection(conn)
	if _, typed := r.PostForm["name"]; typed {
		f, _, _ = readConnectionForm(r, false)
	}
	rules, p, ok := c.testFilter(w, r, a, sc, conn)
	if !ok {
		return
	}
	d := connectionData{Connection: conn, Form: f, Problem: p, Rules: rules}
	if err := c.connectionChart(r, conn, &d); err != nil {
		c.internal(w, r, err)
		return
	}
	if !c.withRules(w, r, a, sc, &d) {
		return
	}
	c.showConnection(w, r, a, sc, d, "")
}
