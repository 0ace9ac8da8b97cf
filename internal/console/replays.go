package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// Bulk replays: the project's replay jobs with their progress, a form with
// the event list's filters whose dry run shows how many events match
// before the job is created, and a cancel button. The events list links
// here with its filters ("Replay all matching"). Every role may replay, as
// the API decides.

// apiReplayJob is a bulk replay job as the API answers it.
type apiReplayJob struct {
	ID           uint64 `json:"id"`
	Status       string `json:"status"`
	ConnectionID uint64 `json:"connection_id"`
	Filter       struct {
		Status        string     `json:"status"`
		SourceID      uint64     `json:"source_id"`
		ConnectionID  uint64     `json:"connection_id"`
		DestinationID uint64     `json:"destination_id"`
		StartTime     *time.Time `json:"start_time"`
		EndTime       *time.Time `json:"end_time"`
		Search        string     `json:"search"`
	} `json:"filter"`
	Counts struct {
		Matched, Queued, Processed, Done, Failed, Skipped int64
	} `json:"counts"`
	CountIsEstimate bool       `json:"count_is_estimate"`
	Error           string     `json:"error"`
	CreatedAt       time.Time  `json:"created_at"`
	FinishedAt      *time.Time `json:"finished_at"`
}

// Finished reports whether the job will do nothing more.
func (j apiReplayJob) Finished() bool {
	return j.Status == volley.ReplayDone || j.Status == volley.ReplayCancelled || j.Status == volley.ReplayFailed
}

// Percent is how far the job got, for its progress bar.
func (j apiReplayJob) Percent() int64 {
	total := j.Counts.Processed + j.Counts.Queued
	if j.Finished() || total == 0 {
		return 100
	}
	return j.Counts.Processed * 100 / total
}

// replayForm is the form of a bulk replay: the events list's filters, and
// the connection to replay to ("" for each event's own deliveries).
type replayForm struct {
	eventFilter
	Target string
}

func readReplayForm(r *http.Request) replayForm {
	get := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	return replayForm{Target: get("target"), eventFilter: eventFilter{Status: get("status"), SourceID: get("source_id"),
		ConnectionID: get("connection_id"), From: get("from"), To: get("to"), Search: get("search")}}
}

// request is the API's request body for the form.
func (f replayForm) request(dryRun bool) (map[string]any, error) {
	filter := map[string]any{}
	for k, s := range map[string]string{"status": f.Status, "start_time": formTimeToAPI(f.From),
		"end_time": formTimeToAPI(f.To), "search": f.Search} {
		if s != "" {
			filter[k] = s
		}
	}
	for k, s := range map[string]string{"source_id": f.SourceID, "connection_id": f.ConnectionID} {
		if s == "" {
			continue
		}
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil || id == 0 {
			return nil, volley.Invalid(k, "choose one from the list")
		}
		filter[k] = id
	}
	req := map[string]any{"filter": filter, "dry_run": dryRun}
	if f.Target != "" {
		id, err := strconv.ParseUint(f.Target, 10, 64)
		if err != nil || id == 0 {
			return nil, volley.Invalid("target", "choose one from the list")
		}
		req["connection_id"] = id
	}
	return req, nil
}

// replaysData is what the replays page shows.
type replaysData struct {
	Form        replayForm
	Statuses    []string
	Sources     []apiSource
	Connections []apiConnection
	Jobs        []apiReplayJob
	// Counted is set after a dry run: Count events match (more when
	// Estimate), and the page asks to confirm.
	Counted    bool
	Count      int64
	Estimate   bool
	FieldError string
}

func (c *Console) replayRoutes() {
	c.mux.HandleFunc("GET /projects/{project_id}/replays", c.inProject(c.replaysPage))
	c.mux.HandleFunc("POST /projects/{project_id}/replays/count", c.inProject(c.countReplay))
	c.mux.HandleFunc("POST /projects/{project_id}/replays", c.inProject(c.createReplay))
	c.mux.HandleFunc("POST /projects/{project_id}/replays/{replay_id}/cancel", c.inProject(c.cancelReplay))
}

// replaysPage serves /projects/{project_id}/replays; the query may carry
// the events list's filters, which fill the form.
func (c *Console) replaysPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	notice := ""
	if id := r.URL.Query().Get("created"); id != "" {
		notice = "Replay " + id + " started. It runs in the background, after live deliveries; this page shows its progress."
	}
	c.showReplays(w, r, a, sc, http.StatusOK, replaysData{Form: readReplayForm(r)}, "", notice)
}

// showReplays renders the page with the project's jobs.
func (c *Console) showReplays(w http.ResponseWriter, r *http.Request, a *account, sc *scope, status int, d replaysData, errText, notice string) {
	d.Statuses = []string{volley.EventFailed, volley.EventProcessed, volley.EventPending, volley.EventDropped}
	if err := c.filterChoices(r, a, sc, &d.Sources, &d.Connections); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	var list struct {
		Replays []apiReplayJob `json:"replays"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("replays"), nil, &list); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	d.Jobs = list.Replays
	c.render(w, r, status, "replays", view{Title: "Replays", Account: a, Scope: sc, Section: "replays",
		Error: errText, Notice: notice, Data: d})
}

// countReplay runs the form's dry run and asks to confirm.
func (c *Console) countReplay(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	d := replaysData{Form: readReplayForm(r)}
	var out struct {
		Count    int64 `json:"count"`
		Estimate bool  `json:"count_is_estimate"`
	}
	if !c.replayCall(w, r, a, sc, &d, true, &out) {
		return
	}
	d.Counted, d.Count, d.Estimate = true, out.Count, out.Estimate
	c.showReplays(w, r, a, sc, http.StatusOK, d, "", "")
}

// createReplay starts the job the form describes.
func (c *Console) createReplay(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	d := replaysData{Form: readReplayForm(r)}
	var out struct {
		Replay apiReplayJob `json:"replay"`
	}
	if !c.replayCall(w, r, a, sc, &d, false, &out) {
		return
	}
	http.Redirect(w, r, sc.Path("replays")+"?created="+strconv.FormatUint(out.Replay.ID, 10), http.StatusSeeOther)
}

// replayCall posts the form to the API; a refused filter is shown next to
// its field and false returned.
func (c *Console) replayCall(w http.ResponseWriter, r *http.Request, a *account, sc *scope, d *replaysData, dryRun bool, out any) bool {
	req, err := d.Form.request(dryRun)
	if err == nil {
		err = c.call(r, a, sc.Org.ID, http.MethodPost, "/api"+sc.Path("replays"), req, out)
	}
	if fe, ok := err.(*volley.FieldError); ok {
		d.FieldError = fe.Field
		c.showReplays(w, r, a, sc, http.StatusBadRequest, *d, fe.Error(), "")
		return false
	}
	if ae := asAPIError(err); ae != nil && ae.Status == http.StatusBadRequest {
		d.FieldError = replayField(ae.Field)
		c.showReplays(w, r, a, sc, ae.Status, *d, "The replay was refused: "+ae.Text(), "")
		return false
	}
	if err != nil {
		c.failAPI(w, r, a, sc, err)
		return false
	}
	return true
}

// replayField maps an API field of the replay request to the form's.
func replayField(apiField string) string {
	switch apiField {
	case "connection_id":
		return "target"
	case "filter.start_time":
		return "from"
	case "filter.end_time":
		return "to"
	}
	return strings.TrimPrefix(apiField, "filter.")
}

// cancelReplay cancels a job and goes back to the list.
func (c *Console) cancelReplay(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("replay_id"), 10, 64)
	if err != nil || id == 0 {
		c.fail(w, r, http.StatusNotFound, "No such replay.")
		return
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodDelete, fmt.Sprintf("/api/replays/%d", id), nil, nil); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	http.Redirect(w, r, sc.Path("replays"), http.StatusSeeOther)
}
