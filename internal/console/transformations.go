package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiTransformation is a transformation as the API shows it.
type apiTransformation struct {
	ID        uint64    `json:"id"`
	ProjectID uint64    `json:"project_id"`
	Name      string    `json:"name"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// transformationForm is the transformation form as typed.
type transformationForm struct {
	Name, Code string
}

// transformRun is the API's answer to a test run of a transformation.
type transformRun struct {
	Dropped bool `json:"dropped"`
	Result  *struct {
		Method  string         `json:"method"`
		Path    string         `json:"path"`
		Query   string         `json:"query"`
		Headers map[string]any `json:"headers"`
		Body    string         `json:"body"`
	} `json:"result"`
	Logs       string `json:"logs"`
	Error      string `json:"error"`
	DurationMS int64  `json:"duration_ms"`
}

// transformRunView is a test run as the page shows it: the resulting
// request's headers as lines and its body pretty-printed and escaped.
type transformRunView struct {
	transformRun
	Headers []header
	Body    bodyView
}

type transformationData struct {
	Transformations []apiTransformation
	Transformation  *apiTransformation // nil on the new transformation form
	Form            transformationForm
	Problem         *problem
	// UsedBy are the connections that run the transformation (the list:
	// how many use each one).
	UsedBy map[uint64][]apiConnection
	// Sample is the test pane (not on the new form: a transformation is
	// tested once saved).
	Sample *samplePane
	// Run is the outcome of the test just run.
	Run *transformRunView
}

// defaultCode is what the new transformation form starts with.
const defaultCode = `(request) => {
  // request: {method, path, query, headers, body}; body is the decoded JSON.
  // Return the request, changed, or null to drop the event.
  return request;
}
`

func (c *Console) transformationRoutes() {
	c.mux.HandleFunc("GET /projects/{project_id}/transformations", c.inProject(c.transformationsPage))
	c.mux.HandleFunc("GET /projects/{project_id}/transformations/new", c.inProject(c.newTransformationPage))
	c.mux.HandleFunc("POST /projects/{project_id}/transformations", c.inProject(c.createTransformation))
	c.mux.HandleFunc("GET /projects/{project_id}/transformations/{transformation_id}", c.inProject(c.transformationPage))
	c.mux.HandleFunc("POST /projects/{project_id}/transformations/{transformation_id}", c.inProject(c.updateTransformation))
	c.mux.HandleFunc("POST /projects/{project_id}/transformations/{transformation_id}/delete", c.inProject(c.deleteTransformation))
	c.mux.HandleFunc("POST /projects/{project_id}/transformations/{transformation_id}/test", c.inProject(c.testTransformation))
}

// usedBy maps each transformation of the project to the connections that
// run it.
func (c *Console) usedBy(r *http.Request, a *account, sc *scope) (map[uint64][]apiConnection, error) {
	var list struct {
		Connections []apiConnection `json:"connections"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("connections"), nil, &list); err != nil {
		return nil, err
	}
	out := map[uint64][]apiConnection{}
	for _, cn := range list.Connections {
		if cn.TransformationID != 0 {
			out[cn.TransformationID] = append(out[cn.TransformationID], cn)
		}
	}
	return out, nil
}

func (c *Console) transformationsPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	var list struct {
		Transformations []apiTransformation `json:"transformations"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("transformations"), nil, &list); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	used, err := c.usedBy(r, a, sc)
	if err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	notice := ""
	if r.URL.Query().Get("deleted") == "1" {
		notice = "Transformation deleted."
	}
	c.render(w, r, http.StatusOK, "transformations", view{Title: "Transformations", Account: a, Scope: sc, Section: "transformations",
		Notice: notice, Data: transformationData{Transformations: list.Transformations, UsedBy: used}})
}

func (c *Console) newTransformationPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.showTransformation(w, r, a, sc, http.StatusOK, transformationData{Form: transformationForm{Code: defaultCode}}, "", "")
}

// showTransformation renders the new form, or a transformation's page
// with the connections that run it and the test pane's recent events.
func (c *Console) showTransformation(w http.ResponseWriter, r *http.Request, a *account, sc *scope, status int, d transformationData, errMsg, notice string) {
	title := "New transformation"
	if d.Transformation != nil {
		title = "Transformation " + d.Transformation.Name
		var err error
		if d.UsedBy, err = c.usedBy(r, a, sc); err == nil {
			d.Sample.Events, err = c.recentEvents(r, a, sc, 0)
		}
		if err != nil {
			c.failAPI(w, r, a, sc, err)
			return
		}
		if d.Sample.Form.Use == "" {
			// Not posted: the newest event, else a request to type.
			d.Sample.Form.Use = "request"
			if len(d.Sample.Events) > 0 {
				d.Sample.Form = sampleForm{Use: "event", EventID: d.Sample.Events[0].EventID}
			}
		}
	}
	if errMsg == "" {
		errMsg = errorText(d.Problem)
	}
	c.render(w, r, status, "transformation", view{Title: title, Account: a, Scope: sc, Section: "transformations",
		Error: errMsg, Notice: notice, Data: d})
}

func readTransformationForm(r *http.Request) transformationForm {
	// Code keeps its whitespace: it is what the person wrote.
	return transformationForm{Name: strings.TrimSpace(r.PostFormValue("name")), Code: r.PostFormValue("code")}
}

func (c *Console) createTransformation(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	f := readTransformationForm(r)
	var created apiTransformation
	ok, p := c.submit(w, r, a, sc, http.MethodPost, "/api"+sc.Path("transformations"),
		map[string]any{"name": f.Name, "code": f.Code}, &created)
	if ok {
		http.Redirect(w, r, sc.Path("transformations", created.ID)+"?created=1", http.StatusSeeOther)
		return
	}
	if p == nil {
		return
	}
	c.showTransformation(w, r, a, sc, p.Status, transformationData{Form: f, Problem: p}, "", "")
}

// loadTransformation reads the transformation of the URL through the API;
// it answers the request itself and returns nil when that fails or the
// transformation is in another project.
func (c *Console) loadTransformation(w http.ResponseWriter, r *http.Request, a *account, sc *scope) *transformationData {
	id, err := strconv.ParseUint(r.PathValue("transformation_id"), 10, 64)
	var t apiTransformation
	if err == nil {
		if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api/transformations/"+strconv.FormatUint(id, 10), nil, &t); err != nil {
			c.failAPI(w, r, a, sc, err)
			return nil
		}
	}
	if err != nil || t.ProjectID != sc.Project.ID {
		c.render(w, r, http.StatusNotFound, "message", view{Title: "Not found", Account: a, Scope: sc, Error: "No such transformation in this project."})
		return nil
	}
	return &transformationData{Transformation: &t, Form: transformationForm{Name: t.Name, Code: t.Code}, Sample: &samplePane{}}
}

func (c *Console) transformationPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	d := c.loadTransformation(w, r, a, sc)
	if d == nil {
		return
	}
	notice := ""
	switch {
	case r.URL.Query().Get("created") == "1":
		notice = "Transformation created. Test it below, then pick it on a connection to run it on its deliveries."
	case r.URL.Query().Get("saved") == "1":
		notice = "Transformation saved: it runs on the next attempts of its connections."
	}
	c.showTransformation(w, r, a, sc, http.StatusOK, *d, "", notice)
}

func (c *Console) updateTransformation(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	d := c.loadTransformation(w, r, a, sc)
	if d == nil {
		return
	}
	f := readTransformationForm(r)
	ok, p := c.submit(w, r, a, sc, http.MethodPut, "/api/transformations/"+strconv.FormatUint(d.Transformation.ID, 10),
		map[string]any{"name": f.Name, "code": f.Code}, nil)
	if ok {
		http.Redirect(w, r, sc.Path("transformations", d.Transformation.ID)+"?saved=1", http.StatusSeeOther)
		return
	}
	if p == nil {
		return
	}
	d.Form, d.Problem = f, p
	d.Sample.Form = readSampleForm(r)
	c.showTransformation(w, r, a, sc, p.Status, *d, "", "")
}

// deleteTransformation deletes a transformation; the API refuses (409)
// while a connection runs it, and the page says which ones do.
func (c *Console) deleteTransformation(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	d := c.loadTransformation(w, r, a, sc)
	if d == nil {
		return
	}
	ok, p := c.submit(w, r, a, sc, http.MethodDelete, "/api/transformations/"+strconv.FormatUint(d.Transformation.ID, 10), nil, nil)
	if ok {
		http.Redirect(w, r, sc.Path("transformations")+"?deleted=1", http.StatusSeeOther)
		return
	}
	if p == nil {
		return
	}
	msg := "The transformation was not deleted: " + p.Text() + "."
	if p.Status == http.StatusConflict {
		msg = "The transformation was not deleted: a connection runs it (listed below). Choose “No transformation” on those connections first."
	}
	c.showTransformation(w, r, a, sc, p.Status, *d, msg, "")
}

// testTransformation runs the transformation on the sample of the test
// pane, and shows the page with the outcome: the request as it would be
// sent, dropped, or the error, with the logs. The code typed in the form,
// when it was sent, runs instead of the saved code (members test the saved
// code). With the script, the pane sends the same form and swaps in the
// outcome without a reload.
func (c *Console) testTransformation(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	d := c.loadTransformation(w, r, a, sc)
	if d == nil {
		return
	}
	d.Sample.Form = readSampleForm(r)
	in, p := d.Sample.Form.input()
	if _, typed := r.PostForm["code"]; typed {
		d.Form = readTransformationForm(r)
		if in != nil {
			in["code"] = d.Form.Code
		}
	}
	var run transformRun
	if p == nil {
		var err error
		if p, err = c.dryRun(r, a, sc, "/api/transformations/"+strconv.FormatUint(d.Transformation.ID, 10)+"/test", in, &run); err != nil {
			c.failAPI(w, r, a, sc, err)
			return
		}
	}
	if p != nil {
		d.Sample.Problem = p
		if p.Field == "code" {
			d.Problem = p
		}
		c.showTransformation(w, r, a, sc, p.Status, *d, "", "")
		return
	}
	v := &transformRunView{transformRun: run}
	if run.Result != nil {
		v.Headers = headerLines(run.Result.Headers)
		v.Body = renderBody(contentType(run.Result.Headers), []byte(run.Result.Body))
	}
	d.Run = v
	c.showTransformation(w, r, a, sc, http.StatusOK, *d, "", "")
}
